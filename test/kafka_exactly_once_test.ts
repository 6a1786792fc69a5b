/**
 * Exactly once with `--source kafka --output-topic … --state kafka`, through the real CLI of the runtime
 * running the tests, against the real test broker: each batch's results, offsets and state go in one
 * transaction, so SIGKILLs at random moments while 100 000 points stream, each followed by a restart,
 * leave in the output topic (read with read_committed) exactly an uninterrupted run's messages, commit
 * times aside; and a reader paused with SIGSTOP while another takes over its group (a zombie) is fenced
 * when it comes back: it exits 1 and adds nothing to the output.
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { Kafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import { broker, createTopic, CURRENT, kafkaReader, regress, sendMany, unique } from "./kafka_helpers.ts";
import { collect, random, sleep, track } from "./cli_helpers.ts";
import { readTopic } from "./kafka_topic_reader.ts";

/** Starts the CLI of the current runtime (without this process's KAFKA_* variables). */
function start(args: string[]): ChildProcess {
  const [exe, pre] = regress(CURRENT);
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
  }
  return spawn(exe, [...pre, ...args], { env, stdio: "pipe" });
}

/** The header and `points` points on a noisy line; with `keys`, a key column of that many keys. */
function messages(points: number, keys = 0): string[] {
  const next = random(11);
  const out = [keys > 0 ? "k,x,y" : "x,y"];
  for (let i = 0; i < points; i++) {
    const point = `${i / 8},${0.5 * i + next()}`;
    out.push(keys > 0 ? `k${(i * 7) % keys},${point}` : point);
  }
  return out;
}

/** The reader's arguments: exactly once, state in Kafka, batches of `rows` points (default 500). */
const args = (topic: string, group: string, out: string, rows = 500, extra: readonly string[] = []) => [
  ...kafkaReader(topic, group),
  "-X",
  "session.timeout.ms=6000",
  "--exit-at-end",
  "--commit-rows",
  String(rows),
  "--commit-ms",
  "1e9",
  "--output-topic",
  out,
  "--state",
  "kafka",
  ...extra,
];

/** The output messages without their commit times (which differ from run to run). */
async function withoutTimes(topic: string): Promise<{ key: string | null; value: unknown }[]> {
  const messages = await readTopic(topic, { timeoutMs: 60_000 });
  return messages.map(({ key, value }) => {
    const row = value === null ? null : JSON.parse(value);
    if (row !== null) delete row.time;
    return { key, value: row };
  });
}

/** The committed offset of partition 0 of the topic for the group (-1: none), with one admin client. */
function offsetWatcher(): { offset(group: string, topic: string): Promise<number>; close(): Promise<void> } {
  const kafka = new Kafka({
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  const connected = admin.connect();
  return {
    async offset(group, topic) {
      await connected;
      const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return Number(t.partitions.find((p) => p.partition === 0)?.offset ?? -1);
    },
    close: () => admin.disconnect(),
  };
}

async function killRuns(
  options: {
    topic: string;
    group: string;
    out: string;
    end: number;
    kills: number;
    extra?: readonly string[];
  },
): Promise<number> {
  const { topic, group, out, end, kills } = options;
  const next = random(CURRENT === "deno" ? 303 : 404);
  const watch = offsetWatcher();
  let killed = 0;
  try {
    for (let k = 0; k < kills; k++) {
      const run = track(start(args(topic, group, out, 500, options.extra)));
      if (k % 4 === 0) {
        // Early: connecting, fencing, restoring the state, joining the group.
        await sleep(20 + next() * 2500);
      } else {
        const from = Math.max(0, await watch.offset(group, topic));
        const target = from + (end - from) * (0.15 + 0.5 * next()) / (kills - k + 1);
        const deadline = Date.now() + 30_000;
        while (!run.exited() && (await watch.offset(group, topic)) < target && Date.now() < deadline) {
          await sleep(20);
        }
        await sleep(next() * 15);
      }
      if (!run.exited()) process.kill(run.child.pid!, "SIGKILL");
      const result = await run.done;
      if (result.signal === "SIGKILL") killed++;
      else assert.equal(result.code, 0, `run ${k} ended by itself: ${result.stderr}`);
    }
  } finally {
    await watch.close();
  }
  return killed;
}

test(
  `exactly once (${CURRENT}): SIGKILLs at random moments while 100 000 points stream, each followed by a restart, leave the uninterrupted run's output topic (read_committed)`,
  async () => {
    const t0 = performance.now();
    broker(); // fails at once when no broker runs
    const topic = unique("eos");
    await createTopic(topic, 1);
    await sendMany(topic, messages(100_000));
    const reference = unique("eos-ref");
    const uninterrupted = await collect(start(args(topic, unique("g"), reference)));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await withoutTimes(reference);
    assert.equal(expected.length, 399, "200 batches: 1 + 199 × 2 rows");

    const group = unique("g");
    const out = unique("eos-out");
    const kills = 10;
    const killed = await killRuns({ topic, group, out, end: 100_001, kills });
    const last = await collect(start(args(topic, group, out)));
    assert.equal(last.code, 0, `the last restart: ${last.stderr}`);
    assert.ok(killed >= kills - 2, `${killed} of ${kills} SIGKILLs hit a running process`);
    const got = await withoutTimes(out);
    assert.equal(got.length, expected.length, "as many messages as the uninterrupted run's");
    assert.deepEqual(got, expected, `after ${killed} SIGKILLs`);

    // Complete: a restart has nothing to add.
    const again = await collect(start(args(topic, group, out)));
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await readTopic(out)).length, expected.length, "nothing added once complete");
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`exactly-once test (${CURRENT}): ${killed} SIGKILLs and restarts in ${seconds} s`);
  },
  { timeoutMs: 170_000 },
);

