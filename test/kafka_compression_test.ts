/**
 * Compressed topics against the real test broker: batches written with gzip, snappy, LZ4 and zstd, by
 * `scripts/produce.ts -X compression.type=...` (checked by Kafka's own Java tools, which read them back) and
 * by Kafka's own Java producer, are read by `--source kafka` and give exactly the fit of the same points
 * uncompressed. Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { registerCompressionCodecs } from "../src/sources/kafka/compression_codecs.ts";
import { test } from "./harness.ts";
import {
  broker,
  createTopic,
  CURRENT,
  dumpLog,
  javaProduce,
  kafkaReader,
  ok,
  produce,
  regress,
  rows,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

const CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;

/** What a run read and fitted: the x,y of its input log, and its last line a,b. */
interface Fit {
  points: string[];
  line: string;
}

/** Reads a topic to its end with `--source kafka` (the runtime running the tests). */
async function readTopic(topic: string, dir: string): Promise<Fit> {
  const output = join(dir, `${topic}.out.csv`);
  const input = join(dir, `${topic}.in.csv`);
  const r = await run(regress(CURRENT), [
    ...kafkaReader(topic, unique("g")),
    "--exit-at-end",
    "--output",
    output,
    "--input-log",
    input,
  ]);
  ok(r, `reading ${topic}`);
  const lines = rows(await readFile(output, "utf8"));
  return {
    points: rows(await readFile(input, "utf8")).map((f) => f.slice(0, 2).join(",")),
    line: lines.at(-1)!.slice(0, 2).join(","),
  };
}

/** CSV lines: the header, then `n` points whose y has many digits (each the shortest text of its double). */
function csvLines(n: number): string[] {
  return [
    "x,y",
    ...Array.from(
      { length: n },
      (_, i) => `${i},${2.5 * i + 1 + ((i * 7919) % 1009) / 997}`,
    ),
  ];
}

test(
  `kafka compression (${CURRENT}): produce -X compression.type=C, Kafka's DumpLogSegments reads the batches as C, and streamreg the fit of the uncompressed points`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-compression-"));
    const count = 4000; // about 100 KB in one batch: several snappy (32 KiB) and LZ4 (64 KiB) blocks
    const topics: Record<string, string> = {};
    for (const codec of ["none", ...CODECS]) {
      const topic = topics[codec] = unique(`produce-${codec}`);
      const r = await run(produce(CURRENT), [
        "-b",
        broker().plaintext,
        "-t",
        topic,
        "--partitions",
        "1",
        "--count",
        String(count),
        "--rate",
        "0",
        "-X",
        `compression.type=${codec}`,
      ]);
      ok(r, `produce ${codec}`);
      assert.match(
        r.stderr,
        codec === "none" ? /partition 0 at [^,]*\n/ : new RegExp(`compressed with ${codec}\\n`),
      );
    }
    const plain = await dumpLog(topics.none);
    assert.equal(plain.values.length, count + 1);
    assert.deepEqual(new Set(plain.batches.map((b) => b.codec)), new Set(["none"]));
    const expected = await readTopic(topics.none, dir);
    assert.equal(expected.points.length, count);
    for (const codec of CODECS) {
      // Kafka's Java codecs read what was written (the broker checked it too, when it took the batches).
      const log = await dumpLog(topics[codec]);
      assert.deepEqual(
        new Set(log.batches.map((b) => b.codec)),
        new Set([codec]),
        `${codec}: the batches' codec`,
      );
      assert.deepEqual(log.values, plain.values, `${codec}: the values, as Java reads them`);
      assert.deepEqual(await readTopic(topics[codec], dir), expected, `${codec}: the same points and fit`);
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  `kafka compression (${CURRENT}): batches from Kafka's Java producer with each codec give the fit of the uncompressed points`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-compression-"));
    const lines = csvLines(4000);
    const reference = unique("java-none");
    await createTopic(reference);
    await sendMany(reference, lines); // uncompressed, by kafkajs
    const expected = await readTopic(reference, dir);
    assert.equal(expected.points.length, 4000);
    for (const codec of CODECS) {
      const topic = unique(`java-${codec}`);
      await createTopic(topic);
      await javaProduce(topic, lines, codec);
      const log = await dumpLog(topic);
      assert.deepEqual(
        new Set(log.batches.map((b) => b.codec)),
        new Set([codec]),
        `${codec}: the batches' codec`,
      );
      assert.equal(log.values.length, lines.length, `${codec}: every line sent`);
      assert.ok(
        log.batches.some((b) => b.count > 100),
        `${codec}: batches of many records ${JSON.stringify(log.batches)}`,
      );
      assert.deepEqual(await readTopic(topic, dir), expected, `${codec}: the same points and fit`);
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 180_000 },
);

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

/** Snappy framed as the Java client does (xerial), by hand, every block made of literals only. */
function literalXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [
    Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
  ];
  for (let at = 0; at < data.length; at += 32 * 1024) {
    const block = data.subarray(at, at + 32 * 1024);
    const raw = Buffer.concat([
      Buffer.from(uvarint(block.length)),
      Buffer.from([61 << 2, (block.length - 1) & 0xff, (block.length - 1) >> 8]), // a literal, 2-byte length
      block,
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(raw.length);
    parts.push(size, raw);
  }
  return Buffer.concat(parts);
}

test(
  `kafka compression (${CURRENT}): batches of every codec one after the other in a partition are read in order`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-compression-"));
    await registerCompressionCodecs();
    const topic = unique("mixed");
    await createTopic(topic);
    const lines = csvLines(6000);
    const producer = new Kafka({
      clientId: "streamreg-test",
      brokers: [broker().plaintext],
      logLevel: logLevel.NOTHING,
    })
      .producer();
    const codecs = CompressionCodecs as unknown as Record<number, () => { decompress: unknown }>;
    const snappy = codecs[CompressionTypes.Snappy];
    await producer.connect();
    try {
      const kinds = [
        CompressionTypes.None,
        CompressionTypes.GZIP,
        CompressionTypes.Snappy,
        CompressionTypes.LZ4,
        CompressionTypes.ZSTD,
        -1, // snappy, framed by hand
      ];
      for (let k = 0; k < kinds.length; k++) {
        const part = lines.slice(k * 1000, k === kinds.length - 1 ? lines.length : (k + 1) * 1000);
        if (kinds[k] === -1) {
          codecs[CompressionTypes.Snappy] = () => ({
            compress: (encoder: { buffer: Buffer }) => Promise.resolve(literalXerial(encoder.buffer)),
            decompress: snappy().decompress,
          });
        }
        await producer.send({
          topic,
          compression: kinds[k] === -1 ? CompressionTypes.Snappy : kinds[k],
          messages: part.map((value) => ({ value, partition: 0 })),
        });
      }
    } finally {
      codecs[CompressionTypes.Snappy] = snappy;
      await producer.disconnect();
    }
    const log = await dumpLog(topic);
    assert.deepEqual(log.batches.map((b) => b.codec), ["none", "gzip", "snappy", "lz4", "zstd", "snappy"]);
    const fit = await readTopic(topic, dir);
    assert.deepEqual(fit.points, lines.slice(1));
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 90_000 },
);
