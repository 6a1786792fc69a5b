/**
 * The exact multi-column least-squares model (issue #11, the shared model spec) in BigInt rationals: the
 * independent yardstick the tests hold the WASM core to, bit for bit.
 *
 * Every input double is an exact dyadic rational (an odd integer times a power of two). The model's
 * columns — the intercept, then x_1..x_k or x, x², …, x^D (exact powers, never rounded) — and y are
 * kept as integers, each column with its own power-of-two scale, and the exact sums n, XᵀX, Xᵀy, yᵀy
 * grow point by point (a weight of -1 subtracts the point: retracting it leaves exactly the sums of never
 * having added it). A fit runs fraction-free Gauss–Jordan elimination (Bareiss) on the Gram matrix
 * bordered by Xᵀy and yᵀy, its pivots taken in column order: a column whose pivot is exactly 0 is a
 * linear combination of the intercept and the non-aliased columns before it — aliased, as R's `lm` has
 * it. The elimination leaves, over one common denominator, the exact coefficients, the residual sum of
 * squares and the diagonal of (XᵀX)⁻¹; each output is rounded once: coefficients and r2 to the nearest
 * double, sigma and se to the nearest double of the exact square root (ties to even, see
 * {@linkcode roundRational} and {@linkcode sqrtRational}).
 *
 * This module also gathers the other helpers of the model tests: the NIST fixtures with their certified
 * values ({@linkcode parseNist}, {@linkcode NIST_CERTIFIED}), the hard cases ({@linkcode hardCases}) and the
 * rounding functions.
 *
 * @example
 * ```ts
 * import { exactModelFit } from "./model_reference.ts";
 * const points = [{ xs: [0], y: 1 }, { xs: [1], y: 3 }, { xs: [2], y: 5 }];
 * exactModelFit(points, { k: 1, degree: 1, intercept: true }).coefficients; // [1, 2]
 * ```
 * @module
 */

import { type Dyadic, roundRational, sqrtRational, toDyadic } from "./exact_rational.ts";

export { bitLength, type Dyadic, isqrt, roundRational, sqrtRational, toDyadic } from "./exact_rational.ts";
export {
  NIST_CERTIFIED,
  NIST_NAMES,
  type NistCertified,
  type NistData,
  type NistName,
  parseNist,
} from "./nist_fixtures.ts";
export {
  collinearColumns,
  cubicAtEpoch,
  duplicatedColumn,
  fewerPointsThanCoefficients,
  type HardCase,
  hardCases,
  longleyShifted,
  outlierRetracted,
  polynomialFewerPoints,
  seededRandom,
  zeroColumn,
} from "./model_hard_cases.ts";

/** The model: k x columns (1..20), or one x to the powers 1..degree (2..12); with an intercept or not. */
export interface ModelSpec {
  /** Number of x columns, 1..20 (1 when degree > 1). */
  readonly k: number;
  /** Polynomial degree, 1..12 (1: the x columns themselves). */
  readonly degree: number;
  /** Whether the model has the intercept column "a" first. */
  readonly intercept: boolean;
}

/** One point: its x values (k of them), y, and the weight w: +1 adds it (the default), -1 retracts it. */
export interface ModelPoint {
  readonly xs: readonly number[];
  readonly y: number;
  readonly w?: number;
}

/** The fit, as the spec's ModelFit, with plain arrays. */
export interface ReferenceFit {
  /** Net points: Σw. */
  n: number;
  /** One per coefficient column (intercept first); NaN where aliased. */
  coefficients: number[];
  /** One per coefficient column. */
  aliased: boolean[];
  /** Standard errors; NaN where aliased or undefined (n − rank ≤ 0). */
  se: number[];
  /** 1 − RSS/TSS; NaN when TSS = 0 or rank = 0. */
  r2: number;
  /** √(RSS / (n − rank)); NaN when n − rank ≤ 0. */
  sigma: number;
  /** The number of non-aliased columns. */
  rank: number;
}

