// The least-squares fit and its statistics from the exact sums, exactly, each output rounded once.
//
// 1. Scale: the sum for columns (i, j) is N_ij·2^(L_i + L_j) with N_ij an integer (accumulate.ts). Each
//    column's common factor 2^d_i (d_i = ⌊min_j tz(N_ij) / 2⌋, so d_i + d_j ≤ tz(N_ij)) is taken out:
//    N'_ij = N_ij / 2^(d_i + d_j) and s_i = L_i + d_i. With γ solving N'γ = N'_y, β_i = γ_i·2^(s_y − s_i).
// 2. Fraction-free Gauss-Jordan (Bareiss) on [N' | N'_y | I] over the model's columns in order: every
//    entry stays an integer (each division is exact) and, at the end, every pivot row holds
//    det·I, det·γ and det·(N')⁻¹. A column whose pivot is exactly 0 is a linear combination of the
//    columns before it (the Gram matrix is positive semi-definite): it is aliased, as R's lm does it, and
//    its row and column take no further part.
// 3. RSS' = (det·N'_yy − Σ N'_iy·(det·γ_i)) / det, exactly; r2, sigma and the standard errors follow as
//    exact rationals, rounded once (round.ts).

import {
  arenaOverflowed,
  arenaReset,
  bigAddSigned,
  bigCopy,
  bigDivExact,
  bigFromAccumulator,
  bigIsZero,
  bigLen,
  bigMul,
  bigMulU64,
  bigNew,
  bigSetI64,
  bigSetZero,
  bigShrExact,
  bigSign,
} from "./big";
import {
  columnShift,
  MAX_K,
  modelDegree,
  modelIntercept,
  modelK,
  inputColumns,
  netPoints,
  normalizeAll,
  statDigits,
  statOf,
  statPtr,
} from "./accumulate";
import { roundRatio, sqrtRatio } from "./round";

const MAX_P: i32 = MAX_K + 1;
const coef: usize = memory.data(MAX_P * 8, 8);
const se: usize = memory.data(MAX_P * 8, 8);
const aliasedFlags: usize = memory.data(MAX_P * 4, 4);
let r2: f64 = NaN;
let sigma: f64 = NaN;
let rank: i32 = 0;
let columns: i32 = 0;

// The columns of the full table in the fit (model columns, then y) and their scales.
const cols: usize = memory.data((MAX_P + 2) * 4, 4);
const halfTz: usize = memory.data((MAX_P + 2) * 4, 4);
const scale: usize = memory.data((MAX_P + 2) * 4, 4);
// N'_ij for the fit's columns (T × T, pointers).
const nMatrix: usize = memory.data((MAX_P + 2) * (MAX_P + 2) * 4, 4);
// The tableau: P rows × (2P + 1) columns of pointers.
const tableau: usize = memory.data(MAX_P * (2 * MAX_P + 1) * 4, 4);

