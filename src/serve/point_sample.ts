/**
 * A bounded sample of recent points for the live page: each publishing window (the time between two
 * updates of the page) keeps a uniform reservoir of its points (Vitter's algorithm L, which draws random
 * numbers only for the points it keeps, so a window of a million points costs a few thousand draws), and
 * a ring keeps the points of the last windows, at most `capacity` in all. At low rates every point is
 * kept (the last `capacity` of them); at high rates the sample is spread evenly over the last windows.
 * Retracted points (diff −1) are not drawn.
 *
 * @example
 * ```ts
 * import { PointSample } from "./point_sample.ts";
 * const sample = new PointSample({ columns: 1, capacity: 2000, perWindow: 200 });
 * sample.add({ x: xs, y: ys, diff: diffs });
 * sample.closeWindow();
 * sample.points(); // { xs: [[...]], y: [...] }
 * ```
 * @module
 */

import type { PointRun } from "../model/sink.ts";

/**
 * Options of {@linkcode PointSample}.
 *
 * @example
 * ```ts
 * const options: PointSampleOptions = { columns: 3, capacity: 2000, perWindow: 200 };
 * ```
 */
export interface PointSampleOptions {
  /** How many x columns each point has. */
  columns: number;
  /** Most points kept in all. Default 2000. */
  capacity?: number;
  /** Most points kept of one window. Default 200. */
  perWindow?: number;
  /** Random numbers in [0, 1). Default a fixed-seed generator (the sample is the same for the same input). */
  random?: () => number;
}

/**
 * The sampled points, as columns: `xs[j][i]` is the j-th x of point i.
 *
 * @example
 * ```ts
 * const { xs: [x], y } = sample.points();
 * ```
 */
export interface SampledPoints {
  /** One array per x column. */
  readonly xs: number[][];
  /** The y of each point. */
  readonly y: number[];
}

/** mulberry32: a small seeded generator (the sample needs no better). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A windowed reservoir of recent points (see the module documentation).
 *
 * @example
 * ```ts
 * const sample = new PointSample({ columns: 1 });
 * ```
 */
export class PointSample {
  readonly #columns: number;
  readonly #capacity: number;
  readonly #perWindow: number;
  readonly #random: () => number;
  /** The ring: `capacity` slots of `columns + 1` numbers (the xs, then y). */
  readonly #ring: Float64Array;
  #ringStart = 0;
  #ringSize = 0;
  /** The current window's reservoir: `perWindow` slots of `columns + 1` numbers. */
  readonly #window: Float64Array;
  /** Points of the current window seen so far (added ones only). */
  #seen = 0;
  /** Algorithm L: the index (in `#seen` terms) of the next point to keep, and W. */
  #next = 0;
  #w = 1;

  /** A sample of points with `options.columns` x columns. */
  constructor(options: PointSampleOptions) {
    this.#columns = options.columns;
    this.#capacity = options.capacity ?? 2000;
    this.#perWindow = Math.min(options.perWindow ?? 200, this.#capacity);
    this.#random = options.random ?? seeded(0x5eed);
    const width = this.#columns + 1;
    this.#ring = new Float64Array(this.#capacity * width);
    this.#window = new Float64Array(this.#perWindow * width);
  }

  /** Points kept now (the ring and the open window). */
  get size(): number {
    return this.#ringSize + Math.min(this.#seen, this.#perWindow);
  }

