/**
 * What the block kernel tests share (`src/core/block_kernel_test.ts`, `src/core/block_kernel_update_test.ts`):
 * both builds of the core, data built to take each path of the kernel, and {@linkcode exercise}, which
 * checks the core against the BigInt reference (`./exact_reference.ts`) bit for bit.
 * @module
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { ExactAccumulator, roundRational } from "./exact_reference.ts";
import { RegressionCore } from "../src/core/regression_core.ts";

export const release = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
export const debug = await readFile(new URL("../build/streamreg.debug.wasm", import.meta.url));
export const BUILDS = [["release", release], ["debug", debug]] as const;
export type Bytes = typeof release;

/** Points per kernel block, and per WASM call (the wrapper splits longer arrays). */
export const BLOCK = 1024, CALL = 4096;
/** The accepted magnitudes besides 0. */
export const MIN = 2 ** -440, MAX = 2 ** 440;

export const f64 = (v: number[]) => new Float64Array(v);
/** The double next to v, away from zero. */
export function neighbour(v: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}
export const acceptable = (v: number) => v === 0 || (Math.abs(v) >= MIN && Math.abs(v) <= MAX); // false for NaN

/** A small deterministic generator (xorshift64*), so failures reproduce. */
export class Rng {
  #s: bigint;
  constructor(seed: bigint) {
    this.#s = seed;
  }
  /** Uniform in [0, 1), 53 random bits. */
  next(): number {
    let s = this.#s;
    s ^= s >> 12n;
    s ^= (s << 25n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 27n;
    this.#s = s;
    return Number(((s * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn) >> 11n) / 2 ** 53;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  /** The list shuffled in place (Fisher–Yates). */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }
  /** ±1, each half the time. */
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }
  /** A double in [2^e, 2^(e+1)) using all 53 significant bits (odd significand); -440 ≤ e ≤ 1023. */
  full(e: number): number {
    const k = this.int(2 ** 52);
    return (2 ** 52 + k - (k % 2) + 1) * 2 ** (e - 52);
  }
}

// ---- Data ----

/** Points as the core takes them. */
export interface Points {
  x: Float64Array;
  y: Float64Array;
}

export function build(n: number, fx: (i: number) => number, fy: (i: number) => number): Points {
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = fx(i);
    y[i] = fy(i);
  }
  return { x, y };
}

export function concat(...parts: Points[]): Points {
  const n = parts.reduce((sum, p) => sum + p.x.length, 0);
  const x = new Float64Array(n), y = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at);
    y.set(p.y, at);
    at += p.x.length;
  }
  return { x, y };
}

export const slice = (p: Points, from: number, to?: number): Points => ({
  x: p.x.slice(from, to),
  y: p.y.slice(from, to),
});
export const select = (p: Points, at: readonly number[]): Points => ({
  x: f64(at.map((i) => p.x[i])),
  y: f64(at.map((i) => p.y[i])),
});

/** Replaces about `rate` of the points' x, y or both by a value from `values`. */
export function sprinkle(r: Rng, p: Points, rate: number, values: readonly number[]): Points {
  for (let i = 0; i < p.x.length; i++) {
    if (r.next() >= rate) continue;
    const where = r.int(3);
    if (where !== 1) p.x[i] = r.pick(values);
    if (where !== 0) p.y[i] = r.pick(values);
  }
  return p;
}

/** Values far below a block max of ~1e3 (the pair falls back to the scalar path) or refused (too small). */
export const TINY = [1e-9, -1e-9, 2 ** -440, -(2 ** -440), 4e-133, 1e-200, -(2 ** -441), 5e-324, 0, -0];
/** Refused values: NaN, ±Inf and magnitudes above 2^440 (the last five make their block's cut clipped). */
export const BAD = [NaN, Infinity, -Infinity, 1e200, -1e200, 2 ** 440 * (1 + 2 ** -52)];
/** Tiny values with few significant bits: multiples of 2^-440, which the plain cut at its lowest top takes. */
export const FEW_BIT_TINY = [2 ** -440, -(2 ** -440), 3 * 2 ** -440, 2 ** -439, -(2 ** -400), 2 ** -378, 0];

