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
  bigZero,
  bigAddShifted,
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
function loadSum(dst: usize, s: i32): i32 {
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
  const sx = loadSum(bx, SX);
  const sy = loadSum(by, SY);
  const sxx = loadSum(bxx, SXX);
  const sxy = loadSum(bxy, SXY);
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
  return solve(sx, sy, sxx, sxy);
}

/**
 * The closed form on the loaded sums (magnitudes bx, by, bxx, bxy with their signs; n in the sums' unit
 * in bn), at a width that holds their products.
 */
function solve(sx: i32, sy: i32, sxx: i32, sxy: i32): i32 {
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

const neg = bigBuffer();

/**
 * Fits the line straight from exact sums given as terms (the input buffer's layout of load_sums:
 * `lengths` points at 5 f64 counts, `terms` at the terms, Σx, Σy, Σx², Σxy, Σy²), without the fixed-point
 * accumulators: each sum is built in the unit of the smallest term, a few digits long. The terms must be
 * finite (load_sums's caller checks). Returns 0, or 1 when degenerate (a = b = 0).
 */
export function fitSums(n: i64, lengths: usize, terms: usize): i32 {
  fitA = 0;
  fitB = 0;
  if (n <= 1) return 1;
  // The unit: the smallest term's last place, and at most 1 (n is an integer).
  let unit: i32 = 0;
  let high: i32 = 0;
  let at = terms;
  let count: i32 = 0;
  for (let s = 0; s < 4; s++) {
    const length = <i32>load<f64>(lengths + (<usize>s << 3));
    for (let i = 0; i < length; i++) {
      const bits = reinterpret<u64>(load<f64>(at + (<usize>i << 3)));
      const e = <i32>(bits >> 52) & 0x7ff;
      if ((bits << 1) == 0) continue; // ±0
      const u = max(e, 1) - 1075;
      if (u < unit) unit = u;
      if (u + 53 > high) high = u + 53;
    }
    at += <usize>length << 3;
    count += length;
  }
  // Every sum below 2^(high - unit + a few); n·2^-unit below 2^(64 - unit).
  let bits = high - unit + 8;
  if (64 - unit > bits) bits = 64 - unit;
  bigSetWidth(2 * ((bits >> 5) + 2) + 10);
  at = terms;
  let sx: i32 = 0;
  let sy: i32 = 0;
  let sxx: i32 = 0;
  let sxy: i32 = 0;
  for (let s = 0; s < 4; s++) {
    const dst = s == 0 ? bx : s == 1 ? by : s == 2 ? bxx : bxy;
    bigZero(dst);
    bigZero(neg);
    const length = <i32>load<f64>(lengths + (<usize>s << 3));
    for (let i = 0; i < length; i++) {
      const bits = reinterpret<u64>(load<f64>(at + (<usize>i << 3)));
      if ((bits << 1) == 0) continue;
      const e = <i32>(bits >> 52) & 0x7ff;
      const m = (bits & 0x000f_ffff_ffff_ffff) | (e != 0 ? 0x0010_0000_0000_0000 : 0);
      bigAddShifted(bits >> 63 ? neg : dst, m, max(e, 1) - 1075 - unit);
    }
    at += <usize>length << 3;
    const sign = bigSignedSub(dst, 1, dst, 1, neg);
    if (s == 0) sx = sign;
    else if (s == 1) sy = sign;
    else if (s == 2) sxx = sign;
    else sxy = sign;
  }
  bigFromU64(p1, <u64>n);
  bigShl(bn, p1, -unit); // n in the sums' unit
  return solve(sx, sy, sxx, sxy);
}

/** Statistic s (already folded), correctly rounded to a double. */
export function statistic(s: i32): f64 {
  bigSetWidth(MAG);
  const sign = loadSum(p1, s);
  bigFromU64(p2, 1);
  bigShl(one, p2, BASE_SHIFT);
  return quotient(sign, p1, one);
}


