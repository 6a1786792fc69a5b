import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { zstdCompress, zstdDecompress, zstdFrames } from "./zstd_codec.ts";

/** CSV-like text of `n` bytes (compressible). */
function csvBytes(n: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < n; i++) {
    const line = `${i},${(i * 7919) % 10007 / 13}\n`;
    lines.push(line);
    size += line.length;
  }
  return new TextEncoder().encode(lines.join("")).subarray(0, n);
}

/** The bytes as a plain Uint8Array (the runtimes' zlib gives Buffers). */
const plain = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** A zstd frame by hand, as the format's specification (RFC 8878) writes it: one raw block. */
function rawFrame(data: Uint8Array): Uint8Array {
  const header = (data.length << 3) | 1; // Block_Size, Block_Type 0 (raw), Last_Block
  return Uint8Array.from([
    ...[0x28, 0xb5, 0x2f, 0xfd], // magic
    0x20, // frame header descriptor: single segment, a 1-byte content size, no checksum
    data.length,
    header & 0xff,
    (header >> 8) & 0xff,
    (header >> 16) & 0xff,
    ...data,
  ]);
}

test("zstd: what is compressed decompresses to the same bytes, in both runtimes' node:zlib", async () => {
  for (const n of [0, 1, 1000, 200_000, 3_000_000]) {
    const data = csvBytes(n);
    const packed = await zstdCompress(data);
    assert.deepEqual([...packed.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
    assert.deepEqual(plain(await zstdDecompress(packed)), data, `${n} bytes`);
  }
  assert.ok((await zstdCompress(csvBytes(100_000))).length < 50_000, "CSV text gets smaller");
});

test("zstd: frames written by hand (the specification's raw blocks) are read, one after the other too", async () => {
  const a = new TextEncoder().encode("x,y\n1,2\n");
  const b = new TextEncoder().encode("3,4\n");
  assert.deepEqual(plain(await zstdDecompress(rawFrame(a))), a);
  assert.deepEqual(
    await zstdDecompress(Uint8Array.from([...rawFrame(a), ...rawFrame(b)])),
    Uint8Array.from([...a, ...b]),
  );
});

test("zstd: compressed frames one after the other, with a skippable frame between, are all read", async () => {
  const a = csvBytes(150_000);
  const b = csvBytes(1000);
  const skippable = [0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9];
  const both = Uint8Array.from([...await zstdCompress(a), ...skippable, ...await zstdCompress(b)]);
  assert.equal(zstdFrames(both)?.length, 2);
  assert.deepEqual(plain(await zstdDecompress(both)), Uint8Array.from([...a, ...b]));
  assert.equal(zstdFrames(Uint8Array.of(1, 2, 3, 4, 5)), undefined, "not zstd");
});

test("zstd: bytes that are no zstd frame are an error that says zstd", async () => {
  await assert.rejects(zstdDecompress(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), /^Error: zstd: /);
  // (A frame cut short is not always noticed by the runtimes' zstd: the batch's records are checked
  // after decompression instead, see undecodable_batch.ts.)
});
