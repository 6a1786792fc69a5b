/**
 * A fatal error in the middle of a Kafka stream, against the real test broker: a compressed batch that
 * cannot be decompressed after plain messages. The run writes and commits the points read before it, then
 * fails naming the codec, the partition, the offset and the reason; a run after that goes on from there
 * (and stops at the same place, the cause being still there). And a consumer that crashes for good after
 * a batch was read. Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { RegressionCore } from "../src/core/regression_core.ts";
import { resolveConnection } from "../src/sources/kafka/connection.ts";
import { parseConnectionFlags } from "../src/cli/kafka_flags.ts";
import type { BatchUpdate } from "../src/model/sink.ts";
import { type KafkaChunk, KafkaSource } from "../src/sources/kafka/kafka_source.ts";
import { kafkajsCodec, registerCompressionCodecs } from "../src/sources/kafka/compression_codecs.ts";
import type { Source } from "../src/model/source.ts";
import { sleep } from "./cli_helpers.ts";
import { test } from "./harness.ts";
import { broker, committedOffsets, createTopic, CURRENT, ROOT, sendMany, unique } from "./kafka_helpers.ts";

const PLAIN = 5000;
const SNAPPY = 5000;

/** Unsigned LEB128. */
function uvarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * Snappy as the Java client writes it (xerial framing: a magic header, then length-prefixed raw snappy
 * blocks), with every block made of literals only: valid snappy, just not smaller.
 */
function snappyFramed(data: Buffer): Buffer {
  const parts: Buffer[] = [
    Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
  ];
  for (let at = 0; at < data.length; at += 32 * 1024) {
    const block = data.subarray(at, at + 32 * 1024);
    const raw = Buffer.concat([
      Buffer.from(uvarint(block.length)),
      Buffer.from([61 << 2, (block.length - 1) & 0xff, (block.length - 1) >> 8]), // literal, 2-byte length
      block,
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(raw.length);
    parts.push(size, raw);
  }
  return Buffer.concat(parts);
}

/** Produces `values` to partition 0 in one snappy-compressed batch. */
async function sendSnappy(topic: string, values: string[]): Promise<void> {
  const codecs = CompressionCodecs as unknown as Record<number, () => unknown>;
  const before = codecs[CompressionTypes.Snappy];
  codecs[CompressionTypes.Snappy] = () => ({
    compress: (encoder: { buffer: Buffer }) => Promise.resolve(snappyFramed(encoder.buffer)),
    decompress: (compressed: Buffer) =>
      (before() as { decompress: (b: Buffer) => Promise<Buffer> }).decompress(compressed),
  });
  const producer = new Kafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
  })
    .producer();
  try {
    await producer.connect();
    await producer.send({
      topic,
      compression: CompressionTypes.Snappy,
      messages: values.map((value) => ({ value, partition: 0 })),
    });
  } finally {
    codecs[CompressionTypes.Snappy] = before;
    await producer.disconnect();
  }
}

/** The points a pipeline run writes, and how it ends. */
async function readOnce(topic: string, group: string): Promise<{ written: number[]; error?: Error }> {
  const connection = await resolveConnection(
    parseConnectionFlags({ brokers: broker().plaintext, topic, group }, { group: true }),
    { env: () => undefined, readText: (p) => readFile(p, "utf8") },
  );
  const source = await KafkaSource.open({ connection, exitAtEnd: true });
  const written: number[] = [];
  const sink = {
    write: (update: BatchUpdate) => {
      for (const run of update.points) written.push(...run.x);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const core = await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));
  try {
    await runPipeline(source, core, [sink]);
    return { written };
  } catch (error) {
    return { written, error: error as Error };
  } finally {
    await source.close();
  }
}

