/**
 * The fast path for JSON messages: finds the members a point needs in a plain JSON object, in place, in
 * text that holds bytes as characters (latin1), without building the object. A plain object is flat,
 * all ASCII, without escapes: anything else (nested values, escapes, non-ASCII text, a wanted member
 * twice, missing or of another type, text that is not JSON) is left to `JSON.parse` by the caller, so
 * what this accepts is exactly what `JSON.parse` would read the same way.
 *
 * @example
 * ```ts
 * import { PlainJsonObject } from "./json_fields.ts";
 * const object = new PlainJsonObject(["x", "y", "id"], { types: ["number", "number", "text"] });
 * object.read('{"x": 1.5, "y": -2, "id": "a"}', 0, 31); // true
 * object.ranges; // [6, 9, 16, 18, 27, 28]: "1.5", "-2" and "a"
 * ```
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * What a wanted member's value must be: `"number"`, a JSON number (the range is its literal); `"text"`, a
 * string without escapes (the range is its characters, quotes excluded) or an integer of at most 15
 * digits written as `String` writes its value (`0` or `-?[1-9][0-9]*`; the range is its literal), which
 * is how a key or a time given as a number reads.
 *
 * @example
 * ```ts
 * const type: JsonFieldType = "text";
 * ```
 */
export type JsonFieldType = "number" | "text";

/**
 * Options of {@linkcode PlainJsonObject}.
 *
 * @example
 * ```ts
 * const options: PlainJsonObjectOptions = { types: ["number", "number", "text"] }; // x, y, then a key
 * ```
 */
export interface PlainJsonObjectOptions {
  /** For each name, the type its value must have (default: every one a number). */
  readonly types?: readonly JsonFieldType[];
}

/**
 * A reader of plain JSON objects for a fixed list of member names.
 *
 * @example
 * ```ts
 * const object = new PlainJsonObject(["x", "y"]);
 * object.read('{"y":2,"x":1}', 0, 13); // true: ranges = [10, 11, 5, 6]
 * object.read('{"x":1,"y":"2"}', 0, 15); // false: y is a string
 * object.read('{"x":1,"x":2,"y":3}', 0, 19); // false: x twice (JSON.parse would take the last)
 * ```
 */
export class PlainJsonObject {
  /** For each name k, its value is `text[ranges[2k], ranges[2k + 1])` after a `read` that gave true. */
  readonly ranges: Int32Array;
  readonly #names: readonly string[];
  /** For each name: 1 if it is text (a string or a short integer), 0 if a number. */
  readonly #text: Uint8Array;
  /** The call of `read` that last found each name (so that a name found twice is told). */
  readonly #seen: Int32Array;
  #call = 0;

  /** `names`: the members wanted, each exactly once. */
  constructor(names: readonly string[], options: PlainJsonObjectOptions = {}) {
    this.#names = names;
    this.#text = Uint8Array.from(names, (_, k) => options.types?.[k] === "text" ? 1 : 0);
    this.ranges = new Int32Array(2 * names.length);
    this.#seen = new Int32Array(names.length);
  }

