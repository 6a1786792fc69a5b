/**
 * The model flags: `--x COL,COL,…` and `--y COL` (flags of the csv and kafka sources), `--degree D`,
 * `--no-intercept` and `--stats` (general flags), checked into a {@linkcode ModelConfig}. Every mistake
 * is a {@linkcode UsageError} (exit 2) saying what is wrong and what to do.
 *
 * @example
 * ```ts
 * import { modelColumns } from "./model_flags.ts";
 * modelColumns({ x: "x1,x2", y: "y" }); // { x: ["x1", "x2"], y: "y" }
 * modelColumns({ x: "x1,x1", y: "y" }); // throws UsageError: --x names the column "x1" twice ...
 * ```
 * @module
 */

import { type FlagSpec, type FlagValues, numberFlag, UsageError } from "./flags.ts";
import { inputColumns, MAX_DEGREE, MAX_X_COLUMNS, type ModelConfig } from "../model/model_config.ts";

/**
 * The general flags of the model (the columns are the sources' `--x` and `--y`).
 *
 * @example
 * ```ts
 * MODEL_FLAGS.map((f) => f.name); // ["degree", "no-intercept", "stats"]
 * ```
 */
export const MODEL_FLAGS: readonly FlagSpec[] = [
  {
    name: "degree",
    value: "D",
    default: "1",
    help: `fit y ≈ a + b₁x + … + b_D·x^D, a polynomial of degree D (2..${MAX_DEGREE}) in one x column`,
  },
  { name: "no-intercept", help: "fit without the intercept a (through the origin)" },
  {
    name: "stats",
    help: "add n, r2, sigma and the standard errors se_<coefficient> to the result change log",
  },
];

/**
 * The help of a source's `--x` flag.
 *
 * @example
 * ```ts
 * const x: FlagSpec = { name: "x", value: "COLUMN", default: "x", help: X_HELP };
 * ```
 */
export const X_HELP =
  `column holding x; several x columns: up to ${MAX_X_COLUMNS}, separated by commas (x1,x2,x3)`;

/**
 * The x columns and the y column named by `--x` and `--y` (defaults x and y), checked: 1 to 20 x
 * columns, no empty name, no name twice, and with several x columns y not among them (one x column may be
 * y, as before). Spaces around the commas of several names are ignored; a single name is taken as given,
 * as before.
 *
 * @example
 * ```ts
 * modelColumns({ x: "a, b", y: "c" }); // { x: ["a", "b"], y: "c" }
 * ```
 */
export function modelColumns(values: FlagValues): { x: string[]; y: string } {
  const xText = typeof values.x === "string" ? values.x : "x";
  const y = typeof values.y === "string" ? values.y : "y";
  const parts = xText.split(",");
  const x = parts.length > 1 ? parts.map((name) => name.trim()) : parts;
  if (x.some((name) => name === "")) {
    throw new UsageError(`--x: expected a column name, or names separated by commas (x1,x2), got "${xText}"`);
  }
  if (x.length > MAX_X_COLUMNS) {
    throw new UsageError(`--x names ${x.length} columns: at most ${MAX_X_COLUMNS} are supported`);
  }
  const twice = x.find((name, i) => x.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new UsageError(`--x names the column "${twice}" twice: name each x column once`);
  }
  if (y === "") throw new UsageError(`--y: expected a column name, got ""`);
  if (x.length > 1 && x.includes(y)) {
    throw new UsageError(
      `the column "${y}" is both y (--y) and an x column (--x): it can be one of them only`,
    );
  }
  return { x, y };
}

/**
 * The model of a run from the general flags (`degree`, `no-intercept`, `stats`) and the source's flag
 * values (`x`, `y`; a source without them, the demo stream, has one x named x and y named y).
 *
 * @example
 * ```ts
 * modelConfig({ degree: "3" }, { x: "t", y: "v" }); // { x: ["t"], y: "v", degree: 3, intercept: true, stats: false }
 * ```
 */
export function modelConfig(values: FlagValues, sourceValues: FlagValues): ModelConfig {
  const { x, y } = modelColumns(sourceValues);
  const degreeText = typeof values.degree === "string" ? values.degree : "1";
  const degree = numberFlag("degree", degreeText, { min: 1, integer: true });
  if (degree > MAX_DEGREE) {
    throw new UsageError(`--degree: expected an integer from 1 to ${MAX_DEGREE}, got "${degreeText}"`);
  }
  if (degree > 1 && x.length > 1) {
    throw new UsageError(
      `--degree ${degree} fits a polynomial in one x column, but --x names ${x.length} (${x.join(",")}): ` +
        `give one x column, or leave --degree out`,
    );
  }
  return { x, y, degree, intercept: values["no-intercept"] !== true, stats: values.stats === true };
}

/**
 * Why the input change log of `config` would be ambiguous, or undefined: with several x columns its
 * header is the x columns by name, then `y,time,diff`, so no x column may be named y, time or diff.
 *
 * @example
 * ```ts
 * inputLogProblem({ x: ["time", "v"], y: "p", degree: 1, intercept: true, stats: false }); // "--x: the column ..."
 * ```
 */
export function inputLogProblem(config: ModelConfig): string | undefined {
  if (config.x.length === 1) return undefined;
  const clash = config.x.find((name) => ["y", "time", "diff"].includes(name));
  if (clash === undefined) return undefined;
  return `--x: the x column "${clash}" would be named twice in the input change log, whose header is ` +
    `${[...inputColumns(config), "time", "diff"].join(",")}: use --no-input-log, or rename the column`;
}