export type Shape = (r: Rng, n: number) => Points;

/** Data shapes, each aimed at one path of the kernel. */
export const shapes: Record<string, Shape> = {
  /** Anchored x and y: epoch seconds 1.7e9 + i·0.37 + noise, y ≈ 8.5e8. */
  epoch: (r, n) => build(n, (i) => 1.7e9 + i * 0.37 + r.next() * 1e-3, () => 8.5e8 + (r.next() - 0.5) * 10),
  /** Anchored negative x ≈ -1e12 - noise, and y ≈ -1 - noise. */
  negative: (r, n) => build(n, () => -1e12 - r.next() * 1e4, () => -1 - r.next() * 1e-4),
  /** Prices 100 ± 0.01 in both coordinates (anchored). */
  prices: (r, n) => build(n, () => 100 + (2 * r.next() - 1) * 0.01, () => 100 + (2 * r.next() - 1) * 0.01),
  /** x anchored (epoch seconds), y plain and crossing zero. */
  anchoredX: (r, n) => build(n, () => 1.7e9 + r.next() * 3600, () => (r.next() - 0.5) * 10),
  /** x plain, y anchored near 1e6. */
  anchoredY: (r, n) => build(n, () => r.next() * 1000, () => 1e6 + r.next()),
  /** Plain: x uniform in [0, 1000], y in [-5, 5]. */
  wide: (r, n) => build(n, () => r.next() * 1000, () => (r.next() - 0.5) * 10),
  /** Integers: few significant bits, so the plain cut takes every one. */
  integers: (r, n) => build(n, () => r.int(2 ** 31) - 2 ** 30, () => r.int(1e6) - 5e5),
  /** Full 53-bit significands, exponents in [-8, 8], both signs: pairs of small ones fall back. */
  fullMantissa: (r, n) =>
    build(n, () => r.sign() * r.full(r.int(17) - 8), () => r.sign() * r.full(r.int(17) - 8)),
  /** Full significands over the whole accepted range of exponents. */
  fullRange: (r, n) =>
    build(n, () => r.sign() * r.full(r.int(880) - 440), () => r.sign() * r.full(r.int(880) - 440)),
  /** Values near 1e3 with a few far below the block max (pair fallback) or too small (refused). */
  tinyAmongLarge: (r, n) => sprinkle(r, shapes.wide(r, n), 0.03, TINY),
  /** Plain values near 1 with rare outliers up to 1e9 (a clipped cut: outliers go to the scalar path). */
  outliers: (r, n) => sprinkle(r, shapes.centered(r, n), 0.002, [1e6, -1e6, 3e9, 2 ** 40, -(2 ** 20)]),
  /** Normal-like values around 0 (plain; values near 0 fall back by pair). */
  centered: (r, n) => build(n, () => (r.next() + r.next() + r.next() - 1.5) * 2, () => (r.next() - 0.5) * 3),
  /** Plain data with NaN, ±Inf and values above 2^440 here and there. */
  badValues: (r, n) => sprinkle(r, shapes.wide(r, n), 0.01, BAD),
  /** Anchored data with a few NaN: pair fallback inside an anchored block. */
  anchoredNaN: (r, n) => sprinkle(r, shapes.epoch(r, n), 0.01, [NaN]),
  /** Near the top of the accepted range, anchored: 2^439·(1 + ε). */
  nearMax: (r, n) =>
    build(n, () => 2 ** 439 * (1 + r.next() * 2 ** -20), () => -(2 ** 439) * (1 + r.next() * 2 ** -30)),
  /** Anchored at 2^-300 (the lowest anchor exponent) in x, and just below it (plain) in y. */
  nearMinAnchor: (r, n) =>
    build(n, () => 2 ** -300 * (1 + r.next() * 2 ** -15), () => 2 ** -300 * (1 - r.next() * 2 ** -15)),
  /** Tiny plain values, the top clamped at 2^-377: few-bit ones are taken, full ones fall back. */
  tinyPlain: (r, n) =>
    build(
      n,
      () => r.next() < 0.5 ? r.pick(FEW_BIT_TINY) : (r.next() - 0.5) * 2 ** -400,
      () => r.next() < 0.5 ? r.pick(FEW_BIT_TINY) : r.sign() * r.full(-380 - r.int(50)),
    ),
};
export const SHAPE_NAMES = Object.keys(shapes);

