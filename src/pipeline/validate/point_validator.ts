/**
 * The pipeline's check of every record, for every source alike, before the batcher: a record is
 * rejected if its source rejected it ({@linkcode PointChunk.rejects}), or if x or y is NaN (`nan`),
 * ±Infinity (`infinite`) or non-zero with a magnitude outside the core's exact range [2^-440, 2^440]
 * (`out_of_range`), if its weight is not ±1 (`bad_diff`), or if it retracts a point (same x and y, bit
 * for bit) that is not currently added (`unknown_retraction`). Records are checked in stream order and
 * the multiset of added points follows the accepted ones, so a chunk may add a point and then retract it.
 *
 * Everything the core would refuse is rejected here first, so the core never sees a bad point.
 *
 * @example
 * ```ts
 * import { PointValidator } from "./point_validator.ts";
 * const validator = new PointValidator({ source: "data.csv" });
 * const found = validator.check(chunk); // undefined when every record is good
 * for (const { index, rejection } of found?.rejected ?? []) console.error(index, rejection.reason);
 * ```
 * @module
 */

import { formatNumber } from "../../model/format_number.ts";
import type { RecordOrigin, Rejection, RejectReason } from "../../model/rejection.ts";
import type { PointChunk } from "../../model/source.ts";
import { PointCounts } from "../../model/point_counts.ts";

/**
 * Smallest non-zero magnitude of x and y the core sums exactly: 2^-440 (its `min_magnitude()`).
 *
 * @example
 * ```ts
 * MIN_MAGNITUDE === 2 ** -440; // true
 * ```
 */
export const MIN_MAGNITUDE = 2 ** -440;
/**
 * Largest magnitude of x and y the core sums exactly: 2^440 (its `max_magnitude()`).
 *
 * @example
 * ```ts
 * MAX_MAGNITUDE === 2 ** 440; // true
 * ```
 */
export const MAX_MAGNITUDE = 2 ** 440;

/**
 * A rejected record of a chunk.
 *
 * @example
 * ```ts
 * const { index, rejection }: RejectedRecord = found.rejected[0];
 * ```
 */
export interface RejectedRecord {
  /** Its index in the chunk. */
  readonly index: number;
  /** What and where. */
  readonly rejection: Rejection;
}

/**
 * The outcome of checking a chunk that holds bad records.
 *
 * @example
 * ```ts
 * const found: ChunkCheck | undefined = validator.check(chunk);
 * if (found?.mask[3]) console.log("record 3 is rejected");
 * ```
 */
export interface ChunkCheck {
  /** 1 for each rejected index of the chunk (as checked: up to `end`). */
  readonly mask: Uint8Array;
  /** The rejected records in index order. */
  readonly rejected: readonly RejectedRecord[];
  /** Index after the last record checked: the chunk's length, or with `stopAtFirst` the first rejected index + 1. */
  readonly end: number;
}

/**
 * Checks chunks in stream order and keeps the multiset of added points.
 *
 * @example
 * ```ts
 * const validator = new PointValidator({ source: source.name });
 * ```
 */
export class PointValidator {
  readonly #source: string;
  readonly #counts: PointCounts;
  readonly #track: boolean | (() => boolean);
  #tracking: boolean | undefined;

  /**
   * `source` names the input in origins of chunks without their own `origin(i)`.
   *
   * `retractions` says whether the source may retract points (diff -1), default true; a function is
   * asked once, at the first chunk (a CSV source knows by then whether its header has a diff column).
   * Only then is the multiset of added points kept: a source that never retracts costs no memory per
   * point, and a diff of -1 from it is an error (thrown), not a rejection.
   *
   * `counts`: the multiset to start from (a run resumed from a checkpoint); default empty.
   */
  constructor(
    options: { source?: string; retractions?: boolean | (() => boolean); counts?: PointCounts } = {},
  ) {
    this.#source = options.source ?? "input";
    this.#counts = options.counts ?? new PointCounts();
    this.#track = options.retractions ?? true;
  }

  /** Distinct points currently added (for tests and statistics; 0 when not tracking). */
  get distinctPoints(): number {
    return this.#counts.size;
  }

  /**
   * Whether the multiset of added points is kept: undefined until the first chunk is checked, then
   * whether the source may retract points.
   */
  get tracking(): boolean | undefined {
    return this.#tracking;
  }

