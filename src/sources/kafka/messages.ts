/**
 * Kafka messages → points: {@linkcode PointParser} reads a message's text as a CSV data row (with the
 * layout of its partition's header) or a JSON object, and says why when it is not a point (a reason code
 * of `../../model/rejection.ts`); {@linkcode messageText} decodes a message's bytes, telling bytes that are
 * not UTF-8 apart. Pure: no Kafka client here.
 *
 * @example
 * ```ts
 * import { PointParser } from "./messages.ts";
 * const parser = new PointParser({ x: "x", y: "y" });
 * parser.csv("3,4.5", { x: 0, y: 1, width: 2 }); // true: parser.x = 3, parser.y = 4.5
 * ```
 *
 * With several x columns (`Columns.xs`), every x column is read, in order and before y (the first bad one
 * is the one reported), into `xs`.
 * @module
 */

import { Buffer } from "node:buffer";
import { type Columns, type CsvLayout, splitCsvRecord } from "../../model/csv.ts";
import { jsonMemberSources, PlainJsonObject } from "../../model/json_fields.ts";
import { exactDecimal, parseNumberField } from "../../model/numbers.ts";
import { type RejectReason, showField, type SourceReject } from "../../model/rejection.ts";
import { joinKey, keyProblem, MESSAGE_KEY } from "../../model/keys.ts";
import { MESSAGE_TIMESTAMP, parseTime, type TimeFormat } from "../../model/windows.ts";

/**
 * A message as shown in error messages: escaped, shortened, quoted (see `showField`).
 *
 * @example
 * ```ts
 * preview("1,abc"); // '"1,abc"'
 * ```
 */
export function preview(text: string): string {
  return showField(text);
}

/**
 * The one character of a latin1 text beyond ASCII that `Number` takes for a space (byte 0xa0, not UTF-8
 * on its own): every other one, and a quote, makes a field not a number.
 */
const NBSP = "\u00a0";

/**
 * Parses message texts into points. After a call that returns true, `x` and `y` hold the point;
 * after false, `rejected` says why the message is not one (a reason code of `../../model/rejection.ts`
 * and a detail). One instance is reused for every message.
 *
 * @example
 * ```ts
 * const parser = new PointParser({ x: "x", y: "y" });
 * parser.csv("3,4.5", { x: 0, y: 1, width: 2 }); // true: parser.x = 3, parser.y = 4.5
 * parser.json('{"x": 1}'); // false: parser.rejected = { reason: "bad_json", detail: 'no field "y"' }
 * ```
 */
export class PointParser {
  /** The x of the last point parsed (with several x columns: the first). */
  x = NaN;
  /** With several x columns: every x of the last point parsed (`xs[0]` is `x`); else empty. */
  readonly xs: Float64Array;
  /** The y of the last point parsed. */
  y = NaN;
  /** Why the last message was not a point. */
  rejected: SourceReject = { reason: "bad_csv", detail: "" };
  /** With keys (`--key`): the key of the last point parsed. */
  key = "";
  /**
   * With `--key @key`: the key of the message being parsed (its UTF-8 text; null: it has none, or it is
   * not UTF-8), set by the caller before each message.
   */
  messageKey: string | null = null;
  /** The key columns or fields, if keyed. */
  readonly keys: readonly string[] | undefined;
  /** With `--time`: the event time (epoch ms) of the last point parsed. */
  time = NaN;
  /** With `--time @timestamp`: the timestamp (epoch ms) of the message being parsed, set by the caller. */
  messageTimestamp = NaN;
  /** The time column or field and its format, if any. */
  readonly timeColumn: { readonly column: string; readonly format: TimeFormat } | undefined;
  readonly #columns: Columns;
  /** The x columns' names with several x columns, else undefined. */
  readonly #xs: readonly string[] | undefined;
  #exactX = true;
  #exactY = true;
  /** The fast path's reader of plain JSON objects (made on first use). */
  #plainObject: PlainJsonObject | undefined;

