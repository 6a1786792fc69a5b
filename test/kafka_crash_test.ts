/**
 * Crash and restart (`--state DIR`) with `--source kafka`, through the real CLI of the runtime running the
 * tests (`deno test` covers Deno, `bun test` Bun), against the real test broker: SIGKILLs at seeded random
 * moments while 100 000 points (and a thousand bad messages) stream from a topic, each followed by a
 * restart with the same command, end with change logs and a dead-letter file identical to an uninterrupted
 * run's, commit times aside: no point lost, none counted twice. Also SIGTERM mid-stream, then a restart.
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { test } from "./harness.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  regress,
  sendMany,
  unique,
} from "./kafka_helpers.ts";
import {
  assertResumedOutputs,
  assertSameOutputs,
  collect,
  killMidStream,
  type Outputs,
  random,
  readOutputs,
  size,
  sleep,
  track,
} from "./cli_helpers.ts";

/** Starts the CLI of the current runtime in `cwd` (without this process's KAFKA_* variables). */
function start(args: string[], cwd: string): ChildProcess {
  const [exe, pre] = regress(CURRENT);
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
  }
  return spawn(exe, [...pre, ...args], { cwd, env, stdio: "pipe" });
}

/** Reads out.csv, in.csv and dead.csv from `dir`. */
const readAll = async (dir: string): Promise<Required<Outputs>> =>
  (await readOutputs(dir, true)) as Required<Outputs>;

/** The header, 100 000 points on a noisy line and 1 bad message in 100 (not numbers, wrong field counts, NaN). */
function messages(points: number): string[] {
  const next = random(7);
  const out = ["x,y"];
  const bad = ["oops,1", "1,2,3", "", "NaN,1", "1e400,2", "5", '"1,2']; // (the empty one: empty_field)
  for (let i = 0; i < points; i++) {
    if (i % 100 === 37) out.push(bad[(i / 100 | 0) % bad.length]);
    out.push(`${i / 8},${0.5 * i + next()}`);
  }
  return out;
}

test(
  `kafka crash and restart (${CURRENT}): SIGKILLs at random moments while 100 000 points stream from Kafka, each followed by a restart, give the uninterrupted run's outputs`,
  async () => {
    const t0 = performance.now();
    broker(); // fails at once when no broker runs
    const topic = unique("crash");
    await createTopic(topic, 1);
    await sendMany(topic, messages(100_000));
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-crash-"));
    // A killed reader stays in its group until its session times out: 6 s, the least the broker allows,
    // so that a restart with the same group is not kept waiting for 30 s.
    const args = (group: string, state: boolean) => [
      ...kafkaReader(topic, group),
      "-X",
      "session.timeout.ms=6000",
      "--exit-at-end",
      "--commit-rows",
      "500",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(state ? ["--state", "state"] : []),
    ];
    const ref = join(dir, "ref");
    const crash = join(dir, "crash");
    for (const d of [ref, crash]) await mkdir(d);
    const uninterrupted = await collect(start(args(unique("g"), false), ref));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await readAll(ref);
    assert.equal(expected.input.trim().split("\n").length, 100_001, "every point");
    assert.equal(expected.dead.trim().split("\n").length, 1001, "every bad message");

    // Kills: about one in four within 1.5 s of the start (connecting, joining, resuming), the others
    // once the input log has grown past a random point of what is left, plus up to 15 ms. Most
    // restarts use the same group (whose committed offsets may lag behind the checkpoint); one in
    // three a new group (no committed offsets: it would start at the beginning without the checkpoint).
    const next = random(CURRENT === "deno" ? 101 : 202);
    const group = unique("g");
    const kills = 11;
    const final = expected.input.length;
    const log = join(crash, "in.csv");
    let killed = 0;
    const groups: string[] = [];
    for (let k = 0; k < kills; k++) {
      const g = k % 3 === 2 ? unique("g") : group;
      groups.push(g);
      const result = await killMidStream(track(start(args(g, true), crash)), next, {
        k,
        kills,
        log,
        finalBytes: final,
        earlyMs: 1500,
        clamp: false,
      });
      if (result.signal === "SIGKILL") killed++;
      else assert.equal(result.code, 0, `run ${k} ended by itself: ${result.stderr}`);
    }
    const last = await collect(start(args(group, true), crash));
    assert.equal(last.code, 0, `the last restart: ${last.stderr}`);
    // An early kill (within 1.5 s of the start) can come after a run with little left to read, under a
    // new group that joins at once, has ended by itself; most kills must land.
    assert.ok(killed >= kills - 2, `${killed} of ${kills} SIGKILLs hit a running process`);
    const got = await readAll(crash);
    assert.ok(got.input.length === final, "the runs got to the end");
    assertSameOutputs(got, expected, `after ${killed} SIGKILLs`);
    const checkpoint = await readFile(join(crash, "state/checkpoint.json"), "utf8");
    assert.match(
      checkpoint,
      new RegExp(
        `"source":\\{"topic":"${topic}","partitions":\\[\\{"partition":0,"next":101001,"header":"x,y"\\}\\]\\}`,
      ),
    );
    assert.match(checkpoint, /"complete":true/);
    assert.deepEqual(await committedOffsets(group, topic), [101001], "the last run committed the end");

    // Complete: a restart has nothing to add and changes nothing.
    const again = await collect(start(args(group, true), crash));
    assert.equal(again.code, 0, again.stderr);
    assertSameOutputs(await readAll(crash), expected, "restarted once complete");
    await rm(dir, { recursive: true });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`kafka crash test (${CURRENT}): ${killed} SIGKILLs and restarts in ${seconds} s`);
  },
  { timeoutMs: 150_000 },
);

