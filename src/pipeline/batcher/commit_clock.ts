/**
 * Commit times of batches: the wall clock in epoch milliseconds, made strictly increasing.
 *
 * @example
 * ```ts
 * import { CommitClock } from "./commit_clock.ts";
 * const clock = new CommitClock();
 * const t1 = clock.next();
 * const t2 = clock.next(); // t2 > t1 even within the same millisecond
 * ```
 * @module
 */

/**
 * Hands out strictly increasing integer times: the clock's millisecond, or the previous time + 1 when
 * the clock gives the same or an earlier millisecond.
 *
 * @example
 * ```ts
 * const clock = new CommitClock({ now: () => 5 });
 * clock.next(); // 5
 * clock.next(); // 6
 * ```
 */
export class CommitClock {
  readonly #now: () => number;
  #last = -Infinity;

  /**
   * `now` gives the wall clock in epoch milliseconds (default `Date.now`); `last`, the last time handed
   * out before (a resumed run's), so that times keep increasing across restarts.
   */
  constructor(options: { now?: () => number; last?: number } = {}) {
    this.#now = options.now ?? Date.now;
    if (options.last !== undefined) this.#last = options.last;
  }

  /** The last time handed out (`-Infinity` before the first). */
  get last(): number {
    return this.#last;
  }

  /**
   * The next commit time.
   *
   * @example
   * ```ts
   * const time = clock.next();
   * ```
   */
  next(): number {
    const now = Math.floor(this.#now());
    this.#last = now > this.#last ? now : this.#last + 1;
    return this.#last;
  }
}
