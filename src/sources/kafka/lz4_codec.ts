/**
 * Kafka's LZ4 compression of a record batch: the standard LZ4 frame format (as fixed for Kafka by KIP-57,
 * and as the Java client writes it), with the blocks inside compressed and decompressed by the
 * pure-JavaScript `lz4js`; the frames themselves are read and written here.
 *
 * Reading ({@linkcode lz4Decompress}): one or more frames (skippable frames are skipped), with independent
 * or dependent blocks, with or without block checksums, content size and content checksum (the checksums
 * are not verified: the broker verified the batch's CRC-32C when it took it). Frames using a dictionary
 * are refused with a message. No size written in the frame is trusted to size the output: it grows as
 * blocks arrive, each of them at most the frame's maximum block size.
 *
 * Writing ({@linkcode lz4Compress}): one frame of independent 64 KiB blocks, without checksums, as the
 * Java client does; the frame declares 256 KiB blocks, so that a decoder that decompresses each block
 * into a buffer of the declared size always has room beyond the block's end (the LZ4 block format asks
 * a block's last match to start 12 bytes before its end, a rule `lz4js` does not keep, and that strict
 * decoders, such as the one the broker uses, enforce only near the end of their buffer).
 *
 * `lz4js` is imported on first use only.
 *
 * @example
 * ```ts
 * import { lz4Compress, lz4Decompress } from "./lz4_codec.ts";
 * const packed = await lz4Compress(new TextEncoder().encode("x,y\n1,2"));
 * new TextDecoder().decode(await lz4Decompress(packed)); // "x,y\n1,2"
 * ```
 * @module
 */

/** The parts of `lz4js` used here: its block (de)compressors. */
interface Lz4Js {
  /** Compresses `src[start, start + length)` into `dst` from 0; returns its length, or 0 for "not worth it". */
  compressBlock(src: Uint8Array, dst: Uint8Array, start: number, length: number, hash: Uint32Array): number;
  /** Decompresses `src[start, start + length)` into `dst` from `at`; returns where the output ends. */
  decompressBlock(src: Uint8Array, dst: Uint8Array, start: number, length: number, at: number): number;
}

let loaded: Promise<Lz4Js> | undefined;

/** `lz4js`, imported once (a CommonJS module: its exports may come as `default`). */
function lz4Js(): Promise<Lz4Js> {
  return loaded ??= import("lz4js").then((m) => {
    const lib = m as unknown as Lz4Js & { default?: Lz4Js };
    return typeof lib.decompressBlock === "function" ? lib : lib.default!;
  });
}

const MAGIC = 0x184d2204;
/** Skippable frames: 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const FLAG_VERSION_MASK = 0xc0;
const FLAG_VERSION = 0x40;
const FLAG_BLOCK_CHECKSUM = 0x10;
const FLAG_CONTENT_SIZE = 0x08;
const FLAG_CONTENT_CHECKSUM = 0x04;
const FLAG_DICTIONARY = 0x01;
const UNCOMPRESSED = 0x80000000;
/** Maximum block sizes by the BD byte's code. */
const BLOCK_SIZES: Readonly<Record<number, number>> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/**
 * The frame header written: magic; FLG 0x60 (version 1, independent blocks, no checksums, no content
 * size); BD 0x50 (blocks of at most 256 KiB); the header checksum, (xxHash32 of FLG and BD) >> 8.
 */
const HEADER = Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x50, 0xfb);
/** The size of the blocks written (see the module documentation). */
const BLOCK = 64 << 10;
/** `lz4js`'s bound on a compressed block of `n` bytes. */
const compressBound = (n: number): number => (n + n / 255 + 16) | 0;

/** A little-endian uint32 at `at`, or an error naming what was cut short. */
function u32(data: Uint8Array, at: number, what: string): number {
  if (at + 4 > data.length) throw new Error(`lz4: the ${what} at byte ${at} is cut short`);
  return (data[at] | data[at + 1] << 8 | data[at + 2] << 16 | data[at + 3] << 24) >>> 0;
}

/**
 * Decompresses an LZ4-compressed record batch (see the module documentation for what is read).
 *
 * @throws Error saying what is wrong with the bytes (not a frame, a truncated block, a dictionary).
 * @example
 * ```ts
 * const records = await lz4Decompress(compressed);
 * ```
 */
