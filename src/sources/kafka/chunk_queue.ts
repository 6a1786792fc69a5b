/**
 * A push-to-pull adapter for sources whose client pushes data (a Kafka consumer's `eachBatch`): the
 * producer awaits {@linkcode ChunkQueue.push}, which resolves once the pipeline has taken the chunk,
 * so a slow pipeline slows the producer down (backpressure).
 *
 * @example
 * ```ts
 * import { ChunkQueue } from "./chunk_queue.ts";
 * const queue = new ChunkQueue<PointChunk>();
 * consumer.run({ eachBatch: async ({ batch }) => await queue.push(toChunk(batch)) });
 * // in Source.chunks(): return queue;  — and on shutdown: queue.end() or queue.fail(error)
 * ```
 * @module
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

/**
 * An async iterable fed by `push`, ended by `end` or `fail`.
 *
 * @example
 * ```ts
 * const queue = new ChunkQueue<number>();
 * queue.push(1);
 * queue.end();
 * for await (const n of queue) console.log(n); // 1
 * ```
 */
export class ChunkQueue<T> implements AsyncIterable<T> {
  readonly #items: { value: T; taken: () => void }[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #ended = false;
  #error: { error: unknown } | undefined;
  readonly #limit: number;

  /**
   * `limit`: how many pushed chunks may wait untaken with their `push` resolved (default 1; with 0,
   * `push` resolves only when the pipeline takes the chunk).
   */
  constructor(options: { limit?: number } = {}) {
    this.#limit = Math.max(0, options.limit ?? 1);
  }

  /**
   * Queues a chunk; the promise resolves once at most `limit` chunks (this one included) wait, that is
   * at once while there is room, else when the pipeline takes one. Rejects after `end` or `fail`.
   *
   * @example
   * ```ts
   * await queue.push(chunk);
   * ```
   */
  push(value: T): Promise<void> {
    if (this.#ended) return Promise.reject(new Error("push after end: the pipeline has stopped reading"));
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve({ value, done: false });
      return Promise.resolve();
    }
    return new Promise((taken) => {
      this.#items.push({ value, taken });
      this.#release();
    });
  }

  /** Ends the stream after the chunks already pushed. */
  end(): void {
    this.#ended = true;
    this.#settleWaiters();
  }

  /** Ends the stream with an error, raised to the pipeline after the chunks already pushed. */
  fail(error: unknown): void {
    this.#error ??= { error };
    this.end();
  }

  /** Chunks waiting to be taken. */
  get size(): number {
    return this.#items.length;
  }

  #release(): void {
    // The newest item is released at once while at most `limit` items wait.
    if (this.#items.length <= this.#limit) this.#items[this.#items.length - 1].taken();
  }

  #settleWaiters(): void {
    if (this.#items.length > 0) return;
    for (const waiter of this.#waiters.splice(0)) {
      if (this.#error) waiter.reject(this.#error.error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  #next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item) {
      item.taken();
      if (this.#limit > 0) this.#items[this.#limit - 1]?.taken(); // it has moved within the limit
      return Promise.resolve({ value: item.value, done: false });
    }
    if (this.#ended) {
      return this.#error
        ? Promise.reject(this.#error.error)
        : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Iterates the chunks; breaking out of the loop ends the queue. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#next(),
      return: () => {
        this.end();
        for (const item of this.#items.splice(0)) item.taken();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
