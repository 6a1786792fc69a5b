/**
 * The exact least-squares line of a set of doubles, and their exact sums Σx, Σy, Σx², Σxy, Σy², computed
 * with BigInt rationals and rounded once to the nearest double (ties to even). Slow, simple and
 * independent of the WASM core: tests use it as the ground truth.
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

/** The exact weighted sums of a set of points, each correctly rounded to a double. */
export interface ExactSums {
  /** Σw (the net point count), as a number. */
  n: number;
  /** Σw·x */
  x: number;
  /** Σw·y */
  y: number;
  /** Σw·x² */
  xx: number;
  /** Σw·x·y */
  xy: number;
  /** Σw·y² */
  yy: number;
}

/** The exact sums as integers: x and y are multiples of 2^e0, xx, xy and yy of 2^(2·e0). */
export interface ExactIntegers {
  e0: number;
  n: bigint;
  x: bigint;
  y: bigint;
  xx: bigint;
  xy: bigint;
  yy: bigint;
}

/** The double nearest to v · 2^e (ties to even). */
function roundScaled(v: bigint, e: number): number {
  return e >= 0 ? roundRational(v << BigInt(e), 1n) : roundRational(v, 1n << BigInt(-e));
}

/**
 * Exact weighted sums Σw, Σw·x, Σw·y, Σw·x², Σw·x·y, Σw·y² that grow point by point, for tests that check
 * a stream after every call. Every value is an integer times 2^e0, e0 ≤ 0 the least exponent of the
 * values seen so far, each written as a 53-bit integer times a power of two (lowered, and the sums
 * shifted to match, when a finer value arrives). Weights must be integers (±1 adds or retracts a point,
 * so the sums are those of a multiset difference).
 *
 * @example
 * ```ts
 * const acc = new ExactAccumulator();
 * acc.addAll([1, 2, 3], [2, 4, 6]);
 * acc.add(3, 6, -1);
 * acc.sums(); // { n: 2, x: 3, y: 6, xx: 5, xy: 10, yy: 20 }
 * acc.fit(); // { a: 0, b: 2, degenerate: false }
 * ```
 */
export class ExactAccumulator {
  #e0 = 0;
  #n = 0n;
  #x = 0n;
  #y = 0n;
  #xx = 0n;
  #xy = 0n;
  #yy = 0n;