/**
 * The number P of coefficient columns of a model: (intercept ? 1 : 0) + (degree > 1 ? degree : k).
 * Throws a RangeError for a model the spec does not allow.
 *
 * @example
 * ```ts
 * modelColumns({ k: 1, degree: 10, intercept: true }); // 11
 * modelColumns({ k: 6, degree: 1, intercept: false }); // 6
 * ```
 */
export function modelColumns(spec: ModelSpec): number {
  const { k, degree, intercept } = spec;
  if (!Number.isInteger(k) || k < 1 || k > 20) throw new RangeError(`k must be 1..20, not ${k}`);
  if (!Number.isInteger(degree) || degree < 1 || degree > 12) {
    throw new RangeError(`degree must be 1..12, not ${degree}`);
  }
  if (degree > 1 && k !== 1) throw new RangeError(`a polynomial (degree ${degree}) needs k = 1, not ${k}`);
  return (intercept ? 1 : 0) + (degree > 1 ? degree : k);
}

const ZERO: Dyadic = { m: 0n, e: 0 };

/** The value m · 2^e scaled to a column whose unit is 2^E (E ≤ e for every non-zero value). */
function scaleTo(d: Dyadic, E: number): bigint {
  return d.m === 0n ? 0n : d.m << BigInt(d.e - E);
}

/** num/den · 2^s rounded once. */
function roundScaled(num: bigint, den: bigint, s: number): number {
  return s >= 0 ? roundRational(num << BigInt(s), den) : roundRational(num, den << BigInt(-s));
}

/** √(num/den · 2^s) rounded once (s even or odd). */
function sqrtScaled(num: bigint, den: bigint, s: number): number {
  return s >= 0 ? sqrtRational(num << BigInt(s), den) : sqrtRational(num, den << BigInt(-s));
}

/**
 * The exact sums of a model, growing point by point, and its exact fit at any moment: for tests that
 * check a stream after every call. Values are any finite doubles (the reference does not apply the core's
 * accepted range: leave out the points the core refuses); weights must be +1 or -1.
 *
 * @example
 * ```ts
 * const acc = new ModelAccumulator({ k: 2, degree: 1, intercept: true });
 * acc.add({ xs: [0, 0], y: 1 }).add({ xs: [1, 0], y: 3 }).add({ xs: [0, 1], y: -1 }).add({ xs: [1, 1], y: 1 });
 * acc.fit().coefficients; // [1, 2, -2]
 * acc.add({ xs: [1, 1], y: 1 }, -1).count; // 3
 * ```
 */
export class ModelAccumulator {
  /** The model. */
  readonly spec: ModelSpec;
  /** P, the number of coefficient columns. */
  readonly columns: number;
  /** Per column (coefficient columns, then y): its unit is 2^E[c]; E[c] ≤ 0 and only ever lowered. */
  #E: number[];
  /** The upper triangle of the bordered Gram matrix [XᵀX Xᵀy; yᵀX yᵀy], in the column units. */
  #G: bigint[][];
  #n = 0n;
  /** Σw·y in the unit of y. */
  #sy = 0n;

  /**
   * An empty accumulator for the model (RangeError if the spec does not allow it).
   *
   * @example
   * ```ts
   * new ModelAccumulator({ k: 1, degree: 3, intercept: false }).columns; // 3
   * ```
   */
  constructor(spec: ModelSpec) {
    this.columns = modelColumns(spec);
    this.spec = { k: spec.k, degree: spec.degree, intercept: spec.intercept };
    const size = this.columns + 1;
    this.#E = new Array(size).fill(0);
    this.#G = Array.from({ length: size }, () => new Array<bigint>(size).fill(0n));
  }

  /**
   * The net number of points, Σw.
   *
   * @example
   * ```ts
   * new ModelAccumulator({ k: 1, degree: 1, intercept: true }).add({ xs: [1], y: 2 }).count; // 1
   * ```
   */
  get count(): number {
    return Number(this.#n);
  }

  /** The point's values per column (coefficient columns, then y), exactly. */
  #row(point: ModelPoint): Dyadic[] {
    const { k, degree, intercept } = this.spec;
    if (point.xs.length !== k) throw new RangeError(`a point needs ${k} x values, not ${point.xs.length}`);
    const row: Dyadic[] = [];
    if (intercept) row.push({ m: 1n, e: 0 });
    if (degree > 1) {
      const x = toDyadic(point.xs[0]);
      for (let j = 1; j <= degree; j++) row.push(x.m === 0n ? ZERO : { m: x.m ** BigInt(j), e: j * x.e });
    } else {
      for (const x of point.xs) row.push(toDyadic(x));
    }
    row.push(toDyadic(point.y));
    return row;
  }

