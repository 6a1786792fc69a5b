/**
 * Progress on stderr: a status line redrawn in place when stderr is a terminal (points, batches, points
 * per second, current a and b), plain lines at most once a second with `--verbose` otherwise, and
 * nothing at all otherwise. Colours only on a terminal and only when NO_COLOR is unset or empty.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const progress = new Progress((s) => console.error(s), { terminal: true, verbose: false, color: false });
 * progress.update(stats);
 * progress.finish(stats);
 * ```
 * @module
 */

import type { PipelineStats } from "../pipeline/pipeline.ts";

/**
 * Options of {@linkcode Progress}.
 *
 * @example
 * ```ts
 * const options: ProgressOptions = { terminal: true, verbose: false, color: !Deno.env.get("NO_COLOR") };
 * ```
 */
export interface ProgressOptions {
  /** stderr is a terminal: draw a live status line. */
  terminal: boolean;
  /** Report progress even when stderr is not a terminal. */
  verbose: boolean;
  /** Use ANSI colours (only on a terminal). */
  color: boolean;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
}

const LIVE_MS = 100;
const PLAIN_MS = 1000;

/**
 * Formats the status of a run.
 *
 * @example
 * ```ts
 * statusText({ points: 10, batches: 10, elapsedMs: 9000, line: { a: 0.0256, b: 0.9958 } }, false);
 * // "10 points · 10 batches · 1.1 points/s · a = 0.0256 · b = 0.9958"
 * ```
 */
export function statusText(
  stats: Pick<PipelineStats, "points" | "batches" | "elapsedMs" | "line" | "model"> & {
    refused?: number;
    rejected?: number;
    pointsBefore?: number;
  },
  color: boolean,
): string {
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const points = stats.points - (stats.pointsBefore ?? 0); // this run's (a resumed run's totals start higher)
  const rate = stats.elapsedMs > 0 ? (points * 1000) / stats.elapsedMs : 0;
  const count = (n: number, one: string, many: string) => `${bold(String(n))} ${n === 1 ? one : many}`;
  const parts = [
    count(stats.points, "point", "points"),
    count(stats.batches, "batch", "batches"),
    `${bold(rate >= 100 ? Math.round(rate).toString() : rate.toPrecision(2))} points/s`,
  ];
  if (stats.rejected) parts.push(`${bold(String(stats.rejected))} rejected`);
  if (stats.refused) parts.push(`${bold(String(stats.refused))} refused`);
  if ("model" in stats) {
    const model = stats.model;
    parts.push(
      model
        ? `${bold(String(model.coefficients.length))} coefficients, rank ${bold(String(model.rank))}`
        : "no fit yet",
    );
  } else {
    parts.push(
      stats.line ? `a = ${bold(String(stats.line.a))} · b = ${bold(String(stats.line.b))}` : "no line yet",
    );
  }
  return parts.join(dim(" · "));
}

/**
 * Reports a run's progress on stderr.
 *
 * @example
 * ```ts
 * const progress = new Progress(host.writeStderr, { terminal: host.stderrIsTerminal, verbose, color });
 * ```
 */
export class Progress {
  readonly #write: (text: string) => void;
  readonly #live: boolean;
  readonly #plain: boolean;
  readonly #color: boolean;
  readonly #now: () => number;
  #last = -Infinity;
  #drawn = false;

  /** `write` puts text on stderr. */
  constructor(write: (text: string) => void, options: ProgressOptions) {
    this.#write = write;
    this.#live = options.terminal;
    this.#plain = !options.terminal && options.verbose;
    this.#color = options.terminal && options.color;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether progress is shown at all. */
  get enabled(): boolean {
    return this.#live || this.#plain;
  }

  /**
   * Prints a message line (always, even when progress is off), keeping the status line below it.
   *
   * @example
   * ```ts
   * progress.message("streamreg: skipped data.csv line 4: y is NaN");
   * ```
   */
  message(text: string): void {
    this.#clear();
    this.#write(`${text}\n`);
  }

  /**
   * Prints an informational line, only when progress is shown.
   *
   * @example
   * ```ts
   * progress.info("streamreg: reading demo stream → regression_output_stream.csv");
   * ```
   */
  info(text: string): void {
    if (this.enabled) this.message(text);
  }

  /**
   * Redraws the status (throttled: 10 times a second on a terminal, once a second otherwise).
   *
   * @example
   * ```ts
   * progress.update(stats);
   * ```
   */
  update(stats: PipelineStats): void {
    if (!this.enabled) return;
    const now = this.#now();
    if (now - this.#last < (this.#live ? LIVE_MS : PLAIN_MS)) return;
    this.#last = now;
    this.#draw(stats);
  }

  /**
   * Prints the final status (and ends the status line).
   *
   * @example
   * ```ts
   * progress.finish(stats);
   * ```
   */
  finish(stats: PipelineStats): void {
    if (!this.enabled) return;
    this.#draw(stats);
    if (this.#live) this.#write("\n");
    this.#drawn = false;
  }

  #draw(stats: PipelineStats): void {
    const text = `streamreg: ${statusText(stats, this.#color)}`;
    if (this.#live) {
      this.#write(`\r\x1b[2K${text}`);
      this.#drawn = true;
    } else {
      this.#write(`${text}\n`);
    }
  }

  #clear(): void {
    if (this.#live && this.#drawn) {
      this.#write("\r\x1b[2K");
      this.#drawn = false;
    }
  }
}
