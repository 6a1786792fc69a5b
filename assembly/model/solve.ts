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
  setSign,
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
const halfTz: usize = memory.data((MAX_P + 2) * 4, 4); // d_i
const fixedFlags: usize = memory.data((MAX_P + 2) * 4, 4);
const scale: usize = memory.data((MAX_P + 2) * 4, 4);
// N'_ij for the fit's columns (T × T, pointers).
const nMatrix: usize = memory.data((MAX_P + 2) * (MAX_P + 2) * 4, 4);
// The eliminated matrix, upper triangle (T × T pointers), and per pivot (in order): its column, the
// pivot before it, the solution X, the adjugate's diagonal entry; scratch vectors for the adjugate.
const upper: usize = memory.data((MAX_P + 2) * (MAX_P + 2) * 4, 4);
const order: usize = memory.data(MAX_P * 4, 4);
const pivotBefore: usize = memory.data(MAX_P * 4, 4);
const solution: usize = memory.data(MAX_P * 4, 4);
const adjugate: usize = memory.data(MAX_P * 4, 4);
const column: usize = memory.data(MAX_P * 4, 4);

/** Forgets the last fit's outputs (every one NaN) for a model of p coefficient columns. */
export function clearFit(p: i32): void {
  columns = p;
  setResultsEmpty();
}

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
@inline function up(i: i32, j: i32, t: i32): usize {
  return load<usize>(upper + (<usize>(i * t + j) << 2));
}
// @ts-ignore: decorator
@inline function orderAt(q: i32): i32 {
  return load<i32>(order + (<usize>q << 2));
}
// @ts-ignore: decorator
@inline function solutionAt(q: i32): usize {
  return load<usize>(solution + (<usize>q << 2));
}
// @ts-ignore: decorator
@inline function columnAt(q: i32): usize {
  return load<usize>(column + (<usize>q << 2));
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

/** v = −v. */
function negate(v: usize): void {
  setSign(v, -bigSign(v));
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
export function fitModel(stats: bool): i32 {
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

  // 1. Scales: the largest d_i with d_i + d_j ≤ tz(N_ij) for every pair, found greedily: each column's own
  //    bound ⌊tz(N_ii)/2⌋, then, columns taken from the smallest bound up, each capped by the columns
  //    already fixed. (The intercept's n has few trailing zeros; an x's sums many: the x's keep theirs.)
  for (let a = 0; a < t; a++) {
    const z = tzOf(colAt(a), colAt(a));
    store<i32>(halfTz + (<usize>a << 2), z < 0 ? 0 : z >> 1);
    store<i32>(fixedFlags + (<usize>a << 2), 0);
  }
  for (let step = 0; step < t; step++) {
    let a = -1;
    for (let c = 0; c < t; c++) {
      if (load<i32>(fixedFlags + (<usize>c << 2)) != 0) continue;
      if (a < 0 || load<i32>(halfTz + (<usize>c << 2)) < load<i32>(halfTz + (<usize>a << 2))) a = c;
    }
    let d = load<i32>(halfTz + (<usize>a << 2));
    for (let c = 0; c < t; c++) {
      if (load<i32>(fixedFlags + (<usize>c << 2)) == 0) continue;
      const z = tzOf(colAt(a), colAt(c));
      if (z >= 0) d = min(d, z - load<i32>(halfTz + (<usize>c << 2)));
    }
    if (d < 0) d = 0;
    store<i32>(halfTz + (<usize>a << 2), d);
    store<i32>(fixedFlags + (<usize>a << 2), 1);
  }
  for (let a = 0; a < t; a++) {
    store<i32>(scale + (<usize>a << 2), columnShift(colAt(a)) + load<i32>(halfTz + (<usize>a << 2)));
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

  // 2. Symmetric fraction-free elimination (Bareiss) on [N' N'_y; N'_yᵀ N'_yy], upper triangle only.
  const yi = p; // y's index among the fit columns
  for (let i = 0; i < t; i++) {
    for (let j = i; j < t; j++) {
      const v = bigNew(cap);
      bigCopy(v, nAt(i, j, t));
      store<usize>(upper + (<usize>(i * t + j) << 2), v);
    }
  }
  for (let r = 0; r < p; r++) store<i32>(aliasedFlags + (<usize>r << 2), 0);
  const t1 = bigNew(2 * cap + 8);
  const t2 = bigNew(2 * cap + 8);
  const oddPrev = bigNew(2 * cap + 8);
  const one = bigNew(2);
  bigSetI64(one, 1);
  let prev = one;
  rank = 0;
  for (let k = 0; k < p; k++) {
    const piv = up(k, k, t);
    if (bigIsZero(piv)) {
      store<i32>(aliasedFlags + (<usize>k << 2), 1);
      continue;
    }
    store<usize>(pivotBefore + (<usize>rank << 2), prev);
    store<i32>(order + (<usize>rank << 2), k);
    rank++;
    for (let i = k + 1; i < t; i++) {
      const aki = up(k, i, t);
      for (let j = i; j < t; j++) {
        const akj = up(k, j, t);
        const aij = up(i, j, t);
        const zeroTerm = bigIsZero(aki) || bigIsZero(akj);
        if (bigIsZero(aij) && zeroTerm) continue;
        bigMul(t1, piv, aij);
        if (!zeroTerm) {
          bigMul(t2, aki, akj);
          bigAddSigned(t1, t1, t2, -1);
        }
        bigDivExact(aij, t1, prev, oddPrev);
      }
    }
    prev = piv; // row k is never updated again
  }
  const det = prev; // 1 when nothing is fitted
  // The y–y entry is now det(N'[S∪y]) = det·RSS', so RSS' = rss/det.
  const rss = up(yi, yi, t);

  // 3. Back substitution: X_s = det·γ_s = (det·c_s − Σ_{l>s} U_sl·X_l) / U_ss, each division exact.
  for (let q = rank - 1; q >= 0; q--) {
    const s = orderAt(q);
    const x = bigNew(cap + 4);
    bigMul(t1, det, up(s, yi, t));
    for (let m = q + 1; m < rank; m++) {
      bigMul(t2, up(s, orderAt(m), t), solutionAt(m));
      bigAddSigned(t1, t1, t2, -1);
    }
    bigDivExact(x, t1, up(s, s, t), oddPrev);
    store<usize>(solution + (<usize>q << 2), x);
  }
  // Diagonal of the adjugate, one column at a time. The unit column e_s taken through the same elimination
  // (it starts at row s with the pivot before s, and −U_s· below it) gives c_l = d_(l−1)·(L⁻¹e_s)_l, where
  // A = L·Δ·Lᵀ with Δ_l = d_l/d_(l−1). So the leading blocks' inverses give, with H_q = d_(q−1),
  //   H_l = (d_l·H_(l−1) + c_l²) / d_(l−1) = d_l·[(A_0..l)⁻¹]_ss,  an integer (a cofactor), exactly divided,
  // and H at the last pivot is the adjugate's entry (s, s): no back substitution.
  const adjugates = stats ? rank : 0;
  for (let m = 0; m < adjugates; m++) store<usize>(column + (<usize>m << 2), bigNew(cap + 4));
  const h = bigNew(cap + 4);
  for (let q = 0; q < adjugates; q++) {
    const s = orderAt(q);
    bigCopy(h, load<usize>(pivotBefore + (<usize>q << 2)));
    for (let m = q + 1; m < rank; m++) {
      const v = columnAt(m);
      bigCopy(v, up(s, orderAt(m), t));
      negate(v);
    }
    for (let m = q + 1; m < rank; m++) {
      const k = orderAt(m);
      const piv = up(k, k, t);
      const pv = load<usize>(pivotBefore + (<usize>m << 2));
      const cm = columnAt(m); // final: every step before m has been applied
      // H_m = (d_m·H + c_m²) / d_(m−1)
      bigMul(t1, piv, h);
      bigMul(t2, cm, cm);
      bigAddSigned(t1, t1, t2, 1);
      bigDivExact(h, t1, pv, oddPrev);
      for (let l = m + 1; l < rank; l++) {
        const cl = columnAt(l);
        const akl = up(k, orderAt(l), t);
        const zeroTerm = bigIsZero(akl) || bigIsZero(cm);
        if (bigIsZero(cl) && zeroTerm) continue;
        bigMul(t1, piv, cl);
        if (!zeroTerm) {
          bigMul(t2, akl, cm);
          bigAddSigned(t1, t1, t2, -1);
        }
        bigDivExact(cl, t1, pv, oddPrev);
      }
    }
    const adj = bigNew(cap + 4);
    bigCopy(adj, h);
    store<usize>(adjugate + (<usize>q << 2), adj);
  }

  // 4. Outputs.
  const sy = load<i32>(scale + (<usize>p << 2));
  const nyy = nAt(p, p, t);
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
  for (let r = 0; r < p; r++) store<f64>(coef + (<usize>r << 3), NaN);
  for (let q = 0; q < rank; q++) {
    const r = orderAt(q);
    const shift = sy - load<i32>(scale + (<usize>r << 2));
    store<f64>(coef + (<usize>r << 3), roundRatio(solutionAt(q), det, shift));
  }
  // sigma and se: RSS/(n − rank) = 2^(2 s_y)·R/(det·dof)
  if (stats && dof > 0 && rank > 0) {
    const den = bigNew(cap + 4);
    bigMulU64(den, det, <u64>dof);
    sigma = sqrtRatio(rss, den, sy);
    const den2 = bigNew(2 * cap + 8);
    bigMul(den2, den, det); // det²·dof
    const num = bigNew(3 * cap + 8);
    for (let r = 0; r < p; r++) store<f64>(se + (<usize>r << 3), NaN);
    for (let q = 0; q < rank; q++) {
      const r = orderAt(q);
      bigMul(num, rss, load<usize>(adjugate + (<usize>q << 2)));
      const shift = sy - load<i32>(scale + (<usize>r << 2));
      store<f64>(se + (<usize>r << 3), sqrtRatio(num, den2, shift));
    }
  } else {
    sigma = NaN;
    for (let r = 0; r < p; r++) store<f64>(se + (<usize>r << 3), NaN);
  }
  // r2 = 1 − RSS/TSS = (Tn·det − R·Td)/(Tn·det) with TSS' = Tn/Td.
  r2 = NaN;
  if (stats && rank > 0) {
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
