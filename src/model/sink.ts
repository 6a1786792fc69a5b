/**
 * Stage 4 of source → batcher → core → sinks: what a sink receives and must do.
 *
 * After the core has taken a batch, the pipeline hands every sink one {@linkcode BatchUpdate}: the
 * points the core accepted, the fitted line after them and the batch's commit time. A sink writes
 * what it wants from it; the pipeline awaits every sink's `write` before it reports the batch as
 * committed to the source, so `write` must not resolve before its output is handed to the OS.
 *
 * @example
 * ```ts
 * import type { BatchUpdate, Sink } from "./sink.ts";
 * const lines: string[] = [];
 * const memory: Sink = {
 *   write: (u: BatchUpdate) => { lines.push(`${u.time}: ${u.line?.a} ${u.line?.b}`); return Promise.resolve(); },
 *   close: () => Promise.resolve(),
 * };
 * ```
 * @module
 */

import type { PointChunk, PointTexts } from "./source.ts";

/**
 * The least-squares line y ≈ a + b·x.
 *
 * @example
 * ```ts
 * const line: Line = { a: 0.025649728471302445, b: 0.9958341214647296 };
 * ```
 */
export interface Line {
  /** Intercept. */
  readonly a: number;
  /** Slope. */
  readonly b: number;
}

/**
 * Consecutive accepted points, as views into a source chunk (do not keep them past `write`).
 *
 * @example
 * ```ts
 * for (let i = 0; i < run.x.length; i++) console.log(run.x[i], run.y[i], run.diff[i]);
 * ```
 */
export interface PointRun {
  /** The x of each point (with several x columns: the first, `xs[0]`). */
  readonly x: Float64Array;
  /** With several x columns: each of them, `xs[0]` being `x` (as in `PointChunk.xs`). */
  readonly xs?: readonly Float64Array[];
  /** The y of each point. */
  readonly y: Float64Array;
  /** The weight of each point: +1 added, -1 retracted. */
  readonly diff: Float64Array;
  /** With `--key`: each point's key (`PointChunk.keys`). */
  readonly keys?: readonly string[];
  /** With `--time`: each point's event time in epoch milliseconds (`PointChunk.times`). */
  readonly times?: Float64Array;
  /** The points' numbers as the input log writes them, where the source had them (`PointChunk.texts`). */
  readonly texts?: PointTexts;
  /** The chunk the points are read from (the plain line's and keyed runs' batches say it; e.g. a Kafka chunk's partition). */
  readonly chunk?: PointChunk;
}

/**
 * The fit of a model other than the plain line (several x, a polynomial, no intercept or `--stats`), as
 * the core gives it (`ModelFit` of `src/core/model_core.ts` has this shape). Coefficients and standard
 * errors are in the order of `coefficientNames` (`./model_config.ts`).
 *
 * @example
 * ```ts
 * const fit: ModelResult = { n: 3, coefficients: Float64Array.of(1, 2), aliased: [false, false],
 *   se: Float64Array.of(0, 0), r2: 1, sigma: 0, rank: 2 };
 * ```
 */
export interface ModelResult {
  /** Net points (added minus retracted). */
  readonly n: number;
  /** One per coefficient column; NaN where aliased. */
  readonly coefficients: Float64Array;
  /** Whether each coefficient column is aliased. */
  readonly aliased: readonly boolean[];
  /** The standard error of each coefficient; NaN where aliased or undefined. */
  readonly se: Float64Array;
  /** R²; NaN when undefined. */
  readonly r2: number;
  /** The residual standard deviation; NaN when undefined. */
  readonly sigma: number;
  /** The number of columns that are not aliased. */
  readonly rank: number;
}

/**
 * With `--key`: a key whose line a batch changed — its old line (written before, retracted now with
 * diff -1) and its new one (added with diff +1); a key left with no points has no new line.
 *
 * @example
 * ```ts
 * const change: KeyChange = { key: "sensor-1", old: { a: 0, b: 1 }, line: { a: 0.5, b: 1 }, n: 12 };
 * ```
 */
export interface KeyChange {
  /** The key (several key columns: joined by `joinKey` of `./keys.ts`). */
  readonly key: string;
  /** The line written for the key before the batch, if any. */
  readonly old?: Line;
  /** The key's line after the batch; absent when the key holds no points any more. */
  readonly line?: Line;
  /** With `line`: the net points it is fitted to (the key's, or with `--window` the window's). */
  readonly n?: number;
  /** With `--window`: where the window starts (epoch ms, inclusive). */
  readonly windowStart?: number;
  /** With `--window`: where the window ends (epoch ms, exclusive). */
  readonly windowEnd?: number;
  /**
   * With a model other than the plain line (`old` and `line` are then absent): the cells of the key's
   * old row before `time,diff`, as written (`modelCells` of `./fit_cells.ts`).
   */
  readonly oldCells?: string;
  /** With a model other than the plain line: the cells of the key's new row, as written. */
  readonly cells?: string;
}

/**
 * The outcome of one batch.
 *
 * @example
 * ```ts
 * function describe(u: BatchUpdate): string {
 *   return `${u.accepted} points at ${u.time}: ` + (u.line ? `y = ${u.line.a} + ${u.line.b}x` : "no points");
 * }
 * ```
 */
export interface BatchUpdate {
  /** Commit time in epoch milliseconds, strictly increasing from batch to batch. */
  readonly time: number;
  /** The points the core accepted, in arrival order. */
  readonly points: readonly PointRun[];
  /** How many points the core accepted (the total length of `points`). */
  readonly accepted: number;
  /** How many points of the batch were refused (NaN, ±Infinity, out of range, bad weight). */
  readonly refused: number;
  /** Net number of points in the model after the batch (added minus retracted). */
  readonly count: number;
  /**
   * The fitted line after the batch, or `undefined` while the model holds no points. With points but
   * fewer than two distinct x, the line is a = b = 0, as in the reference tutorial.
   */
  readonly line: Line | undefined;
  /**
   * For a model other than the plain line: its fit after the batch, or `undefined` while the model holds
   * no points (`line` is then always `undefined`). Absent for the plain line.
   */
  readonly model?: ModelResult | undefined;
  /**
   * With `--key`: the keys whose line the batch changed, in the order the batch first touched them
   * (`line` and `model` are then undefined, `count` is the points of all keys).
   */
  readonly keys?: readonly KeyChange[];
}

/**
 * A consumer of batch updates.
 *
 * @example
 * ```ts
 * const sink: Sink = new ResultLog(stream);
 * await sink.write(update);
 * await sink.close();
 * ```
 */
export interface Sink {
  /** Writes the batch's output; resolves once it is handed to the OS (or the sink's destination). */
  write(update: BatchUpdate): Promise<void>;
  /** Flushes and closes the destination. Called once, also after errors. */
  close(): Promise<void>;
}
