// The shortest decimal that reads back as the same double, written as JavaScript's String(n) writes it.
//
// Digits: Ryu's double-to-shortest (Ulf Adams, "Ryū: fast float-to-string conversion", PLDI 2018; the
// d2s.c of github.com/ulfjack/ryu with its full tables, pow5_tables.ts). Of the decimals in the rounding
// interval of the double (its bounds included when the significand is even, as a correctly rounding
// reader rounds ties to even) it takes those with the fewest digits and, among them, the one closest to
// the double; on an exact tie, the even one. That is ECMAScript's Number::toString (with its note's
// "closest" rule, which V8 and JavaScriptCore follow).
//
// Only integer arithmetic: the double's bits are read with reinterpret, never computed with, so no
// floating-point optimisation (Binaryen's fast-math included) can change a result. AssemblyScript has no
// u128: a 64×64 → 128-bit product is made from 32-bit halves (umulHigh), the three bounds from one
// 192-bit product (mulShiftAll64), and a u64 is divided by 10, 100 or 10^8 by a multiplication.
//
// Text: ECMAScript's layout of the digits d1…dk and the decimal exponent n (value = 0.d1…dk × 10^n):
//   k ≤ n ≤ 21      d1…dk followed by n − k zeros
//   0 < n ≤ 21      d1…dn "." dn+1…dk
//   −6 < n ≤ 0      "0." −n zeros d1…dk
//   otherwise       d1 ["." d2…dk] "e" ("+" | "-") |n − 1|
// and "-" before a negative number, "-0" for negative zero (not String's "0"), "NaN", "Infinity".

import { POW5_BITCOUNT, POW5_INV_BITCOUNT, POW5_INV_SPLIT, POW5_SPLIT } from "./pow5_tables";

/** Room for the text (the longest: "-0.00000" and 17 digits, 25 bytes; "-d.dddddddddddddddde-308" 24). */
export const MAX_TEXT = 32;

const MANTISSA_BITS: i32 = 52;
const BIAS: i32 = 1023;

// ---- Digits: Ryu's d2d. ----

/** The decimal significand and exponent found by shortestDigits (value = digits × 10^exponent). */
let outDigits: u64 = 0;
let outExponent: i32 = 0;

// @ts-ignore: decorator
@inline function pow5bits(e: i32): i32 {
  return ((e * 1217359) >> 19) + 1; // ⌈log2(5^e)⌉ for 0 < e ≤ 3528 (1 for e = 0)
}

// @ts-ignore: decorator
@inline function log10Pow2(e: i32): i32 {
  return (e * 78913) >> 18; // ⌊log10(2^e)⌋ for 0 ≤ e ≤ 1650
}

// @ts-ignore: decorator
@inline function log10Pow5(e: i32): i32 {
  return (e * 732923) >> 20; // ⌊log10(5^e)⌋ for 0 ≤ e ≤ 2620
}

function pow5Factor(value: u64): i32 {
  let count = 0;
  while (value % 5 == 0) {
    value /= 5;
    count++;
  }
  return count;
}

// @ts-ignore: decorator
@inline function multipleOfPowerOf5(value: u64, p: i32): bool {
  return pow5Factor(value) >= p;
}

// @ts-ignore: decorator
@inline function multipleOfPowerOf2(value: u64, p: i32): bool {
  return (value & ((<u64>1 << <u64>p) - 1)) == 0;
}

/** The high 64 bits of the 128-bit product a·b, from 32-bit halves. */
// @ts-ignore: decorator
@inline function umulHigh(a: u64, b: u64): u64 {
  const aLo = a & 0xffff_ffff, aHi = a >> 32;
  const bLo = b & 0xffff_ffff, bHi = b >> 32;
  const b00 = aLo * bLo;
  const b01 = aLo * bHi;
  const b10 = aHi * bLo;
  const b11 = aHi * bHi;
  const mid1 = b10 + (b00 >> 32); // (no overflow: (2^32 − 1)^2 + 2^32 − 1 < 2^64)
  const mid2 = b01 + (mid1 & 0xffff_ffff);
  return b11 + (mid1 >> 32) + (mid2 >> 32);
}

// Division of a u64 by 10, 100 and 10^8 by a multiplication (WebAssembly engines may not strength-
// reduce i64.div_u by a constant; the multiplication is the faster, and exact for every u64).
// @ts-ignore: decorator
@inline function div10(x: u64): u64 {
  return umulHigh(x, 0xcccc_cccc_cccc_cccd) >> 3;
}

// @ts-ignore: decorator
@inline function div100(x: u64): u64 {
  return umulHigh(x >> 2, 0x28f5_c28f_5c28_f5c3) >> 2;
}

// @ts-ignore: decorator
@inline function div1e8(x: u64): u64 {
  return umulHigh(x, 0xabcc_7711_8461_cefd) >> 26;
}

