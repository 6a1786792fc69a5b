/**
 * The built-in demo stream: points on a noisy line, the stream of the reference tutorial by default.
 *
 * Point i (i = 0, 1, 2, ...) is x = i, y = intercept + slope·i + (2r − 1) / (1 / noise), where r is the
 * i-th `random.random()` of Python after `random.seed(seed)` (see {@linkcode PythonRandom}). The noise is
 * uniform in [−noise, noise). Dividing by 1/noise (rather than multiplying by noise) reproduces the
 * tutorial's `i + (2 * random.random() - 1) / 10` bit for bit at the default noise 0.1, since 1/0.1 is
 * exactly 10 in doubles; the two forms differ in the last bit for about a third of the points.
 *
 * @example
 * ```ts
 * import { DemoSource } from "./demo_source.ts";
 * const source = new DemoSource({ rows: 10, rate: 0 });
 * for await (const chunk of source.chunks(new AbortController().signal)) console.log(chunk.y);
 * ```
 * @module
 */

import { PythonRandom } from "./python_random.ts";
import type { CommittedBatch, PointChunk, Source } from "../../model/source.ts";

/**
 * Settings of the demo stream; every field is optional.
 *
 * @example
 * ```ts
 * const options: DemoOptions = { rows: 0, rate: 20, slope: 2, noise: 0.5 }; // endless, 20 points a second
 * ```
 */
