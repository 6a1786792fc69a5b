/**
 * Stage 3 of source → batcher → core → sinks: feeds a closed batch to the WASM core and reads the line.
 *
 * Records rejected before (see `./validate/point_validator.ts`) are skipped: the `skip` option gives
 * each chunk's mask. Each run of remaining points goes to the core in one call. If the core refuses some points (NaN, ±Infinity, magnitudes
 * outside its exact range, weights other than ±1), the span is undone — the core's sums are exact, so
 * retracting what was just added restores them exactly — and redone point by point to learn which
 * points were refused; only accepted points reach the sinks.
 *
 * @example
 * ```ts
 * import { applyBatch } from "./core_stage.ts";
 * const result = applyBatch(core, spans);
 * result.line; // { a, b } after the batch, or undefined when the model holds no points
 * ```
 * @module
 */

import type { RegressionCore } from "../core/regression_core.ts";
import type { BatchSpan, PointChunk, PointTexts } from "../model/source.ts";
import type { BatchUpdate, PointRun } from "../model/sink.ts";

/**
 * What the pipeline needs of the core; {@linkcode RegressionCore} provides it.
 *
 * @example
 * ```ts
 * const model: LineModel = await RegressionCore.load(bytes);
 * ```
 */
export type LineModel = Pick<RegressionCore, "update" | "fit">;

/**
 * A batch's outcome before it has a commit time.
 *
 * @example
 * ```ts
 * const { accepted, line }: CoreResult = applyBatch(core, spans);
 * ```
 */
export type CoreResult = Omit<BatchUpdate, "time">;

/**
 * Options of {@linkcode applyBatch}.
 *
 * @example
 * ```ts
 * applyBatch(core, spans, { onRefused: (chunk, i, why) => console.error(`${chunk.where(i)}: ${why}`) });
 * ```
 */
export interface ApplyOptions {
  /** Called for each refused point with the chunk, the index and why. */
  onRefused?: (chunk: PointChunk, index: number, reason: string) => void;
  /** The chunk's rejected records (1 = leave out), or undefined to take every point. */
  skip?: (chunk: PointChunk) => Uint8Array | undefined;
  /** A keyed run: the chunk's key ids from the validator (`PointValidator.keyIds`), if it has them. */
  keyIds?: (chunk: PointChunk) => Int32Array | undefined;
}

/**
 * Applies the spans to the core; returns the accepted points and the line after them.
 *
 * @example
 * ```ts
 * const { accepted, refused, line } = applyBatch(core, [{ chunk, start: 0, end: chunk.x.length }]);
 * ```
 */
export function applyBatch(
  core: LineModel,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const points: PointRun[] = [];
  let accepted = 0;
  let refused = 0;
  const apply = (chunk: PointChunk, start: number, end: number) => {
    const x = chunk.x.subarray(start, end);
    const y = chunk.y.subarray(start, end);
    const diff = chunk.diff.subarray(start, end);
    const n = end - start;
    const took = core.update(x, y, diff);
    const texts = chunk.texts;
    const text = (from: number) => texts === undefined ? {} : { texts: textsOf(texts, start + from, end) };
    if (took === n) {
      points.push({ x, y, diff, ...text(0), chunk });
      accepted += n;
      return;
    }
    // Undo the span (the refused points are refused again), then redo it point by point.
    const undone = core.update(x, y, diff.map((w) => -w));
    if (undone !== took) {
      throw new Error(
        `the core accepted ${took} points of ${chunk.where(start)}..., but ${undone} when undoing them: ` +
          `its refusals should depend on values only; please report this`,
      );
    }
    let run = -1;
    for (let i = 0; i < n; i++) {
      const ok = core.update(x.subarray(i, i + 1), y.subarray(i, i + 1), diff.subarray(i, i + 1)) === 1;
      if (ok) {
        if (run < 0) run = i;
        accepted++;
        continue;
      }
      if (run >= 0) {
        points.push({
          x: x.subarray(run, i),
          y: y.subarray(run, i),
          diff: diff.subarray(run, i),
          ...text(run),
          chunk,
        });
      }
      run = -1;
      refused++;
      options.onRefused?.(chunk, start + i, refusal(x[i], y[i], diff[i]));
    }
    if (run >= 0) {
      points.push({ x: x.subarray(run), y: y.subarray(run), diff: diff.subarray(run), ...text(run), chunk });
    }
  };
  forEachRun(spans, options.skip, apply);
  const fit = core.fit();
  const line = fit.count > 0 ? { a: fit.a, b: fit.b } : undefined;
  return { points, accepted, refused, count: fit.count, line };
}

/** The texts of points `from` to `to` (see `PointTexts`). */
function textsOf(texts: PointTexts, from: number, to: number): PointTexts {
  return {
    blocks: texts.blocks,
    block: texts.block.subarray(from, to),
    start: texts.start.subarray(from, to),
    end: texts.end.subarray(from, to),
  };
}

/** Why the core refused a point. */
function refusal(x: number, y: number, w: number): string {
  if (!Number.isFinite(x)) return `x is ${x}`;
  if (!Number.isFinite(y)) return `y is ${y}`;
  if (w !== 1 && w !== -1) return `its weight is ${w}, not 1 or -1`;
  return `(x, y) = (${x}, ${y}) is outside the range of magnitudes the core sums exactly`;
}

/**
 * Calls `apply(chunk, from, to)` for each run of the spans' records that `skip` leaves in (mask byte 0;
 * no mask: the whole span), in order.
 *
 * @example
 * ```ts
 * forEachRun(spans, undefined, (chunk, from, to) => console.log(chunk.where(from), to - from));
 * ```
 */
export function forEachRun(
  spans: readonly BatchSpan[],
  skip: ApplyOptions["skip"],
  apply: (chunk: PointChunk, from: number, to: number) => void,
): void {
  for (const { chunk, start, end } of spans) {
    const mask = skip?.(chunk);
    if (mask === undefined) {
      apply(chunk, start, end);
      continue;
    }
    for (let i = start; i < end;) {
      while (i < end && mask[i]) i++;
      const from = i;
      while (i < end && !mask[i]) i++;
      if (i > from) apply(chunk, from, i);
    }
  }
}
