/**
 * Event time and windows of a keyed run (`--time`, `--window`, `--lateness`): the window kinds, durations,
 * reading a point's time, and which windows hold a point.
 *
 * - `tumbling:D`: windows [kD, (k+1)D), each point in one.
 * - `sliding:D,H`: windows [kH, kH + D) for every k, D a multiple of H: each point in D/H windows. The
 *   engine keeps exact sums per pane [kH, (k+1)H) and a window is the exact sum of its D/H panes.
 * - `last:N`: the last N points of each key, by arrival ({@linkcode LastPoints}); no event time needed.
 *
 * Times are epoch milliseconds inside (doubles: fractions allowed); `--time-format` says how the input
 * writes them: `ms` (epoch milliseconds, the default, and Kafka's message timestamps), `s` (epoch
 * seconds) or `iso` (ISO 8601 with a date, a time and a zone, e.g. `2026-12-02T10:00:00Z`).
 *
 * @example
 * ```ts
 * import { parseWindow, parseDuration } from "./windows.ts";
 * parseWindow("sliding:1h,1m"); // { kind: "sliding", size: 3600000, hop: 60000 }
 * parseDuration("90s"); // 90000
 * ```
 * @module
 */

/**
 * A window specification, times in milliseconds.
 *
 * @example
 * ```ts
 * const spec: WindowSpec = { kind: "tumbling", size: 60_000, hop: 60_000 };
 * ```
 */
export interface WindowSpec {
  /** `tumbling` or `sliding`. */
  readonly kind: "tumbling" | "sliding";
  /** The window's length. */
  readonly size: number;
  /** How far consecutive windows start apart (the pane length); for tumbling windows, `size`. */
  readonly hop: number;
}

/**
 * `--window last:N`: each key's window is its last N points, in arrival order. A new point enters, the
 * oldest leaves (subtracted exactly); `window_start,window_end` number the points of the key (from 1).
 *
 * @example
 * ```ts
 * const last: LastPoints = { kind: "last", count: 100 };
 * ```
 */
export interface LastPoints {
  /** `last`. */
  readonly kind: "last";
  /** Points per window. */
  readonly count: number;
}

/**
 * How the input writes event times.
 *
 * @example
 * ```ts
 * const format: TimeFormat = "iso";
 * ```
 */
export type TimeFormat = "ms" | "s" | "iso";

/**
 * The name of the Kafka message timestamp as a time "column": `--time @timestamp`.
 *
 * @example
 * ```ts
 * MESSAGE_TIMESTAMP === "@timestamp"; // true
 * ```
 */
export const MESSAGE_TIMESTAMP = "@timestamp";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration such as `500ms`, `30s`, `5m`, `1h`, `1d` (a number and a unit) in milliseconds, or
 * undefined if the text is not one.
 *
 * @example
 * ```ts
 * parseDuration("1.5s"); // 1500
 * parseDuration("5"); // undefined: a unit is needed
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNITS[m[2]];
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Reads `--window`: `tumbling:D`, `sliding:D,H` or `last:N`; throws an Error saying what is wrong.
 *
 * @example
 * ```ts
 * parseWindow("tumbling:5m"); // { kind: "tumbling", size: 300000, hop: 300000 }
 * parseWindow("last:100"); // { kind: "last", count: 100 }
 * ```
 */
export function parseWindow(text: string): WindowSpec | LastPoints {
  const [kind, rest = ""] = text.split(":", 2);
  if (kind === "last") {
    const count = Number(rest);
    if (!/^\d+$/.test(rest) || !Number.isSafeInteger(count) || count < 1 || count > 1_000_000) {
      throw new Error(`expected last:N with N from 1 to 1000000, such as last:100, got "${text}"`);
    }
    return { kind, count };
  }
  if (kind === "tumbling") {
    const size = parseDuration(rest);
    if (size === undefined || size <= 0) {
      throw new Error(`expected tumbling:DURATION such as tumbling:5m, got "${text}"`);
    }
    return { kind, size, hop: size };
  }
  if (kind === "sliding") {
    const [a, b] = rest.split(",");
    const size = parseDuration(a ?? "");
    const hop = parseDuration(b ?? "");
    if (size === undefined || hop === undefined || size <= 0 || hop <= 0) {
      throw new Error(`expected sliding:DURATION,HOP such as sliding:1h,1m, got "${text}"`);
    }
    const panes = size / hop;
    if (!Number.isInteger(panes)) {
      throw new Error(`sliding:${a},${b}: the duration must be a whole number of hops (it is ${panes} hops)`);
    }
    if (panes > 10_000) {
      throw new Error(`sliding:${a},${b}: ${panes} windows per point; at most 10000 are supported`);
    }
    return { kind, size, hop };
  }
  throw new Error(`expected tumbling:DURATION, sliding:DURATION,HOP or last:N, got "${text}"`);
}

const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * An event time field in epoch milliseconds, or undefined if it is not a time of the format.
 *
 * @example
 * ```ts
 * parseTime("1764669600", "s"); // 1764669600000
 * parseTime("2026-12-02T10:00:00Z", "iso"); // 1764669600000
 * parseTime("yesterday", "iso"); // undefined
 * ```
 */
export function parseTime(field: string, format: TimeFormat): number | undefined {
  if (format === "iso") {
    const text = field.trim();
    if (!ISO.test(text)) return undefined;
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (field.trim() === "") return undefined;
  const v = Number(field);
  if (!Number.isFinite(v)) return undefined;
  const ms = format === "s" ? v * 1000 : v;
  return Math.abs(ms) <= 8.64e15 ? ms : undefined; // (the range of JavaScript dates)
}

/**
 * A time in milliseconds written in the input's format (for `window_start`, `window_end`).
 *
 * @example
 * ```ts
 * formatTime(1764669600000, "iso"); // "2026-12-02T10:00:00.000Z"
 * formatTime(1764669600000, "s"); // "1764669600"
 * ```
 */
export function formatTime(ms: number, format: TimeFormat): string {
  if (format === "iso") return new Date(ms).toISOString();
  return String(format === "s" ? ms / 1000 : ms);
}
