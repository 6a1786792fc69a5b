/**
 * The block kernel (assembly/split_block.ts) checked bit for bit against the BigInt reference
 * (test/exact_reference.ts), on data built to take each of its paths — anchored and plain cuts, the pair
 * fallback to the scalar path, whole scalar blocks — and to sit on each of their boundaries.
 *
 * Every check compares the five sums, the count, the refused count and the fit with the reference, and
 * also the exact sums held in the snapshot (decoded by the layout in assembly/index.ts), since a rounded
 * double can hide a small error.
 * @module
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { ExactAccumulator, exactFit, exactSums, roundRational } from "../../test/exact_reference.ts";
import { RegressionCore } from "./regression_core.ts";

const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const debug = await readFile(new URL("../../build/streamreg.debug.wasm", import.meta.url));
const BUILDS = [["release", release], ["debug", debug]] as const;
type Bytes = typeof release;

/** Points per kernel block, and per WASM call (the wrapper splits longer arrays). */
const BLOCK = 1024, CALL = 4096;
/** The accepted magnitudes besides 0. */
const MIN = 2 ** -440, MAX = 2 ** 440;

const f64 = (v: number[]) => new Float64Array(v);
/** The double next to v, away from zero. */
function neighbour(v: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}
const acceptable = (v: number) => v === 0 || (Math.abs(v) >= MIN && Math.abs(v) <= MAX); // false for NaN

/** A small deterministic generator (xorshift64*), so failures reproduce. */
class Rng {
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
interface Points {
  x: Float64Array;
  y: Float64Array;
}

function build(n: number, fx: (i: number) => number, fy: (i: number) => number): Points {
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = fx(i);
    y[i] = fy(i);
  }
  return { x, y };
}

