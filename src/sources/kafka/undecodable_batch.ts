/**
 * Record batches that cannot be decompressed, made visible where they are instead of failing the whole
 * fetch.
 *
 * kafkajs decodes a fetch response in one go: one batch whose codec throws fails the fetch, with the
 * messages before it in the same response (all of a partition that was written before the batch, often),
 * and the consumer retries, then crashes without saying where. So the codecs of `./compression_codecs.ts`
 * catch their own failures and, instead of throwing, "decompress" the batch into
 * {@linkcode undecodableRecords}: records without a value, the first one's key naming the codec and the
 * reason ({@linkcode undecodableBatch} reads it). The messages before the batch arrive as usual, and the
 * reader stops at the first marker, knowing the partition and offset.
 *
 * Decompressed records are checked against the batch's record count ({@linkcode recordsMismatch}): a
 * codec that returns too few bytes or too many (a runtime's zstd does not always notice a frame cut short)
 * makes markers too. How many records the batch holds is read from the batch header just before the
 * compressed bytes ({@linkcode recordCount}); when that does not look right, there are no markers and no
 * check, and the codec throws its error after all.
 *
 * @example
 * ```ts
 * const markers = undecodableRecords(500, { codec: "lz4", reason: "lz4: invalid block size code 2" });
 * undecodableBatch(message.key); // { codec: "lz4", reason: "lz4: invalid block size code 2" } for a marker
 * ```
 * @module
 */

import { Buffer } from "node:buffer";

const PREFIX = "\u0000streamreg: undecodable batch ";
const PREFIX_BYTES = Buffer.from(PREFIX);
/** More records than this in one batch means the header was not where it was looked for. */
const MOST_RECORDS = 1 << 24;

/** Unsigned LEB128 of the zigzag encoding of `n` (Kafka's varint). */
function varint(n: number, out: number[]): void {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
}

/** Why a batch could not be decompressed. */
export interface Undecodable {
  /** The batch's compression codec: snappy, lz4, zstd, gzip. */
  readonly codec: string;
  /** What went wrong, as the codec said it. */
  readonly reason: string;
}

/**
 * How many records the batch of `compressed` holds: the int32 just before the compressed records, where
 * kafkajs 2.2 leaves it (it hands the codec a slice of the fetched buffer). Undefined when there is no
 * plausible count there.
 *
 * @example
 * ```ts
 * const count = recordCount(compressed); // 500
 * ```
 */
export function recordCount(compressed: Uint8Array): number | undefined {
  if (compressed.byteOffset < 4) return undefined;
  const count = new DataView(compressed.buffer, compressed.byteOffset - 4, 4).getInt32(0);
  return count > 0 && count <= MOST_RECORDS ? count : undefined;
}

/**
 * What is wrong with decompressed records that do not hold exactly `count` records (each a varint length
 * and that many bytes), or undefined when they do. kafkajs does not check it: records cut short would be
 * read as shorter messages, or as garbage.
 *
 * @example
 * ```ts
 * recordsMismatch(records, 500); // "the batch decompresses to 1200 bytes, which end inside record 41 of 500"
 * ```
 */
export function recordsMismatch(records: Uint8Array, count: number): string | undefined {
  const what = `the batch decompresses to ${records.length} bytes, which`;
  let at = 0;
  for (let i = 0; i < count; i++) {
    let z = 0;
    let shift = 0;
    let byte: number;
    do {
      if (at >= records.length || shift > 28) return `${what} end inside record ${i + 1} of ${count}`;
      byte = records[at++];
      z += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    const length = z % 2 === 0 ? z / 2 : -(z + 1) / 2; // zigzag
    if (length < 0 || at + length > records.length) return `${what} end inside record ${i + 1} of ${count}`;
    at += length;
  }
  return at === records.length ? undefined : `${what} hold more than its ${count} records`;
}

/**
 * The records that stand for a batch of `count` records that could not be decompressed: as many, without
 * values, at offset deltas 0, 1, ...; the first one's key says why.
 *
 * @example
 * ```ts
 * const records = undecodableRecords(500, { codec: "snappy", reason: "Invalid Snappy bitstream" });
 * ```
 */
export function undecodableRecords(count: number, why: Undecodable): Buffer {
  const key = Buffer.from(`${PREFIX}${why.codec}\u0000${why.reason}`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const body: number[] = [0, 0]; // attributes, timestamp delta
    varint(i, body); // offset delta
    if (i === 0) {
      varint(key.length, body);
      for (const byte of key) body.push(byte);
    } else {
      varint(-1, body); // no key
    }
    varint(-1, body); // no value
    varint(0, body); // no headers
    varint(body.length, out);
    for (const byte of body) out.push(byte);
  }
  return Buffer.from(out);
}

/**
 * What a marker record's key says, or undefined for any other key.
 *
 * @example
 * ```ts
 * undecodableBatch(message.key); // { codec: "snappy", reason: "..." } or undefined
 * ```
 */
export function undecodableBatch(key: Uint8Array | null): Undecodable | undefined {
  if (key === null || key.length <= PREFIX_BYTES.length || key[0] !== 0) return undefined;
  const k = Buffer.from(key.buffer, key.byteOffset, key.length);
  if (!k.subarray(0, PREFIX_BYTES.length).equals(PREFIX_BYTES)) return undefined;
  const rest = k.subarray(PREFIX_BYTES.length).toString("utf8");
  const cut = rest.indexOf("\u0000");
  return cut < 0 ? { codec: rest, reason: "" } : { codec: rest.slice(0, cut), reason: rest.slice(cut + 1) };
}