  /** The multiset of added points (empty when not tracking), e.g. to save it in a checkpoint. */
  get counts(): PointCounts {
    return this.#counts;
  }

  /**
   * Checks the chunk's records `from` (default 0) to `to` (exclusive, default the chunk's length) in
   * order, counting the good ones in the multiset. Returns undefined if all are good. With
   * `stopAtFirst`, stops after the first bad record: records after it are neither checked nor counted.
   * `mask`: the chunk's mask from an earlier check of another range, to fill in (else a new one).
   *
   * @example
   * ```ts
   * const found = validator.check(chunk, { stopAtFirst: onError === "fail" });
   * ```
   */
  check(
    chunk: PointChunk,
    options: { stopAtFirst?: boolean; from?: number; to?: number; mask?: Uint8Array } = {},
  ): ChunkCheck | undefined {
    const { x: xs, y: ys, diff: ds } = chunk;
    const n = Math.min(xs.length, options.to ?? xs.length);
    const sourceRejects = chunk.rejects !== undefined && chunk.rejects.size > 0 ? chunk.rejects : undefined;
    if (this.#tracking === undefined) {
      this.#tracking = typeof this.#track === "function" ? this.#track() : this.#track;
    }
    const counts = this.#tracking ? this.#counts : undefined;
    let mask: Uint8Array | undefined;
    let rejected: RejectedRecord[] | undefined;
    for (let i = options.from ?? 0; i < n; i++) {
      let bad: { reason: RejectReason; detail: string } | undefined;
      const from = sourceRejects?.get(i);
      if (from !== undefined) {
        bad = from;
      } else {
        const x = xs[i], y = ys[i], w = ds[i];
        const ax = x < 0 ? -x : x;
        const ay = y < 0 ? -y : y;
        const good = ax <= MAX_MAGNITUDE && ay <= MAX_MAGNITUDE &&
          (ax >= MIN_MAGNITUDE || ax === 0) && (ay >= MIN_MAGNITUDE || ay === 0) &&
          (w === 1 || w === -1);
        if (good) {
          if (w === 1) {
            counts?.add(x, y);
            continue;
          }
          if (counts === undefined) {
            throw new Error(
              `${chunk.where(i)}: diff -1 from a source that said it never retracts points ` +
                `(Source.retractions is false): please report this`,
            );
          }
          if (counts.retract(x, y)) continue;
          bad = {
            reason: "unknown_retraction",
            detail: `retracts (x, y) = (${formatNumber(x)}, ${
              formatNumber(y)
            }), which is not among the points added`,
          };
        } else {
          bad = valueProblem("x", x) ?? valueProblem("y", y) ?? {
            reason: "bad_diff",
            detail: `diff is ${formatNumber(w)}: it must be 1 (add the point) or -1 (retract it)`,
          };
        }
      }
      mask ??= options.mask ?? new Uint8Array(xs.length);
      rejected ??= [];
      mask[i] = 1;
      rejected.push({ index: i, rejection: this.#rejection(chunk, i, bad.reason, bad.detail) });
      if (options.stopAtFirst) return { mask, rejected, end: i + 1 };
    }
    return mask && rejected && { mask, rejected, end: n };
  }

  #rejection(chunk: PointChunk, i: number, reason: RejectReason, detail: string): Rejection {
    const origin: RecordOrigin = chunk.origin?.(i) ?? { source: this.#source, location: chunk.where(i) };
    const raw = chunk.rejects?.get(i)?.raw ?? chunk.raw?.(i) ??
      (chunk.rejects?.has(i)
        ? ""
        : `${formatNumber(chunk.x[i])},${formatNumber(chunk.y[i])},${formatNumber(chunk.diff[i])}`);
    return { origin, reason, detail, raw };
  }
}

function valueProblem(name: string, v: number): { reason: RejectReason; detail: string } | undefined {
  if (Number.isNaN(v)) return { reason: "nan", detail: `${name} is NaN` };
  if (v === Infinity || v === -Infinity) return { reason: "infinite", detail: `${name} is ${v}` };
  const a = Math.abs(v);
  if (a > MAX_MAGNITUDE || (a < MIN_MAGNITUDE && a !== 0)) {
    return {
      reason: "out_of_range",
      detail: `${name} is ${formatNumber(v)}: outside [2^-440, 2^440], the magnitudes the core sums exactly`,
    };
  }
  return undefined;
}