function concat(...parts: Points[]): Points {
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

const slice = (p: Points, from: number, to?: number): Points => ({
  x: p.x.slice(from, to),
  y: p.y.slice(from, to),
});
const select = (p: Points, at: readonly number[]): Points => ({
  x: f64(at.map((i) => p.x[i])),
  y: f64(at.map((i) => p.y[i])),
});

/** Replaces about `rate` of the points' x, y or both by a value from `values`. */
function sprinkle(r: Rng, p: Points, rate: number, values: readonly number[]): Points {
  for (let i = 0; i < p.x.length; i++) {
    if (r.next() >= rate) continue;
    const where = r.int(3);
    if (where !== 1) p.x[i] = r.pick(values);
    if (where !== 0) p.y[i] = r.pick(values);
  }
  return p;
}

/** Values far below a block max of ~1e3 (the pair falls back to the scalar path) or refused (too small). */
const TINY = [1e-9, -1e-9, 2 ** -440, -(2 ** -440), 4e-133, 1e-200, -(2 ** -441), 5e-324, 0, -0];
/** Refused values: NaN, ±Inf and magnitudes above 2^440 (the last five make their block's cut clipped). */
const BAD = [NaN, Infinity, -Infinity, 1e200, -1e200, 2 ** 440 * (1 + 2 ** -52)];
/** Tiny values with few significant bits: multiples of 2^-440, which the plain cut at its lowest top takes. */
const FEW_BIT_TINY = [2 ** -440, -(2 ** -440), 3 * 2 ** -440, 2 ** -439, -(2 ** -400), 2 ** -378, 0];

type Shape = (r: Rng, n: number) => Points;

/** Data shapes, each aimed at one path of the kernel. */
const shapes: Record<string, Shape> = {
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
const SHAPE_NAMES = Object.keys(shapes);

/** n points made of segments of random shapes and lengths, so that blocks mix shapes. */
function mixture(r: Rng, n: number): Points {
  const parts: Points[] = [];
  for (let len = 0; len < n;) {
    const k = Math.min(n - len, r.pick([1, 2, 3, 1 + r.int(300), 1 + r.int(1500)]));
    parts.push(shapes[r.pick(SHAPE_NAMES)](r, k));
    len += k;
  }
  return concat(...parts);
}

/** Weights ±1 (about 60 % +1) with about `badRate` of them invalid (0, -0, 0.5, 2, NaN, ...). */
function weights(r: Rng, n: number, badRate = 0.02): Float64Array {
  const bad = [0, -0, 0.5, -0.5, 2, -2, NaN, Infinity, -Infinity, 1 + 2 ** -52, -1 - 2 ** -52];
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = r.next() < badRate ? r.pick(bad) : r.next() < 0.6 ? 1 : -1;
  return w;
}

// ---- The core and its reference ----

/** The exact state a snapshot holds (layout in assembly/index.ts): counts and sums Σx, Σy, Σx², Σxy, Σy². */
function decodeState(snapshot: Uint8Array): { count: bigint; refused: bigint; sums: bigint[] } {
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
const UNIT_SHIFT = await (async () => {
  const core = await RegressionCore.load(release);
  core.add(f64([1]), f64([0]));
  const one = decodeState(core.snapshot()).sums[0];
  const shift = one.toString(2).length - 1;
  assert.equal(one, 1n << BigInt(shift), "Σx = 1 should be a power of two in the state");
  return shift;
})();

/** A state's bytes without the refused count and the checksum: the net count and the exact sums. */
const withoutRefused = (snapshot: Uint8Array) => [...snapshot.subarray(0, 16), ...snapshot.subarray(24, -8)];

const STATISTICS = ["n", "x", "y", "xx", "xy", "yy"] as const;

/** A core and its BigInt twin, fed the same calls; check() compares everything the core shows. */
class Twin {
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
async function exercise(bytes: Bytes, data: Points, what: string): Promise<void> {
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
function blockWithTop(r: Rng, top: number, menu: readonly (() => number)[]): Float64Array {
  const v = Float64Array.from({ length: BLOCK }, () => r.pick(menu)());
  v[r.int(BLOCK)] = r.sign() * top;
  return v;
}

/** A block of values c·(1 + f·2^-11·u), u uniform in [-1, 1], both extremes u = ±1 present. */
function spreadBlock(r: Rng, c: number, f: number): Float64Array {
  const v = Float64Array.from({ length: BLOCK }, () => c * (1 + f * 2 ** -11 * (2 * r.next() - 1)));
  v[r.int(BLOCK)] = c * (1 - f * 2 ** -11);
  v[r.int(BLOCK)] = c * (1 + f * 2 ** -11);
  return v;
}

const LENGTHS = [1, 2, 3, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 10000];

for (const [label, bytes] of BUILDS) {
  test(`block kernel (${label}): anchored x and y (epoch seconds, -1e12, prices 100 ± 0.01) are exact`, async () => {
    const r = new Rng(1n);
    for (const name of ["epoch", "negative", "prices"]) await exercise(bytes, shapes[name](r, 5000), name);
  });

  test(`block kernel (${label}): mixed cuts, x anchored with y plain across 0 and x plain with y anchored`, async () => {
    const r = new Rng(2n);
    for (const name of ["anchoredX", "anchoredY"]) await exercise(bytes, shapes[name](r, 5000), name);
  });

  test(`block kernel (${label}): plain blocks (uniform, integers, full 53-bit significands) are exact`, async () => {
    const r = new Rng(3n);
    for (const name of ["wide", "integers", "fullMantissa", "fullRange"]) {
      await exercise(bytes, shapes[name](r, 5000), name);
    }
  });

  test(`block kernel (${label}): values far below the block max fall back by pair and stay exact`, async () => {
    const r = new Rng(4n);
    // 1e-9, 2^-440 and others among ~1e3 at even and at odd positions, in x, in y and in both.
    const data = shapes.wide(r, 3 * BLOCK);
    TINY.forEach((v, k) => {
      data.x[10 + 2 * k] = v; // even
      data.y[BLOCK + 11 + 2 * k] = v; // odd
      data.x[2 * BLOCK + 100 + 3 * k] = data.y[2 * BLOCK + 100 + 3 * k] = v; // both
    });
    await exercise(bytes, data, "tiny values among ~1e3");
    await exercise(bytes, shapes.tinyAmongLarge(r, 5000), "tiny values at random places");
    // Anchored blocks take every value; a value below the others makes the block plain, pairs fall back.
    const epoch = shapes.epoch(r, 2 * BLOCK);
    epoch.x[5] = 1e-9;
    epoch.y[BLOCK + 6] = 2 ** -440;
    await exercise(bytes, epoch, "a tiny value in an epoch block");
  });

  test(`block kernel (${label}): NaN, ±Inf and 1e200 are refused, their pair partner and block stay exact`, async () => {
    const r = new Rng(5n);
    const data = concat(
      shapes.epoch(r, BLOCK),
      shapes.wide(r, BLOCK),
      shapes.prices(r, BLOCK),
      shapes.wide(r, BLOCK),
    );
    data.x[10] = NaN; // anchored block, even position
    data.y[21] = NaN; // odd
    data.x[BLOCK + 100] = NaN; // plain block
    data.y[BLOCK + 301] = NaN;
    data.x[BLOCK + 500] = data.y[BLOCK + 500] = NaN;
    data.x[2 * BLOCK + 2] = Infinity; // the block's cut comes from a sample, clipped
    data.y[2 * BLOCK + 7] = -Infinity;
    data.x[3 * BLOCK + 8] = 1e200; // clipped too
    data.y[3 * BLOCK + 9] = -1e200;
    await exercise(bytes, data, "NaN, ±Inf and 1e200 at even and odd positions");
    await exercise(bytes, shapes.badValues(r, 6000), "bad values at random places");
    await exercise(bytes, shapes.anchoredNaN(r, 6000), "NaN in anchored blocks");
    // A block whose only values are NaN, one whose x are all NaN, one with a single finite point.
    const nan = () => NaN;
    const lone = build(BLOCK, nan, nan);
    lone.x[333] = 1.7e9 + 0.25;
    lone.y[333] = 3;
    const blocks = concat(build(BLOCK, nan, nan), build(BLOCK, nan, (i) => i), lone, shapes.epoch(r, BLOCK));
    await exercise(bytes, blocks, "blocks of NaN only");
  });

  test(`block kernel (${label}): outliers far above their block (clipped cut) and ±Inf are exact`, async () => {
    const r = new Rng(12n);
    // The kernel samples 16 values per block (every 64th of a full block) to spot an outlier; one on a
    // sampled position sets the cut from the block max instead, one elsewhere makes the cut clipped.
    for (const at of [7, 333, 0, 64, 1023]) {
      const data = shapes.centered(r, 2 * BLOCK);
      data.x[at] = 1e6;
      data.y[BLOCK + at] = -3e9;
      data.x[BLOCK + ((at + 5) % BLOCK)] = data.y[BLOCK + ((at + 5) % BLOCK)] = 2 ** 40;
      await exercise(bytes, data, `outliers near position ${at}`);
    }
    await exercise(bytes, shapes.outliers(r, 9000), "outliers at random places");
    // Values just under and over the clip limit: samples in [0.5, 1) (exponent -1) and the 2^40 outlier
    // make the cut clipped, with the limit the largest double below 2^(-1 + 1 + 2) = 4.
    const limit = 4 * (1 - 2 ** -53);
    const edges = build(BLOCK, () => 0.5 + r.next() * 0.5, () => 0.5 + r.next() * 0.5);
    [limit, -limit, 4, -4, 4 * (1 + 2 ** -52), 2 ** 40].forEach((v, k) => {
      edges.x[3 + 2 * k] = v;
      edges.y[200 + 2 * k + 1] = v;
    });
    await exercise(bytes, edges, "values at the clip limit");
    // ±Inf with accepted values near the top of the range: the limit never passes 2^440, so values
    // above it are refused, 2^440 itself is taken.
    const top = build(BLOCK, () => 2 ** 438 * (1 + r.next()), () => -(2 ** 437) * (1 + r.next()));
    top.x[5] = Infinity;
    top.y[6] = -Infinity;
    [2 ** 440, -(2 ** 440), 2 ** 440 * (1 + 2 ** -52), 1.5 * 2 ** 440, 1e300].forEach((v, k) => {
      top.x[101 + 2 * k] = v;
      top.y[300 + 2 * k] = v;
    });
    await exercise(bytes, top, "±Inf and values around 2^440");
    // ±Inf where every sampled value is 0: no cut can be chosen, the block goes scalar.
    const zeros = build(BLOCK, (i) => i % 64 === 0 ? 0 : (i % 7) - 3, () => r.next());
    zeros.x[9] = -Infinity;
    await exercise(bytes, zeros, "±Inf with zeros on the sampled positions");
  });

  test(`block kernel (${label}): boundaries, block max a power of two or one ulp below it`, async () => {
    const r = new Rng(6n);
    for (const k of [10, 0, -30, 200, 440, -376, -380]) {
      // Plain top t: 2^t just above the block max; a value is taken when a multiple of 2^(t-63).
      const power = 2 ** k, below = 2 ** k * (1 - 2 ** -53);
      const menu = (e: number) => [
        () => r.sign() * r.full(k - 1),
        () => r.sign() * r.full(e), // the lowest exponent whose full significands are taken
        () => r.sign() * r.full(e - 1), // falls back by pair
        () => r.sign() * 2 ** (k - 11), // few bits: taken
        () => r.sign() * below,
        () => 0,
        () => -0,
      ];
      const ofPower = menu(k - 10), ofBelow = menu(k - 11);
      const data = concat(
        { x: blockWithTop(r, power, ofPower), y: blockWithTop(r, below, ofBelow) },
        { x: blockWithTop(r, below, ofBelow), y: blockWithTop(r, power, ofPower) },
      );
      await exercise(bytes, data, `block max 2^${k} or one ulp below`);
    }
  });

  test(`block kernel (${label}): boundaries, constant x, 21-bit anchors, spreads near 2^-11, crossing 2^k`, async () => {
    const r = new Rng(7n);
    // Constant x (spread 0): degenerate alone, exact with a second constant block.
    const constant = build(BLOCK, () => 1.7e9 + 0.37, () => 8.5e8 + r.next());
    const t = await Twin.load(bytes);
    t.add(constant);
    t.check("one block of constant x");
    assert.equal(t.core.fit().degenerate, true);
    t.add(build(BLOCK + 1, () => 1.7e9 + 1.37, () => 8.5e8 - r.next()));
    t.check("two blocks of constant x");
    assert.equal(t.core.fit().degenerate, false);
    // Values equal to their 21-bit anchor, alone and in the middle of a symmetric spread.
    const v0 = 1234567 * 2 ** 8, w0 = -1234567 * 2 ** -30;
    await exercise(bytes, build(2 * BLOCK, () => v0, () => w0), "x and y equal to a 21-bit anchor");
    const d = [-(2 ** -10), 0, 2 ** -10];
    await exercise(
      bytes,
      build(2 * BLOCK, (i) => v0 + d[i % 3], (i) => w0 + d[(i + 1) % 3] * 2 ** -38),
      "±d around it",
    );
    // One or three ulps of spread.
    await exercise(
      bytes,
      build(BLOCK, (i) => 1.7e9 + (i % 4) * 2 ** -22, (i) => 1 + (i % 3) * 2 ** -52),
      "ulp spreads",
    );
    // Spreads of f·2^-11 relative around centres, some crossing a power of two or the lowest anchor 2^-300.
    const cx = [3, 1.7e9, -1e12, 2 ** 30, 2 ** -300, -(2 ** -300) * (1 + 2 ** -13)];
    const cy = [8.5e8, -1, 2 ** 20, 1e-9];
    const fs = [0.25, 0.49, 0.5, 0.51, 0.99, 1, 1.01, 2];
    const parts: Points[] = [];
    for (let j = 0; j < 24; j++) {
      parts.push({
        x: spreadBlock(r, cx[j % cx.length], fs[j % fs.length]),
        y: spreadBlock(r, cy[j % 4], fs[(j + 3) % 8]),
      });
    }
    const data = concat(...parts);
    for (let at = 0; at < data.x.length; at += CALL) {
      await exercise(bytes, slice(data, at, at + CALL), "spreads near 2^-11");
    }
    // Straddling a power of two, and all on one side of it.
    await exercise(
      bytes,
      build(BLOCK, () => 2 ** 30 + (r.next() - 0.5) * 100, () => -(2 ** 20) + (r.next() - 0.5) * 1e-3),
      "±2^k",
    );
    await exercise(
      bytes,
      build(BLOCK, () => 2 ** 30 + r.next() * 100, () => 2 ** 30 - r.next() * 100),
      "2^k, one side",
    );
  });

  test(`block kernel (${label}): boundaries, extremes near 2^440, anchors near 2^-300, values at 2^-440`, async () => {
    const r = new Rng(8n);
    await exercise(bytes, shapes.nearMax(r, 3000), "2^439·(1 + ε)");
    // 2^440 itself and the double below it are accepted (plain top 2^441); the double above is refused.
    const huge = [2 ** 440, -(2 ** 440), 2 ** 440 * (1 - 2 ** -53), 2 ** 439 * (1 + 2 ** -52), 1, 2 ** -440];
    const top = build(2 * BLOCK, () => r.pick(huge), () => r.sign() * r.full(400 + r.int(40)));
    await exercise(bytes, top, "±2^440 and below");
    top.x[BLOCK + 7] = 2 ** 440 * (1 + 2 ** -52);
    await exercise(bytes, top, "one value above 2^440 makes its block scalar");
    // Anchors at 2^-300, just below (plain) and crossing it.
    await exercise(bytes, shapes.nearMinAnchor(r, 3000), "at and below 2^-300");
    const cross = build(BLOCK, () => 2 ** -300 * (1 + (r.next() - 0.5) * 2 ** -14), () => 2 ** -300);
    await exercise(bytes, cross, "crossing 2^-300");
    // One-signed, tightly spread values too small to anchor (plain, top clamped at 2^-377): near 2^-420,
    // just above 2^-440 (accepted), and below it (refused, although a cut might take them).
    for (const c of [2 ** -420, -(2 ** -439), 2 ** -440, -(2 ** -441), 1e-200, -5e-324]) {
      const oneSigned = build(BLOCK, () => c * (1 + r.next() * 2 ** -20), () => r.next());
      await exercise(bytes, oneSigned, `one-signed values near ${c}`);
    }
    // Tiny plain blocks of mixed sign; values at exactly ±2^-440, or refused just below it.
    await exercise(bytes, shapes.tinyPlain(r, 3000), "tiny plain values");
    const least = [2 ** -440, -(2 ** -440), 2 ** -440 * (1 - 2 ** -53), 2 ** -441, 3 * 2 ** -440, 0];
    await exercise(bytes, build(2 * BLOCK, () => r.pick(least), () => r.pick(least)), "values at 2^-440");
    const mixed = [2 ** -440, -(2 ** -440), 2 ** 440, 1.5];
    await exercise(bytes, build(2 * BLOCK, () => r.pick(mixed), () => r.pick(mixed)), "2^-440 with 2^440");
  });

  test(`block kernel (${label}): lengths 1 to 10000, in one call, random slices or point by point, give one state`, async () => {
    const r = new Rng(9n);
    for (const n of LENGTHS) {
      for (const [name, data] of [["epoch", shapes.epoch(r, n)], ["mixture", mixture(r, n)]] as const) {
        const whole = await Twin.load(bytes);
        whole.add(data);
        whole.check(`${name} of ${n} points in one call`);
        const expected = whole.core.snapshot();
        const sliced = await RegressionCore.load(bytes);
        for (let at = 0; at < n;) {
          const len = 1 + r.int(r.pick([3, 100, 1500, 5000]));
          sliced.add(data.x.subarray(at, at + len), data.y.subarray(at, at + len));
          at += len;
        }
        assert.deepEqual(sliced.snapshot(), expected, `${name} of ${n} points in random slices`);
        assert.deepEqual(sliced.fit(), whole.core.fit());
        for (const s of STATISTICS) assert.equal(sliced.sum(s), whole.core.sum(s));
        // One point per call: each is the odd last point of its block, so the scalar path takes all.
        const single = await RegressionCore.load(bytes);
        for (let i = 0; i < n; i++) single.add(data.x.subarray(i, i + 1), data.y.subarray(i, i + 1));
        assert.deepEqual(single.snapshot(), expected, `${name} of ${n} points one by one`);
      }
    }
  });

  test(`block kernel (${label}): retract() of a subset leaves exactly the state of the rest`, async () => {
    const r = new Rng(10n);
    for (const data of [mixture(r, 6000), shapes.epoch(r, 6000), shapes.fullMantissa(r, 6000)]) {
      const n = data.x.length;
      const gone: number[] = [], kept: number[] = [];
      for (let i = 0; i < n; i++) (r.next() < 0.4 ? gone : kept).push(i);
      r.shuffle(gone);
      const all = await Twin.load(bytes);
      all.add(data);
      const retracted = select(data, gone);
      for (let at = 0; at < gone.length;) {
        const len = 1 + r.int(2000);
        all.retract(slice(retracted, at, at + len));
        at += len;
      }
      all.check("all added, a shuffled subset retracted in slices");
      const rest = await RegressionCore.load(bytes);
      rest.add(select(data, kept).x, select(data, kept).y);
      assert.deepEqual(
        withoutRefused(all.core.snapshot()),
        withoutRefused(rest.snapshot()),
        "the state of the rest",
      );
      // The same in one update(): all with weight +1, the subset with -1, interleaved.
      const order = r.shuffle([...Array(n).keys(), ...gone.map((i) => n + i)]);
      const both = concat(data, data);
      const viaUpdate = await Twin.load(bytes);
      viaUpdate.update(select(both, order), f64(order.map((i) => (i < n ? 1 : -1))));
      viaUpdate.check("update() adding all and retracting the subset");
      assert.deepEqual(
        withoutRefused(viaUpdate.core.snapshot()),
        withoutRefused(rest.snapshot()),
        "update(): the state of the rest",
      );
      // Retracting everything leaves the empty state.
      all.retract(select(data, kept));
      all.check("everything retracted");
      assert.deepEqual(
        withoutRefused(all.core.snapshot()),
        withoutRefused((await RegressionCore.load(bytes)).snapshot()),
      );
      assert.deepEqual(all.core.fit(), { a: 0, b: 0, degenerate: true, count: 0 });
    }
  });

  test(`block kernel (${label}): update() with ±1 weights and invalid ones (0, 0.5, 2, NaN) in fast blocks`, async () => {
    const r = new Rng(11n);
    for (const name of ["epoch", "prices", "wide", "anchoredX", "integers", "fullMantissa"]) {
      const data = shapes[name](r, 5000);
      const w = weights(r, data.x.length);
      // Invalid weights at known even and odd positions of anchored and plain blocks too.
      [0, 0.5, 2, NaN, -0, 1 + 2 ** -52].forEach((bad, k) => {
        w[2 * k] = bad;
        w[BLOCK + 2 * k + 1] = bad;
      });
      const t = await Twin.load(bytes);
      t.update(data, w);
      t.check(`${name}: update()`);
      assert.deepEqual(
        t.core.fit(),
        { ...exactFit(data.x, data.y, w.map((wi) => (wi === 1 || wi === -1 ? wi : 0))), count: t.core.count },
        `${name}: the weighted least-squares line`,
      );
      t.add(data);
      t.check(`${name}: then add()`);
      t.update(data, w.map((wi) => -wi));
      t.check(`${name}: then update() with the weights negated`);
    }
  });

  test(
    `block kernel (${label}): seeded fuzz, 300 calls of mixed shapes and ops, checked after each`,
    async () => {
      const r = new Rng(12n);
      const t = await Twin.load(bytes);
      const added: Points[] = [];
      const lengths =
        () => [1, 2, 3, 1 + r.int(20), 1 + r.int(200), BLOCK - 1, BLOCK, BLOCK + 1, 1 + r.int(1100)];
      let total = 0;
      for (let call = 0; call < 300; call++) {
        // Up to 90 000 points in all (the BigInt reference is slow), then short calls only.
        let len = r.next() < 0.04 ? CALL + 1 + r.int(2000) : r.pick(lengths());
        if (total > 90_000) len = 1 + r.int(50);
        const op = r.pick(["add", "add", "retract", "update", "update"]);
        let data: Points;
        if (op === "retract" && added.length > 0 && r.next() < 0.7) {
          const from = r.pick(added);
          const at = r.int(from.x.length);
          data = slice(from, at, at + len);
        } else data = r.next() < 0.5 ? mixture(r, len) : shapes[r.pick(SHAPE_NAMES)](r, len);
        total += data.x.length;
        if (op === "add") {
          t.add(data);
          added.push(data);
        } else if (op === "retract") t.retract(data);
        else t.update(data, weights(r, data.x.length, r.pick([0, 0.01, 0.2])));
        t.check(`fuzz call ${call}: ${op}() of ${data.x.length} points`);
        if (call % 50 === 49) {
          // Carry on in a fresh core restored from the snapshot.
          const fresh = await RegressionCore.load(bytes);
          fresh.restore(t.core.snapshot());
          t.core = fresh;
          t.check(`fuzz call ${call}: after restore()`);
        }
      }
    },
    { timeoutMs: 60_000 },
  );

  test(`block kernel (${label}): 1.2 million calls of one pair with no fold between them stay exact`, async () => {
    // Each call is one block of one pair, taken by the cut, whose ~30 sums go straight into the fixed-point
    // digits with their carries deferred: far more than the 2^24 such terms after which the kernel settles
    // them, and no sum(), fit() or snapshot() in between to fold them earlier.
    const calls = 1_200_000;
    const pairs = [
      build(2, (i) => 1.7e9 + [0.123456789, 1234.5678912345][i], (i) => 8.5e8 + [Math.PI, -Math.E][i]), // anchored
      build(2, (i) => [-1.2345678901234567, 987.6543210987654][i], (i) => [Math.PI, -Math.E * 1e-3][i]), // plain
    ];
    const t = await Twin.load(bytes);
    for (const p of pairs) {
      for (let k = 0; k < calls; k++) t.core.add(p.x, p.y);
      t.ref.add(p.x[0], p.y[0], calls).add(p.x[1], p.y[1], calls);
      t.check(`${calls} calls of the pair (${p.x[0]}, ${p.y[0]}), (${p.x[1]}, ${p.y[1]})`);
    }
  });
}

test("fast-math guard (release): the block kernel's cuts keep their pieces", async () => {
  // If (v + C) - C were folded to v, the first piece would be the whole value, and its square or product
  // with the other coordinate would be rounded. Each point (x, y) comes with its neighbour (x⁺, y⁺), one
  // double up in each coordinate, retracted by update(): the exact Σx², Σxy, Σy² are then small next to
  // the products, so their rounding errors would show in the rounded sums too, not only in the state.
  const r = new Rng(13n);
  const withNeighbours = (fx: () => number, fy: () => number) => {
    const p = build(BLOCK, (i) => i % 2 === 0 ? fx() : NaN, (i) => i % 2 === 0 ? fy() : NaN);
    for (let i = 1; i < BLOCK; i += 2) [p.x[i], p.y[i]] = [neighbour(p.x[i - 1]), neighbour(p.y[i - 1])];
    return p;
  };
  const anchored = withNeighbours(() => 1 + r.next() * 2 ** -12, () => 1.7e9 + r.next() * 1000);
  const plain = withNeighbours(() => r.full(-1), () => r.sign() * r.full(30));
  const w = Float64Array.from({ length: BLOCK }, (_, i) => i % 2 === 0 ? 1 : -1);
  for (const [name, data] of [["anchored", anchored], ["plain", plain]] as const) {
    const t = await Twin.load(release);
    t.update(data, w);
    t.check(`${name}: full 53-bit values less their neighbours`);
    const want = exactSums(data.x, data.y, w);
    for (const s of STATISTICS) {
      assert.equal(t.core.sum(s), want[s], `${name}: sum("${s}") against exactSums`);
    }
    t.add(data);
    t.check(`${name}: the same values added`);
  }
});
