/**
 * Every compression codec of Kafka, for kafkajs: kafkajs 2.2 itself reads and writes only uncompressed and
 * gzip batches, and has a table (`CompressionCodecs`) where the others can be registered.
 * {@linkcode registerCompressionCodecs} puts there snappy (`./snappy_codec.ts`, on `snappyjs`), LZ4
 * (`./lz4_codec.ts`, on `lz4js`) and zstd (`./zstd_codec.ts`, on the runtime's `node:zlib`), all pure
 * JavaScript or built into Deno and Bun, and wraps kafkajs's own gzip codec.
 *
 * Each codec module, and the package under it, is imported when a batch first needs it: a run that reads
 * a CSV file loads none of them, and a Kafka run only those of the codecs its topic uses.
 *
 * A batch that a codec cannot decompress does not fail the fetch: it becomes marker records
 * (`./undecodable_batch.ts`), so that the reader stops there, after the messages before it, with a message
 * naming the codec, the partition, the offset and the reason.
 *
 * A codec registered by someone else (a library user's own) is left alone.
 *
 * @example
 * ```ts
 * await registerCompressionCodecs(); // before consuming or producing with kafkajs
 * await producer.send({ topic, compression: compressionType("zstd"), messages });
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import { loadKafkajs } from "./kafkajs_module.ts";
import { recordCount, recordsMismatch, undecodableRecords } from "./undecodable_batch.ts";

/**
 * Kafka's compression codecs by their `compression.type` names, with their ids in a record batch's
 * attributes (kafkajs's `CompressionTypes` has the same numbers).
 *
 * @example
 * ```ts
 * COMPRESSION_TYPES.lz4; // 3
 * ```
 */
export const COMPRESSION_TYPES = Object.freeze({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const);

/**
 * A name of {@linkcode COMPRESSION_TYPES}.
 *
 * @example
 * ```ts
 * const codec: CompressionName = "snappy";
 * ```
 */
export type CompressionName = keyof typeof COMPRESSION_TYPES;

/**
 * The id of a codec for kafkajs's `send({ compression })`.
 *
 * @example
 * ```ts
 * await producer.send({ topic, messages, compression: compressionType("snappy") }); // 2
 * ```
 */
export function compressionType(name: CompressionName): number {
  return COMPRESSION_TYPES[name];
}

/** A codec's two functions on bytes. */
export interface CodecFunctions {
  /** Compresses a batch's records. */
  compress(data: Uint8Array): Promise<Uint8Array>;
  /** Decompresses them; throws an Error saying what is wrong. */
  decompress(data: Uint8Array): Promise<Uint8Array>;
}

/** A codec as kafkajs calls it. */
export interface KafkajsCodec {
  /** Compresses an encoder's bytes. */
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  /** Decompresses a batch's records. */
  decompress(compressed: Buffer): Promise<Buffer>;
}

const asBuffer = (data: Uint8Array): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);

/**
 * A kafkajs codec on `functions` (loaded by `load` on first use), whose decompression of a batch it cannot
 * read, or that does not give the batch's records, gives the marker records of `./undecodable_batch.ts`
 * instead of an error.
 *
 * @example
 * ```ts
 * const codec = kafkajsCodec("snappy", () => Promise.resolve({ compress: snappyCompress, decompress: snappyDecompress }));
 * ```
 */
export function kafkajsCodec(codec: string, load: () => Promise<CodecFunctions>): KafkajsCodec {
  let functions: Promise<CodecFunctions> | undefined;
  const get = () => functions ??= load();
  return {
    compress: async (encoder) => asBuffer(await (await get()).compress(encoder.buffer)),
    decompress: async (compressed) => {
      const count = recordCount(compressed);
      let reason: string;
      try {
        const records = asBuffer(await (await get()).decompress(compressed));
        const wrong = count === undefined ? undefined : recordsMismatch(records, count);
        if (wrong === undefined) return records;
        reason = `${codec}: ${wrong}`;
      } catch (error) {
        if (count === undefined) throw error;
        reason = error instanceof Error ? error.message : String(error);
      }
      return undecodableRecords(count!, { codec, reason });
    },
  };
}

const MARK = Symbol.for("streamreg.compressionCodec");

/** The codecs registered, by kafkajs's type id: their names and how to load them. */
const CODECS: readonly [number, CompressionName, () => Promise<CodecFunctions>][] = [
  [
    COMPRESSION_TYPES.snappy,
    "snappy",
    () =>
      import("./snappy_codec.ts").then((m) => ({
        compress: m.snappyCompress,
        decompress: m.snappyDecompress,
      })),
  ],
  [
    COMPRESSION_TYPES.lz4,
    "lz4",
    () => import("./lz4_codec.ts").then((m) => ({ compress: m.lz4Compress, decompress: m.lz4Decompress })),
  ],
  [
    COMPRESSION_TYPES.zstd,
    "zstd",
    () => import("./zstd_codec.ts").then((m) => ({ compress: m.zstdCompress, decompress: m.zstdDecompress })),
  ],
];

/**
 * Registers snappy, LZ4 and zstd in kafkajs's codec table, and wraps its gzip codec (idempotent; a codec
 * registered by someone else is left alone).
 *
 * @example
 * ```ts
 * await registerCompressionCodecs();
 * ```
 */
export async function registerCompressionCodecs(): Promise<void> {
  const { CompressionCodecs } = await loadKafkajs();
  const table = CompressionCodecs as unknown as Record<number, (() => unknown) & { [MARK]?: true }>;
  const register = (type: number, codec: KafkajsCodec) =>
    table[type] = Object.assign(() => codec, { [MARK]: true as const });
  for (const [type, name, load] of CODECS) {
    const factory = table[type];
    if (factory?.[MARK]) continue;
    try {
      factory?.();
      if (factory !== undefined) continue; // a codec is registered: leave it
    } catch (error) {
      if ((error as Error)?.name !== "KafkaJSNotImplemented") continue;
    }
    register(type, kafkajsCodec(name, load));
  }
  const gzipFactory = table[COMPRESSION_TYPES.gzip];
  if (gzipFactory !== undefined && !gzipFactory[MARK]) {
    const gzip = gzipFactory() as KafkajsCodec;
    register(
      COMPRESSION_TYPES.gzip,
      kafkajsCodec("gzip", () =>
        Promise.resolve({
          compress: (data) => gzip.compress({ buffer: asBuffer(data) }),
          decompress: (data) => gzip.decompress(asBuffer(data)),
        })),
    );
  }
}
