/**
 * Kafka's zstd compression of a record batch: standard zstd frames, compressed and decompressed by the
 * runtime's own `node:zlib` (`zstdCompress` / `zstdDecompress`, which Deno 2.9 and Bun 1.4, the versions
 * streamreg pins, both have: no npm package, no native add-on). On a runtime whose `node:zlib` lacks them,
 * both functions fail with a message saying so.
 *
 * `node:zlib` is imported on first use only.
 *
 * @example
 * ```ts
 * import { zstdCompress, zstdDecompress } from "./zstd_codec.ts";
 * const packed = await zstdCompress(new TextEncoder().encode("x,y\n1,2"));
 * new TextDecoder().decode(await zstdDecompress(packed)); // "x,y\n1,2"
 * ```
 * @module
 */

type Callback = (error: Error | null, result: Uint8Array) => void;

/** The parts of `node:zlib` used here (absent from runtimes without zstd). */
interface ZlibZstd {
  zstdCompress?: (data: Uint8Array, callback: Callback) => void;
  zstdDecompress?: (data: Uint8Array, callback: Callback) => void;
}

let loaded: Promise<ZlibZstd> | undefined;

/** Calls one of `node:zlib`'s zstd functions, or fails saying that this runtime has none. */
async function call(name: "zstdCompress" | "zstdDecompress", data: Uint8Array): Promise<Uint8Array> {
  const zlib = await (loaded ??= import("node:zlib") as Promise<ZlibZstd>);
  const f = zlib[name];
  if (typeof f !== "function") {
    throw new Error(
      `zstd: this runtime's node:zlib has no ${name} (Deno 2.9 and Bun 1.4, which streamreg pins, have it): ` +
        "run streamreg with one of them",
    );
  }
  return await new Promise<Uint8Array>((resolve, reject) =>
    f(data, (error, result) => error ? reject(new Error(`zstd: ${error.message}`)) : resolve(result))
  );
}

/**
 * Decompresses a zstd-compressed record batch: one zstd frame, as Kafka clients write, or several one after
 * the other (each decompressed on its own: see {@linkcode zstdFrames}).
 *
 * @throws Error saying what is wrong with the bytes, or that the runtime has no zstd.
 * @example
 * ```ts
 * const records = await zstdDecompress(compressed);
 * ```
 */
export async function zstdDecompress(data: Uint8Array): Promise<Uint8Array> {
  const frames = zstdFrames(data);
  if (frames === undefined || frames.length === 1) return await call("zstdDecompress", data);
  const parts: Uint8Array[] = [];
  for (const frame of frames) parts.push(await call("zstdDecompress", frame));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;

/**
 * The zstd frames of `data`, one after the other (skippable frames left out), found by walking their
 * headers and block headers (RFC 8878); undefined when `data` is not such a sequence (then zstd itself
 * says what is wrong). The runtimes' `zstdDecompress` reads only the first frame of its input.
 *
 * @example
 * ```ts
 * zstdFrames(concatenated)?.length; // 2
 * ```
 */
export function zstdFrames(data: Uint8Array): Uint8Array[] | undefined {
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 4 > data.length) return undefined;
    const magic = dv.getUint32(at, true);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      if (at + 8 > data.length) return undefined;
      at += 8 + dv.getUint32(at + 4, true);
      continue;
    }
    if (magic !== ZSTD_MAGIC || at + 5 > data.length) return undefined;
    const start = at;
    const descriptor = data[at + 4];
    const singleSegment = (descriptor >> 5) & 1;
    const contentSizeFlag = descriptor >> 6;
    at += 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3] +
      [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag];
    for (let last = false; !last;) {
      if (at + 3 > data.length) return undefined;
      const header = data[at] | data[at + 1] << 8 | data[at + 2] << 16;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) return undefined; // reserved
      at += 3 + (type === 1 ? 1 : header >> 3); // an RLE block holds one byte
    }
    if (descriptor & 4) at += 4; // content checksum
    if (at > data.length) return undefined;
    frames.push(data.subarray(start, at));
  }
  return frames;
}

/**
 * Compresses a record batch into a zstd frame (at the runtime's default level).
 *
 * @example
 * ```ts
 * const compressed = await zstdCompress(records);
 * ```
 */
export function zstdCompress(data: Uint8Array): Promise<Uint8Array> {
  return call("zstdCompress", data);
}
