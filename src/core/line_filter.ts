/**
 * A fast path for the least-squares line from exact sums, bit for bit the core's `fit_sums` (see
 * `./regression_core.ts`, `RegressionCore.fitSums`) whenever it answers, and undefined when it cannot
 * prove its answer (then ask the core).
 *
 * D = n·Σx² − (Σx)² and N_b = n·Σxy − Σx·Σy, where the cancellation is (the mean of x² against the
 * variance of x: 35 bits for x ≈ 1.7·10⁹ spread over 10⁴), are written as sums of exact products of the
 * sums' components (Dekker's product: two doubles each); two VecSum passes (Ogita, Rump and Oishi:
 * TwoSum of neighbours, which keeps the exact sum) gather each in its last term, and the rest is rounded
 * into a double-double (hi + lo) with a proven bound (the recursive summation bound γ_{k−2}·Σ|tᵢ| over
 * the terms below the last: about u³ of the terms, u = 2^-53). Then:
 *
 * - D exactly 0 (every term 0 after the passes): degenerate, a = b = 0, as the core.
 * - N_b exactly 0: b = +0, as the core.
 * - b = N_b/D in double-double (relative error below 14u²; we allow 2^-101).
 * - a = N_a/D with n·N_a = Σy·D − Σx·N_b (an identity), in double-double with a running error bound per
 *   operation (a product: 16u²|hi·hi| plus the operands' errors; a difference: 8u²(|a| + |b|) plus
 *   theirs): the cancellation left there is only that of a = ȳ − b·x̄.
 * - Each result is the double nearest the double-double only when the double-double plus its whole error
 *   bound lies strictly inside that double's rounding interval (ties and near-ties go to the core), and
 *   otherwise (D or a numerator not proven non-zero, say) the core answers.
 *
 * Exact products need every product of components to stay clear of overflow and of the subnormal
 * range: the fast path only takes sums whose non-zero components lie in [2^-300, 2^300] (and
 * results in [2^-900, 2^900], away from subnormals, where the core's rounding may differ by a unit);
 * other sums go to the core.
 *
 * @example
 * ```ts
 * import { fastFitSums } from "./line_filter.ts";
 * // n = 2, Σx = 1, Σy = 1, Σx² = 1, Σxy = 4... laid out as for RegressionCore.fitSums
 * const sums = Float64Array.of(1, 1, 1, 1, 1, 1, 4, 1, 3, 10);
 * const fit = fastFitSums(2, sums) ?? core.fitSums(2, sums);
 * ```
 * @module
 */

import type { Fit } from "./regression_core.ts";

const U = 2 ** -53;
const LOW = 2 ** -300;
const HIGH = 2 ** 300;
const STATS = 5;
/** Room for the terms of D or N_b: two per product of components (at most 48 components in all). */
const ROOM = 2 * 48 * 48;

const work = new Float64Array(ROOM);
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;

/** The last double-double made (hi, lo) and its error bound (absolute); in an array, not boxed. */
const dd = new Float64Array(3);

/** How many fits the fast path answered, and how many it left to the core (for tests and benches). */
export const lineFilterCounts = { fast: 0, core: 0 };

/**
 * The line of exact sums laid out as for `RegressionCore.fitSums` (the five lengths of Σx, Σy, Σx², Σxy,
 * Σy², then their components), with `count` points: the core's answer bit for bit, or undefined when
 * this fast path cannot prove it (ask the core then).
 *
 * @example
 * ```ts
 * const fit = fastFitSums(count, sums) ?? core.fitSums(count, sums);
 * ```
 */