test(
  `exactly once (${CURRENT}): a reader paused (SIGSTOP) while a new one takes its group over is fenced when it comes back (SIGCONT): exit 1, nothing added`,
  async () => {
    broker();
    const topic = unique("zombie");
    await createTopic(topic, 1);
    await sendMany(topic, messages(30_000));
    const rows = 100;
    const reference = unique("zombie-ref");
    const uninterrupted = await collect(start(args(topic, unique("g"), reference, rows)));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await withoutTimes(reference);

    const group = unique("g");
    const out = unique("zombie-out");
    const watch = offsetWatcher();
    const zombie = track(start([...args(topic, group, out, rows), "--verbose"]));
    try {
      const deadline = Date.now() + 30_000;
      while (!zombie.exited() && (await watch.offset(group, topic)) < 3000 && Date.now() < deadline) {
        await sleep(10);
      }
      assert.ok(!zombie.exited(), "the first reader is still running");
      process.kill(zombie.child.pid!, "SIGSTOP");
      const paused = await watch.offset(group, topic);
      assert.ok(paused < 30_001, `paused mid-stream, at offset ${paused}`);
      // The new reader fences the paused one, restores the state of its last committed batch and, once
      // the group has dropped the paused member (session.timeout.ms), reads to the end.
      const successor = await collect(start([...args(topic, group, out, rows), "--verbose"]));
      assert.equal(successor.code, 0, successor.stderr);
      assert.match(successor.stderr, /resuming from the state topic/);
    } finally {
      process.kill(zombie.child.pid!, "SIGCONT");
      await watch.close();
    }
    const back = await zombie.done;
    assert.equal(back.code, 1, `the zombie exits 1: ${JSON.stringify(back)}`);
    assert.match(
      back.stderr,
      /fenced/,
      back.stderr.split("\n").filter((l) => !l.includes("points/s")).join("\n"),
    );
    const got = await withoutTimes(out);
    assert.deepEqual(got, expected, "the output is the uninterrupted run's");
    console.log(`zombie (${CURRENT}): ${back.stderr.split("\n").find((line) => line.includes("fenced"))}`);
  },
  { timeoutMs: 120_000 },
);

test(
  `exactly once (${CURRENT}): keyed and windowed (--key, --window sliding), SIGKILLs while 40 000 points stream leave the uninterrupted run's output topic`,
  async () => {
    const t0 = performance.now();
    broker();
    const topic = unique("eos-keys");
    await createTopic(topic, 1);
    const next = random(5);
    const startTime = 1_764_669_600_000;
    const lines = ["k,t,x,y"];
    for (let i = 0; i < 40_000; i++) {
      // Times mostly increasing, some a little behind (within the default lateness: 0, so some are late).
      const t = startTime + i * 100 - (i % 17 === 0 ? 250 : 0);
      lines.push(`k${(i * 7) % 20},${t},${i / 16},${0.25 * i + next()}`);
    }
    await sendMany(topic, lines);
    const extra = ["--key", "k", "--time", "t", "--window", "sliding:3m,1m"];
    const reference = unique("eos-keys-ref");
    const uninterrupted = await collect(start(args(topic, unique("g"), reference, 500, extra)));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await withoutTimes(reference);
    assert.ok(expected.length > 1000, `${expected.length} messages`);
    assert.match(expected[0].key!, /^\{"k":"k\d+","window_start":\d+,"window_end":\d+\}$/);

    const group = unique("g");
    const out = unique("eos-keys-out");
    const kills = 6;
    const killed = await killRuns({ topic, group, out, end: 40_001, kills, extra });
    const last = await collect(start(args(topic, group, out, 500, extra)));
    assert.equal(last.code, 0, `the last restart: ${last.stderr}`);
    assert.ok(killed >= kills - 2, `${killed} of ${kills} SIGKILLs hit a running process`);
    assert.deepEqual(await withoutTimes(out), expected, `after ${killed} SIGKILLs`);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`exactly-once keyed test (${CURRENT}): ${killed} SIGKILLs and restarts in ${seconds} s`);
  },
  { timeoutMs: 150_000 },
);

test(
  `--state kafka (${CURRENT}): a keyed run (--key) stopped after 7 001 messages and restarted gives the uninterrupted run's output topic`,
  async () => {
    broker();
    const topic = unique("state-keys");
    await createTopic(topic, 1);
    const lines = ["k,x,y", ...messages(12_000).slice(1).map((point, i) => `k${i % 13},${point}`)];
    await sendMany(topic, lines);
    const extra = ["--key", "k", "--output-mode", "upsert"];
    const reference = unique("state-keys-ref");
    const uninterrupted = await collect(start(args(topic, unique("g"), reference, 250, extra)));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const group = unique("g");
    const out = unique("state-keys-out");
    const first = await collect(start([...args(topic, group, out, 250, extra), "--max-messages", "7001"]));
    assert.equal(first.code, 0, first.stderr);
    const second = await collect(start([...args(topic, group, out, 250, extra), "--verbose"]));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming from the state topic "[^"]+" after 28 batches \(7000 points\)/);
    assert.deepEqual(await withoutTimes(out), await withoutTimes(reference));
    // The state belongs to these settings: another --output-mode is refused, and nothing is sent.
    const other = await collect(start(args(topic, group, out, 250, ["--key", "k"])));
    assert.equal(other.code, 1, other.stderr);
    assert.match(
      other.stderr,
      /belongs to a run with --output-mode "upsert", but this run has --output-mode "changelog"/,
    );
    assert.deepEqual(await withoutTimes(out), await withoutTimes(reference));
  },
  { timeoutMs: 60_000 },
);
