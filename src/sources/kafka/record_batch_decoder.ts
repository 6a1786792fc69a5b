/**
 * A faster decoder of Kafka record batches (magic 2) for kafkajs, returning exactly what kafkajs 2.2.4's own
 * `protocol/recordBatch/v0/decoder.js` returns: the same batch fields and, per record, the same object
 * (`magicByte`, `attributes`, `timestamp` and `offset` as decimal strings — LOG_APPEND_TIME batches give
 * every record the batch's `maxTimestamp` —, `key` and `value` as Buffer views of the fetched or
 * decompressed bytes or null, `headers` with a repeated key's values as an array, `isControlRecord`, the
 * shared `batchContext`).
 *
 * kafkajs decodes each record with a new `Decoder`, its 64-bit timestamp delta with a BigInt per byte, and
 * parses, adds and prints the batch's first offset and timestamp as BigInts for every record. Here a record
 * is read in place from the batch's buffer: varints inline, offset and timestamp as plain numbers when the
 * batch's first offset or timestamp plus the delta is a safe integer. A record outside that path (a sum
 * beyond 2⁵³, a timestamp delta of more than 7 varint bytes, a header key `__proto__`, a length that is
 * negative or runs past the record, a malformed varint) is decoded by kafkajs's own record decoder, on the
 * same bytes, so that its result (or error) is kafkajs's. The batch header, the compression codecs and the
 * partial-batch error are kafkajs's own, given in {@linkcode KafkajsRecordInternals}.
 *
 * @example
 * ```ts
 * import { createRequire } from "node:module";
 * import { createRecordBatchDecoder } from "./record_batch_decoder.ts";
 * const require = createRequire(import.meta.url);
 * const decode = createRecordBatchDecoder({
 *   Decoder: require("kafkajs/src/protocol/decoder.js"),
 *   decodeRecord: require("kafkajs/src/protocol/recordBatch/record/v0/decoder.js"),
 *   lookupCodecByAttributes: require("kafkajs/src/protocol/message/compression/index.js").lookupCodecByAttributes,
 *   KafkaJSPartialMessageError: require("kafkajs/src/errors.js").KafkaJSPartialMessageError,
 * });
 * ```
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * kafkajs's `Decoder` (protocol/decoder.js), as far as the batch decoder uses it.
 *
 * @example
 * ```ts
 * const d: KafkajsDecoder = new internals.Decoder(bytes);
 * const firstOffset = d.readInt64().toString();
 * ```
 */
export interface KafkajsDecoder {
  /** The bytes read. */
  buffer: Buffer;
  /** The position of the next read. */
  offset: number;
  /** A signed 8-bit integer. */
  readInt8(): number;
  /** A big-endian signed 16-bit integer. */
  readInt16(): number;
  /** A big-endian signed 32-bit integer. */
  readInt32(): number;
  /** A big-endian signed 64-bit integer, as kafkajs's Long. */
  readInt64(): { toString(): string };
  /** Bytes with a zig-zag varint length (-1: null). */
  readVarIntBytes(): Buffer | null;
  /** The bytes left. */
  readAll(): Buffer;
  /** A decoder of the next `size` bytes. */
  slice(size: number): KafkajsDecoder;
  /** Skips `size` bytes. */
  forward(size: number): void;
}

/**
 * What kafkajs's record decoder is given as the batch's context (`batchContext` of each record).
 *
 * @example
 * ```ts
 * const context: RecordBatchContext = batch.records[0].batchContext;
 * console.log(context.isControlBatch, context.producerId);
 * ```
 */
export interface RecordBatchContext {
  /** The batch's first offset (decimal). */
  firstOffset: string;
  /** The batch's first timestamp (decimal). */
  firstTimestamp: string;
  /** The partition leader's epoch. */
  partitionLeaderEpoch: number;
  /** Whether the batch is transactional. */
  inTransaction: boolean;
  /** Whether the batch holds control records (transaction markers). */
  isControlBatch: boolean;
  /** The last record's offset delta. */
  lastOffsetDelta: number;
  /** The producer's id (decimal). */
  producerId: string;
  /** The producer's epoch. */
  producerEpoch: number;
  /** The first record's sequence number. */
  firstSequence: number;
  /** The batch's greatest timestamp (decimal). */
  maxTimestamp: string;
  /** 0: CREATE_TIME, 1: LOG_APPEND_TIME. */
  timestampType: number;
  /** The batch's magic byte (2). */
  magicByte?: number;
}

/**
 * One record, as kafkajs's record decoder returns it.
 *
 * @example
 * ```ts
 * const record: DecodedRecord = batch.records[0];
 * console.log(record.offset, record.value?.toString());
 * ```
 */
