// Exact sums of a model's cross products: one fixed-point integer per statistic, added to and retracted
// from point by point, never rounded.
//
// Columns: 0 is the constant 1, 1..K the explanatory columns (K x's, or the powers x, x², .., x^D of one x),
// K+1 is y. A statistic is Σ w·u·v over the points for a pair of columns (u, v); the pair (0, 0) is the
// net count n, kept as an integer. For a polynomial the pairs share their sums: (i, j) with i, j ≤ K is
// Σ x^(i+j), (i, y) is Σ y·x^i, (y, y) is Σ y².
//
// Every accepted value v is 0 or has 2^-440 ≤ |v| ≤ 2^440, so v = ±m·2^e with m < 2^53 and e ≥ -492. A
// term made of f such factors (f = 2 for x1·x2; f = i + j for x^(i+j); f = i + 1 for y·x^i) is an integer
// multiple of 2^(-492 f) below 2^(441 f). Its statistic's accumulator therefore has its lowest bit worth
// 2^(-524 f) (32 bits of room below, so every shift is positive) and 965 f + 64 bits above it (64 bits of
// room for 2^63 terms): exact for every accepted point, at any degree. The exponent of a pair's lowest bit
// is L_u + L_v with L_0 = 0, L_y = L_x = -524 and L_(x^i) = -524 i, which the solver uses to scale columns.
//
// Digits are 32-bit values in i64 slots: a term adds or subtracts less than 2^33 to each digit, so carries
// are propagated (normalize) only every 2^24 points and before the sums are read.

import { reserveArea } from "./heap";
import { acceptable } from "../input_buffer";
/** Most explanatory columns. */
export const MAX_K: i32 = 20;
/** Highest polynomial degree. */
export const MAX_DEGREE: i32 = 12;
/** Bits of the lowest-bit offset per factor (see above). */
export const FACTOR_SHIFT: i32 = 524;
const FACTOR_BITS: i32 = 965;

/** Doubles in the input buffer: rows of K + 2 values (x_1..x_K, y, w). */
export const INPUT_DOUBLES: i32 = 65536;
export const inputBuffer: usize = reserveArea(INPUT_DOUBLES * 8);

// Accumulators: a statistic's digits at accBase + offset[s]·8, limbs[s] digits.
const ACC_SLOTS: i32 = 1 << 17; // 1 MiB of i64 digits
const accBase: usize = reserveArea(ACC_SLOTS * 8);
const MAX_STATS: i32 = ((MAX_K + 2) * (MAX_K + 3)) / 2;
const statOffset: usize = memory.data(MAX_STATS * 4, 4);
const statLimbs: usize = memory.data(MAX_STATS * 4, 4);

let K: i32 = 0; // explanatory columns of the full table (D for a polynomial)
let KIN: i32 = 1; // x values per input row (1 for a polynomial)
let D: i32 = 1;
let hasIntercept: bool = true;
let nStats: i32 = 0;
let totalLimbs: i32 = 0;
let configured: bool = false;
let netCount: i64 = 0;
let refusedCount: i64 = 0;
let pendingPoints: i32 = 0;
const NORMALIZE_EVERY: i32 = 1 << 24;

/** Digits an accumulator for terms of f factors needs. */
function limbsFor(f: i32): i32 {
  return (FACTOR_BITS * f + 64 + 31) / 32 + 2;
}

// @ts-ignore: decorator
@inline export function modelK(): i32 {
  return K;
}
// @ts-ignore: decorator
@inline export function modelDegree(): i32 {
  return D;
}
// @ts-ignore: decorator
@inline export function modelIntercept(): bool {
  return hasIntercept;
}
export function isConfigured(): bool {
  return configured;
}
export function netPoints(): i64 {
  return netCount;
}
export function refusedPoints(): i64 {
  return refusedCount;
}
export function setCounts(net: i64, refused: i64): void {
  netCount = net;
  refusedCount = refused;
}
/** Counts points: `net` added minus retracted, `refused` refused. */
export function countPoints(net: i64, refused: i64): void {
  netCount += net;
  refusedCount += refused;
}
/** Normalizes first when `points` more points could overflow the deferred carries. */
export function makeRoom(points: i32): void {
  if (pendingPoints + points > NORMALIZE_EVERY) normalizeAll();
  pendingPoints += points;
}
export function modelKIn(): i32 {
  return KIN;
}
export function statCount(): i32 {
  return nStats;
}
export function totalDigits(): i32 {
  return totalLimbs;
}
/** Address of all accumulator digits (statistic 0 first, consecutive). */
export function accumulatorsPtr(): usize {
  return accBase;
}
// @ts-ignore: decorator
@inline export function statPtr(s: i32): usize {
  return accBase + (<usize>load<i32>(statOffset + (<usize>s << 2)) << 3);
}
// @ts-ignore: decorator
@inline export function statDigits(s: i32): i32 {
  return load<i32>(statLimbs + (<usize>s << 2));
}

