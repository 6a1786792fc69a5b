/**
 * Record batches that kafkajs cannot decompress (snappy, LZ4, zstd: it reads only uncompressed and gzip
 * batches), made visible where they are instead of failing the whole fetch.
 *
 * kafkajs decodes a fetch response in one go: one batch it has no codec for fails the fetch, with the
 * messages before it in the same response (all of a partition that was written before the batch,
 * often), and the consumer crashes without saying where. {@linkcode markUnsupportedCompression}
 * registers, in kafkajs's codec table, a codec for each such type that "decompresses" a batch into
 * records without a value whose key says the codec ({@linkcode unsupportedCompression} reads it): the
 * messages before the batch arrive as usual, and the reader stops at the first marker, knowing the
 * partition and offset. A codec registered by someone else (a real one) is left alone, and producing
 * with these types still fails as before.
 *
 * How many records the batch holds is read from the batch header just before the compressed bytes
 * (kafkajs 2.2 hands the codec a slice of the fetched buffer); when that does not look right, the
 * codec fails as kafkajs's own does.
 *
 * @example
 * ```ts
 * await markUnsupportedCompression();
 * const codec = unsupportedCompression(message.key); // "snappy" for a marker, else undefined
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import { loadKafkajs } from "./kafkajs_module.ts";

const PREFIX = "\u0000streamreg: unsupported compression ";
const PREFIX_BYTES = Buffer.from(PREFIX);
/** More records than this in one batch means the header was not where it was looked for. */
const MOST_RECORDS = 1 << 24;

const MARK = Symbol.for("streamreg.unsupportedCompression");

/** Unsigned LEB128 of the zigzag encoding of `n` (Kafka's varint). */
function varint(n: number, out: number[]): void {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  while (z >= 0x80) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
}

/** `count` records without a value at offset deltas 0, 1, ...; the first one's key names the codec. */
function markerRecords(count: number, name: string): Buffer {
  const key = Buffer.from(PREFIX + name);
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
 * Registers the marking codec for every compression type kafkajs has no codec for (idempotent).
 *
 * @example
 * ```ts
 * await markUnsupportedCompression(); // before consuming
 * ```
 */
export async function markUnsupportedCompression(): Promise<void> {
  const { CompressionCodecs, CompressionTypes } = await loadKafkajs();
  const NAMES: Record<number, string> = {
    [CompressionTypes.Snappy]: "snappy",
    [CompressionTypes.LZ4]: "lz4",
    [CompressionTypes.ZSTD]: "zstd",
  };
  const codecs = CompressionCodecs as unknown as Record<number, (() => unknown) & { [MARK]?: true }>;
  for (const [type, name] of Object.entries(NAMES).map(([t, n]) => [Number(t), n] as const)) {
    const factory = codecs[type];
    if (factory?.[MARK]) continue;
    try {
      factory?.();
      continue; // a codec is registered: use it
    } catch (error) {
      if ((error as Error)?.name !== "KafkaJSNotImplemented") continue;
    }
    const original = factory;
    const codec = {
      compress: () => original(),
      decompress: (compressed: Buffer): Promise<Buffer> => {
        // The batch's record count: the int32 just before the compressed records.
        const count = compressed.byteOffset >= 4
          ? new DataView(compressed.buffer, compressed.byteOffset - 4, 4).getInt32(0)
          : -1;
        if (!(count > 0 && count <= MOST_RECORDS)) original();
        return Promise.resolve(markerRecords(count, name));
      },
    };
    codecs[type] = Object.assign(() => codec, { [MARK]: true as const });
  }
}

/**
 * The codec named by a marker record's key, or undefined for any other key.
 *
 * @example
 * ```ts
 * unsupportedCompression(message.key); // "snappy"
 * ```
 */
export function unsupportedCompression(key: Uint8Array | null): string | undefined {
  if (key === null || key.length <= PREFIX_BYTES.length || key[0] !== 0) return undefined;
  const k = Buffer.from(key.buffer, key.byteOffset, key.length);
  if (!k.subarray(0, PREFIX_BYTES.length).equals(PREFIX_BYTES)) return undefined;
  return k.subarray(PREFIX_BYTES.length).toString("utf8");
}
