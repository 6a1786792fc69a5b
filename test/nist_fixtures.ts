/**
 * The NIST StRD linear least-squares fixtures (test/fixtures/norris.csv, test/fixtures/nist/*.csv) as
 * model points, and their certified values as data (from test/fixtures/README.md for Norris and
 * test/fixtures/nist/README.md for the others). Files are read with `node:fs`, so this works under Deno
 * and Bun alike.
 *
 * @example
 * ```ts
 * import { NIST_CERTIFIED, parseNist } from "./nist_fixtures.ts";
 * const { points } = parseNist("longley"); // 16 points of 6 x each
 * NIST_CERTIFIED.longley.spec; // { k: 6, degree: 1, intercept: true }
 * ```
 * @module
 */

import { readFileSync } from "node:fs";
import type { ModelPoint, ModelSpec } from "./model_reference.ts";

/** The fixture names. */
export const NIST_NAMES = ["norris", "pontius", "longley", "filip", "wampler1", "wampler2"] as const;
/** A fixture name. */
export type NistName = typeof NIST_NAMES[number];

/** A fixture's data. */
export interface NistData {
  /** The CSV header's x column names (y, the last column, left out). */
  readonly columns: readonly string[];
  /** One point per data row, y the last column, the decimals read with `Number`. */
  readonly points: readonly ModelPoint[];
}

/**
 * Reads a fixture: `norris` is test/fixtures/norris.csv, the others test/fixtures/nist/<name>.csv.
 *
 * @example
 * ```ts
 * parseNist("norris").points[0]; // { xs: [0.2], y: 0.1 }
 * parseNist("filip").points.length; // 82
 * ```
 */
export function parseNist(name: NistName): NistData {
  if (!NIST_NAMES.includes(name)) {
    throw new RangeError(`no NIST fixture named ${name}: ${NIST_NAMES.join(", ")}`);
  }
  const url = name === "norris"
    ? new URL("./fixtures/norris.csv", import.meta.url)
    : new URL(`./fixtures/nist/${name}.csv`, import.meta.url);
  const lines = readFileSync(url, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines[0].split(",").map((s) => s.trim());
  const points = lines.slice(1).map((line, i) => {
    const values = line.split(",").map((s) => Number(s));
    if (values.length !== header.length || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`${name}.csv line ${i + 2} is not ${header.length} numbers: ${line}`);
    }
    return { xs: values.slice(0, -1), y: values[values.length - 1] };
  });
  return { columns: header.slice(0, -1), points };
}

/** A fixture's model and NIST's certified values (15 significant digits, for the decimals as written). */
export interface NistCertified {
  readonly spec: ModelSpec;
  /** B0 (the intercept), B1, …. */
  readonly coefficients: readonly number[];
  /** The certified standard deviation of each coefficient. */
  readonly sd: readonly number[];
  /** The residual standard deviation (sigma). */
  readonly residualSD: number;
  /** R², centred. */
  readonly r2: number;
  /**
   * The exact answers for the files' doubles, correctly rounded, where the READMEs give them (they differ
   * from the certified values in the last digits): coefficients by index.
   */
  readonly exactForDoubles: {
    readonly coefficients: Readonly<Record<number, number>>;
    readonly residualSD?: number;
    readonly r2?: number;
  };
}

/**
 * NIST's certified values for each fixture, as the READMEs in test/fixtures give them.
 *
 * @example
 * ```ts
 * NIST_CERTIFIED.filip.coefficients.length; // 11
 * NIST_CERTIFIED.wampler1.sd; // [0, 0, 0, 0, 0, 0]
 * ```
 */
export const NIST_CERTIFIED: Readonly<Record<NistName, NistCertified>> = {
  norris: {
    spec: { k: 1, degree: 1, intercept: true },
    coefficients: [-0.262323073774029, 1.00211681802045],
    sd: [0.232818234301152, 0.429796848199937E-03],
    residualSD: 0.884796396144373,
    r2: 0.999993745883712,
    exactForDoubles: { coefficients: { 0: -0.26232307377402675, 1: 1.0021168180204545 } },
  },
  pontius: {
    spec: { k: 1, degree: 2, intercept: true },
    coefficients: [0.673565789473684E-03, 0.732059160401003E-06, -0.316081871345029E-14],
    sd: [0.107938612033077E-03, 0.157817399981659E-09, 0.486652849992036E-16],
    residualSD: 0.205177424076185E-03,
    r2: 0.999999900178537,
    exactForDoubles: { coefficients: {} },
  },
  longley: {
    spec: { k: 6, degree: 1, intercept: true },
    coefficients: [
      -3482258.63459582,
      15.0618722713733,
      -0.358191792925910E-01,
      -2.02022980381683,
      -1.03322686717359,
      -0.511041056535807E-01,
      1829.15146461355,
    ],
    sd: [
      890420.383607373,
      84.9149257747669,
      0.334910077722432E-01,
      0.488399681651699,
      0.214274163161675,
      0.226073200069370,
      455.478499142212,
    ],
    residualSD: 304.854073561965,
    r2: 0.995479004577296,
    exactForDoubles: { coefficients: {} },
  },
  filip: {
    spec: { k: 1, degree: 10, intercept: true },
    coefficients: [
      -1467.48961422980,
      -2772.17959193342,
      -2316.37108160893,
      -1127.97394098372,
      -354.478233703349,
      -75.1242017393757,
      -10.8753180355343,
      -1.06221498588947,
      -0.670191154593408E-01,
      -0.246781078275479E-02,
      -0.402962525080404E-04,
    ],
    sd: [
      298.084530995537,
      559.779865474950,
      466.477572127796,
      227.204274477751,
      71.6478660875927,
      15.2897178747400,
      2.23691159816033,
      0.221624321934227,
      0.142363763154724E-01,
      0.535617408889821E-03,
      0.896632837373868E-05,
    ],
    residualSD: 0.334801051324544E-02,
    r2: 0.996727416185620,
    exactForDoubles: {
      coefficients: { 0: -1467.4896142297885, 10: -4.029625250804014E-05 },
      residualSD: 0.0033480105132454342,
      r2: 0.9967274161856201,
    },
  },
  wampler1: {
    spec: { k: 1, degree: 5, intercept: true },
    coefficients: [1, 1, 1, 1, 1, 1],
    sd: [0, 0, 0, 0, 0, 0],
    residualSD: 0,
    r2: 1,
    exactForDoubles: { coefficients: { 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 }, residualSD: 0, r2: 1 },
  },
  wampler2: {
    spec: { k: 1, degree: 5, intercept: true },
    coefficients: [1, 0.1, 0.01, 0.001, 0.0001, 0.00001],
    sd: [0, 0, 0, 0, 0, 0],
    residualSD: 0,
    r2: 1,
    exactForDoubles: {
      coefficients: { 1: 0.10000000000000081, 5: 1.000000000000009E-05 },
      residualSD: 7.001608627331804E-16,
    },
  },
};
