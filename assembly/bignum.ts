// Unsigned big integers as little-endian arrays of u32 digits at fixed addresses, just enough for the
// closed form: products, signed differences, shifts, comparison, and a double-double approximation.
// Lengths are in digits; every buffer here is MAG digits long.

/** Digits of a scratch big integer: products of two accumulators plus room for the rounding check. */
export const MAG: i32 = 200;

// @ts-ignore: decorator
@inline function dig(p: usize, i: i32): u32 {
  return load<u32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function setDig(p: usize, i: i32, v: u32): void {
  store<u32>(p + (<usize>i << 2), v);
}

/**
 * The digits every operation works on: MAG, or fewer while the closed form knows its numbers are short
 * (bigSetWidth). Digits at or above the width are neither read nor written, so what they hold does not
 * matter while the width stays.
 */
let width: i32 = MAG;

/** Sets the working width in digits (4 to MAG): every operand and result must fit below it. */
export function bigSetWidth(w: i32): void {
  width = w < 4 ? 4 : w > MAG ? MAG : w;
}

/** Allocates a static MAG-digit buffer (call at module level only). */
// @ts-ignore: decorator
@inline export function bigBuffer(): usize {
  return memory.data(MAG * 4, 16);
}

/** Sets the buffer to zero. */
export function bigZero(p: usize): void {
  memory.fill(p, 0, <usize>(width * 4));
}

/** Index of the highest non-zero digit, or -1 for zero. */
export function bigTop(p: usize): i32 {
  for (let i = width - 1; i >= 0; i--) if (dig(p, i) != 0) return i;
  return -1;
}

/**
 * Loads a canonical fixed-point accumulator (`limbs` i64 slots: digits in [0, 2^32), top slot signed) as a
 * magnitude; returns its sign (-1, 0 or 1).
 */
export function bigFromFixed(dst: usize, src: usize, limbs: i32): i32 {
  bigZero(dst);
  const negative = load<i64>(src + (<usize>(limbs - 1) << 3)) < 0;
  let carry: u64 = 1;
  let nonzero = false;
  for (let i = 0; i < limbs; i++) {
    let d = <u64>load<i64>(src + (<usize>i << 3)) & 0xffff_ffff;
    if (negative) {
      const t = (d ^ 0xffff_ffff) + carry;
      d = t & 0xffff_ffff;
      carry = t >> 32;
    }
    if (d != 0) nonzero = true;
    setDig(dst, i, <u32>d);
  }
  // The top slot's bits above 32 are the sign extension, dropped here: |value| < 2^(32·limbs-1).
  return nonzero ? (negative ? -1 : 1) : 0;
}

/** The index of the lowest non-zero digit of p, or -1 for zero. */
export function bigLow(p: usize): i32 {
  for (let i = 0; i < width; i++) if (dig(p, i) != 0) return i;
  return -1;
}

/** p = p / 2^(32k), for p a multiple of 2^(32k) below 2^(32·limbs): its digits move down k places. */
export function bigShrDigits(p: usize, k: i32, limbs: i32): void {
  if (k <= 0) return;
  memory.copy(p, p + (<usize>k << 2), <usize>((limbs - k) * 4));
  memory.fill(p + (<usize>(limbs - k) << 2), 0, <usize>(k * 4));
}

/** p += v · 2^bit for v < 2^53 (carries go up as far as needed; the sum must fit below the width). */
export function bigAddShifted(p: usize, v: u64, bit: i32): void {
  let k = bit >> 5;
  const sh = <u64>(bit & 31);
  // v·2^sh < 2^85: three digits, and the carry.
  let carry: u64 = (v << sh) & 0xffff_ffff;
  let rest: u64 = sh == 0 ? v >> 32 : v >> (32 - sh);
  let t = <u64>dig(p, k) + carry;
  setDig(p, k, <u32>t);
  carry = (t >> 32) + (rest & 0xffff_ffff);
  rest >>= 32;
  k++;
  t = <u64>dig(p, k) + carry;
  setDig(p, k, <u32>t);
  carry = (t >> 32) + rest;
  k++;
  while (carry != 0 && k < width) {
    t = <u64>dig(p, k) + carry;
    setDig(p, k, <u32>t);
    carry = t >> 32;
    k++;
  }
}

/** Sets dst to the non-negative integer v < 2^64. */
export function bigFromU64(dst: usize, v: u64): void {
  bigZero(dst);
  setDig(dst, 0, <u32>v);
  setDig(dst, 1, <u32>(v >> 32));
}

/** out = a · b (out must differ from a and b; digits beyond MAG must be zero in the true product). */
export function bigMul(out: usize, a: usize, b: usize): void {
  bigZero(out);
  const ta = bigTop(a);
  const tb = bigTop(b);
  if (ta < 0 || tb < 0) return;
  let la = 0;
  while (dig(a, la) == 0) la++;
  let lb = 0;
  while (dig(b, lb) == 0) lb++;
  for (let i = la; i <= ta; i++) {
    const ai = <u64>dig(a, i);
    if (ai == 0) continue;
    let carry: u64 = 0;
    for (let j = lb; j <= tb; j++) {
      const t = ai * <u64>dig(b, j) + <u64>dig(out, i + j) + carry;
      setDig(out, i + j, <u32>t);
      carry = t >> 32;
    }
    for (let k = i + tb + 1; carry != 0 && k < width; k++) {
      const t = <u64>dig(out, k) + carry;
      setDig(out, k, <u32>t);
      carry = t >> 32;
    }
  }
}

/** Compares magnitudes: -1, 0 or 1. */
export function bigCmp(a: usize, b: usize): i32 {
  for (let i = width - 1; i >= 0; i--) {
    const x = dig(a, i);
    const y = dig(b, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** out = a + b (magnitudes; out may alias a or b). */
function bigAdd(out: usize, a: usize, b: usize): void {
  let carry: u64 = 0;
  for (let i = 0; i < width; i++) {
    const t = <u64>dig(a, i) + <u64>dig(b, i) + carry;
    setDig(out, i, <u32>t);
    carry = t >> 32;
  }
}

/** out = a - b for a ≥ b (magnitudes; out may alias a or b). */
function bigSubMag(out: usize, a: usize, b: usize): void {
  let borrow: i64 = 0;
  for (let i = 0; i < width; i++) {
    let t = <i64>dig(a, i) - <i64>dig(b, i) - borrow;
    borrow = t < 0 ? 1 : 0;
    if (t < 0) t += 0x1_0000_0000;
    setDig(out, i, <u32>t);
  }
}

/** out = sa·a - sb·b for signs sa, sb in {-1, 0, 1}; returns the sign of out. out may alias a or b. */
export function bigSignedSub(out: usize, sa: i32, a: usize, sb: i32, b: usize): i32 {
  const nb = -sb;
  if (sa == 0 && nb == 0) {
    bigZero(out);
    return 0;
  }
  if (nb == 0 || sa == nb) {
    // Same sign (or b is zero): magnitudes add.
    if (nb == 0) {
      if (out != a) memory.copy(out, a, <usize>(width * 4));
      return sa;
    }
    if (sa == 0) {
      if (out != b) memory.copy(out, b, <usize>(width * 4));
      return nb;
    }
    bigAdd(out, a, b);
    return sa;
  }
  if (sa == 0) {
    if (out != b) memory.copy(out, b, <usize>(width * 4));
    return nb;
  }
  const c = bigCmp(a, b);
  if (c == 0) {
    bigZero(out);
    return 0;
  }
  if (c > 0) {
    bigSubMag(out, a, b);
    return sa;
  }
  bigSubMag(out, b, a);
  return nb;
}

/** out = a · 2^bits (bits ≥ 0; out must differ from a; the result must fit in MAG digits). */
export function bigShl(out: usize, a: usize, bits: i32): void {
  bigZero(out);
  const q = bits >> 5;
  const r = bits & 31;
  for (let i = width - 1 - q; i >= 0; i--) {
    const v = <u64>dig(a, i) << r;
    const k = i + q;
    setDig(out, k, dig(out, k) | <u32>v);
    if (k + 1 < width) setDig(out, k + 1, dig(out, k + 1) | <u32>(v >> 32));
  }
}

/** The top digits of a (non-zero) as a double-double hi + lo, times 2^(32·(top-4)); returns top-4. */
export function bigApprox(a: usize, out: usize): i32 {
  const t = bigTop(a);
  const low = t - 4;
  let hi: f64 = 0;
  let lo: f64 = 0;
  for (let i = low; i <= t; i++) {
    if (i < 0) continue;
    // term d·2^(32(i-low)) is exact; add it to hi + lo with TwoSum.
    const v = <f64>dig(a, i) * pow2(32 * (i - low));
    const s = hi + v;
    const bb = s - hi;
    const err = (hi - (s - bb)) + (v - bb);
    hi = s;
    lo += err;
    const s2 = hi + lo;
    lo = lo - (s2 - hi);
    hi = s2;
  }
  store<f64>(out, hi);
  store<f64>(out + 8, lo);
  return low;
}

/** 2^k for -1022 ≤ k ≤ 1023, exactly. */
// @ts-ignore: decorator
@inline export function pow2(k: i32): f64 {
  return reinterpret<f64>(<u64>(k + 1023) << 52);
}

/** x·2^k, exact whenever the result is a normal double (k of any size). */
export function ldexp(x: f64, k: i32): f64 {
  while (k > 1000) {
    x *= pow2(1000);
    k -= 1000;
    if (!isFinite(x)) return x;
  }
  while (k < -1000) {
    x *= pow2(-1000);
    k += 1000;
    if (x == 0) return x;
  }
  return x * pow2(k);
}
