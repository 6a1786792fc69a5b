// The block kernel: exact sums of a block of points with plain double additions, two points at a time.
//
// Each coordinate v of a block (x, and y the same way with its own settings) is first moved by a block
// constant v0 and then cut at fixed binary places, v - v0 = p0 + p1 [+ p2], where p_i is a multiple of
// q_i = 2^(t-21(i+1)) and 2^t is a power of two above every |v - v0| the cut takes. Round-to-nearest cuts
// leave |p0| ≤ 2^21·q0 and |p1|, |p2| ≤ 2^20 of their quanta. Two ways to choose v0, t and the pieces:
//   - plain (v0 = 0, three pieces): 2^t above the block's largest |v|; v is taken when it is a multiple of
//     q2, that is any v within 2^10 of the block's largest |v| (or 0), or with few significant bits.
//     When the largest |v| is an outlier (far above a sample of the block) or ±Inf, t comes from the
//     sample instead (clipped) and the values above the limit, below 2^t, go to the scalar path;
//   - anchored (two pieces): when the block's values all lie within about 2^-11 of each other relative
//     to their size (timestamps, prices), v0 is their middle cut to 21 significant bits and 2^t bounds
//     |v - v0|; every v is then taken (v - v0 is exact by Sterbenz's lemma and a multiple of q1).
// Then:
//   - a piece product p_i·r_j of x and y pieces is an integer of at most 42 bits times q_i·q_j: exact;
//   - products of one level L = i + j share one quantum, and one point adds at most 2^42 + 2^40 of it
//     to a level, so BLOCK = 1024 points sum to below 2^53 quanta: exact in plain double additions too.
// So the sums of v - v0 and of the piece products (up to five levels per product) are exact with no
// rounding, in f64x2 registers. Once per block they are moved into the fixed-point accumulators
// (exact_sum.ts addExact) together with the anchor terms: for w·x·y, say,
//   Σ w·x·y = x0·y0·Σw + x0·Σ w·(y - y0) + y0·Σ w·(x - x0) + Σ w·(x - x0)·(y - y0),
// each product done exactly. A pair holding a point that a cut cannot take exactly (NaN, a value too
// small for the pieces, or above a clipped cut's limit) or with a weight other than ±1 goes to the
// scalar path (scalar_path.ts), which is exact for every accepted point and refuses the others. Both
// paths end in the same exact sums, so the path a point takes changes no bit of any result; a block of
// NaN only, or holding ±Inf or a value above 2^440 with zeros at every sampled place, goes through the
// scalar path whole.
//
// Binaryen's fast-math must not fold (v + C) - C into v: the tests on the release build check it.

import { addExact, addProduct, settleExact } from "./exact_sum";
import { inW, inX, inY, MAX_BITS } from "./input_buffer";
import { countPoints, ingestOne } from "./scalar_path";

/** Points per block: the most that keeps every level sum below 2^53 of its quantum. */
export const BLOCK: i32 = 1024;

const ZERO_V = f64x2.splat(0);
const ONE_V = f64x2.splat(1.0);
const MINUS_ONE_V = f64x2.splat(-1.0);
const INF_V = f64x2.splat(Infinity);
const MINUS_INF_V = f64x2.splat(-Infinity);
const MAX_ACCEPTED: f64 = reinterpret<f64>(MAX_BITS);
// The lowest plain t: keeps q2 ≥ 2^-440, so a value the cut takes is 0 or at least the smallest accepted.
const MIN_TOP: i32 = -377;
// x0, y0, CX0, CX1, CX2, CY0, CY1, CY2, limit x, limit y of the current block, as f64x2.
const constants: usize = memory.data(10 * 16, 16);
// The lowest anchor exponent: keeps every quantum and product of quanta a normal double.
const MIN_ANCHOR: i32 = -300;

/** 2^k for -1022 ≤ k ≤ 1023. */
// @ts-ignore: decorator
@inline function pow2(k: i32): f64 {
  return reinterpret<f64>(<u64>(k + 1023) << 52);
}

/** Unbiased exponent of a positive normal double: 2^e ≤ v < 2^(e+1). */
// @ts-ignore: decorator
@inline function exponentOf(v: f64): i32 {
  return <i32>(reinterpret<u64>(v) >> 52) - 1023;
}

// One coordinate's cut for the current block: anchor v0 (0 when plain), top t, the largest |v| a plain
// cut takes (below 2^t), and whether it is anchored.
let anchorX: f64 = 0, topX: i32 = 0, limitX: f64 = 0, anchoredX: bool = false;
let anchorY: f64 = 0, topY: i32 = 0, limitY: f64 = 0, anchoredY: bool = false;