export function fitColumns(): i32 {
  return columns;
}
export function fitRank(): i32 {
  return rank;
}
export function fitR2(): f64 {
  return r2;
}
export function fitSigma(): f64 {
  return sigma;
}
export function fitCoefficient(i: i32): f64 {
  if (i < 0 || i >= columns) return NaN;
  return load<f64>(coef + (<usize>i << 3));
}
export function fitSe(i: i32): f64 {
  if (i < 0 || i >= columns) return NaN;
  return load<f64>(se + (<usize>i << 3));
}
export function fitAliased(i: i32): i32 {
  if (i < 0 || i >= columns) return 0;
  return load<i32>(aliasedFlags + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function colAt(t: i32): i32 {
  return load<i32>(cols + (<usize>t << 2));
}
// @ts-ignore: decorator
@inline function nAt(i: i32, j: i32, t: i32): usize {
  return load<usize>(nMatrix + (<usize>(i * t + j) << 2));
}
// @ts-ignore: decorator
@inline function cell(r: i32, c: i32, width: i32): usize {
  return load<usize>(tableau + (<usize>(r * width + c) << 2));
}

/** Trailing zero bits of the canonical accumulator of statistic s (-1 when it is zero). */
function statTz(s: i32): i32 {
  const acc = statPtr(s);
  const n = statDigits(s);
  for (let i = 0; i < n; i++) {
    const d = <u64>load<i64>(acc + (<usize>i << 3)) & 0xffff_ffff;
    if (d != 0) return 32 * i + <i32>ctz<u64>(d);
    if (i == n - 1 && load<i64>(acc + (<usize>i << 3)) != 0) return 32 * i + 32;
  }
  return -1;
}

function tzOf(i: i32, j: i32): i32 {
  const s = statOf(i, j);
  if (s < 0) {
    const n = netPoints();
    return n == 0 ? -1 : <i32>ctz<i64>(n);
  }
  return statTz(s);
}

function setResultsEmpty(): void {
  for (let i = 0; i < columns; i++) {
    store<f64>(coef + (<usize>i << 3), NaN);
    store<f64>(se + (<usize>i << 3), NaN);
    store<i32>(aliasedFlags + (<usize>i << 2), 1);
  }
  r2 = NaN;
  sigma = NaN;
  rank = 0;
}

/**
 * Fits the configured model to the exact sums. Returns the rank (non-aliased columns), or -1 when the
 * arena was too small for the numbers (then every output is NaN).
 */
export function fitModel(): i32 {
  normalizeAll();
  arenaReset();
  const K = modelK();
  const intercept = modelIntercept();
  const y = K + 1;
  // Fit columns: [0 if intercept], 1..K, then y.
  let p = 0;
  if (intercept) {
    store<i32>(cols, 0);
    p = 1;
  }
  for (let i = 1; i <= K; i++) {
    store<i32>(cols + (<usize>p << 2), i);
    p++;
  }
  columns = p;
  store<i32>(cols + (<usize>p << 2), y);
  const t = p + 1;
  const n = netPoints();

  // 1. Scales.
  for (let a = 0; a < t; a++) {
    let m = 0x7fff_ffff;
    for (let b = 0; b < t; b++) {
      const z = tzOf(colAt(a), colAt(b));
      if (z >= 0 && z < m) m = z;
    }
    const h = m == 0x7fff_ffff ? 0 : m >> 1;
    store<i32>(halfTz + (<usize>a << 2), h);
    store<i32>(scale + (<usize>a << 2), columnShift(colAt(a)) + h);
  }
  let sumDigits = 0;
  for (let a = 0; a < t; a++) {
    let rowMax = 0;
    for (let b = 0; b < t; b++) {
      const s = statOf(colAt(a), colAt(b));
      const cap = s < 0 ? 2 : statDigits(s);
      const v = bigNew(cap + 1);
      const shiftBits = load<i32>(halfTz + (<usize>a << 2)) + load<i32>(halfTz + (<usize>b << 2));
      if (s < 0) {
        bigSetI64(v, n);
        bigShrExact(v, v, shiftBits);
      } else {
        bigFromAccumulator(v, statPtr(s), statDigits(s), shiftBits);
      }
      store<usize>(nMatrix + (<usize>(a * t + b) << 2), v);
      if (bigLen(v) > rowMax) rowMax = bigLen(v);
    }
    sumDigits += rowMax;
  }
  const cap = sumDigits + t + 6;

  // 2. Gauss-Jordan on [N' | N'_y | I].
  const width = 2 * p + 1;
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < width; c++) {
      const v = bigNew(cap);
      if (c <= p) bigCopy(v, nAt(r, c, t));
      else if (c - p - 1 == r) bigSetI64(v, 1);
      store<usize>(tableau + (<usize>(r * width + c) << 2), v);
    }
    store<i32>(aliasedFlags + (<usize>r << 2), 0);
  }
  const t1 = bigNew(2 * cap + 8);
  const t2 = bigNew(2 * cap + 8);
  const work = bigNew(2 * cap + 8);
  const oddPrev = bigNew(cap);
  const prev = bigNew(cap);
  bigSetI64(prev, 1);
  rank = 0;
  for (let k = 0; k < p; k++) {
    const piv = cell(k, k, width);
    if (bigIsZero(piv)) {
      store<i32>(aliasedFlags + (<usize>k << 2), 1);
      continue;
    }
    rank++;
    for (let r = 0; r < p; r++) {
      if (r == k || load<i32>(aliasedFlags + (<usize>r << 2)) != 0) continue;
      const ark = cell(r, k, width);
      for (let c = 0; c < width; c++) {
        if (c <= k && c < p) continue; // pivot columns so far: settled (column k is cleared below)
        if (c > p && load<i32>(aliasedFlags + (<usize>(c - p - 1) << 2)) != 0) continue;
        const arc = cell(r, c, width);
        const akc = cell(k, c, width);
        const zeroTerm = bigIsZero(ark) || bigIsZero(akc);
        if (bigIsZero(arc) && zeroTerm) continue;
        bigMul(t1, piv, arc);
        if (!zeroTerm) {
          bigMul(t2, ark, akc);
          bigAddSigned(t1, t1, t2, -1);
        }
        bigDivExact(arc, t1, prev, work, oddPrev);
      }
      bigSetZero(ark);
    }
    // earlier pivots' diagonal entries become this pivot (see the header)
    bigCopy(prev, piv);
  }
  const det = prev; // 1 when nothing is fitted

  // 3. Outputs.
  const sy = load<i32>(scale + (<usize>p << 2));
  const nyy = nAt(p, p, t);
  // R = det·N'_yy − Σ N'_iy·(det·γ_i)
  const rss = bigNew(2 * cap + 8);
  bigMul(rss, det, nyy);
  for (let r = 0; r < p; r++) {
    if (load<i32>(aliasedFlags + (<usize>r << 2)) != 0) continue;
    bigMul(t1, nAt(r, p, t), cell(r, p, width));
    bigAddSigned(rss, rss, t1, -1);
  }
  const dof = n - <i64>rank;
  const tutorial = K == 1 && modelDegree() == 1 && intercept && inputColumns() == 1;
  if (tutorial && rank < 2) {
    store<f64>(coef, 0);
    store<f64>(coef + 8, 0);
    store<i32>(aliasedFlags, 0);
    store<i32>(aliasedFlags + 4, 0);
    store<f64>(se, NaN);
    store<f64>(se + 8, NaN);
    r2 = NaN;
    sigma = NaN;
    return arenaOverflowed() ? -1 : rank;
  }
  for (let r = 0; r < p; r++) {
    if (load<i32>(aliasedFlags + (<usize>r << 2)) != 0) {
      store<f64>(coef + (<usize>r << 3), NaN);
      continue;
    }
    const shift = sy - load<i32>(scale + (<usize>r << 2));
    store<f64>(coef + (<usize>r << 3), roundRatio(cell(r, p, width), det, shift));
  }
  // sigma and se: RSS/(n − rank) = 2^(2 s_y)·R/(det·dof)
  if (dof > 0 && rank > 0) {
    const den = bigNew(cap + 4);
    bigMulU64(den, det, <u64>dof);
    sigma = sqrtRatio(rss, den, sy);
    const den2 = bigNew(2 * cap + 8);
    bigMul(den2, den, det); // det²·dof
    const num = bigNew(3 * cap + 8);
    for (let r = 0; r < p; r++) {
      if (load<i32>(aliasedFlags + (<usize>r << 2)) != 0) {
        store<f64>(se + (<usize>r << 3), NaN);
        continue;
      }
      bigMul(num, rss, cell(r, p + 1 + r, width));
      const shift = sy - load<i32>(scale + (<usize>r << 2));
      store<f64>(se + (<usize>r << 3), sqrtRatio(num, den2, shift));
    }
  } else {
    sigma = NaN;
    for (let r = 0; r < p; r++) store<f64>(se + (<usize>r << 3), NaN);
  }
  // r2 = 1 − RSS/TSS = (Tn·det − R·Td)/(Tn·det) with TSS' = Tn/Td.
  r2 = NaN;
  if (rank > 0) {
    const tn = bigNew(3 * cap + 8);
    const td = bigNew(cap + 4);
    if (intercept) {
      // TSS' = (N'_00·N'_yy − N'_0y²)/N'_00, column 0 being fit column 0
      bigMul(tn, nAt(0, 0, t), nyy);
      bigMul(t1, nAt(0, p, t), nAt(0, p, t));
      bigAddSigned(tn, tn, t1, -1);
      bigCopy(td, nAt(0, 0, t));
    } else {
      bigCopy(tn, nyy);
      bigSetI64(td, 1);
    }
    if (!bigIsZero(tn) && bigSign(td) > 0) {
      const den = bigNew(4 * cap + 8);
      bigMul(den, tn, det);
      const num = bigNew(4 * cap + 8);
      bigMul(t1, rss, td);
      bigAddSigned(num, den, t1, -1);
      r2 = roundRatio(num, den, 0);
    }
  }
  if (arenaOverflowed()) {
    setResultsEmpty();
    return -1;
  }
  return rank;
}