/** x values per input row (k; 1 for a polynomial). */
export function inputColumns(): i32 {
  return KIN;
}

/** Columns of the full table: the constant, K explanatory columns, y. */
export function fullColumns(): i32 {
  return K + 2;
}

/** Index of the pair (i, j), i ≤ j, among the pairs of C columns. */
// @ts-ignore: decorator
@inline export function pairIndex(i: i32, j: i32, c: i32): i32 {
  return i * c - ((i * (i - 1)) >> 1) + (j - i);
}

/**
 * The statistic holding the sum for columns (i, j) of the full table, or -1 for (0, 0), the count.
 */
export function statOf(i: i32, j: i32): i32 {
  if (i > j) {
    const t = i;
    i = j;
    j = t;
  }
  if (i == 0 && j == 0) return -1;
  const y = K + 1;
  if (D == 1) return pairIndex(i, j, K + 2) - 1; // pair (0,0) has no statistic
  // Polynomial: S_1..S_2D (Σ x^p) are statistics 0..2D-1, T_0..T_D (Σ y·x^p) are 2D..3D, U = Σ y² is 3D+1.
  if (j < y) return i + j - 1;
  if (i < y) return 2 * D + i;
  return 3 * D + 1;
}

/** Exponent of the lowest bit of column i's accumulators (L_i above). */
export function columnShift(i: i32): i32 {
  if (i == 0) return 0;
  if (i == K + 1) return -FACTOR_SHIFT;
  return D == 1 ? -FACTOR_SHIFT : -FACTOR_SHIFT * i;
}

function place(s: i32, f: i32): void {
  store<i32>(statOffset + (<usize>s << 2), totalLimbs);
  const n = limbsFor(f);
  store<i32>(statLimbs + (<usize>s << 2), n);
  totalLimbs += n;
}

/**
 * Sets the model and forgets every point: k explanatory columns, degree d (d > 1 needs k = 1),
 * intercept or not. Returns 0, or 1 for k outside 1..MAX_K, 2 for d outside 1..MAX_DEGREE, 3 for d > 1
 * with k > 1.
 */
export function configure(k: i32, d: i32, intercept: bool): i32 {
  if (k < 1 || k > MAX_K) return 1;
  if (d < 1 || d > MAX_DEGREE) return 2;
  if (d > 1 && k != 1) return 3;
  K = d > 1 ? d : k;
  KIN = k;
  D = d;
  hasIntercept = intercept;
  totalLimbs = 0;
  if (d == 1) {
    const c = K + 2;
    nStats = (c * (c + 1)) / 2 - 1;
    for (let i = 0; i < c; i++) {
      for (let j = i; j < c; j++) {
        if (i == 0 && j == 0) continue;
        place(pairIndex(i, j, c) - 1, i == 0 ? 1 : 2);
      }
    }
  } else {
    nStats = 3 * D + 2;
    for (let p = 1; p <= 2 * D; p++) place(p - 1, p);
    for (let p = 0; p <= D; p++) place(2 * D + p, p + 1);
    place(3 * D + 1, 2);
  }
  configured = true;
  clearSums();
  return 0;
}

/** Forgets every point and the refused count. */
export function clearSums(): void {
  memory.fill(accBase, 0, <usize>totalLimbs << 3);
  netCount = 0;
  refusedCount = 0;
  pendingPoints = 0;
}

/** Propagates carries: every digit in [0, 2^32), the top digit signed. */
export function normalizeAll(): void {
  for (let s = 0; s < nStats; s++) {
    const acc = statPtr(s);
    const n = statDigits(s);
    let carry: i64 = 0;
    for (let i = 0; i < n - 1; i++) {
      const p = acc + (<usize>i << 3);
      const t = load<i64>(p) + carry;
      store<i64>(p, t & 0xffff_ffff);
      carry = t >> 32;
    }
    const top = acc + (<usize>(n - 1) << 3);
    store<i64>(top, load<i64>(top) + carry);
  }
  pendingPoints = 0;
}

// ---- Adding terms ----

const FRAC: u64 = 0x000f_ffff_ffff_ffff;
const IMPLICIT: u64 = 0x0010_0000_0000_0000;

/**
 * Adds (neg = false) or subtracts the non-negative integer held in `len` u32 digits at `src`, shifted left
 * by `bit` bits, to the accumulator at acc.
 */
