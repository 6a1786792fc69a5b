// Signed big integers of variable length for the model's exact solve, kept in one arena that is emptied
// at every fit. A number lives at a fixed address with room for `cap` digits:
//   [len: i32][sign: i32][cap: i32][pad][digits: u32 × cap]
// len counts the significant digits (none above digit len-1 is used; 0 for zero), sign is -1, 0 or 1.
// Digits are little endian, 32 bits each. Every operation is exact; results must fit the destination's
// room, which the solver sizes from the inputs (see solve.ts).

/** Bytes of the arena: room for the Gauss-Jordan tableau of the largest model on wide data. */
const ARENA_BYTES: i32 = 8 << 20;
const arena: usize = reserveArea(ARENA_BYTES);
let arenaTop: usize = arena;
let arenaFull: bool = false;

const HEAD: usize = 16;

/** Empties the arena (every number allocated so far is gone). */
export function arenaReset(): void {
  arenaTop = arena;
  arenaFull = false;
  lastDivisor = 0;
  lastOdd = 0;
}

/** Whether an allocation failed since the last reset (then results are not to be used). */
export function arenaOverflowed(): bool {
  return arenaFull;
}

/** A new zero with room for `cap` digits; a scratch zero when the arena is full (see arenaOverflowed). */
export function bigNew(cap: i32): usize {
  const bytes = (HEAD + (<usize>cap << 2) + 15) & ~<usize>15;
  if (arenaTop + bytes > arena + <usize>ARENA_BYTES) {
    arenaFull = true;
    arenaTop = arena; // keep going on overwritten memory; the caller discards the results
  }
  const p = arenaTop;
  arenaTop += bytes;
  store<i32>(p, 0);
  store<i32>(p, 0, 4);
  store<i32>(p, cap, 8);
  return p;
}

