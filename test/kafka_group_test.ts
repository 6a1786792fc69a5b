/**
 * Two readers of one consumer group, as subprocesses against the real test broker: they split the
 * partitions, and when one stops mid-stream the other goes on with its partitions from the group's
 * committed offsets, so that between them every message is read exactly once and the group ends
 * committed at the end offsets. Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import { sleep } from "./cli_helpers.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  regress,
  rows,
  run,
  send,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

const PARTITIONS = 3;
const ROUNDS = 20;
const PER_ROUND = 300; // messages per partition and round

/** The data rows of a file that may not exist yet or end in a partial line. */
async function inputRows(path: string): Promise<string[][]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return rows(text.slice(0, text.lastIndexOf("\n") + 1));
}

/** Waits until the group has `members` members in a stable state. */
async function waitForMembers(group: string, members: number): Promise<void> {
  const admin = new Kafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
  })
    .admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { groups: [g] } = await admin.describeGroups([group]);
      if (g.state === "Stable" && g.members.length === members) return;
      if (Date.now() > deadline) throw new Error(`group ${group}: ${g.state}, ${g.members.length} members`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

test(
  `kafka group (${CURRENT}): two readers of one group, one stopped mid-stream: every message once, offsets at the end`,
  async () => {
    const topic = unique("group");
    const group = unique("g");
    const dir = await mkdtemp(join(tmpdir(), "streamreg-group-"));
    await createTopic(topic, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) await send(topic, ["x,y"], p);
    const total = PARTITIONS * ROUNDS * PER_ROUND;
    const ends = Array.from({ length: PARTITIONS }, () => 1 + ROUNDS * PER_ROUND);

    const reader = (name: string, stopWhen: () => Promise<boolean>) =>
      run(regress(CURRENT), [
        ...kafkaReader(topic, group),
        "-X",
        "session.timeout.ms=6000",
        "--commit-ms",
        "100",
        "--output",
        join(dir, `${name}.out.csv`),
        "--input-log",
        join(dir, `${name}.in.csv`),
      ], { interruptWhen: stopWhen, timeoutMs: 90_000 });

    // A stops once it has written a third of its share; B once the group has committed everything.
    let produced = false;
    const a = reader("a", async () => (await inputRows(join(dir, "a.in.csv"))).length >= total / 6);
    const b = reader(
      "b",
      async () => produced && (await committedOffsets(group, topic)).every((offset, p) => offset === ends[p]),
    );
    await waitForMembers(group, 2);
    // The points, round by round over all partitions, while both read: x numbers each message.
    let x = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let p = 0; p < PARTITIONS; p++) {
        await sendMany(topic, Array.from({ length: PER_ROUND }, () => `${x},${2 * x++}`), { partition: p });
      }
      await sleep(100);
    }
    produced = true;
    const [ra, rb] = await Promise.all([a, b]);
    ok(ra, "reader a");
    ok(rb, "reader b");

    const read = {
      a: (await inputRows(join(dir, "a.in.csv"))).map((r) => Number(r[0])),
      b: (await inputRows(join(dir, "b.in.csv"))).map((r) => Number(r[0])),
    };
    assert.ok(
      read.a.length > 0 && read.a.length < total,
      `a stopped mid-stream after ${read.a.length} points`,
    );
    assert.ok(read.b.length > 0, "b read points too");
    const counts = new Map<number, number>();
    for (const v of [...read.a, ...read.b]) counts.set(v, (counts.get(v) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    const missing = Array.from({ length: total }, (_, i) => i).filter((v) => !counts.has(v));
    assert.deepEqual(
      { twice: twice.length, missing: missing.length },
      { twice: 0, missing: 0 },
      `read twice: ${twice.slice(0, 5)}…; missing: ${missing.slice(0, 5)}…`,
    );
    assert.equal(counts.size, total);
    assert.deepEqual(await committedOffsets(group, topic), ends, "the group ends at the end offsets");
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);