test(
  `kafka crash and restart (${CURRENT}): SIGTERM mid-stream writes the open batch, persists it, commits its offsets and exits 0; the restart goes on from there`,
  async () => {
    broker(); // fails at once when no broker runs
    const topic = unique("term");
    await createTopic(topic, 1);
    await sendMany(topic, messages(40_000));
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-term-"));
    const args = (group: string, state: boolean) => [
      ...kafkaReader(topic, group),
      "--exit-at-end",
      "--commit-rows",
      "100",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(state ? ["--state", "state"] : []),
    ];
    const group = unique("g");
    const { child, done, exited } = track(start(args(group, true), dir));
    while (!exited() && (await size(join(dir, "in.csv"))) < 100_000) await sleep(2);
    assert.ok(!exited(), "the run ended before SIGTERM");
    process.kill(child.pid!, "SIGTERM");
    const stopped = await done;
    assert.equal(stopped.code, 0, JSON.stringify(stopped));
    const checkpoint = await readFile(join(dir, "state/checkpoint.json"), "utf8");
    assert.match(checkpoint, /"complete":true/, "ended cleanly");
    const at = checkpoint.match(/"partitions":\[\{"partition":0,"next":(\d+),"header":"x,y"\}\]/);
    const next = Number(at?.[1]);
    assert.ok(next > 1000 && next < 40_401, `stopped mid-way, at offset ${next}`);
    assert.deepEqual(await committedOffsets(group, topic), [next], "the offsets of the last batch committed");
    const cut = await readAll(dir);
    assert.ok(
      checkpoint.includes(`"flag":"--input-log","path":"in.csv","length":${Buffer.byteLength(cut.input)}`),
      "the open batch is in the checkpoint",
    );

    const resumed = await collect(start(args(group, true), dir));
    assert.equal(resumed.code, 0, resumed.stderr);
    const got = await readAll(dir);
    const ref = join(dir, "ref");
    await mkdir(ref);
    const uninterrupted = await collect(start(args(unique("g"), false), ref));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await readAll(ref);
    assertResumedOutputs(got, expected);
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);
