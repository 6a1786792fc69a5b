/**
 * The regression model a run fits, as the command line chose it ({@linkcode ModelConfig}), and the names
 * of the result change log's columns that follow from it ({@linkcode resultColumns}): stable names that
 * scripts read.
 *
 * - One x, degree 1, with an intercept, without `--stats` (the plain line): `a,b` — today's `a,b,time,diff`.
 * - One x, degree 1 otherwise: `a` (if an intercept), `b`.
 * - Several x: `a` (if an intercept), then `b_<column>` for each x column (`b_x1,b_x2,…`).
 * - A polynomial of degree D in x: `a` (if an intercept), `b_x,b_x^2,…,b_x^D` (x: the column's name).
 * - With `--stats`, then: `n,r2,sigma` and `se_<coefficient>` for every coefficient column, in the same
 *   order (`se_a,se_b` or `se_a,se_b_x1,…`).
 *
 * `time,diff` follow in every case.
 *
 * @example
 * ```ts
 * import { coefficientNames, resultColumns } from "./model_config.ts";
 * const config = { x: ["x1", "x2"], y: "y", degree: 1, intercept: true, stats: true };
 * coefficientNames(config); // ["a", "b_x1", "b_x2"]
 * resultColumns(config); // ["a", "b_x1", "b_x2", "n", "r2", "sigma", "se_a", "se_b_x1", "se_b_x2"]
 * ```
 * @module
 */

/**
 * Most x columns a model may have (`--x COL,…`).
 *
 * @example
 * ```ts
 * MAX_X_COLUMNS; // 20
 * ```
 */
export const MAX_X_COLUMNS = 20;

/**
 * Highest degree of a polynomial in one x (`--degree D`).
 *
 * @example
 * ```ts
 * MAX_DEGREE; // 12
 * ```
 */
export const MAX_DEGREE = 12;

/**
 * The model of a run: y ≈ [a +] b₁x₁ + … + b_k x_k, or with `degree` D > 1 (one x column only)
 * y ≈ [a +] b₁x + b₂x² + … + b_D x^D.
 *
 * @example
 * ```ts
 * const line: ModelConfig = { x: ["x"], y: "y", degree: 1, intercept: true, stats: false };
 * ```
 */
export interface ModelConfig {
  /** The x columns (CSV columns or JSON fields), 1 to {@linkcode MAX_X_COLUMNS}, distinct. */
  readonly x: readonly string[];
  /** The y column. */
  readonly y: string;
  /** The degree of the polynomial in x, 1 to {@linkcode MAX_DEGREE}; above 1 needs exactly one x. */
  readonly degree: number;
  /** Whether the model has an intercept a (`--no-intercept`: false). */
  readonly intercept: boolean;
  /** Whether the result change log carries n, r2, sigma and the standard errors (`--stats`). */
  readonly stats: boolean;
}

/**
 * The plain line of the tutorial: one x, degree 1, an intercept, no stats. Such a run keeps today's
 * path (the line core, `a,b,time,diff`) byte for byte.
 *
 * @example
 * ```ts
 * isPlainLine({ x: ["x"], y: "y", degree: 1, intercept: true, stats: false }); // true
 * ```
 */
export function isPlainLine(config: ModelConfig): boolean {
  return config.x.length === 1 && config.degree === 1 && config.intercept && !config.stats;
}

/**
 * The names of the coefficient columns, in the core's order (a first, if any).
 *
 * @example
 * ```ts
 * coefficientNames({ x: ["t"], y: "v", degree: 3, intercept: false, stats: false }); // ["b_t", "b_t^2", "b_t^3"]
 * ```
 */
export function coefficientNames(config: ModelConfig): string[] {
  const names = config.intercept ? ["a"] : [];
  if (config.degree > 1) {
    const x = config.x[0];
    for (let d = 1; d <= config.degree; d++) names.push(d === 1 ? `b_${x}` : `b_${x}^${d}`);
  } else if (config.x.length === 1) {
    names.push("b");
  } else {
    for (const x of config.x) names.push(`b_${x}`);
  }
  return names;
}

/**
 * The columns of the result change log before `time,diff`: the coefficients, then with `stats`
 * `n,r2,sigma` and `se_<coefficient>` for each coefficient.
 *
 * @example
 * ```ts
 * resultColumns({ x: ["x"], y: "y", degree: 1, intercept: true, stats: true });
 * // ["a", "b", "n", "r2", "sigma", "se_a", "se_b"]
 * ```
 */
export function resultColumns(config: ModelConfig): string[] {
  const names = coefficientNames(config);
  return config.stats ? [...names, "n", "r2", "sigma", ...names.map((name) => `se_${name}`)] : names;
}

/**
 * The columns of the input change log before `time,diff`: `x,y` for one x (whatever the columns are
 * called, as today), else the x columns by name and `y`.
 *
 * @example
 * ```ts
 * inputColumns({ x: ["x1", "x2"], y: "price", degree: 1, intercept: true, stats: false }); // ["x1", "x2", "y"]
 * ```
 */
export function inputColumns(config: ModelConfig): string[] {
  return config.x.length === 1 ? ["x", "y"] : [...config.x, "y"];
}