  /**
   * Reads `text[start, end)` as one plain JSON object holding every wanted member once with a value of
   * its type; true if it is one (`ranges` then says where each value is), false for anything else.
   *
   * @example
   * ```ts
   * new PlainJsonObject(["x", "y"]).read(' { "x" : 0 , "y" : 1e5 } ', 0, 25); // true
   * ```
   */
  read(text: string, start: number, end: number): boolean {
    const names = this.#names;
    const seen = this.#seen;
    const call = ++this.#call;
    let found = 0;
    let i = start;
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i >= end || text.charCodeAt(i) !== OPEN) return false;
    i++;
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    for (;;) {
      // A member's name: a string without escapes.
      if (i >= end || text.charCodeAt(i) !== QUOTE) return false;
      const nameStart = ++i;
      i = stringEnd(text, i, end);
      if (i < 0) return false;
      const nameEnd = i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end || text.charCodeAt(i) !== COLON) return false;
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end) return false;
      // Its value: a number, a string without escapes, true, false or null.
      const c = text.charCodeAt(i);
      let valueStart = i;
      let valueEnd: number;
      let isString = false;
      if (c === QUOTE) {
        valueStart = i + 1;
        valueEnd = stringEnd(text, valueStart, end);
        if (valueEnd < 0) return false;
        i = valueEnd + 1;
        isString = true;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        valueEnd = numberEnd(text, i, end);
        if (valueEnd < 0) return false;
        i = valueEnd;
      } else if (text.startsWith("true", i) || text.startsWith("null", i)) {
        valueEnd = i += 4;
      } else if (text.startsWith("false", i)) {
        valueEnd = i += 5;
      } else {
        return false;
      }
      if (i > end) return false;
      const length = nameEnd - nameStart;
      for (let k = 0; k < names.length; k++) {
        const name = names[k];
        if (name.length !== length || !sameText(text, nameStart, name)) continue;
        if (seen[k] === call) return false;
        if (this.#text[k] === 1) {
          if (!isString && !isShortInteger(text, valueStart, valueEnd)) return false;
        } else if (isString || (c !== MINUS && (c < ZERO || c > NINE))) {
          return false; // a string, true, false or null where a number must be
        }
        seen[k] = call;
        this.ranges[2 * k] = valueStart;
        this.ranges[2 * k + 1] = valueEnd;
        found++;
      }
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end) return false;
      const next = text.charCodeAt(i++);
      if (next === CLOSE) break;
      if (next !== COMMA) return false;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    return i === end && found === names.length;
  }
}

/** Where the string whose characters start at `i` ends (its closing quote), or -1 if it is not plain. */
function stringEnd(text: string, i: number, end: number): number {
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    // A control character is not JSON; an escape or a byte beyond ASCII is left to JSON.parse.
    if (c < 0x20 || c === BACKSLASH || c >= 0x80) return -1;
  }
  return -1;
}

/** Where the JSON number starting at `i` ends, or -1 if it is not one (`-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`). */
function numberEnd(text: string, i: number, end: number): number {
  if (text.charCodeAt(i) === MINUS) i++;
  if (i >= end) return -1;
  let c = text.charCodeAt(i);
  if (c === ZERO) i++;
  else if (c > ZERO && c <= NINE) {
    do i++; while (i < end && isDigit(text.charCodeAt(i)));
  } else return -1;
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    if (i >= end || !isDigit(text.charCodeAt(i))) return -1;
    do i++; while (i < end && isDigit(text.charCodeAt(i)));
  }
  if (i < end && (text.charCodeAt(i) | 0x20) === 0x65) { // e or E
    i++;
    if (i < end) {
      c = text.charCodeAt(i);
      if (c === PLUS || c === MINUS) i++;
    }
    if (i >= end || !isDigit(text.charCodeAt(i))) return -1;
    do i++; while (i < end && isDigit(text.charCodeAt(i)));
  }
  // A number runs until a character that cannot follow it in JSON's grammar decides (checked by the caller).
  return i;
}

/** Whether `text` holds `name` at `at` (faster than `startsWith` for short names in both runtimes). */
function sameText(text: string, at: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  return true;
}

/** Whether `text[a, b)` (a JSON number) is `0` or `-?[1-9][0-9]*` with at most 15 digits. */
function isShortInteger(text: string, a: number, b: number): boolean {
  const digits = text.charCodeAt(a) === MINUS ? a + 1 : a;
  if (b - digits > 15 || (text.charCodeAt(digits) === ZERO && b - a !== 1)) return false;
  for (let i = digits; i < b; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * The source text of each top-level member of a JSON object (`{"x": 1e-400}` → x: "1e-400"), where the
 * runtime tells it (JSON.parse source text access: Deno, Bun); else an empty map. Throws as `JSON.parse`
 * does on text that is not JSON.
 *
 * @example
 * ```ts
 * jsonMemberSources('{"x": 1e-400, "y": 2.50}'); // Map { "x" => "1e-400", "y" => "2.50" }
 * ```
 */
export function jsonMemberSources(text: string): Map<string, string> {
  const found = new Map<unknown, Map<string, string>>();
  const root = JSON.parse(
    text,
    function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
      if (typeof context?.source === "string") {
        let members = found.get(this);
        if (members === undefined) found.set(this, members = new Map());
        members.set(key, context.source);
      }
      return value;
    },
  );
  return found.get(root) ?? new Map();
}