// @ts-ignore: decorator
@inline export function bigLen(p: usize): i32 {
  return load<i32>(p);
}
// @ts-ignore: decorator
@inline export function bigSign(p: usize): i32 {
  return load<i32>(p, 4);
}
// @ts-ignore: decorator
@inline export function bigCap(p: usize): i32 {
  return load<i32>(p, 8);
}
// @ts-ignore: decorator
@inline export function dig(p: usize, i: i32): u32 {
  return load<u32>(p + HEAD + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function setDig(p: usize, i: i32, v: u32): void {
  store<u32>(p + HEAD + (<usize>i << 2), v);
}
// @ts-ignore: decorator
@inline function setLen(p: usize, n: i32): void {
  store<i32>(p, n);
}
// @ts-ignore: decorator
@inline export function setSign(p: usize, s: i32): void {
  store<i32>(p, s, 4);
}

/** Drops leading zero digits; a zero gets sign 0. */
function trim(p: usize, n: i32): void {
  while (n > 0 && dig(p, n - 1) == 0) n--;
  setLen(p, n);
  if (n == 0) setSign(p, 0);
}

/** dst = 0. */
export function bigSetZero(dst: usize): void {
  setLen(dst, 0);
  setSign(dst, 0);
}

/** dst = v (any i64). */
export function bigSetI64(dst: usize, v: i64): void {
  const neg = v < 0;
  const m = neg ? <u64>(-v) : <u64>v; // -(-2^63) wraps to 2^63 as u64, which is right
  setDig(dst, 0, <u32>m);
  setDig(dst, 1, <u32>(m >> 32));
  setSign(dst, neg ? -1 : 1);
  trim(dst, 2);
}

/** dst = a (dst may be a). */
export function bigCopy(dst: usize, a: usize): void {
  if (dst == a) return;
  const n = bigLen(a);
  memory.copy(dst + HEAD, a + HEAD, <usize>n << 2);
  setLen(dst, n);
  setSign(dst, bigSign(a));
}

/** Whether a is zero. */
// @ts-ignore: decorator
@inline export function bigIsZero(a: usize): bool {
  return bigLen(a) == 0;
}

/** Number of significant bits of |a| (0 for zero). */
export function bigBits(a: usize): i32 {
  const n = bigLen(a);
  if (n == 0) return 0;
  return 32 * n - <i32>clz<u32>(dig(a, n - 1));
}

/** Number of trailing zero bits of |a| (-1 for zero). */
export function bigTrailingZeros(a: usize): i32 {
  const n = bigLen(a);
  for (let i = 0; i < n; i++) {
    const d = dig(a, i);
    if (d != 0) return 32 * i + <i32>ctz<u32>(d);
  }
  return -1;
}

/**
 * Loads a canonical fixed-point accumulator (`limbs` i64 slots, digits in [0, 2^32), top slot signed)
 * shifted right by `shift` bits, which must all be zero.
 */
export function bigFromAccumulator(dst: usize, acc: usize, limbs: i32, shift: i32): void {
  const negative = load<i64>(acc + (<usize>(limbs - 1) << 3)) < 0;
  // Two's complement digits → magnitude, read on the fly.
  const q = shift >> 5;
  const r = shift & 31;
  let borrowCarry: u64 = 1;
  let n = 0;
  // Magnitude digits come out in order; each output digit joins two of them.
  let mi: u64 = 0;
  let have = false;
  for (let i = 0; i < limbs; i++) {
    let d = <u64>load<i64>(acc + (<usize>i << 3)) & 0xffff_ffff;
    if (negative) {
      const t = (d ^ 0xffff_ffff) + borrowCarry;
      d = t & 0xffff_ffff;
      borrowCarry = t >> 32;
    }
    if (i < q) continue;
    if (!have) {
      mi = d;
      have = true;
      continue;
    }
    // output digit (i-1-q) = (m_{i-1} >> r) | (m_i << (32 - r))
    const out = r == 0 ? mi : ((mi >> r) | (d << (32 - r))) & 0xffff_ffff;
    setDig(dst, n++, <u32>out);
    mi = d;
  }
  if (have) setDig(dst, n++, <u32>(mi >> r));
  setSign(dst, negative ? -1 : 1);
  trim(dst, n);
}

/** Compares |a| with |b|: -1, 0 or 1. */
export function bigCmpAbs(a: usize, b: usize): i32 {
  const la = bigLen(a);
  const lb = bigLen(b);
  if (la != lb) return la < lb ? -1 : 1;
  for (let i = la - 1; i >= 0; i--) {
    const x = dig(a, i);
    const y = dig(b, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** |dst| = |a| + |b| (magnitudes; dst may alias a or b); sign left to the caller. */
function addMag(dst: usize, a: usize, b: usize): void {
  let la = bigLen(a);
  let lb = bigLen(b);
  if (la < lb) {
    const t = a;
    a = b;
    b = t;
    const u = la;
    la = lb;
    lb = u;
  }
  let carry: u64 = 0;
  for (let i = 0; i < la; i++) {
    const t = <u64>dig(a, i) + (i < lb ? <u64>dig(b, i) : 0) + carry;
    setDig(dst, i, <u32>t);
    carry = t >> 32;
  }
  let n = la;
  if (carry != 0) setDig(dst, n++, <u32>carry);
  setLen(dst, n);
}

/** |dst| = |a| - |b| for |a| ≥ |b| (dst may alias a or b). */
function subMag(dst: usize, a: usize, b: usize): void {
  const la = bigLen(a);
  const lb = bigLen(b);
  let borrow: i64 = 0;
  for (let i = 0; i < la; i++) {
    let t = <i64>dig(a, i) - (i < lb ? <i64>dig(b, i) : 0) - borrow;
    borrow = 0;
    if (t < 0) {
      t += 0x1_0000_0000;
      borrow = 1;
    }
    setDig(dst, i, <u32>t);
  }
  trim(dst, la);
}

/** dst = a + sb·b for sb = ±1 (dst may alias a or b). */
export function bigAddSigned(dst: usize, a: usize, b: usize, sb: i32): void {
  const sa = bigSign(a);
  const s2 = bigSign(b) * sb;
  if (s2 == 0) {
    bigCopy(dst, a);
    return;
  }
  if (sa == 0) {
    bigCopy(dst, b);
    setSign(dst, s2);
    return;
  }
  if (sa == s2) {
    addMag(dst, a, b);
    setSign(dst, sa);
    return;
  }
  const c = bigCmpAbs(a, b);
  if (c == 0) {
    bigSetZero(dst);
  } else if (c > 0) {
    subMag(dst, a, b);
    setSign(dst, sa);
  } else {
    subMag(dst, b, a);
    setSign(dst, s2);
  }
}

/** dst = a · b (dst must differ from a and b). */
export function bigMul(dst: usize, a: usize, b: usize): void {
  const la = bigLen(a);
  const lb = bigLen(b);
  if (la == 0 || lb == 0) {
    bigSetZero(dst);
    return;
  }
  const n = la + lb;
  memory.fill(dst + HEAD, 0, <usize>n << 2);
  for (let i = 0; i < la; i++) {
    const ai = <u64>dig(a, i);
    if (ai == 0) continue;
    let carry: u64 = 0;
    const base = dst + HEAD + (<usize>i << 2);
    const bp = b + HEAD;
    for (let j = 0; j < lb; j++) {
      const o = base + (<usize>j << 2);
      const t = ai * <u64>load<u32>(bp + (<usize>j << 2)) + <u64>load<u32>(o) + carry;
      store<u32>(o, <u32>t);
      carry = t >> 32;
    }
    store<u32>(base + (<usize>lb << 2), <u32>carry);
  }
  setSign(dst, bigSign(a) * bigSign(b));
  trim(dst, n);
}

/** dst = a · m for 0 ≤ m < 2^64 (dst may alias a); sign of a. */
export function bigMulU64(dst: usize, a: usize, m: u64): void {
  const la = bigLen(a);
  if (la == 0 || m == 0) {
    bigSetZero(dst);
    return;
  }
  const sign = bigSign(a);
  const m0 = m & 0xffff_ffff;
  const m1 = m >> 32;
  // a·m0 + (a·m1 << 32), one pass: digit i of the result gets a_i·m0 + a_{i-1}·m1 + carry (< 2^65, so
  // two carries are kept).
  let carry: u64 = 0;
  let prev: u64 = 0; // a_{i-1}
  for (let i = 0; i <= la + 1; i++) {
    const ai: u64 = i < la ? <u64>dig(a, i) : 0;
    const lo = ai * m0;
    const hi = prev * m1;
    // sum = lo + hi + carry, may exceed 2^64: split.
    const s1 = (lo & 0xffff_ffff) + (hi & 0xffff_ffff) + (carry & 0xffff_ffff);
    const s2 = (lo >> 32) + (hi >> 32) + (carry >> 32) + (s1 >> 32);
    setDig(dst, i, <u32>s1);
    carry = s2;
    prev = ai;
  }
  setSign(dst, sign);
  trim(dst, la + 2);
}

/** dst = a · 2^bits (bits ≥ 0; dst must differ from a). */
export function bigShl(dst: usize, a: usize, bits: i32): void {
  const la = bigLen(a);
  if (la == 0) {
    bigSetZero(dst);
    return;
  }
  const q = bits >> 5;
  const r = bits & 31;
  memory.fill(dst + HEAD, 0, <usize>q << 2);
  let carry: u32 = 0;
  for (let i = 0; i < la; i++) {
    const v = <u64>dig(a, i) << r;
    setDig(dst, i + q, <u32>v | carry);
    carry = <u32>(v >> 32);
  }
  setDig(dst, la + q, carry);
  setSign(dst, bigSign(a));
  trim(dst, la + q + 1);
}

/** dst = a / 2^bits, exactly (the bits shifted out must be zero; dst may alias a). */
export function bigShrExact(dst: usize, a: usize, bits: i32): void {
  const la = bigLen(a);
  const q = bits >> 5;
  const r = bits & 31;
  if (la <= q) {
    bigSetZero(dst);
    return;
  }
  const sign = bigSign(a);
  const n = la - q;
  for (let i = 0; i < n; i++) {
    const lo = <u64>dig(a, i + q);
    const hi: u64 = i + q + 1 < la ? <u64>dig(a, i + q + 1) : 0;
    setDig(dst, i, <u32>(((hi << 32) | lo) >> r));
  }
  setSign(dst, sign);
  trim(dst, n);
}

/** The inverse of the odd d modulo 2^32. */
function inverse32(d: u32): u32 {
  let x: u32 = d; // correct to 3 bits for odd d
  for (let i = 0; i < 5; i++) x = x * (2 - d * x);
  return x;
}

// The last divisor's odd part, shift and inverse, kept while the same divisor comes again (the elimination
// divides many entries by one pivot). Forgotten at every arena reset.
let lastDivisor: usize = 0;
let lastOdd: usize = 0;
let lastShift: i32 = 0;
let lastInverse: u32 = 0;

/**
 * dst = a / b when b divides a exactly (b ≠ 0). `a` is overwritten (it holds the remainder as the
 * division goes, so it needs room for one more digit); `oddB` is scratch with room for b's digits. dst
 * must differ from a. b must not change while it is used as a divisor (pivots do not).
 * Division from the low end (Jebelean): with b odd, each quotient digit is a digit of the remainder times
 * b's inverse modulo 2^32.
 */
export function bigDivExact(dst: usize, a: usize, b: usize, oddB: usize): void {
  if (bigLen(a) == 0) {
    bigSetZero(dst);
    return;
  }
  const sign = bigSign(a) * bigSign(b);
  if (lastDivisor != b || lastOdd != oddB) {
    lastShift = bigTrailingZeros(b);
    bigShrExact(oddB, b, lastShift);
    lastInverse = inverse32(dig(oddB, 0));
    lastDivisor = b;
    lastOdd = oddB;
  }
  const work = a;
  bigShrExact(work, a, lastShift);
  const lb = bigLen(oddB);
  const lr = bigLen(work);
  const nq = lr - lb + 1;
  if (nq <= 0) {
    bigSetZero(dst);
    return;
  }
  const inv = lastInverse;
  setDig(work, lr, 0);
  const ob = oddB + HEAD;
  for (let i = 0; i < nq; i++) {
    const qi = dig(work, i) * inv;
    setDig(dst, i, qi);
    if (qi == 0) continue;
    // work -= qi · oddB · 2^(32 i), from digit i up
    let borrow: u64 = 0; // amount to subtract at the next digit
    const q64 = <u64>qi;
    const wp = work + HEAD + (<usize>i << 2);
    let j = 0;
    for (; j < lb; j++) {
      const t = q64 * <u64>load<u32>(ob + (<usize>j << 2)) + borrow; // < 2^64
      const o = wp + (<usize>j << 2);
      const cur = <u64>load<u32>(o);
      const lo = t & 0xffff_ffff;
      borrow = (t >> 32) + <u64>(cur < lo);
      store<u32>(o, <u32>(cur - lo));
    }
    for (let k = i + j; borrow != 0 && k <= lr; k++) {
      const cur = <u64>dig(work, k);
      setDig(work, k, <u32>(cur - borrow));
      borrow = cur < borrow ? 1 : 0;
    }
  }
  setSign(dst, sign);
  trim(dst, nq);
}

/**
 * |a| ≈ f · 2^e with f a double holding the top 64 bits of |a| rounded (relative error below 2^-52);
 * returns f and sets approxExponent to e. |a| must be non-zero.
 */
export let approxExponent: i32 = 0;
export function bigApprox(a: usize): f64 {
  const n = bigLen(a);
  const top = <u64>dig(a, n - 1);
  const second: u64 = n >= 2 ? <u64>dig(a, n - 2) : 0;
  const third: u64 = n >= 3 ? <u64>dig(a, n - 3) : 0;
  // top 96 bits as top·2^64 + second·2^32 + third, scaled to 2^(32(n-3))
  const f = <f64>top * 18446744073709551616.0 + (<f64>second * 4294967296.0 + <f64>third);
  approxExponent = 32 * (n - 3);
  return f;
}
import { reserveArea } from "./heap";