  /** Lowers column c's unit to 2^e, shifting its sums so that their values stay the same. */
  #lower(c: number, e: number): void {
    const s = BigInt(this.#E[c] - e);
    const G = this.#G;
    for (let i = 0; i < G.length; i++) {
      if (i === c) G[c][c] <<= 2n * s;
      else if (i < c) G[i][c] <<= s;
      else G[c][i] <<= s;
    }
    if (c === G.length - 1) this.#sy <<= s;
    this.#E[c] = e;
  }

  /**
   * Adds the point with weight w (default: its own w, else +1; -1 retracts it, subtracting it from the
   * exact sums). Throws a RangeError for a non-finite value or a weight other than ±1.
   *
   * @example
   * ```ts
   * new ModelAccumulator({ k: 1, degree: 2, intercept: true }).add({ xs: [3], y: 1 }).add({ xs: [3], y: 1 }, -1).count; // 0
   * ```
   */
  add(point: ModelPoint, w: number = point.w ?? 1): this {
    if (w !== 1 && w !== -1) throw new RangeError(`the weight must be +1 or -1, not ${w}`);
    const row = this.#row(point);
    for (let c = 0; c < row.length; c++) {
      if (row[c].m !== 0n && row[c].e < this.#E[c]) this.#lower(c, row[c].e);
    }
    const v = row.map((d, c) => scaleTo(d, this.#E[c]));
    const W = BigInt(w);
    const G = this.#G;
    for (let i = 0; i < v.length; i++) {
      if (v[i] === 0n) continue;
      const wv = W * v[i];
      for (let j = i; j < v.length; j++) G[i][j] += wv * v[j];
    }
    this.#n += W;
    this.#sy += W * v[v.length - 1];
    return this;
  }

  /**
   * Adds every point (each with its own weight, default +1).
   *
   * @example
   * ```ts
   * new ModelAccumulator({ k: 1, degree: 1, intercept: true }).addAll([{ xs: [1], y: 2 }, { xs: [1], y: 2, w: -1 }]).count; // 0
   * ```
   */
  addAll(points: Iterable<ModelPoint>): this {
    for (const p of points) this.add(p);
    return this;
  }

  /**
   * The exact fit of the points so far, each output rounded once (see the module doc and the spec).
   *
   * - Aliasing in column order: a column is aliased iff it is a linear combination, on the data, of the
   *   intercept and the non-aliased columns before it (its elimination pivot is exactly 0). Aliased:
   *   coefficient and se NaN; the rest is the fit without it.
   * - n = 0: every coefficient NaN and aliased, rank 0, stats NaN.
   * - RSS = yᵀy − βᵀXᵀy; TSS = Σ(y − ȳ)² with an intercept, Σy² without; r2 = 1 − RSS/TSS (NaN when
   *   TSS = 0 or rank = 0); sigma = √(RSS/(n − rank)) and se_i = √(RSS/(n − rank) · (XᵀX)⁻¹_ii) (NaN when
   *   n − rank ≤ 0; also NaN if RSS < 0, which only a retraction of points never added can cause).
   * - The tutorial rule, for one x, degree 1, with an intercept: when x is aliased (n < 2, or fewer than
   *   two distinct x), coefficients [0, 0], aliased [false, false], se [NaN, NaN], r2 and sigma NaN; rank
   *   stays the exact rank (1, or 0 when n = 0), so it then differs from the number of non-aliased flags.
   *
   * @example
   * ```ts
   * const line = new ModelAccumulator({ k: 1, degree: 1, intercept: true }).add({ xs: [5], y: 7 });
   * line.fit(); // { n: 1, coefficients: [0, 0], aliased: [false, false], se: [NaN, NaN], r2: NaN, sigma: NaN, rank: 1 }
   * ```
   */
  fit(): ReferenceFit {
    const P = this.columns;
    const E = this.#E;
    const size = P + 1;
    const width = size + P;
    // The bordered Gram matrix with the identity beside it: [XᵀX Xᵀy I; yᵀX yᵀy 0].
    const a: bigint[][] = [];
    for (let i = 0; i < size; i++) {
      const row = new Array<bigint>(width).fill(0n);
      for (let j = 0; j < size; j++) row[j] = i <= j ? this.#G[i][j] : this.#G[j][i];
      if (i < P) row[size + i] = 1n;
      a.push(row);
    }
    // Fraction-free Gauss–Jordan, pivots in column order, a zero pivot marking its column aliased. After
    // pivots S with last pivot p = det(XᵀX restricted to S), row i of S reads p·β_i in column P and
    // p·(XᵀX_S)⁻¹ in the identity block; a[P][P] = p · RSS (Sylvester's identity: every entry is a minor).
    const aliased = new Array<boolean>(P).fill(false);
    let p = 1n;
    for (let k = 0; k < P; k++) {
      const pivot = a[k][k];
      if (pivot === 0n || this.#n === 0n) {
        aliased[k] = true;
        continue;
      }
      const rk = a[k];
      for (let i = 0; i < size; i++) {
        if (i === k || (i < k && aliased[i])) continue;
        const ri = a[i];
        const f = ri[k];
        for (let j = 0; j < width; j++) {
          const t = pivot * ri[j] - f * rk[j];
          const q = t / p;
          if (q * p !== t) throw new Error("internal: a Bareiss step did not divide exactly");
          ri[j] = q;
        }
      }
      p = pivot;
    }
    const rank = aliased.filter((x) => !x).length;
    const n = this.#n;
    const Ey = E[P];
    const nan = () => new Array<number>(P).fill(NaN);
    const { k, degree, intercept } = this.spec;
    if (k === 1 && degree === 1 && intercept && (n < 2n || rank < 2)) {
      return {
        n: Number(n),
        coefficients: [0, 0],
        aliased: [false, false],
        se: nan(),
        r2: NaN,
        sigma: NaN,
        rank,
      };
    }
    const coefficients = nan();
    for (let i = 0; i < P; i++) if (!aliased[i]) coefficients[i] = roundScaled(a[i][P], p, Ey - E[i]);
    const rssP = a[P][P]; // p · RSS, in the unit 2^(2·Ey)
    // r2 = 1 − RSS/TSS, TSS = tn/td: (p·tn − rssP·td) / (p·tn).
    const yy = this.#G[P][P];
    const [tn, td] = intercept ? [n * yy - this.#sy * this.#sy, n] : [yy, 1n];
    const r2 = rank === 0 || n === 0n || tn === 0n ? NaN : roundRational(p * tn - rssP * td, p * tn);
    const df = n - BigInt(rank);
    const sigma = df <= 0n ? NaN : sqrtScaled(rssP, p * df, 2 * Ey);
    const se = nan();
    if (df > 0n) {
      for (let i = 0; i < P; i++) {
        if (!aliased[i]) se[i] = sqrtScaled(rssP * a[i][size + i], p * p * df, 2 * Ey - 2 * E[i]);
      }
    }
    return { n: Number(n), coefficients, aliased, se, r2, sigma, rank };
  }
}

/**
 * The exact fit of the points under the model (see {@linkcode ModelAccumulator.fit} for every rule).
 *
 * @example
 * ```ts
 * exactModelFit([{ xs: [1, 2], y: 1 }, { xs: [2, 4], y: 2 }, { xs: [3, 6], y: 3 }], { k: 2, degree: 1, intercept: true });
 * // { n: 3, coefficients: [0, 1, NaN], aliased: [false, false, true], se: [0, 0, NaN], r2: 1, sigma: 0, rank: 2 }
 * ```
 */
export function exactModelFit(points: Iterable<ModelPoint>, spec: ModelSpec): ReferenceFit {
  return new ModelAccumulator(spec).addAll(points).fit();
}
