/**
 * The broker stops and starts again while a reader streams: the reader (the CLI of the runtime running
 * the tests, with `--state`) waits, reconnects, and reads every point exactly once.
 *
 * This test stops and restarts the shared test broker (`scripts/kafka/stop.sh`, without `--clean`, then
 * `scripts/kafka/start.sh`): it lives in a file of its own, and whatever happens it starts the broker
 * again before it ends, so that it leaves the broker running as it found it. (Test files run one after
 * the other within a runtime; other Kafka tests must not run at the same time.)
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import { size, sleep } from "./cli_helpers.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  regress,
  ROOT,
  rows,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

/** Runs a script of scripts/kafka/ with bash; resolves to its exit code and output. */
function kafkaScript(name: "start.sh" | "stop.sh"): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts/kafka", name)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** `count` points on a noisy line, from `from` on. */
const points = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${(from + i) / 4},${(from + i) / 2 + ((from + i) % 7) / 10}`);

test(
  `kafka broker restart (${CURRENT}): the broker stops for ~10 s and starts again while a reader streams; the reader reconnects and reads every point exactly once`,
  async () => {
    broker(); // fails if no broker runs: nothing to restart
    const topic = unique("outage");
    const group = unique("g");
    await createTopic(topic, 1);
    const before = points(0, 60_000);
    const after = points(60_000, 5_000);
    await sendMany(topic, ["x,y", ...before]);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-outage-"));
    const out = join(dir, "out.csv");
    const log = join(dir, "in.csv");
    let stopped = false;
    try {
      // A live reader (no --exit-at-end), slowed down by many small batches with a checkpoint each.
      let done = false;
      const reader = run(regress(CURRENT), [
        ...kafkaReader(topic, group),
        // After the restart, the group waits for the member of before the outage until its session
        // times out: 6 s, the least the broker allows, rather than 30.
        "-X",
        "session.timeout.ms=6000",
        "--commit-rows",
        "50",
        "--output",
        out,
        "--input-log",
        log,
        "--state",
        join(dir, "state"),
      ], {
        timeoutMs: 150_000,
        // Once every point is in: SIGINT.
        interruptWhen: async () =>
          done &&
          (await readFile(log, "utf8").catch(() => "")).split("\n").length - 2 >=
            before.length + after.length,
      });
      // Stop the broker once the reader is under way, mid-stream.
      const deadline = Date.now() + 30_000;
      while ((await size(log)) < 100_000 && Date.now() < deadline) await sleep(5);
      const midStream = (await readFile(log, "utf8")).split("\n").length - 2;
      const stop = await kafkaScript("stop.sh");
      stopped = true;
      assert.equal(stop.code, 0, stop.output);
      await sleep(10_000);
      const start = await kafkaScript("start.sh");
      assert.equal(start.code, 0, start.output);
      stopped = false;
      await sendMany(topic, after); // new points, after the outage
      done = true;
      const r = await reader;
      ok(r, "the reader");
      assert.ok(midStream < before.length, `the broker stopped mid-stream (after ${midStream} points)`);
      assert.match(r.stderr, /cannot connect to Kafka at .*: connection refused .*; reconnecting/, "said so");

      // Every point once, in order, and the fit of all of them.
      const accepted = rows(await readFile(log, "utf8")).map((f) => `${f[0]},${f[1]}`);
      assert.equal(accepted.length, before.length + after.length, "no point lost, none twice");
      assert.deepEqual(accepted, [...before, ...after]);
      await writeFile(join(dir, "all.csv"), ["x,y", ...before, ...after].join("\n") + "\n");
      const reference = await run(regress(CURRENT), [
        "--source",
        "csv",
        "--input",
        join(dir, "all.csv"),
        "--output",
        "-",
        "--no-input-log",
      ]);
      ok(reference, "reference");
      const last = (csv: string) => rows(csv).at(-1)!.slice(0, 2);
      assert.deepEqual(last(await readFile(out, "utf8")), last(reference.stdout));
      assert.deepEqual(await committedOffsets(group, topic), [1 + before.length + after.length]);
      const checkpoint = await readFile(join(dir, "state/checkpoint.json"), "utf8");
      assert.ok(checkpoint.includes(`"next":${1 + before.length + after.length}`), "the checkpoint too");
    } finally {
      if (stopped) await kafkaScript("start.sh"); // as it was found: running
      await rm(dir, { recursive: true, force: true });
    }
  },
  { timeoutMs: 180_000 },
);
