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
 *
 * const wide = new ChunkBuilder({ xColumns: 3 }); // several x columns: the chunk gets `xs`
 * wide.pushRow(Float64Array.of(1, 2, 3), 4, 1, 9);
 * wide.take().xs; // [Float64Array [1], Float64Array [2], Float64Array [3]]
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
  /** The x of each point (with several x columns: the first, `xs[0]`). */
  x: Float64Array;
  /** With several x columns: each of them (`xs[0]` is `x`); absent with one. */
  xs?: Float64Array[];
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
  /** The x columns after the first (several x columns only). */
  #more: Float64Array[];
  #y: Float64Array;
  #diff: Float64Array;
  #origin: Float64Array;
  #length = 0;
  #rejects: Map<number, SourceReject> | undefined;
  readonly #capacity: number;

  /**
   * Starts with room for `capacity` points (default 4096). `xColumns` (default 1): the number of x
   * columns; with more than one, points are pushed with {@linkcode ChunkBuilder.pushRow} and the chunks
   * get `xs`.
   */
  constructor(options: { capacity?: number; xColumns?: number } = {}) {
    this.#capacity = Math.max(1, options.capacity ?? 4096);
    const k = options.xColumns ?? 1;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`xColumns must be an integer ≥ 1: got ${k}`);
    this.#more = Array.from({ length: k - 1 }, () => new Float64Array(this.#capacity));
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
   * Appends one point with several x columns: `xs[c]` is column c (as many as `xColumns`).
   *
   * @example
   * ```ts
   * builder.pushRow(Float64Array.of(x1, x2), y, 1, lineNumber);
   * ```
   */
  pushRow(xs: ArrayLike<number>, y: number, diff: number, origin: number): void {
    const i = this.#length;
    if (i === this.#x.length) this.#grow();
    const more = this.#more;
    for (let c = 0; c < more.length; c++) more[c][i] = xs[c + 1];
    this.push(xs[0], y, diff, origin);
  }

  /**
   * Appends a record the source could not turn into a point: it takes a slot (every x, y and diff NaN)
   * so that indices keep following the input, and is listed in the chunk's `rejects`.
   *
   * @example
   * ```ts
   * builder.reject(lineNumber, { reason: "bad_csv", detail: "unterminated quote" });
   * ```
   */
  reject(origin: number, why: SourceReject): void {
    this.#rejects ??= new Map();
    this.#rejects.set(this.#length, why);
    const i = this.#length;
    if (i === this.#x.length) this.#grow();
    for (const column of this.#more) column[i] = NaN;
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
    const x = this.#x.slice(0, n);
    const out = {
      x,
      ...(this.#more.length > 0 ? { xs: [x, ...this.#more.map((column) => column.slice(0, n))] } : {}),
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
    this.#more = this.#more.map(grow);
    this.#y = grow(this.#y);
    this.#diff = grow(this.#diff);
    this.#origin = grow(this.#origin);
  }
}
