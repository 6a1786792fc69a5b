/**
 * Exact sums of doubles and of products of doubles as floating-point expansions (J. R. Shewchuk,
 * "Adaptive precision floating-point arithmetic and fast robust geometric predicates", 1997): a sum is
 * kept as a few doubles of increasing magnitude that do not overlap, whose exact sum is the exact
 * value. Adding a double, or the product of two (Dekker's exact product: two doubles), never rounds, so
 * a sum does not depend on the order of its terms, and subtracting a term undoes adding it exactly.
 *
 * An expansion lives in a `Float64Array` at `[at, at + length)`; the functions take the array, the
 * offset and the length and return the new length. Sums of values of a few dozen bits of range need 2
 * to 4 components; {@linkcode compress} keeps them that short.
 *
 * Exact as long as nothing overflows or falls below the normal range: true for the products of values
 * the core accepts (|v| in [2^-440, 2^440], or 0).
 *
 * @example
 * ```ts
 * import { addTerm, compress, valueOf } from "./expansion.ts";
 * const e = new Float64Array(8);
 * let n = 0;
 * n = addTerm(e, 0, n, 0.1);
 * n = addTerm(e, 0, n, 0.2);
 * n = addTerm(e, 0, n, -0.1);
 * valueOf(e, 0, n); // 0.2 exactly (0.1 + 0.2 - 0.1 in doubles would give 0.20000000000000004)
 * ```
 * @module
 */

const SPLITTER = 134217729; // 2^27 + 1

/**
 * Adds the double `b` to the expansion `e[at, at + length)` in place (Shewchuk's Grow-Expansion with
 * zero elimination); returns the new length (at most `length + 1`: `e` must have room for it).
 *
 * @example
 * ```ts
 * const n = addTerm(e, 0, 0, 1.5); // 1
 * ```
 */
export function addTerm(e: Float64Array, at: number, length: number, b: number): number {
  let q = b;
  let j = at;
  const end = at + length;
  for (let i = at; i < end; i++) {
    const a = e[i];
    const s = q + a;
    const bv = s - q;
    const h = (q - (s - bv)) + (a - bv);
    q = s;
    if (h !== 0) e[j++] = h;
  }
  if (q !== 0) e[j++] = q;
  return j - at;
}

/**
 * Adds the exact product `a·b` (`sign` ±1 times it) to the expansion: the product is two doubles by
 * Dekker's algorithm, each added with {@linkcode addTerm}. Returns the new length (at most `length + 2`).
 *
 * @example
 * ```ts
 * const n = addProduct(e, 0, 0, 0.1, 0.1, 1); // 0.1·0.1 exactly, in 2 components
 * ```
 */
export function addProduct(
  e: Float64Array,
  at: number,
  length: number,
  a: number,
  b: number,
  sign: number,
): number {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  const err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  let n = addTerm(e, at, length, sign * err);
  n = addTerm(e, at, n, sign * p);
  return n;
}

/**
 * Rewrites the expansion in as few components as it can (Shewchuk's Compress): the same exact value,
 * components of increasing magnitude that do not overlap. Returns the new length.
 *
 * @example
 * ```ts
 * n = compress(e, 0, n);
 * ```
 */
export function compress(e: Float64Array, at: number, length: number): number {
  if (length <= 1) return length;
  const end = at + length;
  // Top down: sums of the largest components, the small remainders kept.
  let bottom = end - 1;
  let q = e[bottom];
  for (let i = end - 2; i >= at; i--) {
    const s = q + e[i];
    const small = e[i] - (s - q);
    if (small !== 0) {
      e[bottom--] = s;
      q = small;
    } else q = s;
  }
  e[bottom] = q;
  // Bottom up: the components, without zeros.
  let top = at;
  q = e[bottom];
  for (let i = bottom + 1; i < end; i++) {
    const s = e[i] + q;
    const small = q - (s - e[i]);
    if (small !== 0) e[top++] = small;
    q = s;
  }
  e[top++] = q;
  if (top - at === 1 && q === 0) return 0;
  return top - at;
}

/**
 * The expansion's value rounded to a double (its largest component after {@linkcode compress} is
 * within one rounding of it; here the components are summed from the smallest, which is close).
 * For messages and tests; fits use the exact components.
 *
 * @example
 * ```ts
 * valueOf(e, 0, n);
 * ```
 */
export function valueOf(e: Float64Array, at: number, length: number): number {
  let s = 0;
  for (let i = at; i < at + length; i++) s += e[i];
  return s;
}