// A plain cut whose top comes from the block's largest |v| leaves the values more than 2^10 below it to
// the scalar path. When the largest is more than 2^CLIP_GAP above the largest of a sample, it is taken
// for an outlier: the top comes from the sample instead (2^CLIP_ROOM above it) and the values above the
// limit go to the scalar path, one pair each, instead of every small value of the block.
const CLIP_GAP: i32 = 8;
const CLIP_ROOM: i32 = 2;
/** Values sampled per coordinate and block to find outliers. */
const SAMPLES: i32 = 16;

/**
 * Chooses the cut of one coordinate from the block's least and greatest values and the largest
 * accepted-looking |v| of a sample (NaN ignored); anchored only when `anchor` allows it. Returns false when no cut can take any value (only NaN,
 * or ±Inf or a magnitude above 2^440 with no sampled value to go by): then the scalar path takes the
 * block. Sets planAnchor, planTop, planLimit, planAnchored and planClipped.
 */
let planAnchor: f64 = 0, planTop: i32 = 0, planLimit: f64 = 0, planAnchored: bool = false;
let planClipped: bool = false;
function plan(lo: f64, hi: f64, sampled: f64, anchor: bool): bool {
  if (!(lo <= hi)) return false; // only NaN
  const bounded = lo >= -MAX_ACCEPTED && hi <= MAX_ACCEPTED;
  planClipped = false;
  if (anchor && bounded && (lo > 0 || hi < 0)) {
    // All of one sign: try the anchor, the middle with its significand cut to 21 bits.
    const mid = 0.5 * lo + 0.5 * hi;
    const v0 = reinterpret<f64>(reinterpret<u64>(mid) & 0xffff_ffff_0000_0000);
    const e0 = exponentOf(abs(v0));
    // |v - v0| < 2^t for every v of the block: fl(hi - v0) < 2^t implies hi - v0 < 2^t, as 2^t is a
    // double, and the same for v0 - lo. A larger t is as good; t ≥ e0 - 60 keeps the quanta normal.
    const spread = max(hi - v0, v0 - lo);
    const t = max(spread == 0 ? e0 - 11 : exponentOf(spread) + 1, e0 - 60);
    // Then |v - v0| < |v0|/2^11, so v - v0 is exact (Sterbenz) and, as v and v0 are multiples of
    // 2^(e0-53), a multiple of q1 = 2^(t-42): every v is taken.
    if (e0 >= MIN_ANCHOR && t <= e0 - 11) {
      planAnchor = v0;
      planTop = t;
      planLimit = 0; // unused: every v of the block is within 2^t of v0
      planAnchored = true;
      return true;
    }
  }
  const m = max(abs(lo), abs(hi)); // +Inf when not bounded
  let t: i32;
  if (sampled > 0 && (!bounded || exponentOf(m) - exponentOf(sampled) > CLIP_GAP)) {
    t = exponentOf(sampled) + 1 + CLIP_ROOM;
    planClipped = true;
  } else if (bounded) {
    t = m == 0 ? MIN_TOP : exponentOf(m) + 1;
  } else {
    return false;
  }
  t = max(t, MIN_TOP);
  planAnchor = 0;
  planTop = t;
  // The largest double below 2^t, and never above the largest accepted magnitude.
  planLimit = min(pow2(t) - pow2(t - 53), MAX_ACCEPTED);
  planAnchored = false;
  return true;
}

/** The largest |v| ≤ 2^440 (NaN, ±Inf and larger ignored) among SAMPLES values of [start, end) of v[]. */
function sampleMax(v: usize, start: i32, end: i32): f64 {
  let m: f64 = 0;
  const n = end - start;
  for (let k = 0; k < SAMPLES; k++) {
    const a = abs(load<f64>(v + (<usize>(start + (k * n) / SAMPLES) << 3)));
    if (a > m && a <= MAX_ACCEPTED) m = a;
  }
  return m;
}

/** Both lanes of an accumulator added (exact: each level sum of the whole block is below 2^53 quanta). */
// @ts-ignore: decorator
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * The pair loop for one combination of cuts (ax: x anchored, ay: y anchored; clipped: both plain, with
 * their limits checked), inlined once per combination in each export, so that each is specialised.
 * Moves its sums into the accumulators.
 */