export async function lz4Decompress(data: Uint8Array): Promise<Uint8Array> {
  const lz4 = await lz4Js();
  const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
  let out = new Uint8Array(Math.max(1024, src.length * 4));
  let end = 0;
  let at = 0;
  while (at < src.length) {
    const magic = u32(src, at, "frame magic");
    at += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      at += 4 + u32(src, at, "skippable frame's size");
      continue;
    }
    if (magic !== MAGIC) {
      throw new Error(`lz4: no LZ4 frame at byte ${at - 4} (magic 0x${magic.toString(16)})`);
    }
    if (at + 3 > src.length) throw new Error(`lz4: the frame descriptor at byte ${at} is cut short`);
    const flags = src[at];
    const blockCode = (src[at + 1] >> 4) & 7;
    if ((flags & FLAG_VERSION_MASK) !== FLAG_VERSION) {
      throw new Error(`lz4: frame version ${(flags & FLAG_VERSION_MASK) >> 6} is not 1`);
    }
    if (flags & FLAG_DICTIONARY) {
      throw new Error("lz4: the frame needs a dictionary, which Kafka does not use");
    }
    const maxBlock = BLOCK_SIZES[blockCode];
    if (maxBlock === undefined) throw new Error(`lz4: invalid block size code ${blockCode}`);
    at += 2 + (flags & FLAG_CONTENT_SIZE ? 8 : 0) + 1; // FLG, BD, content size, header checksum
    const blockChecksum = flags & FLAG_BLOCK_CHECKSUM ? 4 : 0;
    for (;;) {
      const word = u32(src, at, "block size");
      at += 4;
      if (word === 0) break; // the end mark
      const size = (word & ~UNCOMPRESSED) >>> 0;
      if (size > maxBlock || at + size > src.length) {
        throw new Error(
          `lz4: a block of ${size} bytes at byte ${at} is larger than the frame's ${maxBlock} or runs past the end`,
        );
      }
      if (end + maxBlock > out.length) {
        const grown = new Uint8Array(Math.max(out.length * 2, end + maxBlock));
        grown.set(out.subarray(0, end));
        out = grown;
      }
      if (word & UNCOMPRESSED) {
        out.set(src.subarray(at, at + size), end);
        end += size;
      } else {
        const next = lz4.decompressBlock(src, out, at, size, end);
        if (next > end + maxBlock) {
          throw new Error(
            `lz4: a block at byte ${at} decompresses to more than the frame's ${maxBlock} bytes`,
          );
        }
        end = next;
      }
      at += size + blockChecksum;
    }
    if (flags & FLAG_CONTENT_CHECKSUM) at += 4;
  }
  if (at > src.length) throw new Error(`lz4: the frame is cut short (${src.length} bytes)`);
  return out.subarray(0, end);
}

/**
 * Compresses a record batch into one LZ4 frame of independent 64 KiB blocks.
 *
 * @example
 * ```ts
 * const compressed = await lz4Compress(records);
 * ```
 */
export async function lz4Compress(data: Uint8Array): Promise<Uint8Array> {
  const lz4 = await lz4Js();
  const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const blocks = Math.ceil(src.length / BLOCK);
  const out = new Uint8Array(HEADER.length + blocks * (4 + compressBound(BLOCK)) + 4);
  const dv = new DataView(out.buffer);
  out.set(HEADER);
  let end = HEADER.length;
  const hash = new Uint32Array(1 << 16);
  const scratch = new Uint8Array(compressBound(BLOCK));
  for (let start = 0; start < src.length; start += BLOCK) {
    const length = Math.min(BLOCK, src.length - start);
    hash.fill(0); // each block on its own: no match reaches into an earlier one
    const size = lz4.compressBlock(src, scratch, start, length, hash);
    if (size === 0 || size >= length) {
      dv.setUint32(end, (length | UNCOMPRESSED) >>> 0, true);
      out.set(src.subarray(start, start + length), end + 4);
      end += 4 + length;
    } else {
      dv.setUint32(end, size, true);
      out.set(scratch.subarray(0, size), end + 4);
      end += 4 + size;
    }
  }
  dv.setUint32(end, 0, true); // the end mark
  return out.subarray(0, end + 4);
}
