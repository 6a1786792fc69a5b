/**
 * `KafkaSource.position` and resuming from it (`--state`), in process against the real test broker:
 * the position names every partition (also those without points in the batch) with its CSV header, a
 * reader reopened from it goes on exactly after the batch whatever the group's committed offsets say and
 * without reading a header message, and a checkpoint the topic no longer matches is refused.
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
import {
  type KafkaPosition,
  KafkaSource,
  type KafkaSourceOptions,
} from "../src/sources/kafka/kafka_source.ts";
import { test } from "./harness.ts";
import { broker, committedOffsets, createTopic, ROOT, send, unique } from "./kafka_helpers.ts";

const core = async () => await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));

async function open(
  topic: string,
  group: string,
  options: Partial<KafkaSourceOptions> = {},
): Promise<KafkaSource> {
  const connection = await resolveConnection(
    parseConnectionFlags({ brokers: broker().plaintext, topic, group }, { group: true }),
    { env: () => undefined, readText: (p) => readFile(p, "utf8") },
  );
  return await KafkaSource.open({ connection, exitAtEnd: true, ...options });
}

/** Runs a reader to its end; returns the points read (x,y) and the position after every batch. */
async function readAll(
  source: KafkaSource,
  commitRows: number,
): Promise<{ points: string[]; positions: KafkaPosition[] }> {
  const points: string[] = [];
  const positions: KafkaPosition[] = [];
  const sink: Sink = {
    write(update: BatchUpdate) {
      for (const run of update.points) {
        for (let i = 0; i < run.x.length; i++) points.push(`${run.x[i]},${run.y[i]}`);
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  try {
    await runPipeline(source, await core(), [sink], {
      commitRows,
      commitMs: 60_000,
      checkpoint: (batch) => {
        // Through JSON, as a checkpoint keeps it.
        positions.push(JSON.parse(JSON.stringify(source.position(batch as never))));
        return Promise.resolve();
      },
    });
  } finally {
    await source.close();
  }
  return { points, positions };
}

test("kafka resume: the position names every partition with its next offset and header", async () => {
  const topic = unique("position");
  const group = unique("g");
  await createTopic(topic, 3);
  await send(topic, ["x,y", ...Array.from({ length: 20 }, (_, i) => `${i},${2 * i}`)], 0);
  await send(topic, ["y,note,x", "7,a,1"], 1); // one point, another column order
  // partition 2 stays empty
  const { points, positions } = await readAll(await open(topic, group), 4);
  assert.equal(points.length, 21);
  const last = positions.at(-1)!;
  assert.deepEqual(last, {
    topic,
    partitions: [
      { partition: 0, next: 21, header: "x,y" },
      { partition: 1, next: 2, header: "y,note,x" },
      { partition: 2, next: 0 },
    ],
  });
  for (const position of positions) {
    assert.deepEqual(position.partitions.map((p) => p.partition), [0, 1, 2], "every partition, every time");
    for (const p of position.partitions) {
      assert.ok(p.header === undefined || p.next > 0, "a header only once it is before next");
    }
  }
  // Offsets only grow from batch to batch, and the points written add up to them.
  for (let k = 1; k < positions.length; k++) {
    for (const [i, p] of positions[k].partitions.entries()) {
      assert.ok(p.next >= positions[k - 1].partitions[i].next);
    }
  }
  assert.deepEqual(await committedOffsets(group, topic), [21, 2, -1]);
}, { timeoutMs: 30_000 });

test(
  "kafka resume: reopened from a position, the reader goes on exactly there, over the group's offsets, with the header kept",
  async () => {
    const topic = unique("resume");
    const group = unique("g");
    await createTopic(topic, 2);
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${3 * i + 1}`);
    await send(topic, ["x,y", ...rows], 0);
    await send(topic, ["x,y", "100,1", "101,2"], 1);
    const first = await readAll(await open(topic, group), 7);
    assert.equal(first.points.length, 32);
    assert.deepEqual(await committedOffsets(group, topic), [31, 3], "the group read everything");

    // Resume after the second batch (14 points): exactly the points after it, although the group has
    // committed the end of both partitions.
    const after = first.positions[1];
    const resumed = await readAll(await open(topic, group, { resume: after }), 7);
    const written = first.points.slice(0, 14);
    assert.deepEqual([...written, ...resumed.points].sort(), [...first.points].sort());
    assert.deepEqual(resumed.positions.at(-1), first.positions.at(-1));

    // The header comes from the position, not from the topic: a checkpoint saying "y,x" reads y first.
    const swapped: KafkaPosition = { topic, partitions: [{ partition: 0, next: 29, header: "y,x" }] };
    const other = await readAll(await open(topic, unique("g"), { resume: swapped }), 100);
    // (Partition 1, absent from that position, is read as the group says: from its header on.)
    assert.deepEqual(other.points.sort(), ["100,1", "101,2", "85,28", "88,29"]);
  },
  { timeoutMs: 45_000 },
);

test("kafka resume: a position the topic no longer matches is refused with a message", async () => {
  const topic = unique("mismatch");
  await createTopic(topic, 1);
  await send(topic, ["x,y", "1,2"], 0);
  const refused = async (position: unknown, pattern: RegExp) => {
    await assert.rejects(
      open(topic, unique("g"), { resume: KafkaSource.checkPosition(position) }),
      (error: Error) => {
        assert.match(error.message, pattern);
        return true;
      },
    );
  };
  await refused(
    { topic, partitions: [{ partition: 0, next: 9 }] },
    /partition 0 of topic ".*" ends at offset 2, before offset 9 where the checkpoint goes on .*delete the --state directory to start over/,
  );
  await refused(
    { topic, partitions: [{ partition: 3, next: 0 }] },
    /the checkpoint goes on from partition 3 of topic ".*", which has 1 partition now/,
  );
  await refused({ topic: "other", partitions: [] }, /the checkpoint is of topic "other"/);
  assert.throws(
    () => KafkaSource.checkPosition({ topic, partitions: [{ partition: 0, next: -1 }] }),
    /not a Kafka position/,
  );
  assert.throws(
    () =>
      KafkaSource.checkPosition({
        topic,
        partitions: [{ partition: 0, next: 1 }, { partition: 0, next: 2 }],
      }),
    /not a Kafka position/,
  );
  assert.throws(() => KafkaSource.checkPosition(null), /not a Kafka position/);
}, { timeoutMs: 30_000 });
