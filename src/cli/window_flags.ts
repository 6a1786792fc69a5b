/**
 * The flags of event time and windows: `--time COL` (a source flag: a CSV column, a JSON field, or the
 * Kafka message timestamp `@timestamp`), and the general `--time-format`, `--window`, `--lateness`.
 *
 * @example
 * ```ts
 * import { windowOptions } from "./window_flags.ts";
 * windowOptions({ window: "tumbling:1m", lateness: "0s", "time-format": "ms" }, "ts"); // { window, lateness: 0, ... }
 * ```
 * @module
 */

import { type FlagSpec, type FlagValues, UsageError } from "./flags.ts";
import {
  MESSAGE_TIMESTAMP,
  parseDuration,
  parseWindow,
  type TimeFormat,
  type WindowSpec,
} from "../model/windows.ts";

/**
 * `--time`, for the sources with event times (csv, kafka); `messageTimestamp`: the source has message
 * timestamps (`@timestamp`).
 *
 * @example
 * ```ts
 * const flag = timeFlag({ messageTimestamp: true });
 * ```
 */
export function timeFlag(options: { messageTimestamp?: boolean } = {}): FlagSpec {
  return {
    name: "time",
    value: "COL",
    help: `the event time column, for --window${
      options.messageTimestamp ? ` (${MESSAGE_TIMESTAMP}: the message timestamp, epoch ms)` : ""
    }`,
  };
}

/**
 * The general window flags.
 *
 * @example
 * ```ts
 * WINDOW_FLAGS.map((f) => f.name); // ["window", "time-format", "lateness"]
 * ```
 */
export const WINDOW_FLAGS: readonly FlagSpec[] = [
  {
    name: "window",
    value: "SPEC",
    help:
      "one fit per window (and key): tumbling:DURATION, sliding:DURATION,HOP (both need --time) or last:N points",
  },
  {
    name: "time-format",
    value: "F",
    default: "ms",
    help: "how --time is written: ms (epoch milliseconds), s (epoch seconds) or iso (ISO 8601 with a zone)",
  },
  {
    name: "lateness",
    value: "DURATION",
    default: "0s",
    help: "with --window: accept points up to DURATION behind the largest time seen; later ones are late",
  },
];

/**
 * The checked window settings of a run, or undefined without `--window`.
 *
 * @example
 * ```ts
 * const w = windowOptions(values, "ts");
 * ```
 */
export interface WindowOptions {
  /** The windows. */
  readonly window: WindowSpec;
  /** In milliseconds. */
  readonly lateness: number;
  /** The time column (`@timestamp`: the Kafka message timestamp). */
  readonly column: string;
  /** How the input writes times. */
  readonly format: TimeFormat;
  /** `--window` as given (`sliding:1h,1m`). */
  readonly text: string;
}

/**
 * Checks `--window`, `--time-format` and `--lateness` against the source's `--time` value; throws a
 * UsageError saying what is wrong.
 *
 * @example
 * ```ts
 * windowOptions({ window: "tumbling:5m", "time-format": "s", lateness: "1m" }, "ts");
 * ```
 */
export function windowOptions(values: FlagValues, time: string | undefined): WindowOptions | undefined {
  const text = values.window;
  if (typeof text === "string" && text.startsWith("last:")) return undefined; // (see lastPoints)
  const format = String(values["time-format"] ?? "ms");
  if (format !== "ms" && format !== "s" && format !== "iso") {
    throw new UsageError(`--time-format: expected ms, s or iso, got "${format}"`);
  }
  if (typeof text !== "string") {
    if (time !== undefined) {
      throw new UsageError("--time is for --window: give --window tumbling:D or sliding:D,H");
    }
    if (values.lateness !== undefined) throw new UsageError("--lateness applies with --window only");
    return undefined;
  }
  if (time === undefined) {
    throw new UsageError(
      "--window needs event times: name the time column with --time (Kafka: --time @timestamp)",
    );
  }
  let window: WindowSpec;
  try {
    window = parseWindow(text) as WindowSpec;
  } catch (error) {
    throw new UsageError(`--window: ${(error as Error).message}`);
  }
  const latenessText = String(values.lateness ?? "0s");
  const lateness = latenessText === "0" ? 0 : parseDuration(latenessText);
  if (lateness === undefined) {
    throw new UsageError(`--lateness: expected a duration such as 30s or 5m, got "${latenessText}"`);
  }
  if (time === MESSAGE_TIMESTAMP && format !== "ms") {
    throw new UsageError(`--time ${MESSAGE_TIMESTAMP} is in epoch milliseconds: leave --time-format at ms`);
  }
  return { window, lateness, column: time, format, text };
}

/**
 * `--window last:N`: the number of points per window, checked (no `--time` or `--lateness` with it), or
 * undefined for any other `--window`.
 *
 * @example
 * ```ts
 * lastPoints({ window: "last:100" }, undefined); // 100
 * ```
 */
export function lastPoints(values: FlagValues, time: string | undefined): number | undefined {
  const text = values.window;
  if (typeof text !== "string" || !text.startsWith("last:")) return undefined;
  let count: number;
  try {
    count = (parseWindow(text) as { count: number }).count;
  } catch (error) {
    throw new UsageError(`--window: ${(error as Error).message}`);
  }
  if (time !== undefined) {
    throw new UsageError("--window last:N counts points in arrival order: it takes no --time");
  }
  if (values.lateness !== undefined) {
    throw new UsageError("--lateness applies to tumbling and sliding windows only");
  }
  return count;
}
