// The scalar path: one point at a time, for any accepted input. Each product is split exactly in two
// doubles (Dekker, since WASM has no fused multiply-add) and every term goes to its statistic's slot table
// (exact_sum.ts). The block kernel (split_block.ts) sends here the points it cannot take: the odd point at
// the end of a block, and pairs holding a refused point or a value too small for the block's pieces.
//
// Also keeps the net point count and the refused count, which both paths update.

import { addTerm, addTermPair, reserve, reserveFolds, widenRange } from "./exact_sum";
import { acceptable, inW, inX, inY, MAX_BITS, MIN_BITS } from "./input_buffer";
import { productError, SPLIT } from "./two_product";

let netCount: i64 = 0;
let refusedCount: i64 = 0;

/** Net number of points: added minus retracted. */
export function netPoints(): i64 {
  return netCount;
}

/** Points refused since the last reset. */
export function refusedPoints(): i64 {
  return refusedCount;
}

/** Adds d (±) to the net count: the block kernel's accepted points. */
export function countPoints(d: i64): void {
  netCount += d;
}

/** Replaces both counts (reset, load_state). */
export function setCounts(net: i64, refused: i64): void {
  netCount = net;
  refusedCount = refused;
}

// Extremes of the non-zero |x| and |y| taken since the last recordRanges(): they bound the exponents of
// every term this path wrote, so a fold scans only slots that can be non-zero.
let minX: f64 = Infinity, maxX: f64 = 0, minY: f64 = Infinity, maxY: f64 = 0;

/** Makes room in the slot tables for k more points (each adds at most one term to a slot). */
function room(k: i32): void {
  if (reserveFolds(k)) recordRanges(); // the fold must see the ranges of the terms already written
  reserve(k);
}

/** Adds the point (x, y) with weight w (±1) exactly; refuses it (and counts that) when x, y or w is not accepted. */
export function ingestOne(x: f64, y: f64, w: f64): bool {
  if (!(acceptable(x) && acceptable(y) && (w == 1.0 || w == -1.0))) {
    refusedCount++;
    return false;
  }
  room(1);
  const ax = abs(x), ay = abs(y);
  if (ax != 0) { minX = min(minX, ax); maxX = max(maxX, ax); }
  if (ay != 0) { minY = min(minY, ay); maxY = max(maxY, ay); }
  // w·x·x = pxx + exx, w·x·y = pxy + exy, w·y·y = pyy + eyy, all exactly (w = ±1, so x·w is exact).
  const xw = x * w, yw = y * w;
  const pxx = xw * x;
  const exx = productError(xw, x, pxx);
  const pxy = xw * y;
  const exy = productError(xw, y, pxy);
  const pyy = yw * y;
  const eyy = productError(yw, y, pyy);
  addTerm(0, xw);
  addTerm(1, yw);
  addTerm(2, pxx);
  addTerm(2, exx);
  addTerm(3, pxy);
  addTerm(3, exy);
  addTerm(4, pyy);
  addTerm(4, eyy);
  netCount += <i64>w;
  return true;
}

const MIN_V = f64x2.splat(reinterpret<f64>(MIN_BITS));
const MAX_V = f64x2.splat(reinterpret<f64>(MAX_BITS));
const ZERO_V = f64x2.splat(0);
const ONE_V = f64x2.splat(1.0);
const MINUS_ONE_V = f64x2.splat(-1.0);
const SPLIT_V = f64x2.splat(SPLIT);
const INF_V = f64x2.splat(Infinity);

/** Lanes where |v| (given as a and its zero mask) is 0 or within [2^-440, 2^440]; NaN compares false. */
// @ts-ignore: decorator
@inline function acceptablePair(a: v128, zero: v128): v128 {
  return v128.and(f64x2.le(a, MAX_V), v128.or(f64x2.ge(a, MIN_V), zero));
}

/**
 * Points i and i + 1 of the input buffer (i even) the way ingestOne takes them, with weight `sign` or,
 * when `weighted`, w[i]: both at once in SIMD lanes when both are accepted, else one at a time so that
 * the bad one is refused.
 */