/** n points made of segments of random shapes and lengths, so that blocks mix shapes. */
export function mixture(r: Rng, n: number): Points {
  const parts: Points[] = [];
  for (let len = 0; len < n;) {
    const k = Math.min(n - len, r.pick([1, 2, 3, 1 + r.int(300), 1 + r.int(1500)]));
    parts.push(shapes[r.pick(SHAPE_NAMES)](r, k));
    len += k;
  }
  return concat(...parts);
}

/** Weights ±1 (about 60 % +1) with about `badRate` of them invalid (0, -0, 0.5, 2, NaN, ...). */
export function weights(r: Rng, n: number, badRate = 0.02): Float64Array {
  const bad = [0, -0, 0.5, -0.5, 2, -2, NaN, Infinity, -Infinity, 1 + 2 ** -52, -1 - 2 ** -52];
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = r.next() < badRate ? r.pick(bad) : r.next() < 0.6 ? 1 : -1;
  return w;
}

// ---- The core and its reference ----

/** The exact state a snapshot holds (layout in assembly/index.ts): counts and sums Σx, Σy, Σx², Σxy, Σy². */
export function decodeState(snapshot: Uint8Array): { count: bigint; refused: bigint; sums: bigint[] } {
  const v = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  assert.equal(v.getUint32(0, true), 0x47455253, "snapshot magic: see assembly/index.ts");
  assert.equal(v.getUint32(4, true), 1, "snapshot version 1: a new layout needs a new decodeState");
  const nstat = v.getUint32(24, true), limbs = v.getUint32(28, true);
  const sums: bigint[] = [];
  for (let s = 0; s < nstat; s++) {
    // 32-bit digits, lowest first, the top one signed.
    let value = 0n;
    for (let i = limbs - 1; i >= 0; i--) {
      value = (value << 32n) + v.getBigInt64(32 + 8 * (s * limbs + i), true);
    }
    sums.push(value);
  }
  return { count: v.getBigInt64(8, true), refused: v.getBigInt64(16, true), sums };
}

/** The fixed-point unit of the state is 2^-UNIT_SHIFT: found from a state holding Σx = 1. */
export const UNIT_SHIFT = await (async () => {
  const core = await RegressionCore.load(release);
  core.add(f64([1]), f64([0]));
  const one = decodeState(core.snapshot()).sums[0];
  const shift = one.toString(2).length - 1;
  assert.equal(one, 1n << BigInt(shift), "Σx = 1 should be a power of two in the state");
  return shift;
})();

/** A state's bytes without the refused count and the checksum: the net count and the exact sums. */
export const withoutRefused = (
  snapshot: Uint8Array,
) => [...snapshot.subarray(0, 16), ...snapshot.subarray(24, -8)];

export const STATISTICS = ["n", "x", "y", "xx", "xy", "yy"] as const;

/** A core and its BigInt twin, fed the same calls; check() compares everything the core shows. */
export class Twin {
  readonly ref = new ExactAccumulator();
  refused = 0;
  constructor(public core: RegressionCore) {}

  static async load(bytes: Bytes): Promise<Twin> {
    return new Twin(await RegressionCore.load(bytes));
  }

  add(p: Points, what = ""): void {
    this.#call(what, "add", p);
  }
  retract(p: Points, what = ""): void {
    this.#call(what, "retract", p);
  }
  update(p: Points, w: Float64Array, what = ""): void {
    this.#call(what, "update", p, w);
  }

