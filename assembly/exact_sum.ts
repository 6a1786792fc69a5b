// Exact accumulation of doubles: every term is added without any rounding, so a sum does not depend on
// the order of its terms, on how they were split into batches, or on retractions (adding -t undoes +t).
//
// Two stages, after R. M. Neal, "Fast exact summation using small and large superaccumulators" (2015):
//  1. The "large" stage: one 64-bit integer per sign and binary exponent. A term ±m·2^(e-1075) (53-bit
//     integer significand m, biased exponent e) adds m to the slot named by its top 12 bits (sign and e):
//     a few integer operations, no branch. A slot holds 1024 such additions safely (m < 2^53, so the
//     sum stays below 2^63), so the table is folded into stage 2 (positive slot minus negative slot)
//     at the latest every FLUSH_TERMS points it takes.
//  2. The "small" stage: a fixed-point integer of LIMBS 32-bit digits (kept in i64 slots, so carries can be
//     deferred) with its lowest bit worth 2^-BASE_SHIFT. It covers every value a product of two accepted
//     inputs can produce (see index.ts for the accepted magnitude range).
// The scalar path (scalar_path.ts) adds its terms to stage 1. The block kernel (split_block.ts) adds a
// few already exact block sums per 1024 points straight to stage 2 (addExact, addProduct).
//
// Each statistic (Σx, Σy, Σx², Σxy, Σy², and later the entries of XᵀX and Xᵀy) has a slot table and a
// fixed-point accumulator; statistics are numbered, so adding more explanatory variables adds statistics.

import { productError } from "./two_product";

/** Number of statistics kept (Σx, Σy, Σx², Σxy, Σy²). */
export const NSTAT: i32 = 5;
/** Digits of the fixed-point accumulator. */
export const LIMBS: i32 = 72;
/** The fixed-point accumulator's lowest bit is 2^-BASE_SHIFT. */
export const BASE_SHIFT: i32 = 1088;
/** Points per fold of the slot tables: each point adds at most one term to a given slot. */
export const FLUSH_TERMS: i32 = 1024;

const SLOTS: i32 = 4096; // 2048 exponents × 2 signs
const EXPONENTS: i32 = 2048;
const FRAC: u64 = 0x000f_ffff_ffff_ffff;
const IMPLICIT: u64 = 0x0010_0000_0000_0000;

// Slot tables: NSTAT × SLOTS i64.
const tables: usize = memory.data(NSTAT * SLOTS * 8, 16);
// The range of slots that may be non-zero since the last fold, per statistic: [lo, hi] as two i32.
const ranges: usize = memory.data(NSTAT * 8, 8);
// Fixed-point accumulators: NSTAT × LIMBS i64, canonical (digits < 2^32, top digit signed) after a fold.
const fixed: usize = memory.data(NSTAT * LIMBS * 8, 16);

let pendingPoints: i32 = 0;

/** Address of statistic s's fixed-point digits. */
// @ts-ignore: decorator
@inline export function fixedPtr(s: i32): usize {
  return fixed + <usize>(s * LIMBS) * 8;
}

/**
 * Adds the double t exactly to statistic s's slot table: its significand (with the implicit bit) goes to
 * the slot named by its top 12 bits, sign and exponent. Zeros land in slots 0 and 2048, which never hold an
 * accepted term and are emptied at every fold, so no branch is needed for them.
 */
// @ts-ignore: decorator
@inline export function addTerm(s: i32, t: f64): void {
  const bits = reinterpret<u64>(t);
  const slot = tables + (<usize>(s * SLOTS + <i32>(bits >> 52)) << 3);
  store<i64>(slot, load<i64>(slot) + <i64>((bits & FRAC) | IMPLICIT));
}

/**
 * Widens statistic s's slot range to [lo, hi] (clamped to the table). The caller derives the range from
 * the exponents of the inputs, so a fold scans only slots that can be non-zero.
 */
export function widenRange(s: i32, lo: i32, hi: i32): void {
  if (lo < 1) lo = 1;
  if (hi > EXPONENTS - 1) hi = EXPONENTS - 1;
  if (lo > hi) return;
  const p = ranges + (<usize>s << 3);
  const curLo = load<i32>(p);
  const curHi = load<i32>(p + 4);
  if (curLo > curHi) {
    store<i32>(p, lo);
    store<i32>(p + 4, hi);
    return;
  }
  if (lo < curLo) store<i32>(p, lo);
  if (hi > curHi) store<i32>(p + 4, hi);
}

function emptyRanges(): void {
  for (let s = 0; s < NSTAT; s++) {
    store<i32>(ranges + (<usize>s << 3), EXPONENTS);
    store<i32>(ranges + (<usize>s << 3) + 4, 0);
  }
}

/** Must be called before a chunk of `points` points is added: folds the tables if they could overflow. */
export function reserve(points: i32): void {
  if (pendingPoints + points > FLUSH_TERMS) fold();
  pendingPoints += points;
}

/** Whether reserve(points) would fold first (the caller records its slot ranges before that). */
export function reserveFolds(points: i32): bool {
  return pendingPoints + points > FLUSH_TERMS;
}

