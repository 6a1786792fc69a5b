/**
 * streamreg's record batch decoder inside kafkajs, against the test broker: a kafkajs consumer made from
 * streamreg's kafkajs (`loadKafkajs`) hands over records that streamreg's decoder made (its batch count
 * grows), with the offsets, timestamps, keys, values and headers that were produced, aborted
 * transactions and control records left out (read_committed) or aborted records kept (read_uncommitted);
 * also when kafkajs had fetched in the process before the decoder was put in. The single binary (`bun build
 * --compile`, kafkajs bundled: no module cache to put the decoder in) reads Kafka with kafkajs's own.
 * @module
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka as StockKafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import {
  broker,
  createTopic,
  CURRENT,
  ok,
  produce,
  ROOT,
  rows,
  run,
  SEED_LINE,
  unique,
} from "./kafka_helpers.ts";
import { loadKafkajs } from "../src/sources/kafka/kafkajs_module.ts";
import { decodedBatches, installRecordDecoder } from "../src/sources/kafka/kafkajs_record_hook.ts";

interface Seen {
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string | string[]>;
}

async function readAll(
  Kafka: typeof StockKafka,
  topic: string,
  readUncommitted: boolean,
  count: number,
): Promise<Seen[]> {
  const kafka = new Kafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: unique("decoder"), maxWaitTimeInMs: 100, readUncommitted });
  const seen: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${count}`)), 30_000);
      consumer.run({
        eachBatch: ({ batch }) => {
          for (const m of batch.messages) {
            const headers: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) {
              headers[k] = Array.isArray(v) ? v.map(String) : String(v);
            }
            seen.push({
              offset: m.offset,
              timestamp: m.timestamp,
              key: m.key === null ? null : m.key.toString(),
              value: m.value === null ? null : m.value.toString(),
              headers,
            });
          }
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

test("kafkajs's consumer hands over records made by streamreg's decoder, as produced", async () => {
  const topic = unique("decoder");
  await createTopic(topic);
  const kafka = new StockKafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
  });
  const plain = Array.from({ length: 30 }, (_, i) => ({
    key: i % 3 === 0 ? null : `k${i}`,
    value: i % 7 === 6 ? null : i % 5 === 4 ? "" : `${i},${2 * i + 1}`,
    timestamp: String(1_700_000_000_000 + 1000 * i),
    headers: i % 4 === 0 ? { trace: `t${i}`, repeated: [`a${i}`, `b${i}`] } : undefined,
  }));
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: plain.map((m) => ({ ...m, partition: 0 })) });
  await producer.disconnect();
  const tx = kafka.producer({ transactionalId: unique("tx"), idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  for (const [values, commit] of [[["aborted-1", "aborted-2"], false], [["committed-1"], true]] as const) {
    const t = await tx.transaction();
    await t.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
    await (commit ? t.commit() : t.abort());
  }
  await tx.disconnect();

  // kafkajs fetches first as it is (with its own decoder, unless another test file put streamreg's in).
  const first = await readAll(StockKafka, topic, false, plain.length + 1);
  const { Kafka } = await loadKafkajs();
  assert.equal(Kafka, StockKafka, "one kafkajs");
  assert.equal(installRecordDecoder(), true, "installed");
  const before = decodedBatches();
  const committed = await readAll(Kafka, topic, false, plain.length + 1);
  assert.ok(decodedBatches() > before, "kafkajs used streamreg's decoder");
  const expected: Seen[] = plain.map((m, i) => ({
    offset: String(i),
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
    headers: m.headers ?? {},
  }));
  assert.deepEqual(committed.slice(0, plain.length), expected);
  assert.deepEqual(committed, first);
  // Offsets 30, 31 aborted, 32 their marker; 33 committed, 34 its marker.
  assert.deepEqual(committed.slice(plain.length).map((m) => [m.offset, m.value]), [["33", "committed-1"]]);

  const all = await readAll(Kafka, topic, true, plain.length + 3);
  assert.deepEqual(all.slice(plain.length).map((m) => [m.offset, m.value]), [
    ["30", "aborted-1"],
    ["31", "aborted-2"],
    ["33", "committed-1"],
  ]);
  assert.deepEqual(all.slice(0, plain.length), expected);
}, { timeoutMs: 90_000 });

test(
  "in a process where streamreg loads kafkajs first, its decoder and its Batch are both used",
  async () => {
    const topic = unique("decoder-fresh");
    await createTopic(topic);
    const kafka = new StockKafka({ clientId: "streamreg-test", brokers: [broker().plaintext], logLevel: 0 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `${i}`, partition: 0 })),
    });
    await producer.disconnect();
    const probe = join(ROOT, "test/kafka_record_decoder_probe.ts");
    const runtime: [string, string[]] = CURRENT === "deno"
      ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", probe]]
      : [join(ROOT, "node_modules/.bin/bun"), ["run", probe]];
    const ran = await run(runtime, [broker().plaintext, topic, "50"], { timeoutMs: 60_000 });
    assert.equal(ran.code, 0, ran.stderr);
    const seen = JSON.parse(ran.stdout);
    assert.equal(seen.installed, true);
    assert.equal(seen.batchInstalled, true);
    assert.ok(seen.decoded > 0 && seen.constructed > 0, ran.stdout);
    assert.deepEqual(seen.offsets, Array.from({ length: 50 }, (_, i) => String(i)));
  },
  { timeoutMs: 90_000 },
);

test("the single binary (kafkajs bundled, its own decoder) reads a topic as before", async () => {
  const topic = unique("decoder-binary");
  ok(
    await run(produce(CURRENT), ["-b", broker().plaintext, "-t", topic, "--partitions", "1", "--rate", "0"]),
    "produce",
  );
  const dir = await mkdtemp(join(tmpdir(), "streamreg-decoder-bin-"));
  try {
    const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))
      .scripts["build:binary"] as string;
    const exe = join(dir, "streamreg");
    const args = script.split(" ").slice(1).map((a) => (a === "dist/streamreg" ? exe : a));
    execFileSync(join(ROOT, "node_modules/.bin/bun"), args, {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const ran = await run([exe, []], [
      "--source",
      "kafka",
      "-b",
      broker().plaintext,
      "-t",
      topic,
      "-G",
      unique("g"),
      "--exit-at-end",
      "--no-input-log",
      "--output",
      "-",
    ], { cwd: dir, timeoutMs: 60_000 });
    ok(ran, "binary");
    assert.deepEqual(rows(ran.stdout).at(-1)?.slice(0, 2), SEED_LINE);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 90_000 });
