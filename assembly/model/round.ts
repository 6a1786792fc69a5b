// Rounding exact rationals once: the double nearest to (a/b)·2^shift, and to sqrt(a/b)·2^shift, ties to
// even. A double estimate from the leading digits lands within a few units of the answer; exact
// comparisons with the rounding boundaries (the midpoints between neighbouring doubles) then step to it.
// Exact for every result in the normal range; a result in the subnormal range may be off by one unit.

import {
  approxExponent,
  bigApprox,
  bigCmpAbs,
  bigCopy,
  bigIsZero,
  bigLen,
  bigMulU64,
  bigNew,
  bigShl,
  bigSign,
} from "./big";
import { ldexp } from "../bignum";

let tmpA: usize = 0;
let tmpB: usize = 0;
let tmpC: usize = 0;

/** Scratch for the comparisons of num/den, in the arena. */
function roundingScratch(num: usize, den: usize): void {
  const digits = max(bigLen(num), bigLen(den)) + 8;
  tmpA = bigNew(digits + 8);
  tmpB = bigNew(digits + 8);
  tmpC = bigNew(digits + 8);
}

/** Sign of |num|·2^t − K·|den| for t of any sign (K < 2^64). */
function compareScaled(num: usize, den: usize, k: u64, t: i32): i32 {
  if (t >= 0) {
    bigShl(tmpA, num, t);
    bigMulU64(tmpB, den, k);
  } else {
    bigCopy(tmpA, num);
    bigMulU64(tmpC, den, k);
    bigShl(tmpB, tmpC, -t);
  }
  return bigCmpAbs(tmpA, tmpB);
}

/** Sign of |num|·2^t − K²·|den| (K < 2^55). */
function compareSquare(num: usize, den: usize, k: u64, t: i32): i32 {
  bigMulU64(tmpC, den, k);
  bigMulU64(tmpB, tmpC, k); // K²·den
  if (t >= 0) {
    bigShl(tmpA, num, t);
    return bigCmpAbs(tmpA, tmpB);
  }
  bigShl(tmpC, tmpB, -t);
  bigCopy(tmpA, num);
  return bigCmpAbs(tmpA, tmpC);
}

// Comparison of the exact value with K·2^F, set by roundRatio / sqrtRatio.
let mode: i32 = 0; // 0 quotient, 1 square root
let gNum: usize = 0;
let gDen: usize = 0;
let gShift: i32 = 0;

/** Sign of (exact value) − K·2^F. */
function compareWith(k: u64, f: i32): i32 {
  if (mode == 0) {
    // |num|/|den|·2^shift vs K·2^F  ⇔  |num|·2^(shift−F) vs K·|den|
    return compareScaled(gNum, gDen, k, gShift - f);
  }
  // sqrt(|num|/|den|)·2^shift vs K·2^F  ⇔  |num|·2^(2(shift−F)) vs K²·|den|
  return compareSquare(gNum, gDen, k, 2 * (gShift - f));
}

/** Steps the positive normal double d to the double nearest the exact value (ties to even). */
function settle(d: f64): f64 {
  for (let step = 0; step < 64; step++) {
    const bits = reinterpret<u64>(d);
    const be = <i32>(bits >> 52);
    if (be == 0 || be >= 0x7ff) return d; // subnormal or infinite: not decided exactly
    const m = (bits & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
    const e = be - 1075; // d = m·2^e
    const up = compareWith(2 * m + 1, e - 1);
    if (up > 0 || (up == 0 && (m & 1) == 1)) {
      d = reinterpret<f64>(bits + 1);
      continue;
    }
    const atPower = m == 0x0010_0000_0000_0000 && be > 1;
    const down = atPower ? compareWith(4 * m - 1, e - 2) : compareWith(2 * m - 1, e - 1);
    if (down < 0 || (down == 0 && (m & 1) == 1)) {
      d = reinterpret<f64>(bits - 1);
      continue;
    }
    return d;
  }
  return d;
}

/** The double nearest to (num/den)·2^shift (num, den big integers, den ≠ 0). */
export function roundRatio(num: usize, den: usize, shift: i32): f64 {
  if (bigIsZero(num)) return 0;
  const sign = bigSign(num) * bigSign(den);
  const fn = bigApprox(num);
  const en = approxExponent;
  const fd = bigApprox(den);
  const ed = approxExponent;
  const d0 = ldexp(fn / fd, en - ed + shift);
  roundingScratch(num, den);
  mode = 0;
  gNum = num;
  gDen = den;
  gShift = shift;
  const d = settle(d0);
  return sign < 0 ? -d : d;
}

/** The double nearest to sqrt(num/den)·2^shift (num ≥ 0, den > 0). */
export function sqrtRatio(num: usize, den: usize, shift: i32): f64 {
  if (bigIsZero(num)) return 0;
  const fn = bigApprox(num);
  const en = approxExponent;
  const fd = bigApprox(den);
  const ed = approxExponent;
  let q = fn / fd;
  let e = en - ed;
  if (e & 1) {
    q *= 2;
    e -= 1;
  }
  const d0 = ldexp(Math.sqrt(q), (e >> 1) + shift);
  roundingScratch(num, den);
  mode = 1;
  gNum = num;
  gDen = den;
  gShift = shift;
  return settle(d0);
}
