/**
 * A pacer of full garbage collections, for runtimes whose collector lets garbage pile up while a process
 * allocates fast (Bun's JavaScriptCore while kafkajs decodes fetches: hundreds of MB of resident size
 * for a live heap of 50–80 MB). Every `intervalMs` it measures the heap (live objects and garbage, with
 * the memory held outside it, such as buffers); once that has grown by `growthBytes` or by `growthFactor`
 * times what the last collection left (whichever is more), it runs a full collection, but never more
 * often than keeps the collections' time within `maxShare` of the wall time (a collection of a large
 * live heap, such as one model per key for 10⁶ keys, takes long: it then runs seldom). The timer does not
 * keep the process alive.
 *
 * @example
 * ```ts
 * import { startGcPacer } from "./gc_pacer.ts";
 * const pacer = startGcPacer({ measure: () => process.memoryUsage().heapUsed, collect: () => Bun.gc(true) });
 * // ... later, if ever:
 * pacer.stop();
 * ```
 * @module
 */

/**
 * Options of {@linkcode startGcPacer}.
 *
 * @example
 * ```ts
 * const options: GcPacerOptions = { measure: () => 0, collect: () => {}, growthBytes: 48 << 20 };
 * ```
 */
export interface GcPacerOptions {
  /** Bytes the heap holds now, garbage included (and memory held outside it, if the runtime tells). */
  readonly measure: () => number;
  /** Runs a full, synchronous collection. */
  readonly collect: () => void;
  /** How often to measure, in ms (default 100). */
  readonly intervalMs?: number;
  /** Growth since the last collection that calls for the next one, in bytes (default 32 MiB)... */
  readonly growthBytes?: number;
  /** ...or this times what the last collection left, if more (default 0.5). */
  readonly growthFactor?: number;
  /** Most share of the wall time spent in the pacer's collections (default 0.15). */
  readonly maxShare?: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * The pacer's state, for a caller that ticks it itself (tests) or reads what it did.
 *
 * @example
 * ```ts
 * const pacer = new GcPacer({ measure: () => heap, collect: () => {} });
 * pacer.tick(); // collects if due
 * console.log(pacer.collections);
 * ```
 */
export class GcPacer {
  readonly #measure: () => number;
  readonly #collect: () => void;
  readonly #growthBytes: number;
  readonly #growthFactor: number;
  readonly #maxShare: number;
  readonly #now: () => number;
  /** What the last collection left (or the first measure). */
  #after: number;
  /** When the next collection may run at the earliest. */
  #notBefore = 0;
  /** Collections run so far. */
  collections = 0;
  /** Their time in all, in ms. */
  collectMs = 0;

  /** A pacer that does nothing until ticked. */
  constructor(options: GcPacerOptions) {
    this.#measure = options.measure;
    this.#collect = options.collect;
    this.#growthBytes = options.growthBytes ?? 32 * 1024 * 1024;
    this.#growthFactor = options.growthFactor ?? 0.5;
    this.#maxShare = options.maxShare ?? 0.15;
    this.#now = options.now ?? (() => performance.now());
    this.#after = this.#measure();
  }

  /**
   * Measures; runs a collection if the heap has grown enough and the last one was long enough ago.
   * Returns whether it collected.
   */
  tick(): boolean {
    const now = this.#now();
    if (now < this.#notBefore) return false;
    const size = this.#measure();
    if (size < this.#after + Math.max(this.#growthBytes, this.#growthFactor * this.#after)) return false;
    this.#collect();
    const end = this.#now();
    const took = end - now;
    this.collections++;
    this.collectMs += took;
    this.#after = this.#measure();
    this.#notBefore = end + took / this.#maxShare;
    return true;
  }
}

/**
 * Starts a {@linkcode GcPacer} on a timer that does not keep the process alive; `stop` ends it.
 *
 * @example
 * ```ts
 * const { pacer, stop } = startGcPacer({ measure: () => process.memoryUsage().heapUsed, collect: () => Bun.gc(true) });
 * ```
 */
export function startGcPacer(options: GcPacerOptions): { pacer: GcPacer; stop: () => void } {
  const pacer = new GcPacer(options);
  const timer = setInterval(() => pacer.tick(), options.intervalMs ?? 100);
  (timer as { unref?: () => void }).unref?.();
  return { pacer, stop: () => clearInterval(timer) };
}
