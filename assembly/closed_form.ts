// The least-squares line from exact sums, evaluated exactly and rounded once:
//   D  = n·Σx² − (Σx)²
//   b  = (n·Σxy − Σx·Σy) / D
//   a  = (Σy·Σx² − Σx·Σxy) / D
// Every product and difference is an exact big-integer operation, so nothing cancels catastrophically,
// and a and b are the doubles nearest to the exact least-squares answer for the accepted points.

import { BASE_SHIFT, LIMBS, fixedPtr } from "./exact_sum";
import {
  MAG,
  bigBuffer,
  bigFromFixed,
  bigFromU64,
  bigLow,
  bigMul,
  bigSetWidth,
  bigShl,
  bigShrDigits,
  bigSignedSub,
  bigTop,
} from "./bignum";
import { divideRounded } from "./exact_divide";

/** Statistic numbers, as laid out in exact_sum.ts. */
export const SX: i32 = 0;
export const SY: i32 = 1;
export const SXX: i32 = 2;
export const SXY: i32 = 3;
export const SYY: i32 = 4;

const bn = bigBuffer();
const bx = bigBuffer();
const by = bigBuffer();
const bxx = bigBuffer();
const bxy = bigBuffer();
const p1 = bigBuffer();
const p2 = bigBuffer();
const bd = bigBuffer();
const bnum = bigBuffer();
const one = bigBuffer();

let fitA: f64 = 0;
let fitB: f64 = 0;

/** The intercept of the last fit. */
export function lastIntercept(): f64 {
  return fitA;
}
/** The slope of the last fit. */
export function lastSlope(): f64 {
  return fitB;
}

/** Loads statistic s (already folded) as a magnitude into dst; returns its sign. */
function load(dst: usize, s: i32): i32 {
  return bigFromFixed(dst, fixedPtr(s), LIMBS);
}

/** sign·(magnitude num)/(magnitude den), correctly rounded; 0 when num is zero. */
function quotient(sign: i32, num: usize, den: usize): f64 {
  if (sign == 0) return 0;
  const q = divideRounded(num, den);
  return sign < 0 ? -q : q;
}

/**
 * Fits the line for a net count n (the tables must be folded). Returns 0, or 1 when the fit is degenerate
 * (fewer than two distinct x, or n ≤ 1), in which case a = b = 0.
 */
export function fitLine(n: i64): i32 {
  fitA = 0;
  fitB = 0;
  if (n <= 1) return 1;
  bigSetWidth(MAG);
  const sx = load(bx, SX);
  const sy = load(by, SY);
  const sxx = load(bxx, SXX);
  const sxy = load(bxy, SXY);
  // a and b do not change when every sum (and n, in the sums' unit) is divided by the same 2^(32k): take
  // k as large as the sums' trailing zero digits allow, so the numbers below are a few digits long.
  let k = BASE_SHIFT >> 5;
  const lx = bigLow(bx);
  const ly = bigLow(by);
  const lxx = bigLow(bxx);
  const lxy = bigLow(bxy);
  if (lx >= 0 && lx < k) k = lx;
  if (ly >= 0 && ly < k) k = ly;
  if (lxx >= 0 && lxx < k) k = lxx;
  if (lxy >= 0 && lxy < k) k = lxy;
  bigShrDigits(bx, k, LIMBS);
  bigShrDigits(by, k, LIMBS);
  bigShrDigits(bxx, k, LIMBS);
  bigShrDigits(bxy, k, LIMBS);
  bigFromU64(p1, <u64>n);
  bigShl(bn, p1, BASE_SHIFT - 32 * k); // n in the sums' unit
  bigSetWidth(LIMBS + 4);
  let top = bigTop(bn);
  const tx = bigTop(bx);
  const ty = bigTop(by);
  const txx = bigTop(bxx);
  const txy = bigTop(bxy);
  if (tx > top) top = tx;
  if (ty > top) top = ty;
  if (txx > top) top = txx;
  if (txy > top) top = txy;
  // Products take up to 2·(top + 1) digits; the rounding check, a few more.
  bigSetWidth(2 * top + 10);

  bigMul(p1, bn, bxx);
  bigMul(p2, bx, bx);
  const sd = bigSignedSub(bd, sxx, p1, sx * sx, p2);
  if (sd <= 0) return 1;

  bigMul(p1, bn, bxy);
  bigMul(p2, bx, by);
  const sb = bigSignedSub(bnum, sxy, p1, sx * sy, p2);
  fitB = quotient(sb, bnum, bd);

  bigMul(p1, by, bxx);
  bigMul(p2, bx, bxy);
  const sa = bigSignedSub(bnum, sy * sxx, p1, sx * sxy, p2);
  fitA = quotient(sa, bnum, bd);
  return 0;
}

/** Statistic s (already folded), correctly rounded to a double. */
export function statistic(s: i32): f64 {
  bigSetWidth(MAG);
  const sign = load(p1, s);
  bigFromU64(p2, 1);
  bigShl(one, p2, BASE_SHIFT);
  return quotient(sign, p1, one);
}