export interface DecodedRecord {
  /** The batch's magic byte. */
  magicByte: number | undefined;
  /** The record's attributes (unused by Kafka). */
  attributes: number;
  /** The record's timestamp (decimal milliseconds). */
  timestamp: string;
  /** The record's offset (decimal). */
  offset: string;
  /** The key's bytes, or null. */
  key: Buffer | null;
  /** The value's bytes, or null. */
  value: Buffer | null;
  /** The headers; a key given several times has the array of its values. */
  headers: Record<string, unknown>;
  /** Whether the record is a control record. */
  isControlRecord: boolean;
  /** The batch's context, one object shared by the batch's records. */
  batchContext: RecordBatchContext;
}

/**
 * A decoded record batch: its context and its records.
 *
 * @example
 * ```ts
 * const batch: DecodedRecordBatch = await decodeBatch(new internals.Decoder(bytes));
 * console.log(batch.firstOffset, batch.records.length);
 * ```
 */
export type DecodedRecordBatch = RecordBatchContext & { records: DecodedRecord[] };

/**
 * kafkajs's own pieces the decoder uses, loaded from the same module instances kafkajs uses.
 *
 * @example
 * ```ts
 * const internals: KafkajsRecordInternals = kafkajsRecordInternals();
 * ```
 */
export interface KafkajsRecordInternals {
  /** protocol/decoder.js. */
  Decoder: new (buffer: Buffer | null) => KafkajsDecoder;
  /** protocol/recordBatch/record/v0/decoder.js: the fallback for records outside the fast path. */
  decodeRecord: (decoder: KafkajsDecoder, context: RecordBatchContext) => DecodedRecord;
  /** protocol/message/compression: the codec registered for a batch's attributes, or null. */
  lookupCodecByAttributes: (
    attributes: number,
  ) => { decompress(buffer: Buffer): Promise<Buffer> } | null;
  /** errors.js: thrown for a batch cut short by the fetch size. */
  KafkaJSPartialMessageError: new (message: string) => Error;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;

/** The decimal string's value, if it is a safe integer that prints back as that string. */
function safeNumber(text: string): number | undefined {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : undefined;
}

/** Thrown inside the fast path when a record has to go to kafkajs's decoder. */
const FALLBACK = Symbol("fallback");

/** Where `varint` and `varintBytes` read next (one record at a time, synchronously). */
let cursor = 0;

/**
 * kafkajs's `readVarInt` at `cursor` of `buf` (its 32-bit arithmetic and all), moving the cursor past it;
 * FALLBACK if it runs to `end`.
 */
function varint(buf: Buffer, end: number): number {
  let p = cursor, raw = 0, shift = 0, b: number;
  do {
    if (p >= end) throw FALLBACK;
    b = buf[p++];
    raw += (b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80);
  cursor = p;
  return (raw >>> 1) ^ -(raw & 1);
}

/** kafkajs's `readVarIntBytes` at `cursor`: a view of the bytes, null for length -1; FALLBACK if malformed. */
function varintBytes(buf: Buffer, end: number): Buffer | null {
  const n = varint(buf, end);
  if (n === -1) return null;
  const p = cursor;
  if (n < 0 || p + n > end) throw FALLBACK;
  cursor = p + n;
  return buf.slice(p, p + n);
}

/**
 * The record batch decoder: a replacement for kafkajs's `protocol/recordBatch/v0/decoder.js` export (an
 * async function of the fetch response's decoder).
 *
 * @example
 * ```ts
 * const decodeBatch = createRecordBatchDecoder(internals);
 * const batch = await decodeBatch(new internals.Decoder(bytes));
 * console.log(batch.records.map((r) => r.offset));
 * ```
 */
export function createRecordBatchDecoder(
  internals: KafkajsRecordInternals,
): (fetchDecoder: KafkajsDecoder) => Promise<DecodedRecordBatch> {
  const { Decoder, decodeRecord: kafkajsRecord, lookupCodecByAttributes, KafkaJSPartialMessageError } =
    internals;

  /** The record at `at` of `buf` read by kafkajs's decoders (its length, then the record); returns the position after it. */
  function slowRecord(
    buf: Buffer,
    at: number,
    context: RecordBatchContext,
    out: DecodedRecord[],
    i: number,
  ): number {
    const outer = new Decoder(buf);
    outer.offset = at;
    const recordBuffer = outer.readVarIntBytes();
    out[i] = kafkajsRecord(new Decoder(recordBuffer), context);
    return outer.offset;
  }

  /**
   * Decodes `count` records of `buf` from `at` into `out`, each as `[length varint][record]`, as kafkajs's
   * `decodeRecord` does; returns nothing (the batch's decoder is not read on).
   */
  function decodeRecords(
    buf: Buffer,
    at: number,
    count: number,
    context: RecordBatchContext,
    out: DecodedRecord[],
  ): void {
    const magicByte = context.magicByte;
    const isControlRecord = context.isControlBatch ?? false;
    const appendTime = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp
      ? context.maxTimestamp
      : undefined;
    const firstOffset = safeNumber(context.firstOffset);
    const firstTimestamp = appendTime === undefined ? safeNumber(context.firstTimestamp) : 0;
    // (A codec that returned no Buffer: kafkajs's decoder says what becomes of it.)
    const fast = firstOffset !== undefined && firstTimestamp !== undefined && Buffer.isBuffer(buf);
    const bufLength = buf.length;
    let lastDelta = NaN;
    let lastTimestamp = "";
    let pos = at;
    for (let i = 0; i < count; i++) {
      if (!fast) {
        pos = slowRecord(buf, pos, context, out, i);
        continue;
      }
      const start = pos;
      try {
        // The record's length.
        cursor = pos;
        const length = varint(buf, bufLength);
        if (length < 0) throw FALLBACK;
        let p = cursor;
        const end = p + length;
        if (end > bufLength || length < 1) throw FALLBACK;
        const attributes = (buf[p++] << 24) >> 24;

        // Timestamp delta: a zig-zag varlong, taken as a number up to 7 bytes (49 bits).
        let raw = 0;
        let b: number;
        let scale = 1;
        let bytes = 0;
        do {
          if (p >= end || bytes === 7) throw FALLBACK;
          b = buf[p++];
          raw += (b & 0x7f) * scale;
          scale *= 128;
          bytes++;
        } while (b >= 0x80);
        const timestampDelta = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
        let timestamp: string;
        if (appendTime !== undefined) timestamp = appendTime;
        else if (timestampDelta === lastDelta) timestamp = lastTimestamp; // (records of a send share one)
        else {
          const t = firstTimestamp + timestampDelta;
          if (!Number.isSafeInteger(t)) throw FALLBACK;
          timestamp = lastTimestamp = String(t);
          lastDelta = timestampDelta;
        }

        // Offset delta: a zig-zag varint.
        cursor = p;
        const o = firstOffset + varint(buf, end);
        if (!Number.isSafeInteger(o)) throw FALLBACK;

        // Key and value: zig-zag varint lengths (-1: null), views of the bytes.
        const key = varintBytes(buf, end);
        const value = varintBytes(buf, end);

        // Headers: a zig-zag varint count (-1: none), then key strings and value bytes.
        const headerCount = varint(buf, end);
        if (headerCount < -1) throw FALLBACK;
        const headers: Record<string, unknown> = {};
        for (let h = 0; h < headerCount; h++) {
          const n = varint(buf, end);
          let headerKey: string | null = null;
          if (n !== -1) {
            const q = cursor;
            if (n < 0 || q + n > end) throw FALLBACK;
            headerKey = buf.toString("utf8", q, q + n);
            cursor = q + n;
          }
          const headerValue = varintBytes(buf, end);
          // kafkajs: {...obj, [key]: obj[key] === undefined ? value : Array.isArray(obj[key]) ? obj[key].concat([value]) : [obj[key], value]}
          const name = String(headerKey);
          if (name === "__proto__") throw FALLBACK;
          const prior = headers[name];
          headers[name] = prior === undefined
            ? headerValue
            : Array.isArray(prior)
            ? prior.concat([headerValue])
            : [prior, headerValue];
        }

        out[i] = {
          magicByte,
          attributes,
          timestamp,
          offset: String(o),
          key,
          value,
          headers,
          isControlRecord,
          batchContext: context,
        };
        pos = end;
      } catch (e) {
        if (e !== FALLBACK) throw e;
        pos = slowRecord(buf, start, context, out, i);
      }
    }
  }

  return async (fetchDecoder: KafkajsDecoder): Promise<DecodedRecordBatch> => {
    // The batch's header, as kafkajs reads it.
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);

    const remainingBytes = decoder.buffer.length;
    if (remainingBytes < length) {
      throw new KafkaJSPartialMessageError(
        `Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`,
      );
    }

    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // CRC, not checked (as in kafkajs)
    const attributes = decoder.readInt16();
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();

    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
      isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
    };
    const context: RecordBatchContext = { ...recordContext, magicByte };
    const codec = lookupCodecByAttributes(attributes);

    let records: DecodedRecord[];
    if (!codec) {
      const count = decoder.readInt32();
      if (count === -1) records = [];
      else {
        records = new Array(count);
        decodeRecords(decoder.buffer, decoder.offset, count, context, records);
      }
    } else {
      const count = decoder.readInt32();
      if (count <= 0) records = [];
      else {
        const decompressed = await codec.decompress(decoder.readAll());
        records = new Array(count);
        decodeRecords(decompressed, 0, count, context, records);
      }
    }
    return { ...recordContext, records };
  };
}
