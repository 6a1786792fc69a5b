/**
 * A run: many keys with their bytes (or deletions) packed into one byte string, the unit the
 * keyed-state store (`./keyed_store.ts`) writes: one run per partition per commit in its log, one run
 * per partition in its base. Packing keys into runs lets a commit of 10⁴ keys write a few dozen rows
 * instead of 10⁴, and a restore read a few hundred.
 *
 * ```text
 * run   := varint(count) entry{count}
 * entry := varint(2·units + wide) key varint(value length + 1, or 0 for a deletion) value
 * key   := its UTF-16 code units: one byte each when all are ≤ 0xFF (wide = 0), else two, little-endian
 * ```
 *
 * Varints are unsigned LEB128. Keys are any JavaScript string, lone surrogates included (they are kept
 * as code units, not encoded as UTF-8), so a key always comes back exactly.
 *
 * @example
 * ```ts
 * import { decodeRun, encodeRun } from "./key_runs.ts";
 * const bytes = encodeRun([["user-17", new Uint8Array([1, 2])], ["gone", null]]);
 * decodeRun(bytes, (key, value) => console.log(key, value)); // user-17 Uint8Array [1, 2]; gone null
 * ```
 * @module
 */

/**
 * One entry of a run: a key and its bytes, or null for a deletion.
 *
 * @example
 * ```ts
 * const entry: RunEntry = ["user-17", new Uint8Array([1, 2, 3])];
 * ```
 */
export type RunEntry = readonly [key: string, value: Uint8Array | null];

/**
 * Thrown by {@linkcode decodeRun} when the bytes are not a well-formed run.
 *
 * @example
 * ```ts
 * try { decodeRun(new Uint8Array([5]), () => {}); } catch (e) { e instanceof RunFormatError; } // true
 * ```
 */
export class RunFormatError extends Error {
  /** `message` says what is wrong and at which byte. */
  constructor(message: string) {
    super(message);
    this.name = "RunFormatError";
  }
}

const varintSize = (n: number): number =>
  n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;

function isNarrow(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Writes `n` as a varint at `at`; returns the position after it. */
function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

/**
 * Packs entries into a run, in their order. A key given twice is written twice ({@linkcode decodeRun}
 * hands both over, in order, so the last one wins for whoever applies them).
 *
 * @example
 * ```ts
 * encodeRun([["a", new Uint8Array([7])]]); // Uint8Array [1, 2, 97, 2, 7]
 * ```
 */
export function encodeRun(entries: readonly RunEntry[]): Uint8Array {
  const count = entries.length;
  const wide = new Uint8Array(count);
  let size = varintSize(count);
  for (let i = 0; i < count; i++) {
    const [key, value] = entries[i];
    const units = key.length;
    wide[i] = isNarrow(key) ? 0 : 1;
    const valueTag = value === null ? 0 : value.length + 1;
    if (units > 0x3fffffff || valueTag > 0x7fffffff) {
      throw new RangeError("a key or value of a run is too long");
    }
    size += varintSize(units * 2 + wide[i]) + units * (1 + wide[i]) + varintSize(valueTag) +
      (valueTag && valueTag - 1);
  }
  const out = new Uint8Array(size);
  let at = putVarint(out, 0, count);
  for (let i = 0; i < count; i++) {
    const [key, value] = entries[i];
    const units = key.length;
    at = putVarint(out, at, units * 2 + wide[i]);
    if (wide[i]) {
      for (let k = 0; k < units; k++) {
        const u = key.charCodeAt(k);
        out[at++] = u;
        out[at++] = u >>> 8;
      }
    } else {
      for (let k = 0; k < units; k++) out[at++] = key.charCodeAt(k);
    }
    if (value === null) {
      out[at++] = 0;
    } else {
      at = putVarint(out, at, value.length + 1);
      out.set(value, at);
      at += value.length;
    }
  }
  if (at !== size) throw new Error("encodeRun: the entries changed while being packed");
  return out;
}

/** A string from byte-sized code units (all ≤ 0xFF). */
function narrowKey(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

/** A string from two-byte little-endian code units. */
function wideKey(bytes: Uint8Array, start: number, units: number): string {
  const codes = new Array<number>(units);
  for (let i = 0; i < units; i++) codes[i] = bytes[start + 2 * i] | (bytes[start + 2 * i + 1] << 8);
  let s = "";
  for (let i = 0; i < units; i += 4096) s += String.fromCharCode(...codes.slice(i, i + 4096));
  return s;
}

/**
 * Unpacks a run, calling `visit` for each entry in order. A value is a view into `bytes` (no copy):
 * copy it (`value.slice()`) to keep it without keeping the whole run. Returns the number of entries;
 * throws a {@linkcode RunFormatError} when the bytes are not a well-formed run (cut short, a length
 * past the end, bytes after the last entry).
 *
 * @example
 * ```ts
 * const state = new Map<string, Uint8Array>();
 * decodeRun(bytes, (key, value) => value === null ? state.delete(key) : state.set(key, value));
 * ```
 */
export function decodeRun(bytes: Uint8Array, visit: (key: string, value: Uint8Array | null) => void): number {
  let at = 0;
  const varint = (): number => {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) throw new RunFormatError(`run cut short in a length at byte ${at}`);
      const b = bytes[at++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw new RunFormatError(`run has a length of more than 5 bytes at byte ${at}`);
  };
  const count = varint();
  for (let i = 0; i < count; i++) {
    const header = varint();
    const units = Math.floor(header / 2);
    const wide = header % 2 === 1;
    const keyEnd = at + units * (wide ? 2 : 1);
    if (keyEnd > bytes.length) throw new RunFormatError(`run cut short in key ${i} at byte ${at}`);
    const key = wide ? wideKey(bytes, at, units) : narrowKey(bytes, at, keyEnd);
    at = keyEnd;
    const valueTag = varint();
    if (valueTag === 0) {
      visit(key, null);
      continue;
    }
    const valueEnd = at + valueTag - 1;
    if (valueEnd > bytes.length) throw new RunFormatError(`run cut short in value ${i} at byte ${at}`);
    const value = bytes.subarray(at, valueEnd);
    at = valueEnd;
    visit(key, value);
  }
  if (at !== bytes.length) {
    throw new RunFormatError(`run has ${bytes.length - at} bytes after its ${count} entries`);
  }
  return count;
}
