import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { test } from "../../../test/harness.ts";
import { COMPRESSION_TYPES, compressionType, registerCompressionCodecs } from "./compression_codecs.ts";
import { recordsMismatch, undecodableBatch } from "./undecodable_batch.ts";

// kafkajs's own record batch encoder and decoder: the codecs are tested as kafkajs calls them.
const require = createRequire(import.meta.url);
type KafkaRecord = { offset: string; key: Buffer | null; value: Buffer | null };
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
  RecordBatch(options: { compression: number; records: unknown[]; lastOffsetDelta: number }): Promise<{
    buffer: Buffer;
  }>;
};
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
  r: { offsetDelta: number; value: Buffer },
) => unknown;
const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder.js") as (
  decoder: unknown,
) => Promise<{ records: KafkaRecord[] }>;
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (buffer: Buffer) => unknown;

/** A record batch of `values` as kafkajs writes it, with a codec. */
async function encode(values: string[], compression: number): Promise<Buffer> {
  const records = values.map((v, i) => encodeRecord({ offsetDelta: i, value: Buffer.from(v) }));
  return (await RecordBatch({ compression, records, lastOffsetDelta: values.length - 1 })).buffer;
}

const decode = async (batch: Buffer) => (await decodeBatch(new Decoder(batch))).records;

const lines = (
  n: number,
) => ["x,y", ...Array.from({ length: n }, (_, i) => `${i},${(i * 7919) % 10007 / 13}`)];

test("compression codecs: kafkajs writes and reads record batches with each codec, as uncompressed", async () => {
  await registerCompressionCodecs();
  const values = lines(5000);
  const plain = await encode(values, CompressionTypes.None);
  for (const name of ["gzip", "snappy", "lz4", "zstd"] as const) {
    const batch = await encode(values, compressionType(name));
    assert.ok(batch.length < plain.length / 2, `${name}: smaller (${batch.length} vs ${plain.length})`);
    const records = await decode(batch);
    assert.deepEqual(records.map((r) => r.value?.toString()), values, name);
  }
  assert.deepEqual(
    [
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ],
    [
      COMPRESSION_TYPES.none,
      COMPRESSION_TYPES.gzip,
      COMPRESSION_TYPES.snappy,
      COMPRESSION_TYPES.lz4,
      COMPRESSION_TYPES.zstd,
    ],
    "kafkajs's numbers",
  );
});

test("compression codecs: registering twice keeps the same codecs, and leaves someone else's alone", async () => {
  await registerCompressionCodecs();
  const table = CompressionCodecs as unknown as Record<number, () => unknown>;
  const before = [1, 2, 3, 4].map((t) => table[t]);
  await registerCompressionCodecs();
  assert.deepEqual([1, 2, 3, 4].map((t) => table[t]), before);
  const theirs = () => ({
    compress: () => Promise.resolve(Buffer.alloc(0)),
    decompress: () => Promise.resolve(Buffer.alloc(0)),
  });
  table[CompressionTypes.LZ4] = theirs;
  try {
    await registerCompressionCodecs();
    assert.equal(table[CompressionTypes.LZ4], theirs);
  } finally {
    table[CompressionTypes.LZ4] = before[2];
  }
});

test("compression codecs: a batch that cannot be decompressed becomes as many marker records, saying why", async () => {
  await registerCompressionCodecs();
  const values = lines(300);
  const cases = [
    ["lz4", (b: Buffer, at: number) => b.writeUInt32LE(0x12345678, at), /^lz4: no LZ4 frame at byte 0/], // magic
    ["zstd", (b: Buffer, at: number) => b.writeUInt32LE(0x12345678, at), /^zstd: .*Unknown frame descriptor/],
    [
      "snappy",
      (b: Buffer, at: number) => b.fill(0xff, at + 20, at + 30),
      /^snappy: Invalid Snappy bitstream/,
    ],
    ["gzip", (b: Buffer, at: number) => b.fill(0, at, at + 4), /^unknown compression method/], // the header
  ] as const;
  for (const [name, damage, reason] of cases) {
    const batch = await encode(values, compressionType(name));
    // The compressed records start after the batch header, 57 bytes, and the record count.
    damage(batch, 57 + 4);
    const records = await decode(batch);
    assert.equal(records.length, values.length, `${name}: one marker per record`);
    assert.ok(records.every((r) => r.value === null), `${name}: no values`);
    const why = undecodableBatch(records[0].key);
    assert.equal(why?.codec, name);
    assert.match(why!.reason, reason, name);
    assert.deepEqual(records.slice(1).map((r) => r.key), Array(values.length - 1).fill(null));
    assert.deepEqual(records.map((r) => r.offset), values.map((_, i) => String(i)));
  }
});

test("compression codecs: records that do not fit the batch's count are caught", () => {
  // Two records: lengths 3 and 2 (zigzag varints 6 and 4).
  const two = Uint8Array.of(6, 1, 2, 3, 4, 9, 9);
  assert.equal(recordsMismatch(two, 2), undefined);
  assert.match(recordsMismatch(two, 3)!, /decompresses to 7 bytes, which end inside record 3 of 3/);
  assert.match(recordsMismatch(two.subarray(0, 6), 2)!, /which end inside record 2 of 2/);
  assert.match(recordsMismatch(Uint8Array.of(...two, 0), 2)!, /which hold more than its 2 records/);
  assert.match(recordsMismatch(Uint8Array.of(1), 1)!, /end inside record 1 of 1/, "a negative length");
});
