/**
 * The one CSV record and header reader of the sources: {@linkcode splitCsvRecord} splits a record with
 * RFC 4180 quotes, {@linkcode headerColumns} finds the named columns in a header's fields (trimmed), and
 * {@linkcode csvLayout} reads a header line into where x and y are, and {@linkcode plainFields} finds the
 * fields of a record without quotes in place (the fast path of both sources). The Kafka source reads
 * every message with them; the CSV file source (which hands lines with quotes to csv-parse, several at
 * once) finds its columns with {@linkcode headerColumns} and reads plain lines with
 * {@linkcode plainFields}.
 *
 * @example
 * ```ts
 * import { csvLayout, splitCsvRecord } from "./csv.ts";
 * splitCsvRecord('1,"2,5"'); // ["1", "2,5"]
 * csvLayout("y,x,note", { x: "x", y: "y" }); // { x: 1, y: 0, width: 3 }
 * csvLayout("x1,x2,y", { x: "x1", xs: ["x1", "x2"], y: "y" }); // { x: 0, xs: [0, 1], y: 2, width: 3 }
 * ```
 * @module
 */

/**
 * The names of the x and y columns (CSV) or fields (JSON).
 *
 * @example
 * ```ts
 * const columns: Columns = { x: "time", y: "price" };
 * ```
 */
export interface Columns {
  /** Column or field holding x (with several x columns: the first, `xs[0]`). */
  readonly x: string;
  /**
   * With several x columns (2 or more): every x column or field, in the model's order; `xs[0]` is `x`.
   * Absent with one.
   */
  readonly xs?: readonly string[];
  /** Column or field holding y. */
  readonly y: string;
  /** With `--key`: the key columns or fields (`@key`: the Kafka message key, not a column). */
  readonly keys?: readonly string[];
  /**
   * With `--window`: the event time column or field (`@timestamp`: the Kafka message timestamp) and how
   * it writes times (`ms`, `s` or `iso`).
   */
  readonly time?: { readonly column: string; readonly format: "ms" | "s" | "iso" };
}

/**
 * Where x and y are in a CSV record, from a header.
 *
 * @example
 * ```ts
 * const layout = csvLayout("y,x,note", { x: "x", y: "y" }); // { x: 1, y: 0, width: 3 }
 * ```
 */
export interface CsvLayout {
  /** Index of the x field (with several x columns: the first's). */
  readonly x: number;
  /** With several x columns: the index of each (`xs[0]` is `x`); absent with one. */
  readonly xs?: readonly number[];
  /** Index of the y field. */
  readonly y: number;
  /** Number of fields of the header; data rows must have as many. */
  readonly width: number;
  /** With keys: the index of each key column (-1 for `@key`, the message key). */
  readonly keys?: readonly number[];
  /** With a time column: its index (-1 for `@timestamp`, the message timestamp). */
  readonly time?: number;
}

/** Drops one trailing line break ("\n" or "\r\n"): producers that send lines often keep it. */
function chomp(text: string): string {
  if (text.endsWith("\n")) return text.slice(0, text.endsWith("\r\n") ? -2 : -1);
  return text;
}

/**
 * Splits one CSV record (a Kafka message) into fields, with RFC 4180 quotes (`"a ""b"""` is `a "b"`).
 * Returns undefined for unbalanced quotes. A trailing line break is ignored.
 *
 * @example
 * ```ts
 * splitCsvRecord('1,"2,5",x'); // ["1", "2,5", "x"]
 * ```
 */