  /** Lowers e0 to e (if it is lower), shifting the sums so that their values stay the same. */
  #lower(e: number): void {
    if (e >= this.#e0) return;
    const s = BigInt(this.#e0 - e);
    this.#x <<= s;
    this.#y <<= s;
    this.#xx <<= 2n * s;
    this.#xy <<= 2n * s;
    this.#yy <<= 2n * s;
    this.#e0 = e;
  }

  /**
   * Adds the point (x, y) with the integer weight w (default 1; -1 retracts it). x and y must be finite.
   *
   * @example
   * ```ts
   * new ExactAccumulator().add(1e16, 1).add(1, 0).add(-1e16, 0).sums().x; // 1
   * ```
   */
  add(x: number, y: number, w = 1): this {
    return this.addAll([x], [y], [w]);
  }

  /**
   * Adds the points (xs[i], ys[i]) with the integer weights ws[i] (default all 1).
   *
   * @example
   * ```ts
   * new ExactAccumulator().addAll([1, 2], [3, 4], [1, -1]).sums(); // { n: 0, x: -1, y: -1, xx: -3, xy: -5, yy: -7 }
   * ```
   */
  addAll(xs: ArrayLike<number>, ys: ArrayLike<number>, ws?: ArrayLike<number>): this {
    if (xs.length !== ys.length || (ws !== undefined && ws.length !== xs.length)) {
      throw new RangeError("xs, ys and ws must have the same length");
    }
    const px = Array.from(xs, decompose);
    const py = Array.from(ys, decompose);
    let e = this.#e0;
    for (const v of px) e = Math.min(e, v.e);
    for (const v of py) e = Math.min(e, v.e);
    this.#lower(e);
    const e0 = this.#e0;
    for (let i = 0; i < px.length; i++) {
      const wi = ws === undefined ? 1 : ws[i];
      if (!Number.isInteger(wi)) throw new RangeError(`not an integer weight: ${wi}`);
      const w = BigInt(wi);
      // The point as integers times 2^e0.
      const X = px[i].m << BigInt(px[i].e - e0);
      const Y = py[i].m << BigInt(py[i].e - e0);
      const wX = w * X, wY = w * Y;
      this.#n += w;
      this.#x += wX;
      this.#y += wY;
      this.#xx += wX * X;
      this.#xy += wX * Y;
      this.#yy += wY * Y;
    }
    return this;
  }

  /**
   * The sums as integers with their common exponent (for comparisons finer than a rounded double).
   *
   * @example
   * ```ts
   * new ExactAccumulator().add(0.5, 3).integers(); // { e0: -1, n: 1n, x: 1n, y: 6n, xx: 1n, xy: 6n, yy: 36n }
   * ```
   */
  integers(): ExactIntegers {
    return { e0: this.#e0, n: this.#n, x: this.#x, y: this.#y, xx: this.#xx, xy: this.#xy, yy: this.#yy };
  }

  /**
   * Each sum correctly rounded to a double.
   *
   * @example
   * ```ts
   * new ExactAccumulator().addAll([1e16, 1, -1e16], [0, 0, 0]).sums().x; // 1
   * ```
   */
  sums(): ExactSums {
    const e0 = this.#e0;
    return {
      n: Number(this.#n),
      x: roundScaled(this.#x, e0),
      y: roundScaled(this.#y, e0),
      xx: roundScaled(this.#xx, 2 * e0),
      xy: roundScaled(this.#xy, 2 * e0),
      yy: roundScaled(this.#yy, 2 * e0),
    };
  }

  /**
   * The exact weighted least-squares line, a and b each correctly rounded; degenerate (a = b = 0) when
   * Σw ≤ 1 or D = Σw·Σw·x² − (Σw·x)² ≤ 0 (fewer than two distinct x).
   *
   * @example
   * ```ts
   * new ExactAccumulator().addAll([0, 1, 2], [1, 3, 5]).fit(); // { a: 1, b: 2, degenerate: false }
   * ```
   */
  fit(): ExactFit {
    const e0 = this.#e0, N = this.#n, sx = this.#x, sy = this.#y, sxx = this.#xx, sxy = this.#xy;
    const d = N * sxx - sx * sx; // scale 2^(2e0)
    if (N < 2n || d <= 0n) return { a: 0, b: 0, degenerate: true };
    const nb = N * sxy - sx * sy; // scale 2^(2e0)
    const na = sy * sxx - sx * sxy; // scale 2^(3e0)
    const b = roundRational(nb, d);
    // a = na / d · 2^e0
    const a = e0 >= 0 ? roundRational(na << BigInt(e0), d) : roundRational(na, d << BigInt(-e0));
    return { a, b, degenerate: false };
  }
}

/**
 * Exact least-squares intercept and slope of the points, each correctly rounded. With integer weights
 * ws (±1: added or retracted), the weighted least-squares line, that is the line of the multiset
 * difference; degenerate when the net count is below 2 or fewer than two distinct x remain.
 *
 * @example
 * ```ts
 * exactFit([1e9, 1e9 + 1], [0, 1]); // { a: -1e9, b: 1, degenerate: false }
 * exactFit([0, 7, 1, 2, 7], [1, 0, 3, 5, 0], [1, 1, 1, 1, -1]); // { a: 1, b: 2, degenerate: false }: (7, 0) came and went
 * ```
 */
export function exactFit(xs: ArrayLike<number>, ys: ArrayLike<number>, ws?: ArrayLike<number>): ExactFit {
  return new ExactAccumulator().addAll(xs, ys, ws).fit();
}

/**
 * The exact weighted sums of the points, each correctly rounded to a double: n = Σw, x = Σw·x,
 * y = Σw·y, xx = Σw·x², xy = Σw·x·y, yy = Σw·y² (weights ws default to 1; they must be integers).
 *
 * @example
 * ```ts
 * import { exactSums } from "./exact_reference.ts";
 * exactSums([1e16, 1, -1e16], [0, 0, 0]); // { n: 3, x: 1, y: 0, xx: 2e32, xy: 0, yy: 0 }
 * exactSums([1, 2], [3, 4], [1, -1]); // { n: 0, x: -1, y: -1, xx: -3, xy: -5, yy: -7 }
 * ```
 */
export function exactSums(xs: ArrayLike<number>, ys: ArrayLike<number>, ws?: ArrayLike<number>): ExactSums {
  return new ExactAccumulator().addAll(xs, ys, ws).sums();
}