export function ingestPair(i: i32, sign: f64, weighted: bool): void {
  const off = <usize>i << 3;
  const X = v128.load(inX + off), Y = v128.load(inY + off);
  const W = weighted ? v128.load(inW + off) : f64x2.splat(sign);
  const ax = f64x2.abs(X), ay = f64x2.abs(Y);
  const zx = f64x2.eq(ax, ZERO_V), zy = f64x2.eq(ay, ZERO_V);
  const ok = v128.and(
    v128.and(acceptablePair(ax, zx), acceptablePair(ay, zy)),
    v128.or(f64x2.eq(W, ONE_V), f64x2.eq(W, MINUS_ONE_V)),
  );
  if (i64x2.bitmask(ok) != 3) {
    ingestOne(f64x2.extract_lane(X, 0), f64x2.extract_lane(Y, 0), f64x2.extract_lane(W, 0));
    ingestOne(f64x2.extract_lane(X, 1), f64x2.extract_lane(Y, 1), f64x2.extract_lane(W, 1));
    return;
  }
  room(2);
  // The extremes of the non-zero magnitudes, for recordRanges (a zero lane counts as +Inf for the least).
  const lx = v128.bitselect(INF_V, ax, zx);
  const ly = v128.bitselect(INF_V, ay, zy);
  minX = min(minX, min(f64x2.extract_lane(lx, 0), f64x2.extract_lane(lx, 1)));
  maxX = max(maxX, max(f64x2.extract_lane(ax, 0), f64x2.extract_lane(ax, 1)));
  minY = min(minY, min(f64x2.extract_lane(ly, 0), f64x2.extract_lane(ly, 1)));
  maxY = max(maxY, max(f64x2.extract_lane(ay, 0), f64x2.extract_lane(ay, 1)));
  let C = f64x2.mul(SPLIT_V, X);
  const XH = f64x2.sub(C, f64x2.sub(C, X));
  const XL = f64x2.sub(X, XH);
  C = f64x2.mul(SPLIT_V, Y);
  const YH = f64x2.sub(C, f64x2.sub(C, Y));
  const YL = f64x2.sub(Y, YH);
  const XW = f64x2.mul(X, W), YW = f64x2.mul(Y, W);
  const XWH = f64x2.mul(XH, W), XWL = f64x2.mul(XL, W);
  const YWH = f64x2.mul(YH, W), YWL = f64x2.mul(YL, W);
  const PXX = f64x2.mul(XW, X);
  const EXX = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(XWH, XH), PXX), f64x2.mul(XWH, XL)), f64x2.mul(XWL, XH)), f64x2.mul(XWL, XL));
  const PXY = f64x2.mul(XW, Y);
  const EXY = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(XWH, YH), PXY), f64x2.mul(XWH, YL)), f64x2.mul(XWL, YH)), f64x2.mul(XWL, YL));
  const PYY = f64x2.mul(YW, Y);
  const EYY = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(YWH, YH), PYY), f64x2.mul(YWH, YL)), f64x2.mul(YWL, YH)), f64x2.mul(YWL, YL));
  addTermPair(0, XW);
  addTermPair(1, YW);
  addTermPair(2, PXX);
  addTermPair(2, EXX);
  addTermPair(3, PXY);
  addTermPair(3, EXY);
  addTermPair(4, PYY);
  addTermPair(4, EYY);
  netCount += <i64>(f64x2.extract_lane(W, 0) + f64x2.extract_lane(W, 1));
}

/** Biased exponent of a positive finite double. */
// @ts-ignore: decorator
@inline function biasedExponent(v: f64): i32 {
  return <i32>(reinterpret<u64>(v) >> 52);
}

/** Widens each statistic's slot range to cover every term written since the last call. */
export function recordRanges(): void {
  if (maxX != 0) {
    const lo = biasedExponent(minX), hi = biasedExponent(maxX);
    widenRange(0, lo, hi);
    widenRange(2, 2 * lo - 1127, 2 * hi - 1020); // lowest bit of a product .. its top
  }
  if (maxY != 0) {
    const lo = biasedExponent(minY), hi = biasedExponent(maxY);
    widenRange(1, lo, hi);
    widenRange(4, 2 * lo - 1127, 2 * hi - 1020);
  }
  if (maxX != 0 && maxY != 0) {
    widenRange(3, biasedExponent(minX) + biasedExponent(minY) - 1127, biasedExponent(maxX) + biasedExponent(maxY) - 1020);
  }
  minX = Infinity; maxX = 0; minY = Infinity; maxY = 0;
}