export function fastFitSums(count: number, sums: Float64Array): Fit | undefined {
  if (count <= 1) {
    if (!(count === Math.floor(count))) return fallback();
    return { a: 0, b: 0, degenerate: true, count };
  }
  if (!(count === Math.floor(count)) || count > 2 ** 53) return fallback();
  const lx = sums[0], ly = sums[1], lxx = sums[2], lxy = sums[3];
  const total = lx + ly + lxx + lxy + sums[4];
  if (!(total + STATS <= sums.length) || lx + ly + lxx + lxy > 48) return fallback();
  for (let s = 0; s < STATS; s++) {
    if ((sums[s] | 0) !== sums[s] || sums[s] < 0 || sums[s] > 64) return fallback();
  }
  const ax = STATS, ay = ax + lx, axx = ay + ly, axy = axx + lxx, end = axy + lxy;
  for (let i = STATS; i < end; i++) {
    const v = sums[i];
    const m = v < 0 ? -v : v;
    if (!(m <= HIGH) || (m < LOW && m !== 0)) return fallback();
  }
  for (let i = end; i < STATS + total; i++) if (!Number.isFinite(sums[i])) return fallback(); // (as the core)
  const n = count;
  // D = n·Σx² − Σx·Σx: its terms, exact products, summed almost exactly (two VecSum passes).
  let len = 0;
  for (let i = axx; i < axx + lxx; i++) len = product(len, n, sums[i]);
  for (let i = ax; i < ax + lx; i++) {
    len = product(len, -sums[i], sums[i]);
    for (let j = i + 1; j < ax + lx; j++) len = product(len, -sums[i], 2 * sums[j]);
  }
  distill(len);
  if (!toDouble(work, 0, len)) return fallback();
  const dh = dd[0], dl = dd[1], de = dd[2];
  if (dh === 0 && de === 0) {
    // D is exactly 0: one distinct x.
    lineFilterCounts.fast++;
    return { a: 0, b: 0, degenerate: true, count };
  }
  // N_b = n·Σxy − Σx·Σy; b = N_b/D.
  len = 0;
  for (let i = axy; i < axy + lxy; i++) len = product(len, n, sums[i]);
  for (let i = ax; i < ax + lx; i++) for (let j = ay; j < ay + ly; j++) len = product(len, -sums[i], sums[j]);
  distill(len);
  if (!toDouble(work, 0, len)) return fallback();
  const bh = dd[0], bl = dd[1], be = dd[2];
  let b = 0; // (N_b exactly 0: b = +0, as the core)
  if (bh !== 0 || be !== 0) {
    const q = quotient(bh, bl, be, dh, dl, de);
    if (q === undefined) return fallback();
    b = q;
  }
  // n·N_a = Σy·D − Σx·N_b; a = n·N_a / (n·D).
  if (!toDouble(sums, ay, ly)) return fallback();
  if (!mul(dd[0], dd[1], dd[2], dh, dl, de)) return fallback();
  const yh = dd[0], yl = dd[1], ye = dd[2];
  if (!toDouble(sums, ax, lx)) return fallback();
  if (!mul(dd[0], dd[1], dd[2], bh, bl, be)) return fallback();
  sub(yh, yl, ye, dd[0], dd[1], dd[2]);
  const nh = dd[0], nl = dd[1], ne = dd[2];
  if (!mul(n, 0, 0, dh, dl, de)) return fallback();
  const a = quotient(nh, nl, ne, dd[0], dd[1], dd[2]);
  if (a === undefined) return fallback();
  lineFilterCounts.fast++;
  return { a, b, degenerate: false, count };
}

function fallback(): undefined {
  lineFilterCounts.core++;
  return undefined;
}

/** Appends p·q to `work` as two doubles (Dekker's exact product); returns the new length. */
function product(len: number, p: number, q: number): number {
  const h = p * q;
  let c = 134217729 * p;
  const p1 = c - (c - p);
  const p2 = p - p1;
  c = 134217729 * q;
  const q1 = c - (c - q);
  const q2 = q - q1;
  work[len] = ((p1 * q1 - h) + p1 * q2 + p2 * q1) + p2 * q2;
  work[len + 1] = h;
  return len + 2;
}

/**
 * Two VecSum passes over `work[0, len)` (Ogita, Rump and Oishi): each replaces the terms by others of
 * the same exact sum (TwoSum of neighbours), the sum gathering in the last; after two, the others are
 * about u² of the terms' magnitudes, so `toDouble`'s bound is about u³ of them.
 */
function distill(len: number): void {
  for (let pass = 0; pass < 2; pass++) {
    let q = work[0];
    for (let i = 1; i < len; i++) {
      const a = work[i];
      const s = a + q;
      const bv = s - a;
      work[i - 1] = (a - (s - bv)) + (q - bv);
      q = s;
    }
    work[len - 1] = q;
  }
}

/**
 * Rounds the expansion `e[at, at + len)` to a double-double in dd[0] + dd[1] (|dd[1]| ≤ u·|dd[0]|), with
 * |exact − (dd[0] + dd[1])| ≤ dd[2]; false when it is out of the range the bounds here hold in.
 */
function toDouble(e: Float64Array, at: number, len: number): boolean {
  if (len === 0) {
    dd[0] = dd[1] = dd[2] = 0;
    return true;
  }
  const top = e[at + len - 1];
  let rest = 0;
  let sum = 0;
  for (let i = at; i < at + len - 1; i++) {
    const v = e[i];
    rest += v;
    sum += v < 0 ? -v : v;
  }
  // TwoSum(top, rest): exact.
  const s = top + rest;
  const bv = s - top;
  dd[1] = (top - (s - bv)) + (rest - bv);
  dd[0] = s;
  // Recursive summation of len − 1 terms: error ≤ γ_{len−2}·Σ|eᵢ| (Σ computed with rounding: ×1.01).
  dd[2] = len > 2 ? (len - 2) * U * 1.01 * sum : 0;
  const m = s < 0 ? -s : s;
  return m === 0 || (m >= 2 ** -800 && m <= 2 ** 800);
}

