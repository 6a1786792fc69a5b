/**
 * Hard cases for the multi-column model, deterministic (a seeded PRNG): data that breaks double-precision
 * least squares, and the aliasing corners. Every generator returns a {@linkcode HardCase}: the model, the
 * points (with weights), and where it applies the aliasing the exact fit must show or an equivalent set
 * of points that must give the identical fit.
 *
 * @example
 * ```ts
 * import { exactModelFit, hardCases } from "./model_reference.ts";
 * for (const c of hardCases()) exactModelFit(c.points, c.spec);
 * ```
 * @module
 */

import type { ModelPoint, ModelSpec } from "./model_reference.ts";
import { parseNist } from "./nist_fixtures.ts";

/** A hard case: a model, its points, and what the exact fit must show. */
export interface HardCase {
  /** A short identifier, e.g. "cubic_at_epoch". */
  readonly name: string;
  /** What makes it hard. */
  readonly description: string;
  readonly spec: ModelSpec;
  /** The points in stream order, with their weights (+1 when left out). */
  readonly points: readonly ModelPoint[];
  /** The aliasing the exact fit must show, where the case is about aliasing. */
  readonly aliased?: readonly boolean[];
  /** Points that must give the identical fit, bit for bit (e.g. the stream without a retracted point). */
  readonly equivalent?: readonly ModelPoint[];
}

/**
 * A seeded PRNG (mulberry32): the same seed, the same sequence of doubles in [0, 1), on every runtime.
 *
 * @example
 * ```ts
 * const r = seededRandom(1);
 * r() === seededRandom(1)(); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A double in [lo, hi). */
function uniform(r: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * r();
}

/** A multiple of 1/8 in [-100, 100]: small dyadics whose sums and doublings are exact in doubles. */
function eighth(r: () => number): number {
  return Math.floor(uniform(r, -800, 801)) / 8;
}

/**
 * Degree 3 at x = 1.7e9 + t, t = seconds with millisecond fractions (epoch timestamps): x³ ≈ 5e27, and
 * the columns x, x², x³ are nearly collinear; plain double sums lose everything.
 *
 * @example
 * ```ts
 * cubicAtEpoch(1, 50).points.length; // 50
 * ```
 */
export function cubicAtEpoch(seed = 1, n = 200): HardCase {
  const r = seededRandom(seed);
  const points: ModelPoint[] = [];
  for (let i = 0; i < n; i++) {
    const t = i + Math.floor(r() * 1000) / 1000;
    const y = 2 + 0.3 * t - 0.004 * t * t + 1e-5 * t * t * t + uniform(r, -0.05, 0.05);
    points.push({ xs: [1.7e9 + t], y });
  }
  return {
    name: "cubic_at_epoch",
    description: "degree 3 at x = 1.7e9 + t, t with millisecond fractions",
    spec: { k: 1, degree: 3, intercept: true },
    points,
  };
}

/**
 * NIST's Longley with each x shifted by 1e6 (x + 1e6 in doubles): the intercept column and the shifted
 * columns become nearly collinear.
 *
 * @example
 * ```ts
 * longleyShifted().points[0].xs[0]; // 1000083
 * ```
 */
export function longleyShifted(): HardCase {
  const points = parseNist("longley").points.map((p) => ({ xs: p.xs.map((x) => x + 1e6), y: p.y }));
  return {
    name: "longley_shifted",
    description: "Longley with every x + 1e6",
    spec: { k: 6, degree: 1, intercept: true },
    points,
  };
}

/**
 * Five x, with a point of magnitude 1e12 added a third of the way in and retracted two thirds of the way
 * in: the fit must be bit for bit that of the stream without it (`equivalent`).
 *
 * @example
 * ```ts
 * const c = outlierRetracted(1, 30);
 * c.points.length - c.equivalent!.length; // 2
 * ```
 */
export function outlierRetracted(seed = 1, n = 100): HardCase {
  const r = seededRandom(seed);
  const beta = [1.5, -2, 0.25, 3, -0.75];
  const clean: ModelPoint[] = [];
  for (let i = 0; i < n; i++) {
    const xs = beta.map(() => uniform(r, -10, 10));
    const y = 0.5 + xs.reduce((s, x, j) => s + beta[j] * x, 0) + uniform(r, -0.1, 0.1);
    clean.push({ xs, y });
  }
  const outlier = { xs: [1e12, -1e12, 1e12, 5e11, 1e12], y: 1e12 };
  const points: ModelPoint[] = [...clean];
  points.splice(Math.floor((2 * n) / 3), 0, { ...outlier, w: -1 });
  points.splice(Math.floor(n / 3), 0, { ...outlier, w: 1 });
  return {
    name: "outlier_retracted",
    description: "5 x; a 1e12 point added, later retracted",
    spec: { k: 5, degree: 1, intercept: true },
    points,
    equivalent: clean,
  };
}