export interface DemoOptions {
  /** Number of points; 0 means endless. Default 10. */
  rows?: number;
  /** Points per second; 0 means as fast as possible. Default 1. */
  rate?: number;
  /** Slope of the underlying line. Default 1. */
  slope?: number;
  /** Intercept of the underlying line. Default 0. */
  intercept?: number;
  /** Half-width of the uniform noise added to y. Default 0.1. */
  noise?: number;
  /** Integer seed of Python's `random.seed`. Default 0. */
  seed?: number;
  /** Most points per chunk. Default 4096. */
  chunkSize?: number;
  /**
   * Index of the first point to yield (a run resumed from a checkpoint: {@linkcode DemoSource.position});
   * the points before it are generated and dropped, so the stream goes on exactly. Default 0.
   */
  start?: number;
  /** Monotonic clock in milliseconds. Default `performance.now`. */
  now?: () => number;
  /** Waits `ms` milliseconds or until `signal` aborts. Default: a `setTimeout`. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The defaults of {@linkcode DemoOptions}: the reference tutorial's stream.
 *
 * @example
 * ```ts
 * new DemoSource({ ...DEMO_DEFAULTS, rate: 0 }); // the tutorial's points, at once
 * ```
 */
export const DEMO_DEFAULTS = {
  rows: 10,
  rate: 1,
  slope: 1,
  intercept: 0,
  noise: 0.1,
  seed: 0,
} as const;

/**
 * A chunk of the demo stream; `first` is the index of its first point.
 *
 * @example
 * ```ts
 * for await (const chunk of new DemoSource().chunks(signal)) console.log(chunk.first, chunk.x.length);
 * ```
 */
export interface DemoChunk extends PointChunk {
  /** Index of the chunk's first point in the stream. */
  readonly first: number;
}

/**
 * The y of demo point i, given the random number r drawn for it.
 *
 * @example
 * ```ts
 * demoY(3, 0.5, { slope: 2, intercept: 1, noise: 0.1 }); // 7
 * ```
 */
export function demoY(
  i: number,
  r: number,
  line: { slope: number; intercept: number; noise: number },
): number {
  return line.intercept + line.slope * i + (2 * r - 1) / (1 / line.noise);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Generates the demo stream, paced at `rate` points per second (point i is released at i/rate seconds
 * after the first chunk is requested).
 *
 * @example
 * ```ts
 * const source = new DemoSource({ rows: 0, rate: 100, slope: 2, seed: 1 }); // endless
 * ```
 */
export class DemoSource implements Source<DemoChunk> {
  readonly name: string;
  /** The demo stream only adds points. */
  readonly retractions = false;
  readonly #start: number;
  readonly #rows: number;
  readonly #rate: number;
  readonly #line: { slope: number; intercept: number; noise: number };
  readonly #seed: number;
  readonly #chunkSize: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  /** Checks the options; throws a `RangeError` naming the first bad one. */
  constructor(options: DemoOptions = {}) {
    const o = { ...DEMO_DEFAULTS, ...options };
    if (!Number.isSafeInteger(o.rows) || o.rows < 0) {
      throw new RangeError(`rows must be an integer ≥ 0 (0 = endless): got ${o.rows}`);
    }
    if (!Number.isFinite(o.rate) || o.rate < 0) {
      throw new RangeError(`rate must be a finite number ≥ 0 (0 = as fast as possible): got ${o.rate}`);
    }
    if (!Number.isFinite(o.slope)) throw new RangeError(`slope must be a finite number: got ${o.slope}`);
    if (!Number.isFinite(o.intercept)) {
      throw new RangeError(`intercept must be a finite number: got ${o.intercept}`);
    }
    if (!Number.isFinite(o.noise) || o.noise < 0) {
      throw new RangeError(`noise must be a finite number ≥ 0: got ${o.noise}`);
    }
    if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be an integer: got ${o.seed}`);
    const start = options.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`start must be an integer ≥ 0: got ${start}`);
    }
    this.#start = start;
    const chunkSize = options.chunkSize ?? 4096;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`chunkSize must be an integer ≥ 1: got ${chunkSize}`);
    }
    this.#rows = o.rows;
    this.#rate = o.rate;
    this.#line = { slope: o.slope, intercept: o.intercept, noise: o.noise };
    this.#seed = o.seed;
    this.#chunkSize = chunkSize;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? sleep;
    const count = o.rows === 0 ? "endless" : `${o.rows} points`;
    const pace = o.rate === 0 ? "as fast as possible" : `${o.rate}/s`;
    this.name =
      `demo stream (${count}, ${pace}, y = ${o.intercept} + ${o.slope}·x ± ${o.noise}, seed ${o.seed})`;
  }

  /**
   * Yields the points in chunks: as many as are due (up to the chunk size) each time.
   *
   * @example
   * ```ts
   * for await (const { x, y } of new DemoSource({ rate: 0 }).chunks(signal)) console.log(x, y);
   * ```
   */
  async *chunks(signal: AbortSignal): AsyncGenerator<DemoChunk> {
    const rng = new PythonRandom(this.#seed);
    const rows = this.#rows === 0 ? Infinity : this.#rows;
    const periodMs = this.#rate === 0 ? 0 : 1000 / this.#rate;
    let i = Math.min(this.#start, rows);
    for (let k = 0; k < i; k++) rng.random();
    const first0 = i; // pacing starts with the first point yielded
    const start = this.#now();
    while (i < rows && !signal.aborted) {
      let n = Math.min(this.#chunkSize, rows - i);
      if (periodMs > 0) {
        const due = first0 + Math.floor((this.#now() - start) / periodMs) + 1; // points ..due-1 are due
        if (due <= i) {
          await this.#sleep(start + (i - first0) * periodMs - this.#now(), signal);
          continue;
        }
        n = Math.min(n, due - i);
      }
      const first = i;
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        x[k] = first + k;
        y[k] = demoY(first + k, rng.random(), this.#line);
      }
      i += n;
      yield {
        x,
        y,
        diff: new Float64Array(n).fill(1),
        first,
        where: (k) => `demo point ${first + k}`,
        origin: (k) => ({ source: "demo", location: `point ${first + k}` }),
      };
    }
  }

  /**
   * Where to resume after the batch: the index of the next point, `{ next }`.
   *
   * @example
   * ```ts
   * source.position({ time, spans: [{ chunk, start: 0, end: 5 }] }); // { next: chunk.first + 5 }
   * ```
   */
  position(batch: CommittedBatch<DemoChunk>): { next: number } {
    const last = batch.spans[batch.spans.length - 1];
    return { next: last.chunk.first + last.end };
  }
}
