// Sparse records of the model's exact sums: one model core serves many keys (or windows, or panes), each
// kept outside the core as a record that holds only the digits in use. See docs/numerics.md, "The model
// ABI".
//
//   model_sparse_ptr(), model_sparse_capacity()   the scratch area records pass through
//   model_save_sparse() → bytes of the record of the sums held now (0 when not configured, -1 when a
//                          statistic does not fit the layout)
//   model_load_sparse(n) → 0 | error: the sums become the n-byte record's (the refused count 0)
//   model_add_sparse(n, sign) → 0 | error: adds (sign 1) or subtracts (-1) the record to the sums held
//
// Layout (little endian): u32 shape (k | degree << 8 | intercept << 16 | 0x53 << 24), u32 statistics,
// i64 net count, then per statistic u16 low, u16 length | negative << 15, and length u32 digits. The
// statistic's value is Σ_i digit_i·2^(32(low + i)) − negative·2^(32(low + length)): the digits below low
// are 0 and those above low + length the sign's extension, as in the normalized accumulator (all digits in
// [0, 2^32), the top one signed). Error codes: 1 wrong size, 2 another model (shape or statistics), 5 a
// statistic's digits outside its accumulator.

import { reserveArea } from "./heap";
import {
  countPoints,
  inputColumns,
  isConfigured,
  makeRoom,
  modelDegree,
  modelIntercept,
  netPoints,
  normalizeAll,
  setCounts,
  statCount,
  statDigits,
  statPtr,
  clearSums,
} from "./accumulate";

const HEADER: i32 = 16;
// Statistics at most (22·23/2) and digits at most (the accumulators' 2^17), 4 bytes each.
const SPARSE_CAPACITY: i32 = HEADER + 253 * 4 + (1 << 17) * 4;
const sparseArea: usize = reserveArea(SPARSE_CAPACITY);
const TWO32: i64 = 0x1_0000_0000;

function shape(): u32 {
  return (<u32>inputColumns()) | (<u32>modelDegree() << 8) | ((modelIntercept() ? 1 : 0) << 16) | (0x53 << 24);
}

/** Address of the record scratch area (model_sparse_capacity() bytes). */
export function model_sparse_ptr(): usize {
  return sparseArea;
}

/** Bytes the record scratch area holds. */
export function model_sparse_capacity(): i32 {
  return SPARSE_CAPACITY;
}

/** Writes the record of the sums held now into the scratch area; returns its size in bytes. */
export function model_save_sparse(): i32 {
  if (!isConfigured()) return 0;
  normalizeAll();
  store<u32>(sparseArea, shape());
  store<u32>(sparseArea, <u32>statCount(), 4);
  store<i64>(sparseArea, netPoints(), 8);
  let at = sparseArea + HEADER;
  for (let s = 0; s < statCount(); s++) {
    const acc = statPtr(s);
    const n = statDigits(s);
    const top = load<i64>(acc + (<usize>(n - 1) << 3));
    const neg = top < 0;
    const ext: i64 = neg ? 0xffff_ffff : 0;
    // end: one past the highest digit that is not the sign's extension
    let end = n;
    if (top == (neg ? -1 : 0)) {
      end = n - 1;
      while (end > 0 && load<i64>(acc + (<usize>(end - 1) << 3)) == ext) end--;
    } else if (top < -TWO32 || top >= TWO32) return -1;
    let low = 0;
    while (low < end && load<i64>(acc + (<usize>low << 3)) == 0) low++;
    const length = end - low;
    store<u16>(at, <u16>low);
    store<u16>(at, <u16>(length | (neg ? 0x8000 : 0)), 2);
    at += 4;
    for (let i = 0; i < length; i++) {
      store<u32>(at + (<usize>i << 2), <u32>load<i64>(acc + (<usize>(low + i) << 3)));
    }
    at += <usize>length << 2;
  }
  return <i32>(at - sparseArea);
}

/** Checks the n-byte record in the scratch area against the model; 0 or an error code. */
function check(n: i32): i32 {
  if (n < HEADER || n > SPARSE_CAPACITY) return 1;
  if (load<u32>(sparseArea) != shape() || load<u32>(sparseArea, 4) != <u32>statCount()) return 2;
  let at = HEADER;
  for (let s = 0; s < statCount(); s++) {
    if (at + 4 > n) return 1;
    const low = <i32>load<u16>(sparseArea + at);
    const length = <i32>(load<u16>(sparseArea + at, 2) & 0x7fff);
    if (low + length > statDigits(s)) return 5;
    at += 4 + (length << 2);
  }
  return at == n ? 0 : 1;
}

/** Adds sign (1 or -1) times the checked record in the scratch area to the sums. */
function addRecord(sign: i64): void {
  makeRoom(1); // a record adds less than 2^33 to a digit, as a point does
  countPoints(sign * load<i64>(sparseArea, 8), 0);
  let at = sparseArea + HEADER;
  for (let s = 0; s < statCount(); s++) {
    const acc = statPtr(s);
    const n = statDigits(s);
    const low = <i32>load<u16>(at);
    const word = <i32>load<u16>(at, 2);
    const length = word & 0x7fff;
    at += 4;
    for (let i = 0; i < length; i++) {
      const p = acc + (<usize>(low + i) << 3);
      store<i64>(p, load<i64>(p) + sign * <i64>load<u32>(at + (<usize>i << 2)));
    }
    at += <usize>length << 2;
    if ((word & 0x8000) != 0) {
      const end = low + length;
      if (end < n) {
        const p = acc + (<usize>end << 3);
        store<i64>(p, load<i64>(p) - sign);
      } else {
        const p = acc + (<usize>(n - 1) << 3);
        store<i64>(p, load<i64>(p) - sign * TWO32);
      }
    }
  }
}

/**
 * Replaces the sums by the n-byte record in the scratch area (the refused count becomes 0). Returns 0, or
 * an error code (see the header) and changes nothing.
 */
export function model_load_sparse(n: i32): i32 {
  if (!isConfigured()) return 2;
  const code = check(n);
  if (code != 0) return code;
  clearSums();
  addRecord(1);
  setCounts(load<i64>(sparseArea, 8), 0);
  return 0;
}

/**
 * Adds (sign 1) or subtracts (sign -1) the n-byte record in the scratch area to the sums held. Returns 0,
 * or an error code (see the header) and changes nothing.
 */
export function model_add_sparse(n: i32, sign: i32): i32 {
  if (!isConfigured()) return 2;
  if (sign != 1 && sign != -1) return 1;
  const code = check(n);
  if (code != 0) return code;
  addRecord(<i64>sign);
  return 0;
}
