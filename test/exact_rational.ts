/**
 * Exact rationals of BigInts, and their one-time rounding to doubles: a double as an exact dyadic
 * rational ({@linkcode toDyadic}), the double nearest to p/q ({@linkcode roundRational}) and the double
 * nearest to √(p/q) ({@linkcode sqrtRational}), both round to nearest, ties to even, over the whole double
 * range (normal, subnormal and overflowing results). Slow, simple and independent of the WASM core: the
 * yardstick of the tests.
 *
 * @example
 * ```ts
 * import { roundRational, sqrtRational } from "./exact_rational.ts";
 * roundRational(1n, 3n); // 0.3333333333333333
 * sqrtRational(2n, 1n); // 1.4142135623730951
 * ```
 * @module
 */

const view = new DataView(new ArrayBuffer(8));
const TWO52 = 1n << 52n;

/** A finite double as m · 2^e, with m an odd integer (or m = 0, then e = 0). */
export interface Dyadic {
  /** The odd integer mantissa (signed), or 0n. */
  readonly m: bigint;
  /** The exponent of two. */
  readonly e: number;
}

/**
 * A finite double as m · 2^e exactly, with m odd (or 0): the smallest integer mantissa, so that sums and
 * products of such values stay as short as they can. Throws a RangeError for NaN and ±Infinity.
 *
 * @example
 * ```ts
 * toDyadic(0.75); // { m: 3n, e: -2 }
 * toDyadic(-96); // { m: -3n, e: 5 }
 * toDyadic(0); // { m: 0n, e: 0 }
 * ```
 */
export function toDyadic(d: number): Dyadic {
  if (!Number.isFinite(d)) throw new RangeError(`not a finite double: ${d}`);
  if (d === 0) return { m: 0n, e: 0 };
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let m = bits & (TWO52 - 1n);
  if (biased !== 0) m |= TWO52;
  let e = (biased === 0 ? 1 : biased) - 1075;
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { m: bits >> 63n ? -m : m, e };
}

/**
 * The number of bits of |v| (0 for 0).
 *
 * @example
 * ```ts
 * bitLength(255n); // 8
 * bitLength(-256n); // 9
 * ```
 */
export function bitLength(v: bigint): number {
  if (v < 0n) v = -v;
  if (v === 0n) return 0;
  const hex = v.toString(16);
  return 4 * hex.length - (Math.clz32(parseInt(hex[0], 16)) - 28);
}

/** Compares l with r · 2^s (exactly): -1, 0 or 1. */
function compareScaled(l: bigint, r: bigint, s: number): number {
  const [a, b] = s >= 0 ? [l, r << BigInt(s)] : [l << BigInt(-s), r];
  return a < b ? -1 : a > b ? 1 : 0;
}

/** floor(a / (d · 2^s)) for a ≥ 0, d > 0. */
function floorScaled(a: bigint, d: bigint, s: number): bigint {
  return s >= 0 ? a / (d << BigInt(s)) : (a << BigInt(-s)) / d;
}

/**
 * The double m · 2^u (with its sign), where m ≤ 2^53 and either m ≥ 2^52 or u = -1074 (subnormal);
 * ±Infinity when it is beyond the largest double.
 */
function compose(negative: boolean, m: bigint, u: number): number {
  let bits: bigint;
  if (m >= TWO52) {
    if (m === TWO52 << 1n) {
      m = TWO52;
      u++;
    }
    const biased = u + 1075;
    bits = biased >= 2047 ? 0x7ffn << 52n : (BigInt(biased) << 52n) | (m - TWO52);
  } else {
    if (u !== -1074) throw new Error(`internal: unnormalised mantissa ${m} at 2^${u}`);
    bits = m; // subnormal, or 2^52 · 2^-1074 = the least normal, whose bits are the same
  }
  view.setBigUint64(0, negative ? bits | (1n << 63n) : bits);
  return view.getFloat64(0);
}