// @ts-ignore: decorator
@inline function cutLoop(
  start: i32,
  pairsEnd: i32,
  sign: f64,
  weighted: bool,
  ax: bool,
  ay: bool,
  clipped: bool,
): void {
  const signed = weighted || sign != 1.0;
  const signV = f64x2.splat(sign);
  // The block's constants go through memory and are loaded where used: a load is one operand, whereas
  // TurboFan would recompute them inside the loop, and they would take registers the sums need.
  const tx = topX, ty = topY;
  v128.store(constants, f64x2.splat(anchorX));
  v128.store(constants, f64x2.splat(anchorY), 16);
  // (v + C) - C rounds v to a multiple of ulp(C): C = 1.5·2^(q + 52) rounds to a multiple of 2^q.
  v128.store(constants, f64x2.splat(1.5 * pow2(tx + 31)), 32);
  v128.store(constants, f64x2.splat(1.5 * pow2(tx + 10)), 48);
  v128.store(constants, f64x2.splat(ax ? 0 : 1.5 * pow2(tx - 11)), 64);
  v128.store(constants, f64x2.splat(1.5 * pow2(ty + 31)), 80);
  v128.store(constants, f64x2.splat(1.5 * pow2(ty + 10)), 96);
  v128.store(constants, f64x2.splat(ay ? 0 : 1.5 * pow2(ty - 11)), 112);
  v128.store(constants, f64x2.splat(limitX), 128);
  v128.store(constants, f64x2.splat(limitY), 144);

  let sx0 = ZERO_V, sx1 = ZERO_V, sy0 = ZERO_V, sy1 = ZERO_V, net = ZERO_V;
  let taken = 0; // points taken, when they all have weight `sign`
  let xx0 = ZERO_V, xx1 = ZERO_V, xx2 = ZERO_V, xx3 = ZERO_V, xx4 = ZERO_V;
  let xy0 = ZERO_V, xy1 = ZERO_V, xy2 = ZERO_V, xy3 = ZERO_V, xy4 = ZERO_V;
  let yy0 = ZERO_V, yy1 = ZERO_V, yy2 = ZERO_V, yy3 = ZERO_V, yy4 = ZERO_V;

  for (let i = start; i < pairsEnd; i += 2) {
    const off = <usize>i << 3;
    const X = v128.load(inX + off);
    const Y = v128.load(inY + off);
    const W = weighted ? v128.load(inW + off) : signV;
    const X0 = v128.load(constants), Y0 = v128.load(constants, 16);
    const CX0 = v128.load(constants, 32), CX1 = v128.load(constants, 48), CX2 = v128.load(constants, 64);
    const CY0 = v128.load(constants, 80), CY1 = v128.load(constants, 96), CY2 = v128.load(constants, 112);
    // x - x0 = a0 + a1 (+ a2), exactly when ok says so.
    const dx = ax ? f64x2.sub(X, X0) : X;
    const a0 = f64x2.sub(f64x2.add(dx, CX0), CX0);
    const rx = f64x2.sub(dx, a0);
    let a1 = rx, a2 = ZERO_V, okx: v128;
    if (ax) {
      okx = f64x2.eq(f64x2.sub(f64x2.add(rx, CX1), CX1), rx);
    } else {
      a1 = f64x2.sub(f64x2.add(rx, CX1), CX1);
      a2 = f64x2.sub(rx, a1);
      // a2 is a multiple of q2, and |x| ≤ the limit (so below 2^tx, and neither NaN nor ±Inf).
      okx = f64x2.eq(f64x2.sub(f64x2.add(a2, CX2), CX2), a2); // a2 is a multiple of q2
      // A clipped cut also needs |x| ≤ its limit (below 2^tx, and neither NaN nor ±Inf).
      if (clipped) okx = v128.and(okx, f64x2.le(f64x2.abs(X), v128.load(constants, 128)));
    }
    const dy = ay ? f64x2.sub(Y, Y0) : Y;
    const b0 = f64x2.sub(f64x2.add(dy, CY0), CY0);
    const ry = f64x2.sub(dy, b0);
    let b1 = ry, b2 = ZERO_V, oky: v128;
    if (ay) {
      oky = f64x2.eq(f64x2.sub(f64x2.add(ry, CY1), CY1), ry);
    } else {
      b1 = f64x2.sub(f64x2.add(ry, CY1), CY1);
      b2 = f64x2.sub(ry, b1);
      oky = f64x2.eq(f64x2.sub(f64x2.add(b2, CY2), CY2), b2);
      if (clipped) oky = v128.and(oky, f64x2.le(f64x2.abs(Y), v128.load(constants, 144)));
    }
    let ok = v128.and(okx, oky);
    if (weighted) ok = v128.and(ok, v128.or(f64x2.eq(W, ONE_V), f64x2.eq(W, MINUS_ONE_V)));
    if (i64x2.bitmask(ok) != 3) {
      ingestOne(load<f64>(inX + off), load<f64>(inY + off), weighted ? load<f64>(inW + off) : sign);
      ingestOne(load<f64>(inX + off + 8), load<f64>(inY + off + 8), weighted ? load<f64>(inW + off + 8) : sign);
      continue;
    }
    if (weighted) net = f64x2.add(net, W);
    else taken += 2;
    // w·a_i, w·b_i: negation is exact and the cuts are symmetric.
    const wa0 = signed ? f64x2.mul(a0, W) : a0;
    const wa1 = signed ? f64x2.mul(a1, W) : a1;
    const wb0 = signed ? f64x2.mul(b0, W) : b0;
    const wb1 = signed ? f64x2.mul(b1, W) : b1;
    sx0 = f64x2.add(sx0, wa0);
    sx1 = f64x2.add(sx1, signed ? f64x2.mul(rx, W) : rx);
    sy0 = f64x2.add(sy0, wb0);
    sy1 = f64x2.add(sy1, signed ? f64x2.mul(ry, W) : ry);
    const da0 = f64x2.add(wa0, wa0), db0 = f64x2.add(wb0, wb0);
    // Σ w·(x - x0)²: level L collects a_i·a_j with i + j = L.
    xx0 = f64x2.add(xx0, f64x2.mul(wa0, a0));
    xx1 = f64x2.add(xx1, f64x2.mul(da0, a1));
    xx2 = f64x2.add(xx2, f64x2.mul(wa1, a1));
    // Σ w·(x - x0)·(y - y0)
    xy0 = f64x2.add(xy0, f64x2.mul(wa0, b0));
    xy1 = f64x2.add(f64x2.add(xy1, f64x2.mul(wa0, b1)), f64x2.mul(wa1, b0));
    xy2 = f64x2.add(xy2, f64x2.mul(wa1, b1));
    // Σ w·(y - y0)²
    yy0 = f64x2.add(yy0, f64x2.mul(wb0, b0));
    yy1 = f64x2.add(yy1, f64x2.mul(db0, b1));
    yy2 = f64x2.add(yy2, f64x2.mul(wb1, b1));
    if (!ax) {
      const wa2 = signed ? f64x2.mul(a2, W) : a2;
      xx2 = f64x2.add(xx2, f64x2.mul(da0, a2));
      xx3 = f64x2.add(xx3, f64x2.mul(f64x2.add(wa1, wa1), a2));
      xx4 = f64x2.add(xx4, f64x2.mul(wa2, a2));
      xy2 = f64x2.add(xy2, f64x2.mul(wa2, b0));
      xy3 = f64x2.add(xy3, f64x2.mul(wa2, b1));
      if (!ay) xy4 = f64x2.add(xy4, f64x2.mul(wa2, b2));
    }
    if (!ay) {
      const wb2 = signed ? f64x2.mul(b2, W) : b2;
      yy2 = f64x2.add(yy2, f64x2.mul(db0, b2));
      yy3 = f64x2.add(yy3, f64x2.mul(f64x2.add(wb1, wb1), b2));
      yy4 = f64x2.add(yy4, f64x2.mul(wb2, b2));
      xy2 = f64x2.add(xy2, f64x2.mul(wa0, b2));
      xy3 = f64x2.add(xy3, f64x2.mul(wa1, b2));
    }
  }

  // Into the accumulators. Statistics: 0 Σwx, 1 Σwy, 2 Σwx², 3 Σwxy, 4 Σwy².
  const n = weighted ? lanes(net) : sign * <f64>taken;
  countPoints(<i64>n);
  const x0 = anchorX, y0 = anchorY;
  const sxa = lanes(sx0), sxb = lanes(sx1), sya = lanes(sy0), syb = lanes(sy1);
  addExact(0, sxa); addExact(0, sxb);
  addExact(1, sya); addExact(1, syb);
  addExact(2, lanes(xx0)); addExact(2, lanes(xx1)); addExact(2, lanes(xx2));
  addExact(3, lanes(xy0)); addExact(3, lanes(xy1)); addExact(3, lanes(xy2));
  addExact(4, lanes(yy0)); addExact(4, lanes(yy1)); addExact(4, lanes(yy2));
  if (!ax) { addExact(2, lanes(xx3)); addExact(2, lanes(xx4)); addExact(3, lanes(xy3)); }
  if (!ay) { addExact(4, lanes(yy3)); addExact(4, lanes(yy4)); if (ax) addExact(3, lanes(xy3)); }
  if (!ax && !ay) addExact(3, lanes(xy4));
  // Anchor terms. x0, y0 have at most 21 significant bits and |n| ≤ 1024, so x0·n, x0·x0·n, x0·y0·n and
  // x0·sxa (sxa: at most 31 bits) are exact doubles; products with the 53-bit sums go through addProduct.
  if (ax) {
    addExact(0, x0 * n);
    addExact(2, x0 * x0 * n);
    addExact(2, 2 * x0 * sxa);
    addProduct(2, 2 * x0, sxb);
    addExact(3, x0 * sya);
    addProduct(3, x0, syb);
  }
  if (ay) {
    addExact(1, y0 * n);
    addExact(4, y0 * y0 * n);
    addExact(4, 2 * y0 * sya);
    addProduct(4, 2 * y0, syb);
    addExact(3, y0 * sxa);
    addProduct(3, y0, sxb);
  }
  if (ax && ay) addExact(3, x0 * y0 * n);
  settleExact();
}

