/**
 * Kafka's snappy compression of a record batch, on the pure-JavaScript `snappyjs` (raw snappy blocks), with
 * the framing around them that Kafka clients use.
 *
 * The Java client writes snappy with snappy-java's `SnappyOutputStream`: the "xerial" framing, a 16-byte
 * header (`\x82SNAPPY\0`, then the format's version and its oldest compatible version, 1 and 1, as big-endian
 * int32s), then blocks of at most 32 KiB, each as a big-endian int32 length and a raw snappy block. Other
 * clients (librdkafka, some JavaScript ones) write a single raw snappy block. {@linkcode snappyDecompress}
 * reads both: the framing when the header is there, else raw snappy, as snappy-java's reader does.
 * {@linkcode snappyCompress} writes the xerial framing, as the Java client does.
 *
 * `snappyjs` is imported on first use only.
 *
 * @example
 * ```ts
 * import { snappyCompress, snappyDecompress } from "./snappy_codec.ts";
 * const packed = await snappyCompress(new TextEncoder().encode("x,y\n1,2"));
 * new TextDecoder().decode(await snappyDecompress(packed)); // "x,y\n1,2"
 * ```
 * @module
 */

/** The parts of `snappyjs` used here. */
interface SnappyJs {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
}

let loaded: Promise<SnappyJs> | undefined;

/** `snappyjs`'s `uncompress`, its errors saying snappy. */
function uncompress(snappy: SnappyJs, block: Uint8Array): Uint8Array {
  try {
    return snappy.uncompress(block);
  } catch (error) {
    throw new Error(`snappy: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `snappyjs`, imported once (a CommonJS module: its exports may come as `default`). */
function snappyJs(): Promise<SnappyJs> {
  return loaded ??= import("snappyjs").then((m) => {
    const lib = m as unknown as SnappyJs & { default?: SnappyJs };
    return typeof lib.compress === "function" ? lib : lib.default!;
  });
}

/** The xerial header: magic, version 1, oldest compatible version 1. */
const XERIAL_HEADER = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1);
/** The magic that starts the xerial framing (the header's first 8 bytes). */
const XERIAL_MAGIC_LENGTH = 8;
/** snappy-java's default block size. */
const XERIAL_BLOCK = 32 * 1024;

/** A plain Uint8Array over the same bytes (so that `snappyjs` returns plain Uint8Arrays too). */
const view = (data: Uint8Array): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.length);

/** The bytes of `parts`, one after the other. */
function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * True when `data` starts with the xerial framing's magic.
 *
 * @example
 * ```ts
 * isXerialFramed(await snappyCompress(new Uint8Array(10))); // true
 * ```
 */
export function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_MAGIC_LENGTH) return false;
  for (let i = 0; i < XERIAL_MAGIC_LENGTH; i++) if (data[i] !== XERIAL_HEADER[i]) return false;
  return true;
}

/**
 * Decompresses a snappy-compressed record batch: xerial-framed (the Java client's) or raw snappy.
 *
 * @throws Error saying what is wrong with the bytes (a truncated frame, an invalid snappy block).
 * @example
 * ```ts
 * const records = await snappyDecompress(compressed);
 * ```
 */
export async function snappyDecompress(data: Uint8Array): Promise<Uint8Array> {
  const snappy = await snappyJs();
  const bytes = view(data);
  if (!isXerialFramed(bytes)) return uncompress(snappy, bytes);
  if (bytes.length < XERIAL_HEADER.length) {
    throw new Error(
      `snappy: the xerial header is cut short (${bytes.length} of ${XERIAL_HEADER.length} bytes)`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const parts: Uint8Array[] = [];
  for (let at = XERIAL_HEADER.length; at < bytes.length;) {
    if (at + 4 > bytes.length) throw new Error(`snappy: a block length is cut short at byte ${at}`);
    const size = dv.getInt32(at);
    at += 4;
    if (size < 0 || at + size > bytes.length) {
      throw new Error(
        `snappy: a block of ${size} bytes at byte ${at} runs past the end (${bytes.length} bytes)`,
      );
    }
    parts.push(uncompress(snappy, bytes.subarray(at, at + size)));
    at += size;
  }
  return parts.length === 1 ? parts[0] : concatBytes(parts);
}

/**
 * Compresses a record batch as the Java client does: xerial framing, 32 KiB blocks.
 *
 * @example
 * ```ts
 * const compressed = await snappyCompress(records);
 * ```
 */
export async function snappyCompress(data: Uint8Array): Promise<Uint8Array> {
  const snappy = await snappyJs();
  const bytes = view(data);
  const parts: Uint8Array[] = [XERIAL_HEADER];
  for (let at = 0; at < bytes.length; at += XERIAL_BLOCK) {
    const block = snappy.compress(bytes.subarray(at, at + XERIAL_BLOCK));
    const size = new Uint8Array(4);
    new DataView(size.buffer).setInt32(0, block.length);
    parts.push(size, block);
  }
  return concatBytes(parts);
}
