// The scalar path: one point at a time, for any accepted input. Each product is split exactly in two
// doubles (Dekker, since WASM has no fused multiply-add) and every term goes to its statistic's slot table
// (exact_sum.ts). The block kernel (split_block.ts) sends here the points it cannot take: the odd point at
// the end of a block, and pairs holding a refused point or a value too small for the block's pieces.
//
// Also keeps the net point count and the refused count, which both paths update.

import { addTerm, reserve, reserveFolds, widenRange } from "./exact_sum";
import { acceptable } from "./input_buffer";
import { productError } from "./two_product";

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