/**
 * (ah + al ± ae)·(bh + bl ± be) into dd[0] + dd[1] ± dd[2]; false if a product may leave the range where
 * Dekker's product is exact (|ah·bh| in [2^-600, 2^900], or an operand 0).
 */
function mul(ah: number, al: number, ae: number, bh: number, bl: number, be: number): boolean {
  const p = ah * bh;
  const mp = p < 0 ? -p : p;
  if (mp > 2 ** 900 || (mp < 2 ** -600 && ah !== 0 && bh !== 0)) return false;
  let c = 134217729 * ah;
  const a1 = c - (c - ah);
  const a2 = ah - a1;
  c = 134217729 * bh;
  const b1 = c - (c - bh);
  const b2 = bh - b1;
  const pe = ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2; // ah·bh = p + pe exactly
  const s = pe + (ah * bl + al * bh);
  const h = p + s;
  const bv = h - p;
  dd[1] = (p - (h - bv)) + (s - bv);
  dd[0] = h;
  const mah = ah < 0 ? -ah : ah;
  const mbh = bh < 0 ? -bh : bh;
  // Dropped al·bl and three roundings: ≤ 8.1u²|ah·bh|; then the operands' errors.
  dd[2] = (16 * U * U * mp + (mah * be + mbh * ae) * (1 + 4 * U) + ae * be) * 1.01;
  return true;
}

/** (ah + al ± ae) − (bh + bl ± be) into dd[0] + dd[1] ± dd[2]. */
function sub(ah: number, al: number, ae: number, bh: number, bl: number, be: number): void {
  const s = ah - bh;
  let bv = s - ah;
  const se = (ah - (s - bv)) + (-bh - bv); // ah − bh = s + se exactly
  const v = se + (al - bl);
  const h = s + v;
  bv = h - s;
  dd[1] = (s - (h - bv)) + (v - bv);
  dd[0] = h;
  const mah = ah < 0 ? -ah : ah;
  const mbh = bh < 0 ? -bh : bh;
  // Two roundings, of al − bl and of se + (al − bl): ≤ 4.1u²(|ah| + |bh|); then the operands' errors.
  dd[2] = (ae + be + 8 * U * U * (mah + mbh)) * 1.01;
}

/**
 * (nh + nl ± ne)/(dh + dl ± de) correctly rounded, for D > 0 proven by the bounds; undefined when the
 * bounds do not prove the rounding (or N may be 0).
 */
function quotient(
  nh: number,
  nl: number,
  ne: number,
  dh: number,
  dl: number,
  de: number,
): number | undefined {
  // Relative errors of N and D (|x| ≥ |hi|·(1 − u) − err, for |lo| ≤ u·|hi|).
  const nAbs = (nh < 0 ? -nh : nh) * (1 - 4 * U) - ne;
  const dAbs = dh * (1 - 4 * U) - de;
  if (!(nAbs > 0) || !(dAbs > 0)) return undefined;
  const mn = nh < 0 ? -nh : nh;
  if (!(mn >= 2 ** -800 && mn <= 2 ** 800 && dh >= 2 ** -800 && dh <= 2 ** 800)) return undefined;
  const rn = ne / nAbs;
  const rd = de / dAbs;
  if (!(rd < 2 ** -20)) return undefined;
  // Double-double quotient q = qh + ql of (nh + nl)/(dh + dl): relative error ≤ 14u² < 2^-101.
  const qh = nh / dh;
  let c = 134217729 * qh;
  const qa = c - (c - qh);
  const qb = qh - qa;
  c = 134217729 * dh;
  const da = c - (c - dh);
  const db = dh - da;
  const p = qh * dh;
  const pe = ((qa * da - p) + qa * db + qb * da) + qb * db; // qh·dh = p + pe exactly
  const r = (((nh - p) - pe) + nl) - qh * dl;
  const ql = r / dh;
  // The double nearest qh + ql, and t = (qh + ql) − it, exactly (TwoSum).
  const q = qh + ql;
  const bv = q - qh;
  const t = (qh - (q - bv)) + (ql - bv);
  // Everything the exact quotient can differ from qh + ql by, relative.
  const rho = ((rn + rd) * (1 + 2 * rd) + 2 ** -101) * 1.01;
  const mq = q < 0 ? -q : q;
  if (!(mq >= 2 ** -900 && mq <= 2 ** 900)) return undefined;
  // Half the gap to the neighbouring doubles (below a power of two the gap halves: then the smaller
  // half-gap bounds both sides).
  bits[0] = mq;
  const hi = words[HI];
  const power = (hi & 0xfffff) === 0 && words[1 - HI] === 0;
  const exponent = hi >>> 20;
  bits[0] = 0;
  words[HI] = (exponent - 52) << 20;
  const ulp = bits[0];
  const half = power ? ulp / 4 : ulp / 2;
  const mt = t < 0 ? -t : t;
  if (!(mt + rho * mq * (1 + 4 * U) < half * (1 - 2 ** -20))) return undefined;
  return q;
}
