/**
 * `KafkaSource` in process against the real test broker: offsets are committed only after a batch's
 * output is written, several partitions each with their own header, `--exit-at-end` over all of them.
 * Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RegressionCore } from "../src/core/regression_core.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { resolveConnection } from "../src/sources/kafka/connection.ts";
import { parseConnectionFlags } from "../src/cli/kafka_flags.ts";
import type { BatchUpdate, Sink } from "../src/model/sink.ts";
import { KafkaSource, type KafkaSourceOptions } from "../src/sources/kafka/kafka_source.ts";
import { test } from "./harness.ts";
import { sleep } from "./cli_helpers.ts";
import {
  borrowPartitions,
  broker,
  committedOffsets,
  createTopic,
  deleteRecords,
  ROOT,
  send,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

const core = async () => await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));

async function open(
  topic: string,
  group: string,
  options: Partial<KafkaSourceOptions> = {},
  property: string[] = [],
): Promise<KafkaSource> {
  const connection = await resolveConnection(
    parseConnectionFlags({ brokers: broker().plaintext, topic, group, property }, { group: true }),
    { env: () => undefined, readText: (p) => readFile(p, "utf8") },
  );
  return await KafkaSource.open({ connection, exitAtEnd: true, ...options });
}

test("kafka source: a batch's offsets are committed only after every sink has written it", async () => {
  const topic = unique("commit");
  const group = unique("g");
  await createTopic(topic);
  await send(topic, ["x,y", ...Array.from({ length: 9 }, (_, i) => `${i},${2 * i}`)]);
  const seen: { points: number; committed: number }[] = [];
  const sink: Sink = {
    async write(update: BatchUpdate) {
      seen.push({ points: update.accepted, committed: (await committedOffsets(group, topic))[0] });
    },
    close: () => Promise.resolve(),
  };
  const source = await open(topic, group);
  try {
    const stats = await runPipeline(source, await core(), [sink], { commitRows: 3, commitMs: 60_000 });
    assert.equal(stats.points, 9);
    assert.deepEqual(stats.line, { a: 0, b: 2 });
  } finally {
    await source.close();
  }
  assert.deepEqual(seen.map((s) => s.points), [3, 3, 3]);
  // While batch k (points 3k..3k+2, at offsets 3k+1..3k+3) is being written, nothing of it is committed.
  seen.forEach(({ committed }, k) => assert.ok(committed <= 3 * k + 1, `batch ${k}: committed ${committed}`));
  assert.deepEqual(await committedOffsets(group, topic), [10]);
}, { timeoutMs: 30_000 });

test("kafka source: every partition has its own header; --exit-at-end waits for all of them", async () => {
  const topic = unique("partitions");
  const group = unique("g");
  await createTopic(topic, 4);
  await send(topic, ["x,y", "0,1", "1,3"], 0);
  await send(topic, ["y,x", "5,2"], 1); // another column order
  await send(topic, ["x,y", "3,7", "4,9", "x,y"], 2); // a later header is a data row: rejected
  // partition 3 stays empty
  const rejected: string[] = [];
  const source = await open(topic, group);
  try {
    const stats = await runPipeline(source, await core(), [], {
      rejectSinks: [{
        reject: (r) => void rejected.push(`${r.origin.partition}@${r.origin.offset} ${r.reason}`),
      }],
    });
    assert.equal(stats.points, 5);
    assert.deepEqual(stats.line, { a: 1, b: 2 });
  } finally {
    await source.close();
  }
  assert.deepEqual(rejected, ["2@3 not_a_number"]);
  assert.deepEqual(await committedOffsets(group, topic), [3, 2, 4, -1]);
}, { timeoutMs: 30_000 });

test("kafka source: --max-messages stops inside a batch and commits exactly up to there", async () => {
  const topic = unique("max");
  const group = unique("g");
  await createTopic(topic);
  await send(topic, ["x,y", "0,0", "1,1", "2,4", "3,9"]);
  const source = await open(topic, group, { exitAtEnd: false, maxMessages: 3 });
  try {
    const stats = await runPipeline(source, await core(), []);
    assert.equal(stats.points, 2);
    assert.equal(stats.ended, "source");
  } finally {
    await source.close();
  }
  assert.deepEqual(await committedOffsets(group, topic), [3]);
}, { timeoutMs: 30_000 });

test(
  "kafka source: --exit-at-end ends when records not read yet are deleted (retention), and says so",
  async () => {
    const topic = unique("deleted");
    const group = unique("g");
    await createTopic(topic);
    const n = 100_000;
    // (Messages of 200 bytes and more: a fetch of 1 MiB holds a few thousand.)
    const note = "n".repeat(200);
    await sendMany(topic, ["x,y,note", ...Array.from({ length: n }, (_, i) => `${i},${2 * i + 1},${note}`)], {
      batch: 2000,
    });
    // The first batch's write deletes every record of the partition, read or not, as retention would; the
    // client then reads on past them (auto.offset.reset) in fetches that come back empty.
    let deleted = false;
    const sink: Sink = {
      async write() {
        if (!deleted) {
          deleted = true;
          await deleteRecords(topic, 0);
        }
      },
      close: () => Promise.resolve(),
    };
    const messages: string[] = [];
    const source = await open(topic, group, { message: (text) => messages.push(text) });
    let points: number;
    try {
      const stats = await runPipeline(source, await core(), [sink], { commitRows: 1000, commitMs: 60_000 });
      points = stats.points;
    } finally {
      await source.close();
    }
    assert.ok(deleted);
    assert.ok(points > 0 && points < n, `${points} points read`);
    const notice = messages.find((m) => m.includes("were deleted from the topic"));
    assert.ok(notice, messages.join("\n"));
    assert.match(
      notice,
      new RegExp(`partition 0: offsets \\d+\\.\\.${n} were deleted .* reading goes on at offset ${n + 1}`),
    );
    // The group's next reader starts at the topic's first offset now (its committed one is older): the end.
    const again = await open(topic, group);
    try {
      const stats = await runPipeline(again, await core(), [sink], { commitRows: 1000, commitMs: 60_000 });
      assert.equal(stats.points, 0);
    } finally {
      await again.close();
    }
  },
  { timeoutMs: 60_000 },
);

/**
 * Reads the source's chunks (committing nothing) from a topic of two partitions while `disturb` takes
 * some of the group's partitions from it for a while (resolving to them); then sends one more message
 * to the first of them. Returns the first offset of each chunk read from that partition, in order.
 */
