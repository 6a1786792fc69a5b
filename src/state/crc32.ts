/**
 * CRC-32 (IEEE 802.3, as in zip and PNG), computed incrementally: the running checksum of an
 * append-only file can be kept without reading it again.
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * crc32(part2, crc32(part1)); // the CRC of part1 followed by part2
 * ```
 * @module
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before them; 0 to start).
 *
 * @example
 * ```ts
 * crc32(new Uint8Array(0)); // 0
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
