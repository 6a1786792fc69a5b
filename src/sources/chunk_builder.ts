/**
 * Growable columnar buffers that sources fill point by point (and bad record by bad record) and hand
 * out as chunks.
 *
 * @example
 * ```ts
 * import { ChunkBuilder } from "./chunk_builder.ts";
 * const builder = new ChunkBuilder();
 * builder.push(1, 2, 1, 7); // x, y, diff, origin (here: a line number)
 * builder.reject(8, { reason: "not_a_number", detail: 'y is "abc", not a number' });
 * const { x, y, diff, origin, rejects } = builder.take(); // rejects: Map { 1 => ... }
 * ```
 * @module
 */

import type { SourceReject } from "../model/rejection.ts";

/**
 * The arrays taken from a {@linkcode ChunkBuilder}, each exactly `length` long.
 *
 * @example
 * ```ts
 * const columns: ChunkColumns = new ChunkBuilder().take();
 * ```
 */
export interface ChunkColumns {
  /** The x of each point. */
  x: Float64Array;
  /** The y of each point. */
  y: Float64Array;
  /** The weight of each point. */
  diff: Float64Array;
  /** A number per point telling where it came from (a line number, an offset...). */
  origin: Float64Array;
  /** The rejected records by index (see {@linkcode ChunkBuilder.reject}), or undefined if none. */
  rejects?: Map<number, SourceReject>;
}

/**
 * Accumulates points in typed arrays, doubling as needed.
 *
 * @example
 * ```ts
 * const builder = new ChunkBuilder({ capacity: 1024 });
 * builder.push(0.5, 1.5, 1, 2);
 * builder.length; // 1
 * ```
 */
export class ChunkBuilder {
  #x: Float64Array;
  #y: Float64Array;
  #diff: Float64Array;
  #origin: Float64Array;
  #length = 0;
  #rejects: Map<number, SourceReject> | undefined;
  readonly #capacity: number;

  /** Starts with room for `capacity` points (default 4096). */
  constructor(options: { capacity?: number } = {}) {
    this.#capacity = Math.max(1, options.capacity ?? 4096);
    this.#x = new Float64Array(this.#capacity);
    this.#y = new Float64Array(this.#capacity);
    this.#diff = new Float64Array(this.#capacity);
    this.#origin = new Float64Array(this.#capacity);
  }

  /** Points (and rejected records) pushed since the last {@linkcode ChunkBuilder.take}. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends one point.
   *
   * @example
   * ```ts
   * builder.push(x, y, -1, lineNumber);
   * ```
   */
  push(x: number, y: number, diff: number, origin: number): void {
    const i = this.#length;
    if (i === this.#x.length) this.#grow();
    this.#x[i] = x;
    this.#y[i] = y;
    this.#diff[i] = diff;
    this.#origin[i] = origin;
    this.#length = i + 1;
  }

  /**
   * Appends a record the source could not turn into a point: it takes a slot (x, y and diff NaN) so
   * that indices keep following the input, and is listed in the chunk's `rejects`.
   *
   * @example
   * ```ts
   * builder.reject(lineNumber, { reason: "bad_csv", detail: "unterminated quote" });
   * ```
   */
  reject(origin: number, why: SourceReject): void {
    this.#rejects ??= new Map();
    this.#rejects.set(this.#length, why);
    this.push(NaN, NaN, NaN, origin);
  }

  /**
   * Returns the points pushed so far (as arrays of exactly that length) and starts afresh.
   *
   * @example
   * ```ts
   * const { x, y, diff } = builder.take();
   * ```
   */
  take(): ChunkColumns {
    const n = this.#length;
    const out = {
      x: this.#x.slice(0, n),
      y: this.#y.slice(0, n),
      diff: this.#diff.slice(0, n),
      origin: this.#origin.slice(0, n),
      ...(this.#rejects ? { rejects: this.#rejects } : {}),
    };
    this.#length = 0;
    this.#rejects = undefined;
    return out;
  }

  #grow(): void {
    const size = this.#x.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.#x = grow(this.#x);
    this.#y = grow(this.#y);
    this.#diff = grow(this.#diff);
    this.#origin = grow(this.#origin);
  }
}