async function readAcross(
  options: Partial<KafkaSourceOptions>,
  disturb: (topic: string, group: string) => Promise<number[]>,
): Promise<number[]> {
  const topic = unique("regained");
  const group = unique("g");
  await createTopic(topic, 2);
  for (const partition of [0, 1]) {
    await send(topic, Array.from({ length: 5 }, (_, i) => JSON.stringify({ x: i, y: 2 * i })), partition);
  }
  const firsts = new Map<number, number[]>([[0, []], [1, []]]);
  const source = await open(topic, group, { format: "json", exitAtEnd: false, ...options }, [
    "session.timeout.ms=6000",
  ]);
  const controller = new AbortController();
  const chunks = source.chunks(controller.signal)[Symbol.asyncIterator]();
  const reading = (async () => {
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      firsts.get(next.value.partition)!.push(next.value.offset(0));
    }
  })();
  const until = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}: ${JSON.stringify([...firsts])}`);
      await sleep(50);
    }
  };
  try {
    await until("both partitions", () => firsts.get(0)!.length > 0 && firsts.get(1)!.length > 0);
    const [taken] = await disturb(topic, group);
    // Given back: read again from the group's committed offset (none: the first), or not at all.
    if (options.dropsRevoked) await until("the partition again", () => firsts.get(taken)!.length > 1);
    else await sleep(8_000); // (its rejoin, and time to read)
    await send(topic, [JSON.stringify({ x: 5, y: 10 })], taken);
    await until("the new message", () => firsts.get(taken)!.at(-1) === 5);
    return firsts.get(taken)!;
  } finally {
    controller.abort();
    await source.close();
    await reading.catch(() => {});
  }
}

/** Another member of the group holds one of the two partitions for a while (it reads nothing). */
async function borrowOne(topic: string, group: string): Promise<number[]> {
  const borrowed = await borrowPartitions(topic, group);
  assert.equal(borrowed.length, 1, `borrowed ${borrowed}`);
  return borrowed;
}

/**
 * This process stops (as a reader paused, or cut off, would) past the session timeout: the group drops
 * the reader, which joins again with a new member id and is given both partitions again.
 */
function expireSession(): Promise<number[]> {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 9_000);
  return Promise.resolve([0]);
}

for (
  const [name, options, disturb, want] of [
    [
      "(--readers many): a partition lost before its points were committed, then assigned again, is read again from the group's committed offset",
      { transactional: true, dropsRevoked: true },
      borrowOne,
      [0, 0, 5],
    ],
    [
      "(one reader): a partition lost and assigned again with nothing committed meanwhile goes on where the reader was",
      { transactional: true },
      borrowOne,
      [0, 5],
    ],
    [
      "(--readers many): after the reader's session expired (a new member id), the partitions given back are read again from the group's committed offset",
      { transactional: true, dropsRevoked: true },
      expireSession,
      [0, 0, 5],
    ],
    [
      "(one reader): after its session expired, with nothing committed meanwhile, it goes on where it was",
      { transactional: true },
      expireSession,
      [0, 5],
    ],
  ] as const
) {
  test(`kafka source ${name}`, async () => {
    assert.deepEqual(await readAcross(options, disturb), want);
  }, { timeoutMs: 90_000 });
}