// @ts-ignore: decorator
@inline function addDigits(acc: usize, src: usize, len: i32, bit: i32, neg: bool): void {
  const sh = <u64>(bit & 31);
  let p = acc + (<usize>(bit >> 5) << 3);
  if (neg) {
    for (let i = 0; i < len; i++) {
      const v = <u64>load<u32>(src + (<usize>i << 2)) << sh;
      store<i64>(p, load<i64>(p) - <i64>(v & 0xffff_ffff));
      store<i64>(p + 8, load<i64>(p + 8) - <i64>(v >> 32));
      p += 8;
    }
  } else {
    for (let i = 0; i < len; i++) {
      const v = <u64>load<u32>(src + (<usize>i << 2)) << sh;
      store<i64>(p, load<i64>(p) + <i64>(v & 0xffff_ffff));
      store<i64>(p + 8, load<i64>(p + 8) + <i64>(v >> 32));
      p += 8;
    }
  }
}

/** Adds ±m·2^bit (m < 2^53) to the accumulator at acc. */
// @ts-ignore: decorator
@inline export function addSmall(acc: usize, m: u64, bit: i32, neg: bool): void {
  const sh = bit & 31;
  const p = acc + (<usize>(bit >> 5) << 3);
  // m·2^sh < 2^85: three digits
  const lo = m << sh;
  const hi = sh == 0 ? 0 : m >> (64 - sh);
  const d0 = <i64>(lo & 0xffff_ffff);
  const d1 = <i64>(lo >> 32);
  const d2 = <i64>hi;
  if (neg) {
    store<i64>(p, load<i64>(p) - d0);
    store<i64>(p + 8, load<i64>(p + 8) - d1);
    store<i64>(p + 16, load<i64>(p + 16) - d2);
  } else {
    store<i64>(p, load<i64>(p) + d0);
    store<i64>(p + 8, load<i64>(p + 8) + d1);
    store<i64>(p + 16, load<i64>(p + 16) + d2);
  }
}

/** Adds ±ma·mb·2^bit (ma, mb < 2^53) to the accumulator at acc. */
// @ts-ignore: decorator
@inline function addProduct(acc: usize, ma: u64, mb: u64, bit: i32, neg: bool): void {
  const a0 = ma & 0xffff_ffff, a1 = ma >> 32;
  const b0 = mb & 0xffff_ffff, b1 = mb >> 32;
  const p00 = a0 * b0;
  const p01 = a0 * b1; // < 2^53
  const p10 = a1 * b0; // < 2^53
  const p11 = a1 * b1; // < 2^42
  const c1 = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
  const c2 = (c1 >> 32) + (p01 >> 32) + (p10 >> 32) + p11; // < 2^43
  // The 106-bit product's digits: p00's low half, c1's low half, c2's low half, c2's high half.
  const sh = <u64>(bit & 31);
  const p = acc + (<usize>(bit >> 5) << 3);
  const v0 = (p00 & 0xffff_ffff) << sh;
  const v1 = (c1 & 0xffff_ffff) << sh;
  const v2 = (c2 & 0xffff_ffff) << sh;
  const v3 = (c2 >> 32) << sh;
  const e0 = <i64>(v0 & 0xffff_ffff);
  const e1 = <i64>((v0 >> 32) + (v1 & 0xffff_ffff));
  const e2 = <i64>((v1 >> 32) + (v2 & 0xffff_ffff));
  const e3 = <i64>((v2 >> 32) + (v3 & 0xffff_ffff));
  const e4 = <i64>(v3 >> 32);
  if (neg) {
    store<i64>(p, load<i64>(p) - e0);
    store<i64>(p + 8, load<i64>(p + 8) - e1);
    store<i64>(p + 16, load<i64>(p + 16) - e2);
    store<i64>(p + 24, load<i64>(p + 24) - e3);
    store<i64>(p + 32, load<i64>(p + 32) - e4);
  } else {
    store<i64>(p, load<i64>(p) + e0);
    store<i64>(p + 8, load<i64>(p + 8) + e1);
    store<i64>(p + 16, load<i64>(p + 16) + e2);
    store<i64>(p + 24, load<i64>(p + 24) + e3);
    store<i64>(p + 32, load<i64>(p + 32) + e4);
  }
}

// Per point scratch: each column's significand, exponent offset (e + 524 ≥ 32) and sign.
const colM: usize = memory.data((MAX_K + 2) * 8, 8);
const colE: usize = memory.data((MAX_K + 2) * 4, 4);
const colNeg: usize = memory.data((MAX_K + 2) * 4, 4);

/** Splits v (accepted, non-zero) into column c's scratch. */
// @ts-ignore: decorator
@inline function split(c: i32, v: f64): void {
  const bits = reinterpret<u64>(v);
  store<u64>(colM + (<usize>c << 3), (bits & FRAC) | IMPLICIT);
  store<i32>(colE + (<usize>c << 2), (<i32>(bits >> 52) & 0x7ff) - 1075 + FACTOR_SHIFT);
  store<i32>(colNeg + (<usize>c << 2), <i32>(bits >> 63));
}