export function splitCsvRecord(message: string): string[] | undefined {
  const text = chomp(message);
  if (text.indexOf('"') < 0) return text.split(",");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    // Spaces before an opening quote are allowed, as csv-parse does not: keep it simple and strict.
    if (text.charCodeAt(i) === 0x22) {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return undefined;
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < text.length && text.charCodeAt(i) !== 0x2c) return undefined; // text after the quote
    } else {
      const comma = text.indexOf(",", i);
      const stop = comma < 0 ? text.length : comma;
      field = text.slice(i, stop);
      if (field.indexOf('"') >= 0) return undefined;
      i = stop;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/**
 * Reads a CSV header: returns the layout, or why it is not a header naming both columns.
 *
 * @example
 * ```ts
 * csvLayout("x,y", { x: "x", y: "y" }); // { x: 0, y: 1, width: 2 }
 * csvLayout("1,2", { x: "x", y: "y" }); // 'no column "x"'
 * ```
 */
export function csvLayout(header: string, columns: Columns): CsvLayout | string {
  const fields = splitCsvRecord(header.replace(/^\uFEFF/, ""));
  if (fields === undefined) return "unbalanced quotes";
  let layout = xyLayout(fields, columns);
  if (typeof layout === "string") return layout;
  if (columns.keys !== undefined) {
    const keys = headerColumns(fields, columns.keys).map((i, c) => (columns.keys![c] === "@key" ? -1 : i));
    const missing = keys.findIndex((i, c) => i < 0 && columns.keys![c] !== "@key");
    if (missing >= 0) return `no column "${columns.keys[missing]}" (a key column, --key)`;
    layout = { ...layout, keys };
  }
  if (columns.time !== undefined) {
    const name = columns.time.column;
    const [time] = name === "@timestamp" ? [-1] : headerColumns(fields, [name]);
    if (time < 0 && name !== "@timestamp") return `no column "${name}" (the time column, --time)`;
    layout = { ...layout, time };
  }
  return layout;
}

function xyLayout(fields: string[], columns: Columns): CsvLayout | string {
  if (columns.xs !== undefined && columns.xs.length > 1) {
    const xs = headerColumns(fields, columns.xs);
    const [y] = headerColumns(fields, [columns.y]);
    const missing = xs.findIndex((i) => i < 0);
    if (missing >= 0) return `no column "${columns.xs[missing]}"`;
    if (y < 0) return `no column "${columns.y}"`;
    const twice = xs.findIndex((i, c) => xs.indexOf(i) !== c || i === y);
    if (twice >= 0) return `the column "${columns.xs[twice]}" is named twice`;
    return { x: xs[0], xs, y, width: fields.length };
  }
  const [x, y] = headerColumns(fields, [columns.x, columns.y]);
  if (x < 0) return `no column "${columns.x}"`;
  if (y < 0) return `no column "${columns.y}"`;
  if (x === y) return `x and y are the same column "${columns.x}"`;
  return { x, y, width: fields.length };
}

/**
 * Where each named column is among a header's fields, compared trimmed (-1: no such column).
 *
 * @example
 * ```ts
 * headerColumns([" y ", "x", "note"], ["x", "y", "diff"]); // [1, 0, -1]
 * ```
 */
export function headerColumns(fields: readonly string[], names: readonly string[]): number[] {
  const heads = fields.map((f) => f.trim());
  return names.map((name) => heads.indexOf(name));
}

/**
 * Finds fields of a plain CSV record, one without quotes: `text[s, e)`, fields split at each comma (what
 * an RFC 4180 parser gives for a record without quotes). For each k, the field numbered `columns[k]`
 * (from 0) is `text[ranges[2k], ranges[2k + 1])`; a column past the last field is left as it was.
 * Returns the number of fields. The fast path of every CSV reader here (the file source's data lines,
 * Kafka's CSV messages); records with quotes go to a full parser.
 *
 * @example
 * ```ts
 * const ranges = new Int32Array(4);
 * plainFields("a,1,2.5", 0, 7, Int32Array.of(1, 2), ranges); // 3; ranges = [2, 3, 4, 7]
 * ```
 */
export function plainFields(
  text: string,
  s: number,
  e: number,
  columns: Int32Array,
  ranges: Int32Array,
): number {
  const wanted = columns.length;
  const c0 = columns[0];
  const c1 = wanted > 1 ? columns[1] : -1;
  let f = 0;
  for (let a = s;; f++) {
    let c = text.indexOf(",", a);
    if (c < 0 || c > e) c = e;
    if (f === c0) {
      ranges[0] = a;
      ranges[1] = c;
    }
    if (f === c1) {
      ranges[2] = a;
      ranges[3] = c;
    }
    for (let k = 2; k < wanted; k++) {
      if (columns[k] === f) {
        ranges[2 * k] = a;
        ranges[2 * k + 1] = c;
      }
    }
    if (c === e) return f + 1;
    a = c + 1;
  }
}
