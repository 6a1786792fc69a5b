import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "../../../test/harness.ts";
import { lz4Compress, lz4Decompress } from "./lz4_codec.ts";

const require = createRequire(import.meta.url);
/** lz4js's own pieces, to check the frames written with something else than the code under test. */
const xxh32 = require("lz4js/xxh32.js") as {
  hash(seed: number, src: Uint8Array, start: number, length: number): number;
};
const lz4js = require("lz4js") as {
  decompressBlock(src: Uint8Array, dst: Uint8Array, start: number, length: number, at: number): number;
};

/** CSV-like text of `n` bytes (compressible). */
function csvBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  let line = "";
  for (let i = 0; i < n; i++) {
    if (line === "") {
      s = (s * 1103515245 + 12345) % 2147483648;
      line = `${s % 100000},${(s % 7919) / 13}\n`;
    }
    out[i] = line.charCodeAt(0);
    line = line.slice(1);
  }
  return out;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.random() * 256) | 0;
  return out;
}

const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** The blocks of a frame written by `lz4Compress`: [compressed?, bytes]. */
function blocksOf(frame: Uint8Array): [boolean, Uint8Array][] {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const blocks: [boolean, Uint8Array][] = [];
  for (let at = 7;;) {
    const word = dv.getUint32(at, true);
    at += 4;
    if (word === 0) return blocks;
    const size = word & 0x7fffffff;
    blocks.push([(word & 0x80000000) === 0, frame.subarray(at, at + size)]);
    at += size;
  }
}

test("lz4: what is compressed (one frame, independent 64 KiB blocks) decompresses to the same bytes", async () => {
  for (const n of [0, 1, 12, 13, 100, 65535, 65536, 65537, 300_000]) {
    for (const data of [csvBytes(n), randomBytes(n), new Uint8Array(n)]) {
      const frame = await lz4Compress(data);
      // The header: magic, FLG (version 1, independent blocks), BD (256 KiB), and its checksum.
      assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x50]);
      assert.equal(frame[6], (xxh32.hash(0, frame, 4, 2) >> 8) & 0xff, "header checksum");
      const blocks = blocksOf(frame);
      assert.equal(blocks.length, Math.ceil(n / 65536), `${n} bytes: blocks`);
      // Each block decompresses on its own (independent blocks), to at most 64 KiB.
      const parts = blocks.map(([compressed, bytes]) => {
        if (!compressed) return bytes;
        const out = new Uint8Array(65536 + 64);
        const end = lz4js.decompressBlock(bytes, out, 0, bytes.length, 0);
        assert.ok(end <= 65536);
        return out.subarray(0, end);
      });
      assert.deepEqual(Uint8Array.from(parts.flatMap((p) => [...p])), data, `${n} bytes, block by block`);
      assert.deepEqual(await lz4Decompress(frame), data, `${n} bytes`);
    }
  }
  assert.ok((await lz4Compress(csvBytes(100_000))).length < 70_000, "CSV text gets smaller");
});

test("lz4: frames written by hand are read: Java's header, checksums, content size, skippable frames", async () => {
  // A compressed block by hand: literals "abc", a copy of 9 bytes at distance 3; then literals "hello".
  const block = [0x35, 0x61, 0x62, 0x63, 0x03, 0x00, 0x50, 0x68, 0x65, 0x6c, 0x6c, 0x6f];
  const text = "abcabcabcabchello";
  const plain = [...new TextEncoder().encode("x,y\n1,2\n")];
  // As the Java client writes frames: FLG 0x60, BD 0x40 (64 KiB), checksum 0x82.
  const java = Uint8Array.from([
    ...[0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82],
    ...le32(block.length),
    ...block,
    ...le32(plain.length | 0x80000000), // a block stored as it is
    ...plain,
    ...le32(0),
  ]);
  const expected = text + "x,y\n1,2\n";
  assert.equal(new TextDecoder().decode(await lz4Decompress(java)), expected);
  // Block checksums, the content size and the content checksum are skipped (FLG 0x7c), and a skippable
  // frame, then a second frame, are read on.
  const checked = Uint8Array.from([
    ...[0x04, 0x22, 0x4d, 0x18, 0x7c, 0x40, ...le32(text.length), 0, 0, 0, 0, 0x00],
    ...le32(block.length),
    ...block,
    ...le32(0xdeadbeef), // block checksum
    ...le32(0),
    ...le32(0x12345678), // content checksum
    ...[0x5a, 0x2a, 0x4d, 0x18, ...le32(3), 1, 2, 3], // skippable frame
    ...java,
  ]);
  assert.equal(new TextDecoder().decode(await lz4Decompress(checked)), text + expected);
});

test("lz4: damaged or unsupported frames are errors saying what is wrong", async () => {
  const frame = await lz4Compress(csvBytes(100_000));
  await assert.rejects(lz4Decompress(Uint8Array.of(1, 2, 3, 4, 5)), /lz4: no LZ4 frame at byte 0/);
  await assert.rejects(
    lz4Decompress(frame.subarray(0, 6)),
    /lz4: the frame descriptor at byte 4 is cut short/,
  );
  await assert.rejects(
    lz4Decompress(frame.subarray(0, frame.length - 4)),
    /lz4: the block size at byte \d+ is cut short/,
  );
  await assert.rejects(
    lz4Decompress(frame.subarray(0, 2000)),
    /lz4: a block of \d+ bytes at byte 11 .* runs past the end/,
  );
  const dictionary = Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x61, 0x40, 0, 0, 0, 0, 0, ...le32(0)]);
  await assert.rejects(lz4Decompress(dictionary), /lz4: the frame needs a dictionary/);
  await assert.rejects(
    lz4Decompress(Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x30, 0, ...le32(0)])),
    /lz4: invalid block size code 3/,
  );
});
