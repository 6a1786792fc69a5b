import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { test } from "../../../test/harness.ts";
import { COMPRESSION_TYPES, registerCompressionCodecs } from "./compression_codecs.ts";
import { createBatchConstructor } from "./fetched_batch.ts";
import { kafkajsBatch, kafkajsRecordBatchDecoder, kafkajsRecordInternals } from "./kafkajs_record_hook.ts";
import {
  createRecordBatchDecoder,
  type DecodedRecordBatch,
  type KafkajsDecoder,
} from "./record_batch_decoder.ts";

// kafkajs's own encoder writes the batches; kafkajs's own decoder is the reference.
const require = createRequire(import.meta.url);
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
  RecordBatch(options: Record<string, unknown>): Promise<{ buffer: Buffer }>;
};
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
  r: Record<string, unknown>,
) => unknown;
const Encoder = require("kafkajs/src/protocol/encoder.js") as new () => {
  writeBuffer(b: Buffer): unknown;
  writeVarInt(n: number): unknown;
  writeVarLong(n: number | string): unknown;
  writeInt8(n: number): unknown;
  buffer: Buffer;
};
const Long = require("kafkajs/src/utils/long.js") as { fromValue(v: string | number): unknown };

const theirs = kafkajsRecordBatchDecoder();
const internals = kafkajsRecordInternals();
const ours = createRecordBatchDecoder(internals);

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Batch attributes: bit 3 LOG_APPEND_TIME, bit 5 control (kafkajs's encoder writes neither). */
const ATTRIBUTES_AT = 8 + 4 + 4 + 1 + 4;
function withAttributes(batch: Buffer, bits: number): Buffer {
  const copy = Buffer.from(batch);
  copy.writeInt16BE(copy.readInt16BE(ATTRIBUTES_AT) | bits, ATTRIBUTES_AT);
  return copy;
}

type Outcome = { batches: DecodedRecordBatch[]; rest: number } | { error: string };

/** Decodes all batches of `bytes` as the fetch response's decoder would, or the error. */
async function decodeAll(
  decode: (d: KafkajsDecoder) => Promise<DecodedRecordBatch>,
  bytes: Buffer,
): Promise<Outcome> {
  const decoder = new internals.Decoder(bytes);
  const batches: DecodedRecordBatch[] = [];
  try {
    while (decoder.offset < bytes.length) batches.push(await decode(decoder));
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
  return { batches, rest: decoder.offset };
}

/**
 * Asserts that ours and kafkajs's decoders give deep-equal results (or the same error) for `bytes`; with
 * `shared`, that keys and values are views of the same bytes as kafkajs's (uncompressed batches).
 */
async function same(bytes: Buffer, what: string, shared = true): Promise<Outcome> {
  const a = await decodeAll(ours, bytes);
  const b = await decodeAll(theirs, bytes);
  assert.deepStrictEqual(a, b, what);
  if (!("batches" in a)) return a;
  const kafkajs = (b as { batches: DecodedRecordBatch[] }).batches;
  a.batches.forEach((batch, i) => {
    batch.records.forEach((r, j) => {
      assert.equal(r.batchContext, batch.records[0].batchContext, `${what}: one batchContext per batch`);
      for (const field of ["key", "value"] as const) {
        const x = r[field];
        const y = kafkajs[i].records[j][field];
        if (x === null || y === null) continue;
        assert.ok(Buffer.isBuffer(x), `${what}: ${field} is a Buffer`);
        assert.equal(x.byteOffset, y.byteOffset, `${what}: ${field} is the same view`);
        if (shared) assert.equal(x.buffer, y.buffer, `${what}: ${field} views the same bytes`);
      }
    });
  });
  return a;
}

const bytesOrNull = (rnd: () => number, max: number): Buffer | null => {
  const r = rnd();
  if (r < 0.1) return null;
  if (r < 0.2) return Buffer.alloc(0);
  const n = Math.floor(rnd() * max);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
};

const HEADER_KEYS = ["a", "b", "trace-id", "constructor", "toString", "1", "é", ""];

function randomRecords(rnd: () => number, count: number, deltas: { timestamp: () => number | string }) {
  let offsetDelta = 0;
  return Array.from({ length: count }, () => {
    const headers: Record<string, Buffer | Buffer[]> = {};
    const nh = rnd() < 0.5 ? 0 : Math.floor(rnd() * 4);
    for (let h = 0; h < nh; h++) {
      const k = HEADER_KEYS[Math.floor(rnd() * HEADER_KEYS.length)];
      const v = Buffer.from(rnd() < 0.2 ? "" : `v${Math.floor(rnd() * 1000)}`); // (kafkajs cannot write a null one)
      headers[k] = rnd() < 0.3 ? [v, Buffer.from("again")] : v;
    }
    const record = {
      offsetDelta,
      timestampDelta: deltas.timestamp(),
      key: bytesOrNull(rnd, 20),
      value: bytesOrNull(rnd, 300),
      headers,
    };
    offsetDelta += rnd() < 0.1 ? 1 + Math.floor(rnd() * 5) : 1; // compacted gaps
    return encodeRecord(record);
  });
}

test("record batch decoder: random uncompressed batches, as kafkajs decodes them", async () => {
  const rnd = prng(1);
  const firstOffsets = ["0", "1", "12345", "9007199254740000", "9007199254740990", "9223372036854775000"];
  const firstTimestamps = [0, -1, 1_700_000_000_000, 9007199254740000, -9007199254740000];
  const deltaKinds = [
    () => 0,
    () => Math.floor(rnd() * 2000) - 1000,
    () => Math.floor(rnd() * 2 ** 40) - 2 ** 39,
    () => 2 ** 50 + Math.floor(rnd() * 1000), // more than 7 varint bytes
    () => -(2 ** 48) - 1,
  ];
  let checked = 0;
  for (let round = 0; round < 120; round++) {
    const parts: Buffer[] = [];
    for (let b = 0; b < 3; b++) {
      const records = randomRecords(rnd, 1 + Math.floor(rnd() * 40), {
        timestamp: deltaKinds[Math.floor(rnd() * deltaKinds.length)],
      });
      const batch = (await RecordBatch({
        compression: 0,
        firstOffset: Long.fromValue(firstOffsets[Math.floor(rnd() * firstOffsets.length)]),
        firstTimestamp: firstTimestamps[Math.floor(rnd() * firstTimestamps.length)],
        maxTimestamp: rnd() < 0.5 ? -1 : 1_700_000_000_123,
        transactional: rnd() < 0.3,
        producerId: Long.fromValue(rnd() < 0.5 ? -1 : 4242),
        records,
        lastOffsetDelta: records.length - 1,
      })).buffer;
      const bits = (rnd() < 0.3 ? 0x8 : 0) | (rnd() < 0.15 ? 0x20 : 0);
      parts.push(withAttributes(batch, bits));
    }
    const outcome = await same(Buffer.concat(parts), `round ${round}`);
    assert.ok("batches" in outcome, `round ${round} decodes`);
    checked += outcome.batches.reduce((s, b) => s + b.records.length, 0);
  }
  assert.ok(checked > 3000, `${checked} records`);
});

test("record batch decoder: offsets and timestamps near and beyond 2^53", async () => {
  for (
    const firstOffset of ["9007199254740980", "9007199254740991", "9007199254740992", "9223372036854775800"]
  ) {
    for (const firstTimestamp of [9007199254740980, -9007199254740980]) {
      const records = Array.from(
        { length: 20 },
        (_, i) =>
          encodeRecord({ offsetDelta: i, timestampDelta: i * 3 - 10, key: null, value: Buffer.from(`${i}`) }),
      );
      const batch = (await RecordBatch({
        firstOffset: Long.fromValue(firstOffset),
        firstTimestamp,
        records,
        lastOffsetDelta: 19,
      })).buffer;
      const outcome = await same(batch, `${firstOffset} ${firstTimestamp}`);
      assert.ok("batches" in outcome);
      const offsets = outcome.batches[0].records.map((r) => r.offset);
      assert.deepEqual(offsets, records.map((_, i) => String(BigInt(firstOffset) + BigInt(i))));
    }
  }
});

test("record batch decoder: LOG_APPEND_TIME gives every record the batch's maxTimestamp", async () => {
  const records = [0, 5, -3].map((d, i) =>
    encodeRecord({ offsetDelta: i, timestampDelta: d, key: null, value: Buffer.from("x") })
  );
  const batch = withAttributes(
    (await RecordBatch({ firstTimestamp: 100, maxTimestamp: 777, records, lastOffsetDelta: 2 })).buffer,
    0x8,
  );
  const outcome = await same(batch, "log append time");
  assert.ok("batches" in outcome);
  assert.deepEqual(outcome.batches[0].records.map((r) => r.timestamp), ["777", "777", "777"]);
});

test("record batch decoder: control batches and transaction markers", async () => {
  // A commit marker: key = version 0, type 1 (commit); value = version 0, coordinator epoch.
  const marker = encodeRecord({
    offsetDelta: 0,
    key: Buffer.from([0, 0, 0, 1]),
    value: Buffer.from([0, 0, 0, 0, 0, 7]),
  });
  const batch = withAttributes(
    (await RecordBatch({
      firstOffset: Long.fromValue("41"),
      transactional: true,
      producerId: Long.fromValue(9),
      records: [marker],
    })).buffer,
    0x20,
  );
  const outcome = await same(batch, "control");
  assert.ok("batches" in outcome);
  assert.equal(outcome.batches[0].records[0].isControlRecord, true);
  assert.equal(outcome.batches[0].isControlBatch, true);
});

test("record batch decoder: compressed batches (gzip and streamreg's codecs)", async () => {
  await registerCompressionCodecs();
  const rnd = prng(7);
  for (const [name, compression] of Object.entries(COMPRESSION_TYPES)) {
    for (let round = 0; round < 4; round++) {
      const records = randomRecords(rnd, 50 + Math.floor(rnd() * 200), {
        timestamp: () => Math.floor(rnd() * 100),
      });
      const batch = (await RecordBatch({
        compression,
        firstOffset: Long.fromValue(String(1000 * round)),
        firstTimestamp: 1_700_000_000_000,
        records,
        lastOffsetDelta: records.length - 1,
      })).buffer;
      const outcome = await same(batch, `${name} ${round}`, compression === 0);
      assert.ok("batches" in outcome && outcome.batches[0].records.length === records.length, name);
    }
  }
});

/** One record body written by hand (no length prefix): attributes, varlong, varint, then raw bytes. */
function rawRecord(
  parts: (["varint", number] | ["varlong", number] | ["int8", number] | ["bytes", Buffer])[],
) {
  const e = new Encoder();
  for (const [kind, v] of parts) {
    if (kind === "varint") e.writeVarInt(v);
    else if (kind === "varlong") e.writeVarLong(v);
    else if (kind === "int8") e.writeInt8(v);
    else e.writeBuffer(v);
  }
  return e.buffer;
}

/** A batch of records given as bodies, each prefixed with `length` (default: its true length). */
async function rawBatch(bodies: { body: Buffer; length?: number }[]): Promise<Buffer> {
  const records = bodies.map(({ body, length }) => {
    const e = new Encoder();
    e.writeVarInt(length ?? body.length);
    e.writeBuffer(body);
    return e;
  });
  return (await RecordBatch({ firstTimestamp: 5, records, lastOffsetDelta: records.length - 1 })).buffer;
}

test("record batch decoder: malformed records get kafkajs's own result or error", async () => {
  const good = rawRecord([["int8", 0], ["varlong", 1], ["varint", 0], ["varint", -1], ["varint", 1], [
    "bytes",
    Buffer.from("v"),
  ], ["varint", 0]]);
  const cases: [string, { body: Buffer; length?: number }[]][] = [
    ["good", [{ body: good }]],
    ["trailing bytes", [{ body: Buffer.concat([good, Buffer.from([1, 2, 3])]) }]],
    ["key length -2", [{
      body: rawRecord([["int8", 0], ["varlong", 0], ["varint", 0], ["varint", -2], ["varint", -1], [
        "varint",
        0,
      ]]),
    }]],
    ["value past the record", [{
      body: rawRecord([["int8", 0], ["varlong", 0], ["varint", 0], ["varint", -1], ["varint", 50], [
        "varint",
        0,
      ]]),
    }]],
    ["header count -1", [{
      body: rawRecord([["int8", 0], ["varlong", 0], ["varint", 0], ["varint", -1], ["varint", -1], [
        "varint",
        -1,
      ]]),
    }]],
    ["header count -3", [{
      body: rawRecord([["int8", 0], ["varlong", 0], ["varint", 0], ["varint", -1], ["varint", -1], [
        "varint",
        -3,
      ]]),
    }]],
    ["null header key and __proto__", [{
      body: rawRecord([
        ["int8", 0],
        ["varlong", 0],
        ["varint", 0],
        ["varint", -1],
        ["varint", -1],
        [
          "varint",
          3,
        ],
        ["varint", -1],
        ["varint", -1],
        ["varint", 9],
        ["bytes", Buffer.from("__proto__")],
        ["varint", 1],
        [
          "bytes",
          Buffer.from("p"),
        ],
        ["varint", 4],
        ["bytes", Buffer.from("null")],
        ["varint", 0],
      ]),
    }]],
    ["record length 0", [{ body: Buffer.alloc(0) }, { body: good }]],
    ["record length too short", [{ body: good, length: 3 }, { body: good }]],
    ["record length -1", [{ body: Buffer.alloc(0), length: -1 }]],
    ["negative attributes", [{
      body: rawRecord([["int8", -5], ["varlong", 0], ["varint", 0], ["varint", -1], ["varint", -1], [
        "varint",
        0,
      ]]),
    }]],
  ];
  for (const [what, bodies] of cases) await same(await rawBatch(bodies), what);

  // A batch that says it has more records than it holds, and one cut short (a fetch's partial tail).
  const batch = await rawBatch([{ body: good }, { body: good }]);
  const more = Buffer.from(batch);
  more.writeInt32BE(5, 57);
  await same(more, "count past the records");
  const fewer = Buffer.from(batch);
  fewer.writeInt32BE(-1, 57);
  await same(fewer, "count -1");
  await same(Buffer.concat([batch, batch.subarray(0, batch.length - 4)]), "partial batch");
});

test("fetched batch: streamreg's Batch constructor gives kafkajs's Batch, field for field", () => {
  const Original = kafkajsBatch() as new (topic: string, fetchedOffset: unknown, data: unknown) => object;
  const Ours = createBatchConstructor({
    Batch: Original,
    Long: require("kafkajs/src/utils/long.js"),
    filterAbortedMessages: require("kafkajs/src/consumer/filterAbortedMessages.js"),
  }) as unknown as typeof Original;
  const rnd = prng(3);
  const outcome = (f: () => object) => {
    try {
      const batch = f() as Record<string, unknown> & Record<string, () => unknown>;
      const methods = [
        "isEmpty",
        "isEmptyIncludingFiltered",
        "isEmptyDueToFiltering",
        "isEmptyControlRecord",
        "isEmptyDueToLogCompactedMessages",
        "firstOffset",
        "lastOffset",
        "offsetLag",
        "offsetLagLow",
      ].map((m) => {
        try {
          return batch[m]();
        } catch (e) {
          return `throws ${(e as Error).message}`;
        }
      });
      return { fields: Object.entries(batch), proto: Object.getPrototypeOf(batch), methods };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };
  const bases = [0, 5, 9007199254740980, 9007199254740995];
  const fetchedOffsets = (base: number) => [
    String(base),
    String(base + 3),
    base + 2,
    "",
    "0007",
    "1e1",
    "-",
    " 5",
    "5.0",
    "-0",
    "9007199254740993",
    "9223372036854775000",
  ];
  for (let round = 0; round < 400; round++) {
    const base = bases[Math.floor(rnd() * bases.length)];
    const producerIds = ["1", "2"];
    const messages = [];
    let offset = BigInt(base);
    for (let i = 0; i < Math.floor(rnd() * 12); i++) {
      const producerId = producerIds[Math.floor(rnd() * 2)];
      const control = rnd() < 0.15;
      messages.push({
        offset: rnd() < 0.05
          ? ["1e1", `${offset}.0`, `0${offset}`, ` ${offset}`][Math.floor(rnd() * 4)]
          : String(offset),
        key: control ? Buffer.from([0, 0, 0, rnd() < 0.5 ? 0 : 1]) : null,
        value: Buffer.from("v"),
        isControlRecord: control,
        batchContext: { producerId, inTransaction: rnd() < 0.6 },
      });
      offset += BigInt(1 + Math.floor(rnd() * 2));
    }
    const abortedTransactions = rnd() < 0.4
      ? [{ producerId: "1", firstOffset: String(BigInt(base) + BigInt(Math.floor(rnd() * 6))) }]
      : [];
    const data = { partition: 0, highWatermark: String(offset + 1n), abortedTransactions, messages };
    const choices = fetchedOffsets(base);
    const fetchedOffset = choices[Math.floor(rnd() * choices.length)];
    const a = outcome(() => new Ours("t", fetchedOffset, data));
    const b = outcome(() => new Original("t", fetchedOffset, data));
    assert.deepStrictEqual(a, b, `round ${round}`);
  }
});