test(
  `kafka fatal (${CURRENT}): 5000 plain messages, then a snappy batch that cannot be decompressed: the plain ones are written and committed, the error says where and why`,
  async () => {
    const topic = unique("snappy");
    const group = unique("g");
    await createTopic(topic);
    await sendMany(topic, ["x,y", ...Array.from({ length: PLAIN }, (_, i) => `${i},${2 * i + 1}`)]);
    await sendSnappy(topic, Array.from({ length: SNAPPY }, (_, i) => `${PLAIN + i},0`));

    // The reader's snappy codec fails on the batch, as it would on a damaged one (which the broker, checking
    // every batch it takes, does not let in): the codec is streamreg's, around a decompression that throws.
    await registerCompressionCodecs();
    const codecs = CompressionCodecs as unknown as Record<number, () => unknown>;
    const registered = codecs[CompressionTypes.Snappy];
    const failing = kafkajsCodec("snappy", () =>
      Promise.resolve({
        compress: (data: Uint8Array) => Promise.resolve(data),
        decompress: () => Promise.reject(new Error("snappy: a damaged block (simulated)")),
      }));
    codecs[CompressionTypes.Snappy] = () => failing;
    const where = new RegExp(
      `partition 0 offset ${
        PLAIN + 1
      }: the batch of messages that starts here is compressed with snappy and ` +
        `cannot be decompressed \\(snappy: a damaged block \\(simulated\\)\\); the points before offset ${
          PLAIN + 1
        } are written and committed, so the next run goes on from there`,
    );
    try {
      const first = await readOnce(topic, group);
      assert.match(first.error?.message ?? "no error", where);
      assert.deepEqual(first.written, Array.from({ length: PLAIN }, (_, i) => i), "the plain points");
      assert.deepEqual(await committedOffsets(group, topic), [PLAIN + 1], "committed up to the snappy batch");

      // The next run goes on from there: nothing read again, the same stop.
      const second = await readOnce(topic, group);
      assert.match(second.error?.message ?? "no error", where);
      assert.deepEqual(second.written, []);
      assert.deepEqual(await committedOffsets(group, topic), [PLAIN + 1]);
    } finally {
      codecs[CompressionTypes.Snappy] = registered;
    }

    // With the real codec, the batch is read, and the run ends at the end of the topic.
    const third = await readOnce(topic, group);
    assert.equal(third.error?.message, undefined);
    assert.deepEqual(third.written, Array.from({ length: SNAPPY }, (_, i) => PLAIN + i));
    assert.deepEqual(await committedOffsets(group, topic), [PLAIN + SNAPPY + 1]);
  },
  { timeoutMs: 90_000 },
);

test(
  `kafka fatal (${CURRENT}): after the consumer crashed for good, the batch written after the error is still committed`,
  async () => {
    const topic = unique("crash");
    const group = unique("g");
    await createTopic(topic);
    await sendMany(topic, ["x,y", ...Array.from({ length: 100 }, (_, i) => `${i},${i}`)]);
    const connection = await resolveConnection(
      parseConnectionFlags({ brokers: broker().plaintext, topic, group }, { group: true }),
      { env: () => undefined, readText: (p) => readFile(p, "utf8") },
    );
    const source = await KafkaSource.open({ connection });
    const codecs = CompressionCodecs as unknown as Record<number, () => unknown>;
    const registered = codecs[CompressionTypes.Snappy];
    // The points reach the pipeline, which keeps them in its open batch (a long window).
    let arrived = 0;
    const counting: Source<KafkaChunk> = {
      name: source.name,
      retractions: false,
      chunks: (signal) => ({
        async *[Symbol.asyncIterator]() {
          for await (const chunk of source.chunks(signal)) {
            arrived += chunk.x.length;
            yield chunk;
          }
        },
      }),
      committed: (batch) => source.committed(batch),
    };
    const written: number[] = [];
    const sink = {
      write: (update: BatchUpdate) => {
        for (const run of update.points) written.push(...run.x);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const core = await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));
    const running = runPipeline(counting, core, [sink], { commitMs: 60_000, commitRows: 0 }).then(
      () => new Error("the pipeline ended without an error"),
      (error: Error) => error,
    );
    try {
      for (let i = 0; arrived < 100 && i < 200; i++) await sleep(50);
      assert.equal(arrived, 100, "the plain points reached the pipeline");
      // Then a batch that fails the consumer's fetch, as kafkajs's own snappy codec (none) did: a fatal error.
      codecs[CompressionTypes.Snappy] = () => {
        // (by that name, kafkajs gives up at once, as with its own codec; other errors are retried)
        throw Object.assign(new Error("Snappy compression not implemented"), {
          name: "KafkaJSNotImplemented",
        });
      };
      await sendSnappy(topic, ["100,100"]);
      const error = await running;
      assert.match(error.message, /Snappy compression not implemented/);
      assert.equal(written.length, 100, "the open batch is written after the error");
    } finally {
      codecs[CompressionTypes.Snappy] = registered;
      await source.close();
    }
    assert.deepEqual(await committedOffsets(group, topic), [101], "and committed, without the consumer");
  },
  { timeoutMs: 60_000 },
);
