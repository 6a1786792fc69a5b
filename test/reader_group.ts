/**
 * Several `--readers many` processes of one consumer group, for the Kafka tests of many readers: start
 * readers of the runtime running the tests, wait for a condition while failing early (with what the
 * readers said) when one exits on its own, and stop them all.
 *
 * @example
 * ```ts
 * const group = readerGroup(["--source", "kafka", "-t", topic, "-G", id, "--readers", "many"]);
 * try {
 *   group.start();
 *   await group.until("the first commits", async () => (await committedTotal(id, topic)) > 0);
 * } finally {
 *   await group.stop();
 * }
 * ```
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { committedOffsets, CURRENT, regress } from "./kafka_helpers.ts";
import { sleep, track, type Tracked } from "./cli_helpers.ts";

/** One reader process: tracked, with its stderr so far. */
export type GroupReader = Tracked & { log: () => string };

/** The readers of one group; see {@linkcode readerGroup}. */
export interface ReaderGroup {
  /** Every reader started so far, in order. */
  readonly readers: GroupReader[];
  /** Starts one more reader with the group's arguments. */
  start(): GroupReader;
  /**
   * Waits until `done()` holds, polling every 100 ms; fails after `ms` (default: the group's `wait`) with
   * the readers' stderr, or as soon as a reader exits other than by SIGKILL.
   */
  until(what: string, done: () => Promise<boolean>, ms?: number): Promise<void>;
  /** Sends SIGTERM to the readers still running and waits for every reader to exit. */
  stop(): Promise<void>;
}

/**
 * Readers of the runtime running the tests, each started with `args` (without the `KAFKA_*` variables of
 * this process's environment, so that only the arguments connect them). `wait`: how long `until` waits
 * by default (60 s).
 *
 * @example
 * ```ts
 * const group = readerGroup(args);
 * const first = group.start();
 * ```
 */
export function readerGroup(args: readonly string[], options: { wait?: number } = {}): ReaderGroup {
  const [exe, pre] = regress(CURRENT);
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
  }
  const readers: GroupReader[] = [];
  return {
    readers,
    start() {
      const child = spawn(exe, [...pre, ...args], { env, stdio: "pipe" });
      const tracked = track(child); // (the stream is utf8 text from here)
      let log = "";
      child.stderr!.on("data", (text: string) => (log += text));
      const reader = { ...tracked, log: () => log };
      readers.push(reader);
      return reader;
    },
    async until(what, done, ms = options.wait ?? 60_000) {
      const deadline = Date.now() + ms;
      while (!(await done())) {
        assert.ok(
          Date.now() < deadline,
          `timed out waiting for ${what}; the readers said:\n` +
            readers.map((r) => r.log().split("\n").filter((l) => !/kafkajs error/.test(l)).join("\n"))
              .join("\n--\n"),
        );
        for (const r of readers) {
          if (r.exited() && r.child.signalCode !== "SIGKILL") {
            const { code, stderr } = await r.done as { code: number | null; stderr: string };
            assert.fail(`a reader exited (${code}) while waiting for ${what}: ${stderr}`);
          }
        }
        await sleep(100);
      }
    },
    async stop() {
      for (const r of readers) if (!r.exited()) process.kill(r.child.pid!, "SIGTERM");
      await Promise.all(readers.map((r) => r.done));
    },
  };
}

/**
 * The sum of a group's committed offsets over a topic's partitions (those with none count 0).
 *
 * @example
 * ```ts
 * const read = await committedTotal("my-group", "points"); // messages read and committed
 * ```
 */
export async function committedTotal(group: string, topic: string): Promise<number> {
  return (await committedOffsets(group, topic)).reduce((t, o) => t + Math.max(o, 0), 0);
}