  /** `columns` names the fields, in JSON and in messages. */
  constructor(columns: Columns) {
    this.#columns = columns;
    this.#xs = columns.xs !== undefined && columns.xs.length > 1 ? columns.xs : undefined;
    this.xs = new Float64Array(this.#xs?.length ?? 0);
    this.keys = columns.keys !== undefined && columns.keys.length > 0 ? columns.keys : undefined;
    this.timeColumn = columns.time;
  }

  /** Sets `time` from the time field (`field`: its text, a JSON number, or undefined if absent). */
  #takeTime(field: string | number | undefined): boolean {
    const spec = this.timeColumn!;
    if (spec.column === MESSAGE_TIMESTAMP) {
      this.time = this.messageTimestamp;
      return Number.isFinite(this.time) || this.#fail("bad_time", "the message has no timestamp");
    }
    const ms = typeof field === "number"
      ? parseTime(String(field), spec.format)
      : field === undefined
      ? undefined
      : parseTime(field, spec.format);
    if (ms === undefined) {
      return this.#fail(
        "bad_time",
        `${spec.column} is ${
          field === undefined ? "absent" : showField(String(field))
        }: not a time of --time-format ${spec.format}`,
      );
    }
    this.time = ms;
    return true;
  }

  /**
   * With a time column: sets `time` from a plain CSV record's time field, found by `plainFields` at
   * `ranges[at]`, `ranges[at + 1]` (or the message timestamp). False, with the reason, if it is no time.
   *
   * @example
   * ```ts
   * parser.timeFromRanges("1,2,1700000000000", Int32Array.of(0, 1, 2, 3, 4, 17), 4); // true
   * ```
   */
  timeFromRanges(text: string, ranges: Int32Array, at: number): boolean {
    if (this.timeColumn!.column === MESSAGE_TIMESTAMP) return this.#takeTime(undefined);
    return this.#takeTime(text.slice(ranges[at], ranges[at + 1]));
  }

  /**
   * Sets `key` from the key fields (`field(c)`: key column c's text, or undefined if it has none) and
   * the message key; false, with the reason, if a key field is absent or cannot be a key.
   */
  #takeKey(field: (c: number) => string | undefined): boolean {
    const names = this.keys!;
    const parts: string[] = [];
    for (let c = 0; c < names.length; c++) {
      const name = names[c];
      const text = name === MESSAGE_KEY ? this.messageKey : field(c);
      if (text === undefined || text === null) {
        return this.#fail(
          "missing_key",
          name === MESSAGE_KEY
            ? "the message has no key (or it is not UTF-8)"
            : `no ${name}: every point needs a key`,
        );
      }
      const problem = keyProblem(text, name === MESSAGE_KEY ? "the message key" : name);
      if (problem !== undefined) return this.#fail("missing_key", problem);
      parts.push(text);
    }
    this.key = joinKey(parts);
    return true;
  }

  /**
   * With keys: sets `key` from a plain CSV record's key fields, found by `plainFields` at `ranges[at…]`
   * (two numbers per key column that is not the message key, in order). Returns false with the reason
   * if a key cannot be used.
   *
   * @example
   * ```ts
   * parser.keyFromRanges("s1,1,2", Int32Array.of(3, 4, 5, 6, 0, 2), 4); // true: parser.key = "s1"
   * ```
   */
  keyFromRanges(text: string, ranges: Int32Array, at: number): boolean {
    let next = at;
    const found: (string | undefined)[] = this.keys!.map((name) => {
      if (name === MESSAGE_KEY) return undefined;
      const field = text.slice(ranges[next], ranges[next + 1]);
      next += 2;
      return field;
    });
    return this.#takeKey((c) => found[c]);
  }

  /**
   * Parses a CSV data row laid out as `layout`.
   *
   * @example
   * ```ts
   * parser.csv("a,1,2", csvLayout("note,x,y", columns) as CsvLayout); // true
   * ```
   */
  csv(text: string, layout: CsvLayout): boolean {
    const fields = splitCsvRecord(text);
    if (fields === undefined) return this.#fail("bad_csv", "a quote is unterminated or misplaced");
    if (fields.length !== layout.width) {
      return this.#fail(
        fields.length < layout.width ? "missing_column" : "extra_fields",
        `${fields.length} field${fields.length === 1 ? "" : "s"} where the header has ${layout.width}`,
      );
    }
    if (!this.#csvNumbers(fields, layout)) return false;
    if (layout.keys !== undefined && !this.#takeKey((c) => fields[layout.keys![c]])) return false;
    return layout.time === undefined || this.#takeTime(layout.time < 0 ? undefined : fields[layout.time]);
  }

  #csvNumbers(fields: string[], layout: CsvLayout): boolean {
    const names = this.#xs;
    if (names !== undefined) {
      const at = layout.xs!;
      for (let c = 0; c < names.length; c++) {
        const v = parseNumberField(fields[at[c]], names[c]);
        if (typeof v !== "number") return this.#reject(v);
        this.xs[c] = v;
      }
      const y = parseNumberField(fields[layout.y], this.#columns.y);
      if (typeof y !== "number") return this.#reject(y);
      this.x = this.xs[0];
      this.y = y;
      return true;
    }
    return this.pair(fields[layout.x], fields[layout.y]);
  }

  /**
   * Parses the x and y fields of a CSV row (what `csv` does once it has found them).
   *
   * @example
   * ```ts
   * parser.pair("1", " 2.5"); // true: parser.x = 1, parser.y = 2.5
   * ```
   */
  pair(xField: string, yField: string): boolean {
    const x = parseNumberField(xField, this.#columns.x);
    if (typeof x !== "number") return this.#reject(x);
    const y = parseNumberField(yField, this.#columns.y);
    if (typeof y !== "number") return this.#reject(y);
    this.x = x;
    this.y = y;
    return true;
  }

  /**
   * Like `pair`, on two ranges of one string: `text[xa, xb)` and `text[ya, yb)`. Without slicing in
   * the common case (see {@linkcode exactDecimal}). `text` holds bytes as characters (latin1): a field
   * with a quote or a character beyond ASCII is not read here (false, with no meaningful reason): the
   * caller then parses the message's text properly.
   *
   * @example
   * ```ts
   * parser.ranges("3,4.5", 0, 1, 2, 5); // true: parser.x = 3, parser.y = 4.5
   * ```
   */
  ranges(text: string, xa: number, xb: number, ya: number, yb: number): boolean {
    let x = this.#exactX ? exactDecimal(text, xa, xb) : NaN;
    if (x !== x) {
      this.#exactX = false; // (the values of a column tend to look alike: stop trying for now)
      const field = text.slice(xa, xb);
      if (field.indexOf(NBSP) >= 0) return this.#fail("bad_csv", "");
      const parsed = parseNumberField(field, this.#columns.x);
      if (typeof parsed !== "number") return this.#reject(parsed);
      x = parsed;
    }
    let y = this.#exactY ? exactDecimal(text, ya, yb) : NaN;
    if (y !== y) {
      this.#exactY = false;
      const field = text.slice(ya, yb);
      if (field.indexOf(NBSP) >= 0) return this.#fail("bad_csv", "");
      const parsed = parseNumberField(field, this.#columns.y);
      if (typeof parsed !== "number") return this.#reject(parsed);
      y = parsed;
    }
    this.x = x;
    this.y = y;
    return true;
  }

  /**
   * Like `ranges`, with several x columns: `ranges` holds `[xa, xb, ya, yb]` and then the range of each
   * x column after the first. Reads every x (into `xs`), then y.
   *
   * @example
   * ```ts
   * parser.rangesRow("1,2,3", Int32Array.of(0, 1, 4, 5, 2, 3)); // true: parser.xs = [1, 2], parser.y = 3
   * ```
   */
  rangesRow(text: string, ranges: Int32Array): boolean {
    const names = this.#xs!;
    const xs = this.xs;
    for (let c = 0; c < names.length; c++) {
      const a = c === 0 ? ranges[0] : ranges[2 + 2 * c];
      const b = c === 0 ? ranges[1] : ranges[3 + 2 * c];
      let v = exactDecimal(text, a, b);
      if (v !== v) {
        const field = text.slice(a, b);
        if (field.indexOf(NBSP) >= 0) return this.#fail("bad_csv", "");
        const parsed = parseNumberField(field, names[c]);
        if (typeof parsed !== "number") return this.#reject(parsed);
        v = parsed;
      }
      xs[c] = v;
    }
    let y = exactDecimal(text, ranges[2], ranges[3]);
    if (y !== y) {
      const field = text.slice(ranges[2], ranges[3]);
      if (field.indexOf(NBSP) >= 0) return this.#fail("bad_csv", "");
      const parsed = parseNumberField(field, this.#columns.y);
      if (typeof parsed !== "number") return this.#reject(parsed);
      y = parsed;
    }
    this.x = xs[0];
    this.y = y;
    return true;
  }

  /**
   * Tries {@linkcode exactDecimal} again for both columns in `ranges` (after a miss, `ranges` goes
   * straight to `Number` until this is called; the source calls it once per fetched batch).
   *
   * @example
   * ```ts
   * parser.retryExact();
   * ```
   */
  retryExact(): void {
    this.#exactX = true;
    this.#exactY = true;
  }

  /**
   * The fast path of {@linkcode PointParser.json}: reads `text[start, end)` (bytes as characters, latin1)
   * in place when it is a plain JSON object (flat, ASCII, without escapes: `../../model/json_fields.ts`)
   * whose x and y members are numbers (and keys and time strings or short integers). False for anything
   * else, and for a value that is not a point's: the caller then parses the message's text with `json`,
   * which gives the same point or says why it is none.
   *
   * @example
   * ```ts
   * const text = '{"x":1,"y":2}';
   * parser.plainJson(text, 0, text.length) || parser.json(text); // true: parser.x = 1, parser.y = 2
   * ```
   */
  plainJson(text: string, start: number, end: number): boolean {
    const object = this.#plainObject ??= this.#newPlainObject();
    if (!object.read(text, start, end)) return false;
    const ranges = object.ranges;
    const numbers = 2 + (this.#xs === undefined ? 0 : this.#xs.length - 1);
    if (
      !(this.#xs !== undefined
        ? this.rangesRow(text, ranges)
        : this.ranges(text, ranges[0], ranges[1], ranges[2], ranges[3]))
    ) return false;
    const fieldKeys = this.keys?.filter((name) => name !== MESSAGE_KEY).length ?? 0;
    if (this.keys !== undefined && !this.keyFromRanges(text, ranges, 2 * numbers)) return false;
    return this.timeColumn === undefined || this.timeFromRanges(text, ranges, 2 * (numbers + fieldKeys));
  }

  #newPlainObject(): PlainJsonObject {
    const numbers = [this.#columns.x, this.#columns.y, ...(this.#xs?.slice(1) ?? [])];
    const texts = (this.keys ?? []).filter((name) => name !== MESSAGE_KEY);
    const time = this.timeColumn?.column;
    if (time !== undefined && time !== MESSAGE_TIMESTAMP) texts.push(time);
    return new PlainJsonObject([...numbers, ...texts], {
      types: [...numbers.map(() => "number" as const), ...texts.map(() => "text" as const)],
    });
  }

  /**
   * Parses a JSON object with numeric fields named by the columns.
   *
   * @example
   * ```ts
   * parser.json('{"x": 0, "y": 0.07, "id": "a"}'); // true
   * ```
   */
  json(text: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.#fail("bad_json", `not JSON: ${showField(text)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.#fail("bad_json", `not a JSON object: ${showField(text)}`);
    }
    const record = value as Record<string, unknown>;
    if (!this.#jsonNumbers(text, record)) return false;
    const keyed = this.keys === undefined || this.#takeKey((c) => {
      const v = record[this.keys![c]];
      return typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
    });
    if (!keyed) return false;
    if (this.timeColumn === undefined) return true;
    const t = this.timeColumn.column === MESSAGE_TIMESTAMP ? undefined : record[this.timeColumn.column];
    return this.#takeTime(typeof t === "string" || typeof t === "number" ? t : undefined);
  }

  #jsonNumbers(text: string, record: Record<string, unknown>): boolean {
    if (this.#xs !== undefined) return this.#jsonRow(text, record, this.#xs);
    const x = record[this.#columns.x];
    const y = record[this.#columns.y];
    if (typeof x !== "number") return this.#fail("bad_json", jsonProblem(this.#columns.x, x));
    if (typeof y !== "number") return this.#fail("bad_json", jsonProblem(this.#columns.y, y));
    if (x === 0 || y === 0 || x - x !== 0 || y - y !== 0) {
      // A literal that does not fit a double reads as ±Infinity (1e400) or 0 (1e-400): judge the literals
      // as CSV fields are judged (overflow, out_of_range), so that no message reads as a point it is not.
      const literals = jsonMemberSources(text);
      for (const name of [this.#columns.x, this.#columns.y]) {
        const literal = literals.get(name);
        if (literal === undefined) continue;
        const parsed = parseNumberField(literal, name);
        if (typeof parsed !== "number") return this.#reject(parsed);
      }
    }
    this.x = x;
    this.y = y;
    return true;
  }

  /** `json` with several x columns. */
  #jsonRow(text: string, record: Record<string, unknown>, names: readonly string[]): boolean {
    let unusual = false;
    for (let c = 0; c < names.length; c++) {
      const v = record[names[c]];
      if (typeof v !== "number") return this.#fail("bad_json", jsonProblem(names[c], v));
      if (v === 0 || v - v !== 0) unusual = true;
      this.xs[c] = v;
    }
    const y = record[this.#columns.y];
    if (typeof y !== "number") return this.#fail("bad_json", jsonProblem(this.#columns.y, y));
    if (unusual || y === 0 || y - y !== 0) {
      // As in `json`: 1e400 and 1e-400 are judged as CSV fields are (overflow, out_of_range).
      const literals = jsonMemberSources(text);
      for (const name of [...names, this.#columns.y]) {
        const literal = literals.get(name);
        if (literal === undefined) continue;
        const parsed = parseNumberField(literal, name);
        if (typeof parsed !== "number") return this.#reject(parsed);
      }
    }
    this.x = this.xs[0];
    this.y = y;
    return true;
  }

  /**
   * Records that the message is not UTF-8 (`invalid_utf8`); returns false.
   *
   * @example
   * ```ts
   * const ok = text === undefined ? parser.notUtf8() : parser.csv(text, layout);
   * ```
   */
  notUtf8(): false {
    return this.#fail("invalid_utf8", "the message is not valid UTF-8");
  }

  #fail(reason: RejectReason, detail: string): false {
    return this.#reject({ reason, detail });
  }

  #reject(why: SourceReject): false {
    this.rejected = why;
    return false;
  }
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A message's text, or undefined if its bytes are not UTF-8 (only a text with U+FFFD, the mark of a
 * replaced byte, is checked again strictly). A message without a value is "".
 *
 * @example
 * ```ts
 * messageText(Buffer.from("1,2")); // "1,2"
 * messageText(Buffer.from([0x31, 0x2c, 0x80])); // undefined
 * ```
 */
export function messageText(value: Uint8Array | null): string | undefined {
  if (value === null) return "";
  const text = Buffer.from(value.buffer, value.byteOffset, value.length).toString("utf8");
  if (text.indexOf("\uFFFD") < 0) return text;
  try {
    fatalUtf8.decode(value);
    return text;
  } catch {
    return undefined;
  }
}

function jsonProblem(name: string, value: unknown): string {
  if (value === undefined) return `no field "${name}"`;
  if (typeof value === "string") return `${name} is the string ${showField(value)}, not a number`;
  const json = JSON.stringify(value) ?? String(value);
  return `${name} is ${json.length > 40 ? `${json.slice(0, 40)}…` : json}, not a number`;
}
