/**
 * Stage 2 of source → batcher → core → sinks: groups incoming points into batches.
 *
 * Time is cut into windows of `commitMs` milliseconds from `start` (like an autocommit timer ticking
 * every `commitMs`); a batch closes at the end of its window, or as soon as it holds `commitRows`
 * points, whichever comes first. A point belongs to the window in which it arrived. The batcher is a
 * plain state machine — the pipeline drives it with the current time — so it is tested without timers.
 *
 * @example
 * ```ts
 * import { Batcher } from "./batcher.ts";
 * const batcher = new Batcher({ commitMs: 1000, commitRows: 2, start: 0 });
 * batcher.arrive(10); // a chunk arrives at t = 10 ms: nothing to close yet
 * let i = batcher.add(chunk, 0); // takes up to 2 points of the chunk
 * if (batcher.full) batcher.close(); // → the batch's spans
 * ```
 * @module
 */

import type { BatchSpan, PointChunk } from "../../model/source.ts";

/**
 * Settings of a {@linkcode Batcher}.
 *
 * @example
 * ```ts
 * const options: BatcherOptions = { commitMs: 1000, commitRows: 100_000, start: performance.now() };
 * ```
 */
export interface BatcherOptions {
  /** Window length in milliseconds (> 0). */
  commitMs: number;
  /** Most points per batch; 0 means no limit. */
  commitRows: number;
  /** Monotonic time (ms) at which the first window opens. */
  start: number;
}

/**
 * Decides where batches end.
 *
 * @example
 * ```ts
 * const batcher = new Batcher({ commitMs: 100, commitRows: 0, start: performance.now() });
 * ```
 */
export class Batcher<C extends PointChunk = PointChunk> {
  readonly #commitMs: number;
  readonly #commitRows: number;
  readonly #start: number;
  #windowEnd: number;
  #spans: BatchSpan<C>[] = [];
  #rows = 0;

  /** Throws a `RangeError` if `commitMs` is not > 0 or `commitRows` not an integer ≥ 0. */
  constructor(options: BatcherOptions) {
    if (!(options.commitMs > 0) || !Number.isFinite(options.commitMs)) {
      throw new RangeError(`commitMs must be a finite number > 0: got ${options.commitMs}`);
    }
    if (!Number.isSafeInteger(options.commitRows) || options.commitRows < 0) {
      throw new RangeError(`commitRows must be an integer ≥ 0 (0 = no limit): got ${options.commitRows}`);
    }
    this.#commitMs = options.commitMs;
    this.#commitRows = options.commitRows;
    this.#start = options.start;
    this.#windowEnd = options.start + options.commitMs;
  }

  /** Points in the open batch. */
  get rows(): number {
    return this.#rows;
  }

  /** How many more points the open batch takes (`Infinity` without a row limit). */
  get room(): number {
    return this.#commitRows > 0 ? Math.max(0, this.#commitRows - this.#rows) : Infinity;
  }

  /** True when the open batch holds `commitRows` points and must be closed before adding more. */
  get full(): boolean {
    return this.#commitRows > 0 && this.#rows >= this.#commitRows;
  }

  /**
   * When (monotonic ms) the open batch must close by time: the end of its window, or `Infinity`
   * while it is empty (an empty window closes nothing).
   */
  get deadline(): number {
    return this.#rows > 0 ? this.#windowEnd : Infinity;
  }

  /**
   * Advances to the window containing `now`. Returns true if the open batch's window has ended, so
   * the caller must {@linkcode Batcher.close} it before adding points that arrived at `now`.
   *
   * @example
   * ```ts
   * if (batcher.arrive(performance.now())) await emit(batcher.close()!);
   * ```
   */
  arrive(now: number): boolean {
    if (now < this.#windowEnd) return false;
    const due = this.#rows > 0;
    const windows = Math.floor((now - this.#start) / this.#commitMs) + 1;
    this.#windowEnd = Math.max(this.#windowEnd, this.#start + windows * this.#commitMs);
    if (this.#windowEnd <= now) this.#windowEnd = now + this.#commitMs; // rounding at huge times
    return due;
  }

  /**
   * Adds points `from`, `from + 1`, ... of `chunk` to the open batch until the chunk ends (or point
   * `to`, if given) or the batch is full; returns the index after the last point taken.
   *
   * @example
   * ```ts
   * for (let i = 0; i < chunk.x.length;) {
   *   i = batcher.add(chunk, i);
   *   if (batcher.full) await emit(batcher.close()!);
   * }
   * ```
   */
  add(chunk: C, from: number, to: number = chunk.x.length): number {
    const length = Math.min(to, chunk.x.length);
    if (from >= length) return length;
    const room = this.#commitRows > 0 ? this.#commitRows - this.#rows : Infinity;
    if (room <= 0) return from;
    const end = Math.min(length, from + room);
    const lastSpan = this.#spans[this.#spans.length - 1];
    if (lastSpan && lastSpan.chunk === chunk && lastSpan.end === from) {
      this.#spans[this.#spans.length - 1] = { chunk, start: lastSpan.start, end };
    } else {
      this.#spans.push({ chunk, start: from, end });
    }
    this.#rows += end - from;
    return end;
  }

  /**
   * Closes the open batch: returns its spans in arrival order, or `undefined` if it is empty.
   *
   * @example
   * ```ts
   * const spans = batcher.close(); // e.g. [{ chunk, start: 0, end: 100 }]
   * ```
   */
  close(): BatchSpan<C>[] | undefined {
    if (this.#rows === 0) return undefined;
    const spans = this.#spans;
    this.#spans = [];
    this.#rows = 0;
    return spans;
  }
}