/** vp and vm of the last mulShiftAll64. */
let mulVp: u64 = 0;
let mulVm: u64 = 0;

/** (hi·2^64 + lo) >> dist, 0 < dist < 64. */
// @ts-ignore: decorator
@inline function shiftRight128(lo: u64, hi: u64, dist: i32): u64 {
  return (hi << <u64>(64 - dist)) | (lo >> <u64>dist);
}

/**
 * Ryu's mulShiftAll64 without 64-bit intrinsics: with M = mul1·2^64 + mul0 (125 bits), returns
 * ⌊4·m2·M / 2^j⌋ and sets mulVp = ⌊(4·m2 + 2)·M / 2^j⌋, mulVm = ⌊(4·m2 − 1 − mmShift)·M / 2^j⌋, from the
 * one 192-bit product 2·m2·M (two 64×128 products; the others by adding or subtracting M).
 */
// @ts-ignore: decorator
@inline function mulShiftAll64(m2: u64, mul0: u64, mul1: u64, j: i32, mmShift: u64): u64 {
  const m = m2 << 1; // < 2^55
  const lo = m * mul0;
  const tmp = umulHigh(m, mul0);
  const mid = tmp + m * mul1;
  const hi = umulHigh(m, mul1) + (mid < tmp ? 1 : 0); // 2m·M = hi:mid:lo
  // (2m + 1)·M
  const lo2 = lo + mul0;
  const mid2 = mid + mul1 + (lo2 < lo ? 1 : 0);
  const hi2 = hi + (mid2 < mid ? 1 : 0);
  mulVp = shiftRight128(mid2, hi2, j - 64 - 1);
  if (mmShift == 1) {
    // (2m − 1)·M
    const lo3 = lo - mul0;
    const mid3 = mid - mul1 - (lo3 > lo ? 1 : 0);
    const hi3 = hi - (mid3 > mid ? 1 : 0);
    mulVm = shiftRight128(mid3, hi3, j - 64 - 1);
  } else {
    // (4m − 1)·M
    const lo3 = lo + lo;
    const mid3 = mid + mid + (lo3 < lo ? 1 : 0);
    const hi3 = hi + hi + (mid3 < mid ? 1 : 0);
    const lo4 = lo3 - mul0;
    const mid4 = mid3 - mul1 - (lo4 > lo3 ? 1 : 0);
    const hi4 = hi3 - (mid4 > mid3 ? 1 : 0);
    mulVm = shiftRight128(mid4, hi4, j - 64);
  }
  return shiftRight128(mid, hi, j - 64 - 1);
}

/** Integers below 2^53 with no fractional bits: their own digits, trailing zeros removed. */
function smallInteger(m2: u64, e2: i32): bool {
  if (e2 > 0 || e2 < -52) return false;
  const mask = (<u64>1 << <u64>-e2) - 1;
  if ((m2 & mask) != 0) return false;
  let m = m2 >> <u64>-e2;
  let e = 0;
  for (;;) {
    const q = div10(m);
    if (m - q * 10 != 0) break;
    m = q;
    e++;
  }
  outDigits = m;
  outExponent = e;
  return true;
}