  /**
   * Offers a run of points to the current window.
   *
   * @example
   * ```ts
   * for (const run of update.points) sample.add(run);
   * ```
   */
  add(run: PointRun): void {
    const n = run.y.length;
    const m = this.#perWindow;
    if (m === 0) return;
    const xs = run.xs ?? [run.x];
    // Fill the reservoir first, one point at a time.
    let i = 0;
    for (; i < n && this.#seen < m; i++) {
      if (run.diff[i] < 0) continue;
      this.#store(this.#window, this.#seen++, xs, run.y, i);
      if (this.#seen === m) this.#startSkipping();
    }
    if (i === n) return;
    // Then jump from kept point to kept point (algorithm L). Run point i is the window's point `first`.
    const first = this.#seen;
    const end = first + (n - i);
    while (this.#next < end) {
      const at = i + (this.#next - first);
      if (run.diff[at] >= 0) {
        this.#store(this.#window, Math.floor(this.#random() * m), xs, run.y, at);
        this.#w *= Math.exp(Math.log(this.#random()) / m);
      }
      this.#advance(this.#next);
    }
    this.#seen = end;
  }

  /**
   * Offers one added point of one x column to the current window (a keyed run samples each key's points
   * one by one; the draws are those of {@linkcode PointSample.add}).
   *
   * @example
   * ```ts
   * for (let i = 0; i < run.y.length; i++) if (run.keys![i] === key) sample.addPoint(run.x[i], run.y[i]);
   * ```
   */
  addPoint(x: number, y: number): void {
    const m = this.#perWindow;
    if (m === 0) return;
    const width = this.#columns + 1;
    if (this.#seen < m) {
      this.#window[this.#seen * width] = x;
      this.#window[this.#seen * width + this.#columns] = y;
      if (++this.#seen === m) this.#startSkipping();
      return;
    }
    if (this.#seen === this.#next) {
      const slot = Math.floor(this.#random() * m);
      this.#window[slot * width] = x;
      this.#window[slot * width + this.#columns] = y;
      this.#w *= Math.exp(Math.log(this.#random()) / m);
      this.#advance(this.#next);
    }
    this.#seen++;
  }

  #startSkipping(): void {
    this.#w = Math.exp(Math.log(this.#random()) / this.#perWindow);
    this.#advance(this.#seen - 1);
  }

  /** The next point to keep after seen index `from`. */
  #advance(from: number): void {
    const skip = Math.floor(Math.log(this.#random()) / Math.log(1 - this.#w));
    this.#next = from + 1 + (Number.isFinite(skip) ? skip : 0);
  }

  #store(into: Float64Array, slot: number, xs: readonly Float64Array[], y: Float64Array, i: number): void {
    const width = this.#columns + 1;
    const at = slot * width;
    for (let j = 0; j < this.#columns; j++) into[at + j] = xs[j][i];
    into[at + this.#columns] = y[i];
  }

  /**
   * Ends the current window: its reservoir joins the ring (the oldest points make room), and a new
   * window starts.
   *
   * @example
   * ```ts
   * sample.closeWindow(); // at each update of the page
   * ```
   */
  closeWindow(): void {
    const width = this.#columns + 1;
    const kept = Math.min(this.#seen, this.#perWindow);
    for (let k = 0; k < kept; k++) {
      const slot = (this.#ringStart + this.#ringSize) % this.#capacity;
      this.#ring.set(this.#window.subarray(k * width, (k + 1) * width), slot * width);
      if (this.#ringSize < this.#capacity) this.#ringSize++;
      else this.#ringStart = (this.#ringStart + 1) % this.#capacity;
    }
    this.#seen = 0;
    this.#next = 0;
    this.#w = 1;
  }

  /**
   * The points kept, oldest first (the ring, then the open window's reservoir).
   *
   * @example
   * ```ts
   * sample.points().y.length <= 2000; // true
   * ```
   */
  points(): SampledPoints {
    const width = this.#columns + 1;
    const xs: number[][] = Array.from({ length: this.#columns }, () => []);
    const y: number[] = [];
    const take = (from: Float64Array, slot: number) => {
      for (let j = 0; j < this.#columns; j++) xs[j].push(from[slot * width + j]);
      y.push(from[slot * width + this.#columns]);
    };
    for (let k = 0; k < this.#ringSize; k++) take(this.#ring, (this.#ringStart + k) % this.#capacity);
    for (let k = 0, kept = Math.min(this.#seen, this.#perWindow); k < kept; k++) take(this.#window, k);
    return { xs, y };
  }
}