/**
 * The double nearest to num / den, ties to even; den may be negative, never 0 (RangeError). Correct over
 * the whole range: results below 2^-1022 are rounded to the subnormal grid (units of 2^-1074, so values
 * up to 2^-1075 become ±0, and exactly 2^-1075 becomes ±0 by ties to even), and results of 2^1024 or more
 * after rounding become ±Infinity — what IEEE 754 division of the two values would give. A negative value
 * that rounds to zero gives -0.
 *
 * @example
 * ```ts
 * roundRational(1n, 3n); // 0.3333333333333333
 * roundRational(-2n, 3n); // -0.6666666666666666
 * roundRational((1n << 53n) + 1n, 1n); // 9007199254740992 (a tie: to the even mantissa)
 * roundRational(1n, 1n << 1074n); // 5e-324
 * ```
 */
export function roundRational(num: bigint, den: bigint): number {
  if (den === 0n) throw new RangeError("roundRational: the denominator is 0");
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  if (num === 0n) return 0;
  const negative = num < 0n;
  const a = negative ? -num : num;
  // Find k with a / den / 2^k in [2^53, 2^54): the value written with 54 bits.
  let k = bitLength(a) - bitLength(den) - 54;
  while (floorScaled(a, den, k) >= 1n << 54n) k++;
  while (floorScaled(a, den, k) < 1n << 53n) k--;
  // The result's unit in the last place: 2^(k+1) (53 bits), or the subnormal unit 2^-1074.
  const u = Math.max(k + 1, -1074);
  let m = floorScaled(a, den, u);
  // Round up when a/den lies above the midpoint (m + 1/2) · 2^u, or on it with m odd.
  const c = compareScaled(2n * a, (2n * m + 1n) * den, u);
  if (c > 0 || (c === 0 && (m & 1n) === 1n)) m++;
  return compose(negative, m, u);
}

/**
 * The integer square root: floor(√n), n ≥ 0.
 *
 * @example
 * ```ts
 * isqrt(99n); // 9n
 * isqrt(100n); // 10n
 * ```
 */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  // Newton's iteration from above: x_{i+1} = (x_i + n / x_i) / 2 decreases to floor(√n).
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * The double nearest to √(num / den), ties to even (a tie happens only when num/den is the square of a
 * midpoint between two doubles); NaN when num / den < 0; den must not be 0 (RangeError). Correct over
 * the whole range like {@linkcode roundRational}: subnormal results are rounded on the 2^-1074 grid.
 *
 * @example
 * ```ts
 * sqrtRational(2n, 1n); // 1.4142135623730951 (= Math.sqrt(2))
 * sqrtRational(1n, 4n); // 0.5
 * sqrtRational(-1n, 4n); // NaN
 * ```
 */
export function sqrtRational(num: bigint, den: bigint): number {
  if (den === 0n) throw new RangeError("sqrtRational: the denominator is 0");
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  if (num < 0n) return NaN;
  if (num === 0n) return 0;
  // Find k with √(num/den) / 2^k in [2^53, 2^54), i.e. num / den / 2^(2k) in [2^106, 2^108).
  let k = Math.floor((bitLength(num) - bitLength(den) - 107) / 2);
  while (floorScaled(num, den, 2 * k) >= 1n << 108n) k++;
  while (floorScaled(num, den, 2 * k) < 1n << 106n) k--;
  const u = Math.max(k + 1, -1074);
  // m = floor(√(num/den) / 2^u) = floor(√(floor(num / den / 2^(2u)))).
  let m = isqrt(floorScaled(num, den, 2 * u));
  // The midpoint (m + 1/2) · 2^u against √(num/den), compared squared: 4·num vs (2m+1)² · den · 2^(2u).
  const h = 2n * m + 1n;
  const c = compareScaled(4n * num, h * h * den, 2 * u);
  if (c > 0 || (c === 0 && (m & 1n) === 1n)) m++;
  return compose(false, m, u);
}