/** Adds the point in row `row` of the input buffer; returns whether it was accepted. */
export function addRowLinear(row: usize): bool {
  const c = K + 2; // the row holds K x's, y, w; scratch column j+1 is row value j
  const w = load<f64>(row + (<usize>(K + 1) << 3));
  if (w != 1.0 && w != -1.0) return false;
  for (let j = 0; j <= K; j++) if (!acceptable(load<f64>(row + (<usize>j << 3)))) return false;
  const wneg = w < 0;
  // non-zero columns, as scratch indices 1..K+1
  for (let j = 1; j < c; j++) {
    const v = load<f64>(row + (<usize>(j - 1) << 3));
    if (v == 0) {
      store<u64>(colM + (<usize>j << 3), 0);
      continue;
    }
    split(j, v);
  }
  for (let i = 1; i < c; i++) {
    const mi = load<u64>(colM + (<usize>i << 3));
    if (mi == 0) continue;
    const ei = load<i32>(colE + (<usize>i << 2));
    const ni = load<i32>(colNeg + (<usize>i << 2)) != 0;
    addSmall(statPtr(pairIndex(0, i, c) - 1), mi, ei, ni != wneg);
    for (let j = i; j < c; j++) {
      const mj = load<u64>(colM + (<usize>j << 3));
      if (mj == 0) continue;
      const nj = load<i32>(colNeg + (<usize>j << 2)) != 0;
      addProduct(statPtr(pairIndex(i, j, c) - 1), mi, mj, ei + load<i32>(colE + (<usize>j << 2)), (ni != nj) != wneg);
    }
  }
  return true;
}

// x^p significands as u32 digits: 53·2·MAX_DEGREE bits at most, plus y's 53.
const POWER_DIGITS: i32 = 48;
const power: usize = memory.data(POWER_DIGITS * 4, 8);
const powerY: usize = memory.data(POWER_DIGITS * 4, 8);

/** dst[0..n+2) = src[0..n) · m for m < 2^53; returns the new length (trimmed). */
function mulDigits(dst: usize, src: usize, n: i32, m: u64): i32 {
  const m0 = m & 0xffff_ffff;
  const m1 = m >> 32;
  let carry: u64 = 0;
  let prev: u64 = 0;
  for (let i = 0; i < n + 2; i++) {
    const ai: u64 = i < n ? <u64>load<u32>(src + (<usize>i << 2)) : 0;
    const lo = ai * m0;
    const hi = prev * m1;
    const s1 = (lo & 0xffff_ffff) + (hi & 0xffff_ffff) + (carry & 0xffff_ffff);
    const s2 = (lo >> 32) + (hi >> 32) + (carry >> 32) + (s1 >> 32);
    store<u32>(dst + (<usize>i << 2), <u32>s1);
    carry = s2;
    prev = ai;
  }
  let len = n + 2;
  while (len > 0 && load<u32>(dst + (<usize>(len - 1) << 2)) == 0) len--;
  return len;
}

/** Adds the point (x, y, w) of a polynomial model; returns whether it was accepted. */
export function addRowPolynomial(row: usize): bool {
  const x = load<f64>(row);
  const y = load<f64>(row, 8);
  const w = load<f64>(row, 16);
  if (w != 1.0 && w != -1.0) return false;
  if (!acceptable(x) || !acceptable(y)) return false;
  const wneg = w < 0;
  let my: u64 = 0, ey: i32 = 0, yneg = false;
  if (y != 0) {
    split(1, y);
    my = load<u64>(colM + 8);
    ey = load<i32>(colE + 4);
    yneg = load<i32>(colNeg + 4) != 0;
    addSmall(statPtr(2 * D), my, ey, yneg != wneg); // T_0 = Σ y
    addProduct(statPtr(3 * D + 1), my, my, 2 * ey, wneg); // U = Σ y²
  }
  if (x == 0) return true;
  split(0, x);
  const mx = load<u64>(colM);
  const ex = load<i32>(colE);
  const xneg = load<i32>(colNeg) != 0;
  // power = mx^p, starting at p = 1
  store<u32>(power, <u32>mx);
  store<u32>(power, <u32>(mx >> 32), 4);
  let len = 2;
  let src = power, dst = powerY;
  for (let p = 1; p <= 2 * D; p++) {
    const negP = xneg && (p & 1) == 1;
    addDigits(statPtr(p - 1), src, len, p * ex, negP != wneg);
    if (p <= D && my != 0) {
      const ylen = mulDigits(dst, src, len, my);
      addDigits(statPtr(2 * D + p), dst, ylen, p * ex + ey, (negP != yneg) != wneg);
    }
    if (p < 2 * D) {
      len = mulDigits(dst, src, len, mx);
      const t = src;
      src = dst;
      dst = t;
    }
  }
  return true;
}
