/**
 * A fast, exact reader of plain decimal numbers that also says whether the text is written exactly as
 * `formatNumber` (`./format_number.ts`) would write its value (the shortest round-trip decimal): then a change log can
 * copy the text instead of formatting the double again.
 *
 * - Up to 15 significant digits and a power of ten up to 10^22: Clinger's fast path, one exact
 *   multiplication or division (as `exactDecimal` (`./numbers.ts`)); also 16 or 17 digits whose integer
 *   is below 2^53, when the text need not be checked for being canonical.
 * - 16 or 17 significant digits with 1 to 22 digits after the point (a double printed in full, e.g.
 *   `850000001.3153778`): the quotient M / 10^s of the digits M by the power of ten, checked exactly.
 *   The digits become an exact sum of two doubles, the candidate quotient's residual M − q·10^s is
 *   computed exactly with Dekker's product, and the candidate is kept only when the residual shows it
 *   is the nearest double with a safe margin; otherwise (a value within 10^-9 of a rounding boundary,
 *   halfway cases included) the reader gives up and the caller uses `Number`.
 *
 * Anything else (more digits, exponents beyond the fast path, spaces, signs other than a leading "-",
 * hexadecimal, "NaN") gives NaN: read it with `Number`/`parseNumberField` instead.
 *
 * `readBytes` reads the same from ASCII bytes (a field of a line not yet decoded), with the same value
 * and `canonical`; `new DecimalReader({ canonical: false })` skips the canonical check when nothing copies
 * the text (`canonical` then stays false).
 *
 * Canonical: the text is `-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?` without exponent, between 1e-6 and 1e21
 * in magnitude (or zero), and its digits are the only decimal of their length that reads as the value,
 * so no shorter decimal does: exactly the text `String` gives (formatNumber's "-0" included).
 *
 * @example
 * ```ts
 * import { DecimalReader } from "./decimal_reader.ts";
 * const reader = new DecimalReader();
 * const text = "850000001.3153778";
 * reader.read(text, 0, text.length); // 850000001.3153778
 * reader.canonical; // true
 * reader.read("1.50", 0, 4); // 1.5
 * reader.canonical; // false: String(1.5) is "1.5"
 * ```
 * @module
 */

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`)); // exact up to 1e22
const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant
/** Margin of the exact checks: far above the residual's rounding error (below 2^-46). */
const MARGIN = 1e-9;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const HIGH = LITTLE_ENDIAN ? 1 : 0;
const LOW = 1 - HIGH;

/** The unit in the last place of a positive normal double `q` (its lowest mantissa bit's value). */
function ulp(q: number): number {
  bits[0] = q;
  const exponent = (words[HIGH] >>> 20) & 0x7ff;
  if (exponent <= 53) return NaN; // (not for the values read here)
  words[HIGH] = (exponent - 52) << 20;
  words[LOW] = 0;
  return bits[0];
}

/** Whether a positive normal double's mantissa is all zeros (a power of two). */
function isPowerOfTwo(q: number): boolean {
  bits[0] = q;
  return (words[HIGH] & 0xfffff) === 0 && words[LOW] === 0;
}

/**
 * Reads decimal numbers; after each `read`, `canonical` says whether the text is exactly
 * `formatNumber(value)`.
 *
 * @example
 * ```ts
 * const reader = new DecimalReader();
 * reader.read("x=0.1", 2, 5); // 0.1
 * reader.canonical; // true
 * ```
 */
export class DecimalReader {
  /** Whether the text of the last `read` that gave a number is exactly `formatNumber` of it. */
  canonical = false;

  /**
   * Whether to work out `canonical` (default true). Without it (`{ canonical: false }`: nothing copies
   * the text), `canonical` stays false and a 16- or 17-digit decimal skips the check.
   */
  readonly #wantCanonical: boolean;

  constructor(options: { canonical?: boolean } = {}) {
    this.#wantCanonical = options.canonical ?? true;
  }

  /**
   * The double nearest the decimal `text[a, b)`, or NaN when the fast paths do not apply (then read the
   * field with `Number`; `canonical` is false).
   *
   * @example
   * ```ts
   * new DecimalReader().read("-12.5e1", 0, 7); // -125
   * ```
   */
  read(text: string, a: number, b: number): number {
    this.canonical = false;
    let i = a;
    if (i >= b) return NaN;
    let c = text.charCodeAt(i);
    const negative = c === 45; // -
    let plain = c !== 43; // no "+"
    if (negative || !plain) {
      if (++i >= b) return NaN;
      c = text.charCodeAt(i);
    }
    const intStart = i;
    let m = 0; // the first 15 significant digits
    let low = 0; // the digits after them (at most 2)
    let lowDigits = 0;
    let digits = 0;
    while (c >= 48 && c <= 57) {
      if (m !== 0 || c !== 48) digits++;
      if (digits <= 15) m = m * 10 + (c - 48);
      else if (digits <= 17) {
        low = low * 10 + (c - 48);
        lowDigits++;
      } else return NaN;
      if (++i >= b) break;
      c = text.charCodeAt(i);
    }
    const intDigits = i - intStart;
    if (intDigits > 1 && text.charCodeAt(intStart) === 48) plain = false; // a leading zero
    if (intDigits > 21) plain = false;
    let fracDigits = 0;
    let fracZeros = 0; // zeros after the point before its first other digit
    let lastZero = false;
    if (i < b && c === 46) { // .
      while (++i < b) {
        c = text.charCodeAt(i);
        if (c < 48 || c > 57) break;
        fracDigits++;
        lastZero = c === 48;
        if (m !== 0 || c !== 48) digits++;
        else fracZeros++;
        if (digits <= 15) m = m * 10 + (c - 48);
        else if (digits <= 17) {
          low = low * 10 + (c - 48);
          lowDigits++;
        } else return NaN;
      }
      if (fracDigits === 0 || lastZero || intDigits === 0) plain = false;
      if (m === 0 && low === 0) plain = false; // "0.0": String gives "0"
      else if (intDigits === 1 && text.charCodeAt(intStart) === 48 && fracZeros > 5) plain = false; // < 1e-6
    }
    if (intDigits === 0 && fracDigits === 0) return NaN;
    let exponent = 0;
    if (i < b) {
      if (c !== 101 && c !== 69) return NaN; // e, E
      if (++i >= b) return NaN;
      c = text.charCodeAt(i);
      const negativeExponent = c === 45;
      if (negativeExponent || c === 43) {
        if (++i >= b) return NaN;
        c = text.charCodeAt(i);
      }
      let e = 0;
      const from = i;
      while (c >= 48 && c <= 57) {
        if (e < 1000) e = e * 10 + (c - 48);
        if (++i >= b) break;
        c = text.charCodeAt(i);
      }
      if (i === from || i < b) return NaN;
      exponent = negativeExponent ? -e : e;
      plain = false;
    }
    return this.#value(m, low, lowDigits, exponent - fracDigits, negative, plain);
  }

  /**
   * `read` for ASCII bytes: the double nearest the decimal in `bytes[a, b)`, or NaN when the fast paths
   * do not apply (then decode the field and read it with `Number`). The same value and `canonical` as
   * `read` of the same characters.
   *
   * @example
   * ```ts
   * const bytes = new TextEncoder().encode("1,0.25\n");
   * new DecimalReader().readBytes(bytes, 2, 6); // 0.25
   * ```
   */
  readBytes(bytes: Uint8Array, a: number, b: number): number {
    const value = this.readField(bytes, a, b);
    if (this.end === b) return value;
    this.canonical = false;
    return NaN;
  }

  /**
   * Where the number of the last `readField` ended (the index of the byte after it).
   */
  end = 0;

  /**
   * Reads the number that starts at `bytes[a]` and ends before `b` or before the first byte that cannot
   * be part of it (a comma, a line end): its value as `readBytes` gives it, and `end` is where it ended.
   * NaN when there is no number there that the fast paths read (as `readBytes`).
   *
   * @example
   * ```ts
   * const reader = new DecimalReader();
   * reader.readField(new TextEncoder().encode("0.25,1\n"), 0, 7); // 0.25
   * reader.end; // 4
   * ```
   */
  readField(bytes: Uint8Array, a: number, b: number): number {
    // The common case in one tight pass: [-]d…d[.d…d], the first digit 1-9, at most 17 digits, their
    // integer below 2^53 (so summed exactly as they come). Anything else: `#readField`, digit by digit.
    this.canonical = false;
    let i = a;
    if (i >= b) return NaN;
    let c = bytes[i];
    const negative = c === 45; // -
    if (negative) {
      if (++i >= b) return NaN;
      c = bytes[i];
    }
    if (c < 49 || c > 57) return this.#readField(bytes, a, b);
    const intStart = i;
    let M = 0;
    while (c >= 48 && c <= 57) {
      M = M * 10 + (c - 48);
      if (++i >= b) break;
      c = bytes[i];
    }
    const intDigits = i - intStart;
    let fracDigits = 0;
    if (i < b && c === 46) { // .
      const fracStart = i + 1;
      while (++i < b) {
        c = bytes[i];
        if (c < 48 || c > 57) break;
        M = M * 10 + (c - 48);
      }
      fracDigits = i - fracStart;
      if (fracDigits === 0) return this.#readField(bytes, a, b);
    }
    const digits = intDigits + fracDigits;
    if ((i < b && (c === 101 || c === 69)) || digits > 17 || M >= 9007199254740992) {
      return this.#readField(bytes, a, b); // (an exponent, or too many digits for this pass)
    }
    const plain = fracDigits === 0 || bytes[i - 1] !== 48; // (no trailing zero after the point)
    if (digits <= 15 || !plain || !this.#wantCanonical) { // Clinger's fast path, M exact
      this.end = i;
      const v = M / POWERS_OF_TEN[fracDigits];
      this.canonical = digits <= 15 && plain && this.#wantCanonical;
      return negative ? -v : v;
    }
    if (fracDigits === 0) return this.#readField(bytes, a, b);
    // 16 or 17 digits, checked for being canonical. Clinger's fast path gives the value v; the text is
    // String(v) when (1) no decimal with fewer digits reads as v: neither neighbour of M with a digit
    // less (M − ρ and M − ρ + 10, ρ its last digit) does (were a shorter one to, every multiple of 10 between
    // it and M would, being in the same interval), and (2) no other decimal with as many digits does:
    // neither M − 1 nor M + 1 (then M is the one String writes). All five read exactly by one division.
    this.end = i;
    const P = POWERS_OF_TEN[fracDigits];
    const v = M / P;
    const shorter = (M - (M % 10)) / 10;
    const P1 = POWERS_OF_TEN[fracDigits - 1];
    if (shorter / P1 === v || (shorter + 1) / P1 === v) return negative ? -v : v; // (not canonical)
    if ((M - 1) / P !== v && (M + 1) / P !== v) {
      this.canonical = true;
      return negative ? -v : v;
    }
    // M = m · 10^d + low, and its neighbours read as v too: the exact check.
    const d = digits - 15;
    const low = M % POWERS_OF_TEN[d];
    return this.#long((M - low) / POWERS_OF_TEN[d], low, d, fracDigits, negative, true);
  }

  /** `readField`, digit by digit: any number the fast paths read. */
  #readField(bytes: Uint8Array, a: number, b: number): number {
    this.canonical = false;
    let i = a;
    if (i >= b) return NaN;
    let c = bytes[i];
    const negative = c === 45; // -
    let plain = c !== 43; // no "+"
    if (negative || !plain) {
      if (++i >= b) return NaN;
      c = bytes[i];
    }
    const intStart = i;
    let m = 0; // the first 15 significant digits
    let low = 0; // the digits after them (at most 2)
    let lowDigits = 0;
    let digits = 0;
    while (c >= 48 && c <= 57) {
      if (m !== 0 || c !== 48) digits++;
      if (digits <= 15) m = m * 10 + (c - 48);
      else if (digits <= 17) {
        low = low * 10 + (c - 48);
        lowDigits++;
      } else return NaN;
      if (++i >= b) break;
      c = bytes[i];
    }
    const intDigits = i - intStart;
    if (intDigits > 1 && bytes[intStart] === 48) plain = false; // a leading zero
    if (intDigits > 21) plain = false;
    let fracDigits = 0;
    let fracZeros = 0; // zeros after the point before its first other digit
    let lastZero = false;
    if (i < b && c === 46) { // .
      while (++i < b) {
        c = bytes[i];
        if (c < 48 || c > 57) break;
        fracDigits++;
        lastZero = c === 48;
        if (m !== 0 || c !== 48) digits++;
        else fracZeros++;
        if (digits <= 15) m = m * 10 + (c - 48);
        else if (digits <= 17) {
          low = low * 10 + (c - 48);
          lowDigits++;
        } else return NaN;
      }
      if (fracDigits === 0 || lastZero || intDigits === 0) plain = false;
      if (m === 0 && low === 0) plain = false; // "0.0": String gives "0"
      else if (intDigits === 1 && bytes[intStart] === 48 && fracZeros > 5) plain = false; // < 1e-6
    }
    if (intDigits === 0 && fracDigits === 0) return NaN;
    let exponent = 0;
    if (i < b && (c === 101 || c === 69)) { // e, E
      if (++i >= b) return NaN;
      c = bytes[i];
      const negativeExponent = c === 45;
      if (negativeExponent || c === 43) {
        if (++i >= b) return NaN;
        c = bytes[i];
      }
      let e = 0;
      const from = i;
      while (c >= 48 && c <= 57) {
        if (e < 1000) e = e * 10 + (c - 48);
        if (++i >= b) break;
        c = bytes[i];
      }
      if (i === from) return NaN;
      exponent = negativeExponent ? -e : e;
      plain = false;
    }
    this.end = i;
    return this.#value(m, low, lowDigits, exponent - fracDigits, negative, plain);
  }

  /** The value M · 10^scale, M the integer of all the digits (m, then `low`, of `lowDigits` digits). */
  #value(
    m: number,
    low: number,
    lowDigits: number,
    scale: number,
    negative: boolean,
    plain: boolean,
  ): number {
    if (lowDigits === 0) { // Clinger's fast path
      if (scale < -22 || scale > 22) return NaN;
      const v = scale >= 0 ? m * POWERS_OF_TEN[scale] : m / POWERS_OF_TEN[-scale];
      this.canonical = plain && this.#wantCanonical;
      return negative ? -v : v;
    }
    // 16 or 17 digits: M = m · 10^lowDigits + low. Below 2^53, M is a double exactly (computed exactly
    // too: rounding could not bring a larger M below 2^53), and Clinger's fast path holds for it; the
    // canonical check needs the exact residual of `#long`.
    if (!plain || !this.#wantCanonical) {
      const M = m * (lowDigits === 1 ? 10 : 100) + low;
      if (M < 9007199254740992 && scale >= -22 && scale <= 22) {
        const v = scale >= 0 ? M * POWERS_OF_TEN[scale] : M / POWERS_OF_TEN[-scale];
        return negative ? -v : v;
      }
    }
    // The value M / 10^s.
    const s = -scale;
    if (s < 1 || s > 22) return NaN;
    return this.#long(m, low, lowDigits, s, negative, plain && this.#wantCanonical);
  }

  /** M / 10^s for M = m · 10^d + low with 16 or 17 digits: the nearest double, checked exactly. */
  #long(m: number, low: number, d: number, s: number, negative: boolean, plain: boolean): number {
    if (low % 10 === 0) plain = false; // (a trailing zero)
    // M as an exact sum hi + lo of two doubles: m · 10^d by Dekker's product (10^d ≤ 100 needs no split), then + low.
    const t = d === 1 ? 10 : 100;
    const p = m * t;
    let split = SPLITTER * m;
    const mh = split - (split - m);
    const ml = m - mh;
    const pErr = (mh * t - p) + ml * t;
    const hi = p + low;
    const bb = hi - p;
    const lo = (p - (hi - bb)) + (low - bb) + pErr; // small integers: exact
    const P = POWERS_OF_TEN[s];
    split = SPLITTER * P;
    const Ph = split - (split - P);
    const Pl = P - Ph;
    let q = hi / P;
    for (let attempt = 0; attempt < 2; attempt++) {
      // r = M − q·P, exactly but for rounding far below MARGIN: q·P = u + v (Dekker), hi − u is exact.
      split = SPLITTER * q;
      const qh = split - (split - q);
      const ql = q - qh;
      const u = q * P;
      const v = ((qh * Ph - u) + qh * Pl + ql * Ph) + ql * Pl;
      const r = (hi - u) + (lo - v);
      const U = ulp(q) * P; // one unit in q's last place, in units of the decimal's last digit
      const half = U / 2;
      if (r < half - MARGIN && r > -half + MARGIN) {
        // q is the nearest double. String(q) writes the digits of the decimal nearest q among the
        // shortest that read as q. Canonical, then, when (1) no decimal with one digit less reads as q:
        // the rounding interval [q − lower half gap, q + half] holds neither neighbour of M that ends in
        // 0 (M − ρ, M + 10 − ρ; any shorter decimal would put one of them in the interval too), and
        // (2) M is the nearest to q of the decimals with its spacing: |r| < 1/2.
        if (!plain) return negative ? -q : q;
        const lower = isPowerOfTwo(q) ? U / 4 : half;
        const rho = low % 10;
        this.canonical = r < 0.5 - MARGIN && r > -0.5 + MARGIN && r < rho - lower - MARGIN &&
          r > half - (10 - rho) + MARGIN;
        return negative ? -q : q;
      }
      if (r >= half + MARGIN || r <= -half - MARGIN) q += r / P; // the nearest, in all but rare cases
      else return NaN; // too near a rounding boundary to decide here
    }
    return NaN;
  }
}