/** Adds the 64-bit signed integer v, shifted left by `bit` bits, to a fixed-point accumulator. */
// @ts-ignore: decorator
@inline function addShifted(acc: usize, v: i64, bit: i32): void {
  const k = bit >> 5;
  const sh = bit & 31;
  const lo = v << sh;
  const hi = (v >> 32) >> (32 - sh); // v >> (64 - sh), and the sign when sh = 0
  const p = acc + (<usize>k << 3);
  store<i64>(p, load<i64>(p) + <i64>(<u64>lo & 0xffff_ffff));
  store<i64>(p + 8, load<i64>(p + 8) + <i64>(<u64>lo >> 32));
  store<i64>(p + 16, load<i64>(p + 16) + hi);
}

/** Statistics whose fixed-point digits took addExact terms since the last fold (bit s for statistic s). */
let dirty: i32 = 0;
/** addExact terms since the digits were last normalized. */
let directTerms: i32 = 0;
// A term adds less than 2^32 to each of three digits, so 2^24 terms keep every digit below 2^57.
const DIRECT_TERMS_MAX: i32 = 1 << 24;

/**
 * Adds the finite double t exactly to statistic s's fixed-point accumulator, bypassing the slot table:
 * for the block kernel's few, already summed terms. fold() or settleExact() propagates the carries.
 */
// @ts-ignore: decorator
@inline export function addExact(s: i32, t: f64): void {
  const bits = reinterpret<u64>(t);
  const e = <i32>(bits >> 52) & 0x7ff;
  const neg = <i64>bits >> 63; // 0 or -1
  // The significand, with its implicit bit unless t is 0 or subnormal (e = 0), without a branch.
  const m = <i64>((bits & FRAC) | (IMPLICIT & -<u64>(e != 0)));
  // ±m·2^(max(e,1)-1075) in the accumulator's unit 2^-BASE_SHIFT: shift left by that exponent + BASE_SHIFT.
  addShifted(fixedPtr(s), (m ^ neg) - neg, max(e, 1) - 1075 + BASE_SHIFT);
  dirty |= 1 << s;
  directTerms++;
}

/** Propagates the carries of addExact terms when enough have come: call now and then, e.g. per block. */
export function settleExact(): void {
  if (directTerms < DIRECT_TERMS_MAX) return;
  for (let s = 0; s < NSTAT; s++) if (dirty & (1 << s)) normalize(fixedPtr(s));
  dirty = 0;
  directTerms = 0;
}

/**
 * Adds the product a·b exactly to statistic s: a·b = p + e with both doubles (two_product.ts), and each
 * goes in by addExact. |a|, |b| must stay below 2^995 and e above 2^-1022, which the block kernel's
 * anchors and sums do.
 */
export function addProduct(s: i32, a: f64, b: f64): void {
  const p = a * b;
  addExact(s, p);
  addExact(s, productError(a, b, p));
}

/** Propagates carries so every digit is in [0, 2^32) and the top digit carries the sign. */
export function normalize(acc: usize): void {
  let carry: i64 = 0;
  for (let i = 0; i < LIMBS - 1; i++) {
    const p = acc + (<usize>i << 3);
    const t = load<i64>(p) + carry;
    store<i64>(p, t & 0xffff_ffff);
    carry = t >> 32;
  }
  const top = acc + (<usize>(LIMBS - 1) << 3);
  store<i64>(top, load<i64>(top) + carry);
}

/** Moves every slot table into its fixed-point accumulator, exactly, and empties the tables. */
export function fold(): void {
  for (let s = 0; s < NSTAT; s++) {
    const base = tables + (<usize>(s * SLOTS) << 3);
    store<i64>(base, 0); // slots 0 and 2048: zeros only, see addTerm
    store<i64>(base + (<usize>EXPONENTS << 3), 0);
    const lo = load<i32>(ranges + (<usize>s << 3));
    const hi = load<i32>(ranges + (<usize>s << 3) + 4);
    if (lo > hi) {
      if (dirty & (1 << s)) normalize(fixedPtr(s));
      continue;
    }
    const acc = fixedPtr(s);
    for (let e = max(lo, 1); e <= hi; e++) {
      const pos = base + (<usize>e << 3);
      const neg = pos + (<usize>EXPONENTS << 3);
      const v = load<i64>(pos) - load<i64>(neg); // each below 2^63, so the difference fits
      store<i64>(pos, 0);
      store<i64>(neg, 0);
      if (v == 0) continue;
      // v·2^(e-1075) in the accumulator's unit 2^-BASE_SHIFT: shift left by e - 1075 + BASE_SHIFT.
      addShifted(acc, v, e - 1075 + BASE_SHIFT);
    }
    normalize(acc);
  }
  emptyRanges();
  pendingPoints = 0;
  dirty = 0;
  directTerms = 0;
}

/** Marks the accumulators settled: for a caller that has just normalized every one it wrote (load_sums). */
export function markSettled(): void {
  dirty = 0;
  directTerms = 0;
}

/** Forgets everything. */
export function clearAll(): void {
  memory.fill(tables, 0, <usize>(NSTAT * SLOTS * 8));
  emptyRanges();
  memory.fill(fixed, 0, <usize>(NSTAT * LIMBS * 8));
  pendingPoints = 0;
  dirty = 0;
  directTerms = 0;
}