/** Points with k x columns made by `xs`, and y a noisy linear function of them. */
function linearPoints(r: () => number, n: number, xs: () => number[]): ModelPoint[] {
  const points: ModelPoint[] = [];
  for (let i = 0; i < n; i++) {
    const x = xs();
    const y = 1 + x.reduce((s, v, j) => s + (j + 1) * v, 0) + uniform(r, -0.5, 0.5);
    points.push({ xs: x, y });
  }
  return points;
}

/**
 * Four x with x3 = x1 + 2·x2 exactly (small dyadics, so the doubles add exactly): x3 is aliased, x4 is
 * not.
 *
 * @example
 * ```ts
 * collinearColumns().aliased; // [false, false, false, true, false]
 * ```
 */
export function collinearColumns(seed = 1, n = 40): HardCase {
  const r = seededRandom(seed);
  return {
    name: "collinear_columns",
    description: "x3 = x1 + 2·x2 exactly",
    spec: { k: 4, degree: 1, intercept: true },
    points: linearPoints(r, n, () => {
      const x1 = eighth(r), x2 = eighth(r);
      return [x1, x2, x1 + 2 * x2, uniform(r, -5, 5)];
    }),
    aliased: [false, false, false, true, false],
  };
}

/**
 * Three x with x2 = x1: x2 is aliased.
 *
 * @example
 * ```ts
 * duplicatedColumn().aliased; // [false, false, true, false]
 * ```
 */
export function duplicatedColumn(seed = 1, n = 40): HardCase {
  const r = seededRandom(seed);
  return {
    name: "duplicated_column",
    description: "x2 = x1",
    spec: { k: 3, degree: 1, intercept: true },
    points: linearPoints(r, n, () => {
      const x1 = uniform(r, -3, 3);
      return [x1, x1, uniform(r, 0, 1e3)];
    }),
    aliased: [false, false, true, false],
  };
}

/**
 * Three x with x2 = 0 at every point: x2 is aliased (the zero column is 0 times anything).
 *
 * @example
 * ```ts
 * zeroColumn().aliased; // [false, false, true, false]
 * ```
 */
export function zeroColumn(seed = 1, n = 40): HardCase {
  const r = seededRandom(seed);
  return {
    name: "zero_column",
    description: "x2 = 0 throughout",
    spec: { k: 3, degree: 1, intercept: true },
    points: linearPoints(r, n, () => [uniform(r, -1, 1), 0, uniform(r, -1e-3, 1e-3)]),
    aliased: [false, false, true, false],
  };
}

/**
 * Five x and an intercept (6 coefficients) from 4 points in general position: the first four columns fit
 * the points exactly, x4 and x5 are aliased; n − rank = 0, so sigma and se are NaN.
 *
 * @example
 * ```ts
 * fewerPointsThanCoefficients().aliased; // [false, false, false, false, true, true]
 * ```
 */
export function fewerPointsThanCoefficients(seed = 1): HardCase {
  const r = seededRandom(seed);
  return {
    name: "fewer_points_than_coefficients",
    description: "4 points, 6 coefficients",
    spec: { k: 5, degree: 1, intercept: true },
    points: linearPoints(r, 4, () => [0, 0, 0, 0, 0].map(() => uniform(r, -2, 2))),
    aliased: [false, false, false, false, true, true],
  };
}

/**
 * Degree 5 from points at three distinct x (one repeated): x³, x⁴, x⁵ are aliased.
 *
 * @example
 * ```ts
 * polynomialFewerPoints().aliased; // [false, false, false, true, true, true]
 * ```
 */
export function polynomialFewerPoints(seed = 1): HardCase {
  const r = seededRandom(seed);
  const xs = [-1.25, 0.5, 3, 0.5];
  return {
    name: "polynomial_fewer_points",
    description: "degree 5, three distinct x",
    spec: { k: 1, degree: 5, intercept: true },
    points: xs.map((x) => ({ xs: [x], y: x * x - x + uniform(r, -1, 1) })),
    aliased: [false, false, false, true, true, true],
  };
}

/**
 * Every hard case, from one seed.
 *
 * @example
 * ```ts
 * hardCases(7).map((c) => c.name).includes("outlier_retracted"); // true
 * ```
 */
export function hardCases(seed = 1): HardCase[] {
  return [
    cubicAtEpoch(seed),
    longleyShifted(),
    outlierRetracted(seed),
    collinearColumns(seed),
    duplicatedColumn(seed),
    zeroColumn(seed),
    fewerPointsThanCoefficients(seed),
    polynomialFewerPoints(seed),
  ];
}
