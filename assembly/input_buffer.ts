// The input buffer the host fills before add(n), retract(n) or update(n): x[CAPACITY], y[CAPACITY] and
// w[CAPACITY] as consecutive Float64 arrays, 16-byte aligned so that pairs load as one f64x2.

/** Points per call. */
export const CAPACITY: i32 = 4096;
/** Address of x[0]; y and w follow, CAPACITY doubles each. */
export const inX: usize = memory.data(3 * CAPACITY * 8, 16);
/** Address of y[0]. */
export const inY: usize = inX + <usize>CAPACITY * 8;
/** Address of w[0]. */
export const inW: usize = inX + <usize>CAPACITY * 16;

const ABS: u64 = 0x7fff_ffff_ffff_ffff;
/** Smallest accepted non-zero magnitude, 2^-440, as bits. */
export const MIN_BITS: u64 = <u64>(1023 - 440) << 52;
/** Largest accepted magnitude, 2^440, as bits. */
export const MAX_BITS: u64 = <u64>(1023 + 440) << 52;

/** Whether v is accepted: 0, or 2^-440 ≤ |v| ≤ 2^440 (so NaN and ±Inf are not). */
// @ts-ignore: decorator
@inline export function acceptable(v: f64): bool {
  const a = reinterpret<u64>(v) & ABS;
  return a == 0 || a - MIN_BITS <= MAX_BITS - MIN_BITS;
}