/** Ryu's d2d: the shortest digits of a positive finite double from its fields (not both 0). */
function shortestDigits(ieeeMantissa: u64, ieeeExponent: i32): void {
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    e2 = 1 - BIAS - MANTISSA_BITS - 2; // (2 more bits for the bounds)
    m2 = ieeeMantissa;
  } else {
    if (smallInteger((<u64>1 << 52) | ieeeMantissa, ieeeExponent - BIAS - MANTISSA_BITS)) return;
    e2 = ieeeExponent - BIAS - MANTISSA_BITS - 2;
    m2 = (<u64>1 << 52) | ieeeMantissa;
  }
  const acceptBounds = (m2 & 1) == 0;
  const mv = m2 << 2;
  const mmShift: u64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0;
  let vr: u64, vp: u64, vm: u64;
  let e10: i32;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    const q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
    e10 = q;
    const k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
    const i = -e2 + q + k;
    const at = POW5_INV_SPLIT + (<usize>q << 4);
    const lo = load<u64>(at), hi = load<u64>(at + 8);
    vr = mulShiftAll64(m2, lo, hi, i, mmShift);
    vp = mulVp;
    vm = mulVm;
    if (q <= 21) {
      // Only one of mp, mv and mm can be a multiple of 5, if any.
      if (mv % 5 == 0) vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      else if (acceptBounds) vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, q);
      else if (multipleOfPowerOf5(mv + 2, q)) vp--;
    }
  } else {
    const q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITCOUNT;
    const j = q - k;
    const at = POW5_SPLIT + (<usize>i << 4);
    const lo = load<u64>(at), hi = load<u64>(at + 8);
    vr = mulShiftAll64(m2, lo, hi, j, mmShift);
    vp = mulVp;
    vm = mulVm;
    if (q <= 1) {
      // mv has at least q trailing 0 bits, and so do mp and mm when q ≤ 1.
      vrIsTrailingZeros = true;
      if (acceptBounds) vmIsTrailingZeros = mmShift == 1;
      else vp--;
    } else if (q < 63) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, q);
    }
  }
  let removed: i32 = 0;
  let output: u64;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // The general case (rare): exact ties and bounds that are themselves short decimals.
    let lastRemovedDigit: u64 = 0;
    for (;;) {
      const vpDiv10 = div10(vp), vmDiv10 = div10(vm);
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = div10(vr);
      vmIsTrailingZeros = vmIsTrailingZeros && vm - vmDiv10 * 10 == 0;
      vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
      lastRemovedDigit = vr - vrDiv10 * 10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    if (vmIsTrailingZeros) {
      for (;;) {
        const vmDiv10 = div10(vm);
        if (vm - vmDiv10 * 10 != 0) break;
        const vrDiv10 = div10(vr);
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
        lastRemovedDigit = vr - vrDiv10 * 10;
        vr = vrDiv10;
        vp = div10(vp);
        vm = vmDiv10;
        removed++;
      }
    }
    if (vrIsTrailingZeros && lastRemovedDigit == 5 && (vr & 1) == 0) lastRemovedDigit = 4; // tie: even
    const up = (vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5;
    output = vr + (up ? 1 : 0);
  } else {
    // The common case: two digits at a time while both bounds allow, then perhaps one more (then
    // ⌊vp/100⌋ ≤ ⌊vm/100⌋, so a second could not go); the rounding needs only the last digit removed.
    let roundUp = false;
    for (;;) {
      const vpDiv100 = div100(vp), vmDiv100 = div100(vm);
      if (vpDiv100 <= vmDiv100) break;
      const vrDiv100 = div100(vr);
      roundUp = vr - vrDiv100 * 100 >= 50;
      vr = vrDiv100;
      vp = vpDiv100;
      vm = vmDiv100;
      removed += 2;
    }
    const vpDiv10 = div10(vp), vmDiv10 = div10(vm);
    if (vpDiv10 > vmDiv10) {
      const vrDiv10 = div10(vr);
      roundUp = vr - vrDiv10 * 10 >= 5;
      vr = vrDiv10;
      removed++;
      vm = vmDiv10;
    }
    output = vr + (vr == vm || roundUp ? 1 : 0);
  }
  outDigits = output;
  outExponent = e10 + removed;
}

// ---- Text. ----

// @ts-ignore: decorator
@inline function decimalLength(v: u64): i32 {
  // v < 10^17
  if (v >= 10000000000000000) return 17;
  if (v >= 1000000000000000) return 16;
  if (v >= 100000000000000) return 15;
  if (v >= 10000000000000) return 14;
  if (v >= 1000000000000) return 13;
  if (v >= 100000000000) return 12;
  if (v >= 10000000000) return 11;
  if (v >= 1000000000) return 10;
  if (v >= 100000000) return 9;
  if (v >= 10000000) return 8;
  if (v >= 1000000) return 7;
  if (v >= 100000) return 6;
  if (v >= 10000) return 5;
  if (v >= 1000) return 4;
  if (v >= 100) return 3;
  if (v >= 10) return 2;
  return 1;
}

/** "00", "01", …, "99": the ASCII digits of 0…99, two bytes each. */
const DIGIT_PAIRS: usize = memory.data<u8>([
  48, 48, 48, 49, 48, 50, 48, 51, 48, 52, 48, 53, 48, 54, 48, 55, 48, 56, 48, 57,
  49, 48, 49, 49, 49, 50, 49, 51, 49, 52, 49, 53, 49, 54, 49, 55, 49, 56, 49, 57,
  50, 48, 50, 49, 50, 50, 50, 51, 50, 52, 50, 53, 50, 54, 50, 55, 50, 56, 50, 57,
  51, 48, 51, 49, 51, 50, 51, 51, 51, 52, 51, 53, 51, 54, 51, 55, 51, 56, 51, 57,
  52, 48, 52, 49, 52, 50, 52, 51, 52, 52, 52, 53, 52, 54, 52, 55, 52, 56, 52, 57,
  53, 48, 53, 49, 53, 50, 53, 51, 53, 52, 53, 53, 53, 54, 53, 55, 53, 56, 53, 57,
  54, 48, 54, 49, 54, 50, 54, 51, 54, 52, 54, 53, 54, 54, 54, 55, 54, 56, 54, 57,
  55, 48, 55, 49, 55, 50, 55, 51, 55, 52, 55, 53, 55, 54, 55, 55, 55, 56, 55, 57,
  56, 48, 56, 49, 56, 50, 56, 51, 56, 52, 56, 53, 56, 54, 56, 55, 56, 56, 56, 57,
  57, 48, 57, 49, 57, 50, 57, 51, 57, 52, 57, 53, 57, 54, 57, 55, 57, 56, 57, 57,
]);