/**
 * Adds points [start, end) of the input buffer (at most BLOCK of them) with weight `sign`, or with the
 * weights w[i] when `weighted`. Inlined, so that the loops are specialised for their constant arguments.
 */
// @ts-ignore: decorator
@inline export function ingestBlock(start: i32, end: i32, sign: f64, weighted: bool): void {
  const pairsEnd = start + ((end - start) & ~1);
  // Pass 1: each coordinate's least and greatest value (pmin/pmax keep the accumulator on NaN).
  let loX = INF_V, hiX = MINUS_INF_V, loY = INF_V, hiY = MINUS_INF_V;
  for (let i = start; i < pairsEnd; i += 2) {
    const off = <usize>i << 3;
    const X = v128.load(inX + off);
    const Y = v128.load(inY + off);
    loX = f64x2.pmin(loX, X);
    hiX = f64x2.pmax(hiX, X);
    loY = f64x2.pmin(loY, Y);
    hiY = f64x2.pmax(hiY, Y);
  }
  const lx = min(f64x2.extract_lane(loX, 0), f64x2.extract_lane(loX, 1));
  const hx = max(f64x2.extract_lane(hiX, 0), f64x2.extract_lane(hiX, 1));
  const ly = min(f64x2.extract_lane(loY, 0), f64x2.extract_lane(loY, 1));
  const hy = max(f64x2.extract_lane(hiY, 0), f64x2.extract_lane(hiY, 1));
  const sx = sampleMax(inX, start, pairsEnd), sy = sampleMax(inY, start, pairsEnd);
  let cut = plan(lx, hx, sx, true);
  anchorX = planAnchor; topX = planTop; limitX = planLimit; anchoredX = planAnchored;
  let clipped = planClipped;
  cut = cut && plan(ly, hy, sy, true);
  anchorY = planAnchor; topY = planTop; limitY = planLimit; anchoredY = planAnchored;
  clipped = clipped || planClipped;
  // A clipped cut has its own loop, plain in both coordinates: re-plan an anchored one as plain.
  if (cut && clipped && anchoredX) {
    plan(lx, hx, sx, false);
    anchorX = planAnchor; topX = planTop; limitX = planLimit; anchoredX = false;
  }
  if (cut && clipped && anchoredY) {
    plan(ly, hy, sy, false);
    anchorY = planAnchor; topY = planTop; limitY = planLimit; anchoredY = false;
  }

  // Pass 2: cut, multiply, add; or the scalar path for the whole block.
  if (!cut) {
    for (let i = start; i < pairsEnd; i++) {
      const off = <usize>i << 3;
      ingestOne(load<f64>(inX + off), load<f64>(inY + off), weighted ? load<f64>(inW + off) : sign);
    }
  } else if (clipped) {
    cutLoop(start, pairsEnd, sign, weighted, false, false, true);
  } else if (anchoredX) {
    if (anchoredY) cutLoop(start, pairsEnd, sign, weighted, true, true, false);
    else cutLoop(start, pairsEnd, sign, weighted, true, false, false);
  } else {
    if (anchoredY) cutLoop(start, pairsEnd, sign, weighted, false, true, false);
    else cutLoop(start, pairsEnd, sign, weighted, false, false, false);
  }
  if (pairsEnd < end) {
    const off = <usize>pairsEnd << 3;
    ingestOne(load<f64>(inX + off), load<f64>(inY + off), weighted ? load<f64>(inW + off) : sign);
  }
}
