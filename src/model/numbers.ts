/**
 * The one number parser of every source: {@linkcode parseNumberField} reads a field (what `Number()`
 * accepts, surrounding spaces allowed) or says why it is not a number (a reason code of
 * `./rejection.ts`); {@linkcode exactDecimal} is its fast path for a range of a string (Kafka's CSV
 * messages), exact where it answers; {@linkcode parseNumber} is the lenient form (undefined instead of a
 * reason). All give the double nearest the decimal, as `Number()` does.
 *
 * @example
 * ```ts
 * import { exactDecimal, parseNumberField } from "./numbers.ts";
 * parseNumberField(" 2.5 ", "x"); // 2.5
 * exactDecimal("x=-12.5e1", 2, 9); // -125
 * ```
 * @module
 */

import { showField, type SourceReject } from "./rejection.ts";

const INFINITY = /^[+-]?Infinity$/;
const RADIX = /^[+-]?0[xXbBoO]/;

/**
 * Parses a field as a number (what `Number()` accepts, surrounding spaces allowed), or says why it is
 * not one: `empty_field`, `not_a_number`, `overflow` (a decimal that would read as ±Infinity, e.g.
 * 1e400) or `out_of_range` (a non-zero decimal that would read as 0, e.g. 1e-400). The texts `NaN`,
 * `Infinity` and `-Infinity` are numbers here; the pipeline rejects them (`nan`, `infinite`) for every
 * source alike.
 *
 * @example
 * ```ts
 * parseNumberField(" 2.5 ", "x"); // 2.5
 * parseNumberField("abc", "y"); // { reason: "not_a_number", detail: 'y is "abc", not a number' }
 * parseNumberField("", "x"); // { reason: "empty_field", detail: "x is empty: every point needs a number" }
 * ```
 */