/** Writes the two digits of d < 100 at p. */
// @ts-ignore: decorator
@inline function writePair(p: usize, d: u32): void {
  store<u16>(p, load<u16>(DIGIT_PAIRS + (<usize>d << 1)));
}

/** Writes the 8 digits of r < 10^8 (leading zeros included) at p. */
// @ts-ignore: decorator
@inline function writeEight(p: usize, r: u32): void {
  const hi = r / 10000, lo = r - hi * 10000;
  const a = hi / 100, b = lo / 100;
  writePair(p, a);
  writePair(p + 2, hi - a * 100);
  writePair(p + 4, b);
  writePair(p + 6, lo - b * 100);
}

/** Writes the `length` digits of v at p (the last at p + length − 1). */
// @ts-ignore: decorator
@inline function writeDigits(v: u64, p: usize, length: i32): void {
  let end = p + <usize>length;
  while (v >= 100_000_000) {
    const q = div1e8(v);
    end -= 8;
    writeEight(end, <u32>(v - q * 100_000_000));
    v = q;
  }
  let r = <u32>v;
  while (r >= 100) {
    const q = r / 100;
    end -= 2;
    writePair(end, r - q * 100);
    r = q;
  }
  if (r >= 10) writePair(end - 2, r);
  else store<u8>(end - 1, <u8>(0x30 + r));
}

function writeText(p: usize, text: string): i32 {
  const n = text.length;
  for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>text.charCodeAt(i));
  return n;
}

/**
 * Writes x as JavaScript's String(x) does (ASCII), but "-0" for negative zero, at p (room for MAX_TEXT
 * bytes); returns the number of bytes.
 */
export function formatShortest(x: f64, p: usize): i32 {
  const bits = reinterpret<u64>(x);
  const negative = (bits >> 63) != 0;
  const ieeeMantissa = bits & ((<u64>1 << 52) - 1);
  const ieeeExponent = <i32>((bits >> 52) & 0x7ff);
  if (ieeeExponent == 0x7ff) {
    if (ieeeMantissa != 0) return writeText(p, "NaN");
    return writeText(p, negative ? "-Infinity" : "Infinity");
  }
  let at = p;
  if (negative) store<u8>(at++, 0x2d); // "-"
  if (ieeeExponent == 0 && ieeeMantissa == 0) {
    store<u8>(at++, 0x30);
    return <i32>(at - p);
  }
  shortestDigits(ieeeMantissa, ieeeExponent);
  const digits = outDigits;
  const k = decimalLength(digits);
  const n = outExponent + k; // value = 0.d1…dk × 10^n
  if (k <= n && n <= 21) {
    writeDigits(digits, at, k);
    at += <usize>k;
    for (let i = k; i < n; i++) store<u8>(at++, 0x30);
  } else if (0 < n && n <= 21) {
    // d1…dn "." dn+1…dk: the digits shifted by one from the point on
    writeDigits(digits, at + 1, k);
    for (let i = 0; i < n; i++) store<u8>(at + <usize>i, load<u8>(at + <usize>(i + 1)));
    store<u8>(at + <usize>n, 0x2e);
    at += <usize>(k + 1);
  } else if (-6 < n && n <= 0) {
    store<u8>(at++, 0x30);
    store<u8>(at++, 0x2e);
    for (let i = n; i < 0; i++) store<u8>(at++, 0x30);
    writeDigits(digits, at, k);
    at += <usize>k;
  } else {
    // d1 ["." d2…dk] "e" sign |n − 1|
    if (k == 1) {
      store<u8>(at++, <u8>(0x30 + <u32>digits));
    } else {
      writeDigits(digits, at + 1, k);
      store<u8>(at, load<u8>(at + 1));
      store<u8>(at + 1, 0x2e);
      at += <usize>(k + 1);
    }
    store<u8>(at++, 0x65); // "e"
    let e = n - 1;
    if (e < 0) {
      store<u8>(at++, 0x2d);
      e = -e;
    } else {
      store<u8>(at++, 0x2b);
    }
    if (e >= 100) {
      store<u8>(at++, <u8>(0x30 + e / 100));
      e %= 100;
      store<u8>(at++, <u8>(0x30 + e / 10));
      store<u8>(at++, <u8>(0x30 + e % 10));
    } else if (e >= 10) {
      store<u8>(at++, <u8>(0x30 + e / 10));
      store<u8>(at++, <u8>(0x30 + e % 10));
    } else {
      store<u8>(at++, <u8>(0x30 + e));
    }
  }
  return <i32>(at - p);
}
