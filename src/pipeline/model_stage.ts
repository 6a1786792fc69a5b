/**
 * Stage 3 for a model other than the plain line (several x, a polynomial, no intercept, `--stats`): feeds
 * a closed batch to the {@linkcode ModelCore} and reads its fit. What `./core_stage.ts` does for the line,
 * with every x column: records rejected before are skipped (the `skip` mask), each run of points goes to
 * the core in one call, and if the core refuses some (it should not: the validator rejects first), the run
 * is undone and redone point by point so that only accepted points reach the sinks.
 *
 * @example
 * ```ts
 * import { applyModelBatch } from "./model_stage.ts";
 * const result = applyModelBatch(core, spans);
 * result.model; // the fit after the batch, or undefined when the model holds no points
 * ```
 * @module
 */

import type { ModelCore } from "../core/model_core.ts";
import type { BatchSpan, PointChunk } from "../model/source.ts";
import type { PointRun } from "../model/sink.ts";
import { type ApplyOptions, type CoreResult, forEachRun } from "./core_stage.ts";

/**
 * What the pipeline needs of a model core; {@linkcode ModelCore} provides it.
 *
 * @example
 * ```ts
 * const model: ModelEngine = await ModelCore.load(bytes, { k: 2, degree: 1, intercept: true });
 * ```
 */
export type ModelEngine = Pick<ModelCore, "spec" | "update" | "fit">;

/**
 * Whether `core` is a model core (it has a `spec`), not the line core.
 *
 * @example
 * ```ts
 * const apply = isModelEngine(core) ? applyModelBatch : applyBatch;
 * ```
 */
export function isModelEngine(core: object): core is ModelEngine {
  return "spec" in core;
}

/**
 * Applies the spans to the model core; returns the accepted points and the fit after them (`line` is
 * always undefined; `model` is undefined while the model holds no points).
 *
 * @example
 * ```ts
 * const { accepted, model } = applyModelBatch(core, [{ chunk, start: 0, end: chunk.x.length }]);
 * ```
 */
export function applyModelBatch(
  core: ModelEngine,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const k = core.spec.k;
  const points: PointRun[] = [];
  let accepted = 0;
  let refused = 0;
  const run = (
    xs: readonly Float64Array[],
    y: Float64Array,
    diff: Float64Array,
    from: number,
    to: number,
  ) => {
    const x = xs.map((column) => column.subarray(from, to));
    return { x: x[0], ...(k > 1 ? { xs: x } : {}), y: y.subarray(from, to), diff: diff.subarray(from, to) };
  };
  const apply = (chunk: PointChunk, start: number, end: number) => {
    const columns = chunk.xs ?? [chunk.x];
    if (columns.length !== k) {
      throw new Error(
        `${
          chunk.where(start)
        }: the chunk has ${columns.length} x columns, the model ${k}: please report this`,
      );
    }
    const whole = run(columns, chunk.y, chunk.diff, start, end);
    const xs = whole.xs ?? [whole.x];
    const { y, diff } = whole;
    const n = end - start;
    const took = core.update(xs, y, diff);
    if (took === n) {
      points.push(whole);
      accepted += n;
      return;
    }
    const undone = core.update(xs, y, diff.map((w) => -w));
    if (undone !== took) {
      throw new Error(
        `the core accepted ${took} points of ${chunk.where(start)}..., but ${undone} when undoing them: ` +
          `its refusals should depend on values only; please report this`,
      );
    }
    let from = -1;
    for (let i = 0; i < n; i++) {
      const one = xs.map((column) => column.subarray(i, i + 1));
      const ok = core.update(one, y.subarray(i, i + 1), diff.subarray(i, i + 1)) === 1;
      if (ok) {
        if (from < 0) from = i;
        accepted++;
        continue;
      }
      if (from >= 0) points.push(run(xs, y, diff, from, i));
      from = -1;
      refused++;
      options.onRefused?.(chunk, start + i, refusal(xs, i, y[i], diff[i]));
    }
    if (from >= 0) points.push(run(xs, y, diff, from, n));
  };
  forEachRun(spans, options.skip, apply);
  const fit = core.fit();
  return { points, accepted, refused, count: fit.n, line: undefined, model: fit.n > 0 ? fit : undefined };
}

/** Why the core refused a point. */
function refusal(xs: readonly Float64Array[], i: number, y: number, w: number): string {
  for (const [c, column] of xs.entries()) {
    if (!Number.isFinite(column[i])) return `x${xs.length > 1 ? c + 1 : ""} is ${column[i]}`;
  }
  if (!Number.isFinite(y)) return `y is ${y}`;
  if (w !== 1 && w !== -1) return `its weight is ${w}, not 1 or -1`;
  return `a value of the point is outside the range of magnitudes the core sums exactly`;
}
