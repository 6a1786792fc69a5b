/**
 * Keeping the consumer group's membership while the reader waits for the pipeline:
 * {@linkcode heartbeatUntil}.
 *
 * @example
 * ```ts
 * import { heartbeatUntil } from "./heartbeat.ts";
 * await heartbeatUntil(() => done, () => pushed, heartbeat);
 * ```
 * @module
 */

/** While the pipeline is busy, heartbeat the group this often. */
export const HEARTBEAT_WHILE_WAITING_MS = 2_000;

/**
 * Waits until `done()` holds, checking it each time `wake()` resolves or every 2 s, heartbeating the
 * group after each wait that did not end it (a failed heartbeat is ignored: the next one may succeed).
 *
 * @example
 * ```ts
 * await heartbeatUntil(() => this.released, () => new Promise((resolve) => (this.release = resolve)), heartbeat);
 * ```
 */
export async function heartbeatUntil(
  done: () => boolean,
  wake: () => Promise<unknown>,
  heartbeat: () => Promise<void>,
): Promise<void> {
  while (!done()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      wake(),
      new Promise((resolve) => (timer = setTimeout(resolve, HEARTBEAT_WHILE_WAITING_MS))),
    ]);
    clearTimeout(timer);
    if (!done()) await heartbeat().catch(() => {});
  }
}
