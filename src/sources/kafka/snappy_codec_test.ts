import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { isXerialFramed, snappyCompress, snappyDecompress } from "./snappy_codec.ts";

/** CSV-like text of `n` bytes (compressible), and bytes that are not. */
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

/** Unsigned LEB128. */
function uvarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * Snappy as the Java client frames it (xerial), written here by hand with every block made of literals
 * only: valid snappy that owes nothing to `snappyjs`.
 */
function literalXerial(data: Uint8Array, blockSize: number): Uint8Array {
  const parts: number[] = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let at = 0; at < data.length; at += blockSize) {
    const block = data.subarray(at, at + blockSize);
    const raw = [
      ...uvarint(block.length),
      61 << 2,
      (block.length - 1) & 0xff,
      (block.length - 1) >> 8,
      ...block,
    ];
    parts.push(
      raw.length >>> 24,
      (raw.length >> 16) & 0xff,
      (raw.length >> 8) & 0xff,
      raw.length & 0xff,
      ...raw,
    );
  }
  return Uint8Array.from(parts);
}

test("snappy: what is compressed (xerial framing, 32 KiB blocks) decompresses to the same bytes", async () => {
  for (const n of [0, 1, 100, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 200_000]) {
    for (const data of [csvBytes(n), randomBytes(n), new Uint8Array(n)]) {
      const packed = await snappyCompress(data);
      assert.ok(isXerialFramed(packed), `${n} bytes: framed`);
      // The header, then one length-prefixed block per 32 KiB.
      const dv = new DataView(packed.buffer, packed.byteOffset, packed.length);
      let blocks = 0;
      for (let at = 16; at < packed.length; at += 4 + dv.getInt32(at)) blocks++;
      assert.equal(blocks, Math.ceil(n / (32 * 1024)), `${n} bytes: blocks`);
      assert.deepEqual(await snappyDecompress(packed), data, `${n} bytes`);
    }
  }
  assert.ok((await snappyCompress(csvBytes(100_000))).length < 70_000, "CSV text gets smaller");
});

test("snappy: the Java client's framing written by hand (literal blocks), and raw snappy, are read", async () => {
  const data = csvBytes(100_000, 7);
  assert.deepEqual(await snappyDecompress(literalXerial(data, 32 * 1024)), data, "xerial, 32 KiB blocks");
  assert.deepEqual(await snappyDecompress(literalXerial(data, 5000)), data, "xerial, other block sizes");
  // Raw snappy (librdkafka's), by hand: the length, then one literal.
  const small = data.subarray(0, 60);
  const raw = Uint8Array.from([...uvarint(small.length), (small.length - 1) << 2, ...small]);
  assert.deepEqual(await snappyDecompress(raw), small, "raw, literal");
  // And a raw block from snappyjs, with copies in it.
  const framed = await snappyCompress(data.subarray(0, 20_000));
  const block = framed.subarray(20);
  assert.deepEqual(await snappyDecompress(block), data.subarray(0, 20_000), "raw, with copies");
});

test("snappy: damaged input is an error saying what is wrong", async () => {
  const packed = await snappyCompress(csvBytes(50_000));
  await assert.rejects(snappyDecompress(packed.subarray(0, 10)), /snappy: the xerial header is cut short/);
  await assert.rejects(
    snappyDecompress(packed.subarray(0, 18)),
    /snappy: a block length is cut short at byte 16/,
  );
  await assert.rejects(
    snappyDecompress(packed.subarray(0, packed.length - 5)),
    /snappy: a block of \d+ bytes/,
  );
  await assert.rejects(
    snappyDecompress(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
    /^Error: snappy: Invalid Snappy bitstream/,
  );
});
