// Correctly rounded quotient of two big integers: a double-double estimate, then, only when the estimate
// lies too close to a rounding boundary to decide, an exact comparison with the boundary.

import { bigApprox, bigBuffer, bigCmp, bigFromU64, bigMul, bigShl, ldexp, pow2 } from "./bignum";
import { productError } from "./two_product";

const approxA: usize = memory.data(16, 8);
const approxB: usize = memory.data(16, 8);
const bigM: usize = bigBuffer();
const bigT: usize = bigBuffer();
const bigU: usize = bigBuffer();


/**
 * Compares the exact quotient a/b with m·2^e (m < 2^55): -1, 0 or 1. Uses scratch buffers only.
 */
function compareQuotient(a: usize, b: usize, m: u64, e: i32): i32 {
  bigFromU64(bigM, m);
  bigMul(bigT, b, bigM); // T = m·b
  if (e >= 0) {
    bigShl(bigU, bigT, e); // compare a with T·2^e
    return bigCmp(a, bigU);
  }
  bigShl(bigU, a, -e); // compare a·2^-e with T
  return bigCmp(bigU, bigT);
}

/**
 * The double nearest to a/b (ties to even) for non-zero magnitudes a and b (MAG-digit buffers).
 * Exact for every normal result; a result in the subnormal range may be off by one unit.
 */
export function divideRounded(a: usize, b: usize): f64 {
  const la = bigApprox(a, approxA);
  const lb = bigApprox(b, approxB);
  const ah = load<f64>(approxA);
  const al = load<f64>(approxA + 8);
  const bh = load<f64>(approxB);
  const bl = load<f64>(approxB + 8);

  // Double-double division: qh + ql ≈ (ah + al) / (bh + bl) with relative error about 2^-100.
  const qh = ah / bh;
  const p = qh * bh;
  const pe = productError(qh, bh, p); // qh·bh = p + pe exactly
  const r = (((ah - p) - pe) + al) - qh * bl;
  const ql = r / bh;

  const rs = qh + ql;
  const err = (qh - rs) + ql; // (qh + ql) - rs
  const k = 32 * (la - lb);
  let result = ldexp(rs, k);
  if (!isFinite(result) || result == 0) return result;

  // Decide the rounding exactly when |err| is within 2^-40 ulp of half an ulp of rs.
  const bits = reinterpret<u64>(rs);
  const ulp = reinterpret<f64>(bits + 1) - rs;
  const distance = abs(abs(err) - 0.5 * ulp);
  if (distance > ulp * pow2(-40) || err == 0) return result;

  const rbits = reinterpret<u64>(result);
  const be = <i32>(rbits >> 52);
  if (be == 0) return result; // subnormal: not decided exactly
  const mant = (rbits & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
  if (err > 0) {
    // Boundary between result and the next double up: (2·mant + 1)·2^(be - 1076).
    const cmp = compareQuotient(a, b, 2 * mant + 1, be - 1076);
    if (cmp > 0 || (cmp == 0 && (mant & 1) == 1)) result = reinterpret<f64>(rbits + 1);
  } else {
    // Boundary with the next double down; below a power of two the spacing halves.
    const atPower = (mant & 0x000f_ffff_ffff_ffff) == 0 && be > 1;
    const cmp = atPower
      ? compareQuotient(a, b, 4 * mant - 1, be - 1077)
      : compareQuotient(a, b, 2 * mant - 1, be - 1076);
    if (cmp < 0 || (cmp == 0 && (mant & 1) == 1)) result = reinterpret<f64>(rbits - 1);
  }
  return result;
}
