// Dekker's exact product: WebAssembly has no fused multiply-add, so the rounding error of a product is
// found by splitting each factor into two 26-bit halves (Veltkamp) whose partial products are exact.

/** 2^27 + 1: multiplying by it and subtracting splits a double into two halves of at most 26 bits. */
const SPLIT: f64 = 134217729.0;

/**
 * The rounding error of p = fl(a·b): a·b = p + productError(a, b, p) exactly, provided nothing overflows
 * (|a|, |b| below 2^995) and the error is not below the normal range.
 */
// @ts-ignore: decorator
@inline export function productError(a: f64, b: f64, p: f64): f64 {
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