export function parseNumberField(text: string, column: string): number | SourceReject {
  const v = Number(text);
  if (v === v && v !== 0 && v !== Infinity && v !== -Infinity) return v; // the common case, fast
  const trimmed = text.trim();
  if (trimmed === "") {
    return { reason: "empty_field", detail: `${column} is empty: every point needs a number` };
  }
  if (Number.isNaN(v)) {
    if (trimmed === "NaN") return NaN;
    return { reason: "not_a_number", detail: `${column} is ${showField(text)}, not a number` };
  }
  if (v !== 0) {
    if (INFINITY.test(trimmed)) return v;
    return {
      reason: "overflow",
      detail: `${column} is ${showField(text)}: too large for a double (it would read as ${v})`,
    };
  }
  if (!RADIX.test(trimmed) && /[1-9]/.test(trimmed.replace(/[eE].*$/, ""))) {
    return {
      reason: "out_of_range",
      detail: `${column} is ${showField(text)}: too small for a double (it would read as 0)`,
    };
  }
  return v;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`)); // exact up to 1e22

/**
 * Reads `text[a, b)` as a decimal number when that is exact with one multiplication or division:
 * at most 15 significant digits and a power of ten up to 10^22 (Clinger's fast path; the result is
 * then the correctly rounded double, as `Number` gives). Returns NaN for anything else (more digits,
 * spaces, "NaN", hexadecimal...): then call `Number` on the slice.
 *
 * @example
 * ```ts
 * exactDecimal("x=-12.5e1", 2, 9); // -125
 * exactDecimal("0.06888437030500963", 0, 19); // NaN: 16 significant digits
 * ```
 */
export function exactDecimal(text: string, a: number, b: number): number {
  let i = a;
  let c = text.charCodeAt(i);
  const negative = c === 45; // -
  if (negative || c === 43) c = text.charCodeAt(++i); // - or +
  let m = 0;
  let digits = 0;
  let scale = 0;
  let any = false;
  while (i < b && c >= 48 && c <= 57) {
    if ((m !== 0 || c !== 48) && ++digits > 15) return NaN;
    m = m * 10 + (c - 48);
    any = true;
    c = text.charCodeAt(++i);
  }
  if (i < b && c === 46) { // .
    c = text.charCodeAt(++i);
    while (i < b && c >= 48 && c <= 57) {
      if ((m !== 0 || c !== 48) && ++digits > 15) return NaN;
      m = m * 10 + (c - 48);
      scale--;
      any = true;
      c = text.charCodeAt(++i);
    }
  }
  if (!any) return NaN;
  if (i < b && (c === 101 || c === 69)) { // e or E
    c = text.charCodeAt(++i);
    const negativeExponent = c === 45;
    if (negativeExponent || c === 43) c = text.charCodeAt(++i);
    let e = 0;
    let expDigits = 0;
    while (i < b && c >= 48 && c <= 57) {
      if (e < 1000) e = e * 10 + (c - 48);
      expDigits++;
      c = text.charCodeAt(++i);
    }
    if (expDigits === 0) return NaN;
    scale += negativeExponent ? -e : e;
  }
  if (i !== b || scale < -22 || scale > 22) return NaN;
  const v = scale >= 0 ? m * POWERS_OF_TEN[scale] : m / POWERS_OF_TEN[-scale];
  return negative ? -v : v;
}

/**
 * Parses a field as a number: what `Number()` accepts, except an empty or blank field.
 * Unlike {@linkcode parseNumberField}, a decimal too large or too small for a double reads as `Number()`
 * reads it (±Infinity, 0) instead of a reason.
 *
 * @example
 * ```ts
 * parseNumber("1e-3"); // 0.001
 * parseNumber("abc"); // undefined
 * ```
 */
export function parseNumber(field: string): number | undefined {
  const parsed = parseNumberField(field, "");
  if (typeof parsed === "number") return parsed;
  // What `Number()` reads them as: ±Infinity for overflow, ±0 for out_of_range.
  return parsed.reason === "overflow" || parsed.reason === "out_of_range" ? Number(field) : undefined;
}

/**
 * Reads every field of a plain CSV record `text[s, e)` (no quotes) as a number in one pass, by the same
 * rule as {@linkcode exactDecimal} (Clinger's fast path: at most 15 significant digits and a power of ten
 * up to 10^22, so each is the correctly rounded double), into `out[0..]`. Returns the number of fields,
 * or -1 as soon as a field is not such a number (text, more digits, spaces, an empty field) or there are
 * more than `out.length` fields: then read the record the general way.
 *
 * @example
 * ```ts
 * const out = new Float64Array(4);
 * plainNumbers("1.5,-2,3e2", 0, 10, out); // 3; out = [1.5, -2, 300, 0]
 * plainNumbers("1.5,abc", 0, 7, out); // -1
 * ```
 */
export function plainNumbers(text: string, s: number, e: number, out: Float64Array): number {
  let f = 0;
  let i = s;
  for (;;) {
    if (f >= out.length) return -1;
    let c = i < e ? text.charCodeAt(i) : 44;
    const negative = c === 45; // -
    if (negative) c = ++i < e ? text.charCodeAt(i) : 44;
    let m = 0;
    let digits = 0;
    let scale = 0;
    let any = false;
    while (c >= 48 && c <= 57) {
      if ((m !== 0 || c !== 48) && ++digits > 15) return -1;
      m = m * 10 + (c - 48);
      any = true;
      c = ++i < e ? text.charCodeAt(i) : 44;
    }
    if (c === 46) { // .
      c = ++i < e ? text.charCodeAt(i) : 44;
      while (c >= 48 && c <= 57) {
        if ((m !== 0 || c !== 48) && ++digits > 15) return -1;
        m = m * 10 + (c - 48);
        scale--;
        any = true;
        c = ++i < e ? text.charCodeAt(i) : 44;
      }
    }
    if (!any) return -1;
    if (c === 101 || c === 69) { // e or E
      c = ++i < e ? text.charCodeAt(i) : 44;
      const negativeExponent = c === 45;
      if (negativeExponent || c === 43) c = ++i < e ? text.charCodeAt(i) : 44;
      let x = 0;
      let expDigits = 0;
      while (c >= 48 && c <= 57) {
        if (x < 1000) x = x * 10 + (c - 48);
        expDigits++;
        c = ++i < e ? text.charCodeAt(i) : 44;
      }
      if (expDigits === 0) return -1;
      scale += negativeExponent ? -x : x;
    }
    if (c !== 44 || scale < -22 || scale > 22) return -1; // not at a comma (or the end)
    const v = scale >= 0 ? m * POWERS_OF_TEN[scale] : m / POWERS_OF_TEN[-scale];
    out[f++] = negative ? -v : v;
    if (i >= e) return f;
    i++; // past the comma
  }
}