  /** Feeds the core and the reference; the core must accept exactly the points the reference takes. */
  #call(what: string, op: "add" | "retract" | "update", p: Points, w?: Float64Array): void {
    const xs: number[] = [], ys: number[] = [], ws: number[] = [];
    for (let i = 0; i < p.x.length; i++) {
      const wi = op === "add" ? 1 : op === "retract" ? -1 : w![i];
      if (acceptable(p.x[i]) && acceptable(p.y[i]) && (wi === 1 || wi === -1)) {
        xs.push(p.x[i]);
        ys.push(p.y[i]);
        ws.push(wi);
      } else this.refused++;
    }
    this.ref.addAll(xs, ys, ws);
    const accepted = op === "update" ? this.core.update(p.x, p.y, w!) : this.core[op](p.x, p.y);
    assert.equal(accepted, xs.length, `${what} ${op}() of ${p.x.length} points: accepted count`);
  }

  /** Compares the five sums, count, refused, fit and the exact state with the reference, bit for bit. */
  check(what: string): void {
    const { core, ref } = this;
    const sums = ref.sums();
    for (const s of STATISTICS) assert.equal(core.sum(s), sums[s], `${what}: sum("${s}")`);
    assert.equal(core.count, sums.n, `${what}: count`);
    assert.equal(core.refused, this.refused, `${what}: refused`);
    assert.deepEqual(core.fit(), { ...ref.fit(), count: sums.n }, `${what}: fit`);

    const state = decodeState(core.snapshot());
    const exact = ref.integers();
    assert.equal(state.count, exact.n, `${what}: the state's count`);
    assert.equal(state.refused, BigInt(this.refused), `${what}: the state's refused count`);
    const want = [[exact.x, 1], [exact.y, 1], [exact.xx, 2], [exact.xy, 2], [exact.yy, 2]] as const;
    want.forEach(([value, power], s) => {
      // The state holds value · 2^(power·e0) in units of 2^-UNIT_SHIFT.
      const shift = power * exact.e0 + UNIT_SHIFT;
      const got = shift >= 0 ? state.sums[s] : state.sums[s] << BigInt(-shift);
      const expected = shift >= 0 ? value << BigInt(shift) : value;
      if (got !== expected) {
        const off = roundRational(got - expected, 1n << BigInt(UNIT_SHIFT - Math.min(shift, 0)));
        assert.fail(`${what}: the state's exact Σ${STATISTICS[s + 1]} is off by ${off}`);
      }
    });
  }
}

/**
 * Adds the data to a fresh core, then retracts a prefix, updates all of it with mixed ±1 weights and adds
 * it again one point later (so the blocks start elsewhere), checking after each call.
 */
export async function exercise(bytes: Bytes, data: Points, what: string): Promise<void> {
  const t = await Twin.load(bytes);
  const n = data.x.length;
  t.add(data, what);
  t.check(`${what}: added`);
  t.retract(slice(data, 0, Math.min(n, 777)), what);
  t.check(`${what}: first 777 retracted`);
  t.update(data, Float64Array.from({ length: n }, (_, i) => i % 3 === 1 ? -1 : 1), what);
  t.check(`${what}: updated with weights +1, -1, +1, ...`);
  t.add(slice(data, 1), what);
  t.check(`${what}: added again from its second point`);
}

/** A block whose largest |value| is ±top, once at a random position, the other values from `menu`. */
export function blockWithTop(r: Rng, top: number, menu: readonly (() => number)[]): Float64Array {
  const v = Float64Array.from({ length: BLOCK }, () => r.pick(menu)());
  v[r.int(BLOCK)] = r.sign() * top;
  return v;
}

/** A block of values c·(1 + f·2^-11·u), u uniform in [-1, 1], both extremes u = ±1 present. */
export function spreadBlock(r: Rng, c: number, f: number): Float64Array {
  const v = Float64Array.from({ length: BLOCK }, () => c * (1 + f * 2 ** -11 * (2 * r.next() - 1)));
  v[r.int(BLOCK)] = c * (1 - f * 2 ** -11);
  v[r.int(BLOCK)] = c * (1 + f * 2 ** -11);
  return v;
}

export const LENGTHS = [1, 2, 3, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 10000];
