/**
 * The exact least-squares line of a set of doubles, computed with BigInt rationals and rounded once to
 * the nearest double (ties to even). Slow, simple and independent of the WASM core: tests use it as the
 * ground truth.
 *
 * @example
 * ```ts
 * import { exactFit } from "./exact_reference.ts";
 * exactFit([0, 1, 2], [1, 3, 5]); // { a: 1, b: 2, degenerate: false }
 * ```
 * @module
 */

const view = new DataView(new ArrayBuffer(8));

/** A finite double as mantissa · 2^exponent with an integer mantissa. */
function decompose(d: number): { m: bigint; e: number } {
  if (!Number.isFinite(d)) throw new RangeError(`not a finite double: ${d}`);
  view.setFloat64(0, d);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) m |= 1n << 52n;
  const e = (biased === 0 ? 1 : biased) - 1075;
  return { m: hi >>> 31 ? -m : m, e };
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/**
 * The double nearest to p / q (q > 0), ties to even; handles subnormal and overflowing results.
 *
 * @example
 * ```ts
 * roundRational(1n, 3n); // 0.3333333333333333
 * ```
 */
export function roundRational(p: bigint, q: bigint): number {
  if (q <= 0n) throw new RangeError("denominator must be positive");
  if (p === 0n) return 0;
  const negative = p < 0n;
  const a = negative ? -p : p;
  // Choose k so that a / q · 2^-k lies in [2^53, 2^54): 54 bits, one more than needed, for rounding.
  let k = bitLength(a) - bitLength(q) - 54;
  const scaled = (num: bigint, den: bigint, shift: number) =>
    shift >= 0 ? [num, den << BigInt(shift)] : [num << BigInt(-shift), den];
  let [n, d] = scaled(a, q, k);
  while (n / d >= 1n << 54n) [n, d] = scaled(a, q, ++k);
  while (n / d < 1n << 53n) [n, d] = scaled(a, q, --k);
  // Value = (n/d)·2^k with n/d in [2^53, 2^54). The result's unit in the last place is 2^(k+1), or the
  // subnormal unit 2^-1074 when the value is that small.
  const unitExp = Math.max(k + 1, -1074);
  const shift = unitExp - k; // ≥ 1
  const den = d << BigInt(shift);
  let mant = n / den;
  const rem = n - mant * den;
  const twice = 2n * rem;
  if (twice > den || (twice === den && (mant & 1n) === 1n)) mant += 1n;
  const result = Number(mant) * 2 ** unitExp; // exact: mant ≤ 2^53 and 2^unitExp is a double
  return negative ? -result : result;
}

/** The exact fit. */
export interface ExactFit {
  a: number;
  b: number;
  degenerate: boolean;
}

/**
 * Exact least-squares intercept and slope of the points, each correctly rounded.
 *
 * @example
 * ```ts
 * exactFit([1e9, 1e9 + 1], [0, 1]); // { a: -1e9, b: 1, degenerate: false }
 * ```
 */
export function exactFit(xs: ArrayLike<number>, ys: ArrayLike<number>): ExactFit {
  const n = xs.length;
  const px = Array.from(xs, decompose);
  const py = Array.from(ys, decompose);
  let e0 = 0;
  for (const v of px) e0 = Math.min(e0, v.e);
  for (const v of py) e0 = Math.min(e0, v.e);
  // Every value as an integer times 2^e0.
  const X = px.map(({ m, e }) => m << BigInt(e - e0));
  const Y = py.map(({ m, e }) => m << BigInt(e - e0));
  let sx = 0n, sy = 0n, sxx = 0n, sxy = 0n;
  for (let i = 0; i < n; i++) {
    sx += X[i];
    sy += Y[i];
    sxx += X[i] * X[i];
    sxy += X[i] * Y[i];
  }
  const N = BigInt(n);
  const d = N * sxx - sx * sx; // scale 2^(2e0)
  if (n < 2 || d === 0n) return { a: 0, b: 0, degenerate: true };
  const nb = N * sxy - sx * sy; // scale 2^(2e0)
  const na = sy * sxx - sx * sxy; // scale 2^(3e0)
  const b = roundRational(nb, d);
  // a = na / d · 2^e0
  const a = e0 >= 0 ? roundRational(na << BigInt(e0), d) : roundRational(na, d << BigInt(-e0));
  return { a, b, degenerate: false };
}
