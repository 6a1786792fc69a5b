/**
 * Reads the two change logs of a run for `streamreg plot`: the input log (`x,y,time,diff`, or with several
 * x `x1,…,y,time,diff`) into the points present at its end (each −1 row takes back one +1 row of the same
 * values), and the result log (`a,b,time,diff`, or the model's columns) into the fit after each batch and
 * the final fit. From the result log's coefficient names it tells the model: `b` a line, `b_x`,
 * `b_x^2`, … a polynomial in the one x, `b_x1`, `b_x2`, … several x named as in the input log.
 *
 * @example
 * ```ts
 * import { readInputLog, readResultLog } from "./change_logs.ts";
 * const points = readInputLog("x,y,time,diff\n1,2,5,1\n");
 * const fits = readResultLog("a,b,time,diff\n0,2,5,1\n");
 * fits.final; // { time: 5, values: { a: 0, b: 2 } }
 * ```
 * @module
 */

/**
 * The points at the end of an input change log, as columns.
 *
 * @example
 * ```ts
 * const p: LoggedPoints = { columns: ["x"], xs: [[1, 2]], y: [3, 5] };
 * ```
 */
export interface LoggedPoints {
  /** The x columns' names (`x` for one x). */
  readonly columns: readonly string[];
  /** One array per x column. */
  readonly xs: readonly number[][];
  /** The y of each point. */
  readonly y: readonly number[];
}

/**
 * One fit of the result change log: its commit time and its values by column name.
 *
 * @example
 * ```ts
 * const fit: LoggedFit = { time: 1700000000000, values: { a: 0.5, b: 2 } };
 * ```
 */
export interface LoggedFit {
  /** Commit time, epoch ms. */
  readonly time: number;
  /** Every column before `time,diff` (NaN for an empty cell). */
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The fits of a result change log.
 *
 * @example
 * ```ts
 * const { coefficients, history, final } = readResultLog(text);
 * ```
 */
export interface LoggedFits {
  /** The coefficient columns (`a`, `b`, `b_x^2`, `b_x1`, …), in order. */
  readonly coefficients: readonly string[];
  /** Each fit written with diff 1, in order. */
  readonly history: readonly LoggedFit[];
  /** The fit at the end of the log (undefined if the last one was retracted, or there is none). */
  readonly final: LoggedFit | undefined;
}

function rows(text: string, what: string): { header: string[]; body: string[][] } {
  const lines = text.split(/\r?\n/).filter((line) => line !== "");
  if (lines.length === 0) throw new Error(`${what} is empty: expected a header such as x,y,time,diff`);
  const header = lines[0].split(",");
  if (header.at(-2) !== "time" || header.at(-1) !== "diff") {
    throw new Error(`${what}: the header "${lines[0]}" does not end with time,diff: is it a change log?`);
  }
  const body = lines.slice(1).map((line, i) => {
    const cells = line.split(",");
    if (cells.length !== header.length) {
      throw new Error(`${what} line ${i + 2}: ${cells.length} fields, but the header has ${header.length}`);
    }
    return cells;
  });
  return { header, body };
}

/**
 * The points present at the end of an input change log (`what` names it in errors).
 *
 * @example
 * ```ts
 * readInputLog("x,y,time,diff\n1,2,5,1\n1,2,6,-1\n3,4,6,1\n").xs; // [[3]]
 * ```
 */
export function readInputLog(text: string, what = "the input log"): LoggedPoints {
  const { header, body } = rows(text, what);
  const columns = header.slice(0, -3);
  if (columns.length === 0 || header.at(-3) !== "y") {
    throw new Error(`${what}: expected x columns, then y,time,diff; got "${header.join(",")}"`);
  }
  // Each −1 row takes back the latest +1 row with the same values.
  const present = new Map<string, number[]>();
  const kept: (string[] | undefined)[] = [];
  for (const [i, cells] of body.entries()) {
    const key = cells.slice(0, -2).join(",");
    const diff = cells.at(-1);
    if (diff === "1") {
      kept.push(cells);
      present.set(key, [...(present.get(key) ?? []), kept.length - 1]);
    } else if (diff === "-1") {
      const at = present.get(key)?.pop();
      if (at === undefined) throw new Error(`${what} line ${i + 2}: retracts a point that is not there`);
      kept[at] = undefined;
    } else throw new Error(`${what} line ${i + 2}: diff is "${diff}", expected 1 or -1`);
  }
  const xs: number[][] = columns.map(() => []);
  const y: number[] = [];
  for (const cells of kept) {
    if (cells === undefined) continue;
    columns.forEach((_, j) => xs[j].push(Number(cells[j])));
    y.push(Number(cells[columns.length]));
  }
  return { columns, xs, y };
}

/**
 * The fits of a result change log (`what` names it in errors).
 *
 * @example
 * ```ts
 * readResultLog("a,b,time,diff\n0,0,5,1\n0,0,6,-1\n1,2,6,1\n").final?.values; // { a: 1, b: 2 }
 * ```
 */
export function readResultLog(text: string, what = "the result log"): LoggedFits {
  const { header, body } = rows(text, what);
  const names = header.slice(0, -2);
  const coefficients = names.filter((name) => name === "a" || name === "b" || name.startsWith("b_"));
  if (coefficients.length === 0) throw new Error(`${what}: no coefficient column (a, b, b_…) in "${header}"`);
  const history: LoggedFit[] = [];
  let final: LoggedFit | undefined;
  for (const cells of body) {
    const time = Number(cells.at(-2));
    if (cells.at(-1) === "-1") {
      final = undefined;
      continue;
    }
    const values: Record<string, number> = {};
    names.forEach((name, i) => (values[name] = cells[i] === "" ? NaN : Number(cells[i])));
    final = { time, values };
    history.push(final);
  }
  return { coefficients, history, final };
}

/**
 * The model the coefficient names describe, as a function of one point's x values (in the input log's
 * column order), and whether it is a function of one x (a line or a polynomial: drawn as a curve) or of
 * several (drawn as y against the fitted value).
 *
 * @example
 * ```ts
 * const m = modelOf(["a", "b_t", "b_t^2"], ["x"]);
 * m.single; // true
 * m.predict({ a: 1, b_t: 0, "b_t^2": 1 }, [3]); // 10
 * ```
 */
export function modelOf(
  coefficients: readonly string[],
  columns: readonly string[],
): { single: boolean; predict: (values: Readonly<Record<string, number>>, xs: readonly number[]) => number } {
  const bases = new Set(
    coefficients.filter((c) => c !== "a").map((
      c,
    ) => (c === "b" ? columns[0] : c.slice(2).replace(/\^\d+$/, ""))),
  );
  const single = columns.length === 1 && bases.size <= 1;
  const terms = coefficients.map((name) => {
    if (name === "a") return { name, column: -1, power: 0 };
    if (name === "b") return { name, column: 0, power: 1 };
    const m = /^b_(.*?)(?:\^(\d+))?$/.exec(name)!;
    const column = single ? 0 : columns.indexOf(m[1]);
    if (column < 0) throw new Error(`the coefficient ${name} names no column of the input log (${columns})`);
    return { name, column, power: m[2] ? Number(m[2]) : 1 };
  });
  return {
    single,
    predict(values, xs) {
      let sum = 0;
      for (const { name, column, power } of terms) {
        const c = values[name];
        if (c !== c) continue; // aliased: no term
        sum += column < 0 ? c : c * xs[column] ** power;
      }
      return sum;
    },
  };
}
