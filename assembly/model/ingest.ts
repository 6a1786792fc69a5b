// Taking points in: a block kernel for several x (plain double arithmetic that is exact by construction),
// and the row-by-row exact path (accumulate.ts) for what the kernel cannot take and for polynomials.
//
// The block kernel, for up to BLOCK rows: each column c (every x, and y) gets a top 2^t_c above the block's
// largest accepted |v|, and each value is cut at fixed binary places, v = p0 + p1 + p2, p_i a multiple of
// q_i = 2^(t_c − 21(i+1)) (round to nearest: |p0| ≤ 2^21·q0, |p1|, |p2| ≤ 2^20 of their quanta). The cut is
// exact when v is a multiple of q2, that is any v within 2^10 of the block's largest (or with few
// significant bits); a row with a value the cut cannot take (or NaN, ±Inf, out of range, a weight other
// than ±1) goes to the row path, which is exact for every accepted point and refuses the others.
// A product of two pieces is an integer of at most 42 bits times q_i·q_j; the products of one level
// L = i + j share that quantum, and a block of BLOCK rows sums them to below 2^53 quanta: exact in plain
// double additions, two rows at a time in f64x2 lanes, pair of columns by pair of columns. Once per block
// each level sum is added exactly to its statistic's fixed-point accumulator. Both paths end in the same
// exact sums, so the path a point takes changes no bit of any result.
//
// Binaryen's fast-math must not fold (v + C) − C into v: the tests on the release build check it.

import {
  addRowLinear,
  addRowPolynomial,
  addSmall,
  countPoints,
  FACTOR_SHIFT,
  INPUT_DOUBLES,
  inputBuffer,
  makeRoom,
  MAX_K,
  modelDegree,
  modelKIn,
  pairIndex,
  statPtr,
} from "./accumulate";
import { reserveArea } from "./heap";
import { pow2 } from "../bignum";
import { acceptable } from "../input_buffer";

/** Rows per block: level sums stay below 2^53 quanta up to 1024; 256 keeps the pieces in cache. */
const BLOCK: i32 = 256;
const MAX_COLS: i32 = MAX_K + 1; // x_1..x_k, y
// Pieces of the block, column-major: piece i of column c at pieces + ((c·3 + i)·(BLOCK + 2)) doubles;
// the same times the row's weight at weighted + ….
const STRIDE: i32 = BLOCK + 2;
const pieces: usize = reserveArea(MAX_COLS * 3 * STRIDE * 8);
const weighted: usize = reserveArea(MAX_COLS * 3 * STRIDE * 8);
const taken: usize = reserveArea(BLOCK);
const constants: usize = reserveArea(MAX_COLS * 4 * 8);
// The lowest top: keeps q2 ≥ 2^-440 and every level quantum a normal double.
const MIN_TOP: i32 = -377;
const FRAC: u64 = 0x000f_ffff_ffff_ffff;
const IMPLICIT: u64 = 0x0010_0000_0000_0000;

// @ts-ignore: decorator
@inline function piecePtr(base: usize, c: i32, i: i32): usize {
  return base + (<usize>((c * 3 + i) * STRIDE) << 3);
}

/** Adds the exact double s (an integer number of quanta, or 0) to the accumulator at acc, f factors. */
// @ts-ignore: decorator
@inline function addLevel(acc: usize, s: f64, f: i32): void {
  if (s == 0) return;
  const bits = reinterpret<u64>(s);
  const e = <i32>(bits >> 52) & 0x7ff;
  addSmall(acc, (bits & FRAC) | IMPLICIT, e - 1075 + FACTOR_SHIFT * f, <i64>bits < 0);
}

/** Both lanes added (exact: the whole block's level sum is below 2^53 quanta). */
// @ts-ignore: decorator
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * Runs the block kernel on rows [start, end) (end − start ≤ BLOCK) of a model with k x's; marks in
 * `taken` the rows it summed. Returns the net weight of those rows.
 */
function kernel(start: i32, end: i32, k: i32): i64 {
  const stride = k + 2;
  const cols = k + 1;
  const n = end - start;
  // 1. Tops and cut constants per column.
  for (let c = 0; c < cols; c++) {
    let m: f64 = 0;
    for (let r = start; r < end; r++) {
      const v = load<f64>(inputBuffer + (<usize>(r * stride + c) << 3));
      const a = abs(v);
      if (a > m && acceptable(v)) m = a;
    }
    let t = m == 0 ? MIN_TOP : (<i32>(reinterpret<u64>(m) >> 52) - 1023) + 1;
    if (t < MIN_TOP) t = MIN_TOP;
    const cp = constants + (<usize>(c * 4) << 3);
    store<f64>(cp, 1.5 * pow2(t + 31));
    store<f64>(cp, 1.5 * pow2(t + 10), 8);
    store<f64>(cp, 1.5 * pow2(t - 11), 16);
  }
  // 2. Cut every value; a row that any cut cannot take goes to the row path (its pieces are zeros).
  let net: i64 = 0;
  for (let r = 0; r < n; r++) {
    const row = inputBuffer + (<usize>((start + r) * stride) << 3);
    const w = load<f64>(row + (<usize>(k + 1) << 3));
    let ok = w == 1.0 || w == -1.0;
    for (let c = 0; c < cols && ok; c++) {
      const v = load<f64>(row + (<usize>c << 3));
      if (!acceptable(v)) {
        ok = false;
        break;
      }
      const cp = constants + (<usize>(c * 4) << 3);
      const c0 = load<f64>(cp), c1 = load<f64>(cp, 8), c2 = load<f64>(cp, 16);
      const p0 = (v + c0) - c0;
      const rest = v - p0;
      const p1 = (rest + c1) - c1;
      const p2 = rest - p1;
      if ((p2 + c2) - c2 != p2) {
        ok = false;
        break;
      }
      const o = <usize>r << 3;
      store<f64>(piecePtr(pieces, c, 0) + o, p0);
      store<f64>(piecePtr(pieces, c, 1) + o, p1);
      store<f64>(piecePtr(pieces, c, 2) + o, p2);
      store<f64>(piecePtr(weighted, c, 0) + o, p0 * w);
      store<f64>(piecePtr(weighted, c, 1) + o, p1 * w);
      store<f64>(piecePtr(weighted, c, 2) + o, p2 * w);
    }
    store<u8>(taken + <usize>r, ok ? 1 : 0);
    if (ok) {
      net += w < 0 ? -1 : 1;
    } else {
      const o = <usize>r << 3;
      for (let c = 0; c < cols; c++) {
        for (let i = 0; i < 3; i++) {
          store<f64>(piecePtr(pieces, c, i) + o, 0);
          store<f64>(piecePtr(weighted, c, i) + o, 0);
        }
      }
    }
  }
  const padded = (n + 1) & ~1;
  if (padded > n) {
    const o = <usize>n << 3;
    for (let c = 0; c < cols; c++) {
      for (let i = 0; i < 3; i++) {
        store<f64>(piecePtr(pieces, c, i) + o, 0);
        store<f64>(piecePtr(weighted, c, i) + o, 0);
      }
    }
  }
  // 3. Sums: Σ w·v per column (three levels) and Σ w·u·v per pair of columns (five levels).
  const full = k + 2;
  for (let a = 0; a < cols; a++) {
    const wa0p = piecePtr(weighted, a, 0), wa1p = piecePtr(weighted, a, 1), wa2p = piecePtr(weighted, a, 2);
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0);
    for (let r = 0; r < padded; r += 2) {
      const o = <usize>r << 3;
      s0 = f64x2.add(s0, v128.load(wa0p + o));
      s1 = f64x2.add(s1, v128.load(wa1p + o));
      s2 = f64x2.add(s2, v128.load(wa2p + o));
    }
    const lin = statPtr(pairIndex(0, a + 1, full) - 1);
    addLevel(lin, lanes(s0), 1);
    addLevel(lin, lanes(s1), 1);
    addLevel(lin, lanes(s2), 1);
    for (let b = a; b < cols; b++) {
      const pb0p = piecePtr(pieces, b, 0), pb1p = piecePtr(pieces, b, 1), pb2p = piecePtr(pieces, b, 2);
      let l0 = f64x2.splat(0), l1 = f64x2.splat(0), l2 = f64x2.splat(0), l3 = f64x2.splat(0), l4 = f64x2.splat(0);
      for (let r = 0; r < padded; r += 2) {
        const o = <usize>r << 3;
        const a0 = v128.load(wa0p + o), a1 = v128.load(wa1p + o), a2 = v128.load(wa2p + o);
        const b0 = v128.load(pb0p + o), b1 = v128.load(pb1p + o), b2 = v128.load(pb2p + o);
        l0 = f64x2.add(l0, f64x2.mul(a0, b0));
        l1 = f64x2.add(l1, f64x2.add(f64x2.mul(a0, b1), f64x2.mul(a1, b0)));
        l2 = f64x2.add(l2, f64x2.add(f64x2.add(f64x2.mul(a0, b2), f64x2.mul(a1, b1)), f64x2.mul(a2, b0)));
        l3 = f64x2.add(l3, f64x2.add(f64x2.mul(a1, b2), f64x2.mul(a2, b1)));
        l4 = f64x2.add(l4, f64x2.mul(a2, b2));
      }
      const acc = statPtr(pairIndex(a + 1, b + 1, full) - 1);
      addLevel(acc, lanes(l0), 2);
      addLevel(acc, lanes(l1), 2);
      addLevel(acc, lanes(l2), 2);
      addLevel(acc, lanes(l3), 2);
      addLevel(acc, lanes(l4), 2);
    }
  }
  return net;
}

/** Adds or retracts (by w = ±1) the first n rows of the input buffer; returns how many were accepted. */
export function update(n: i32): i32 {
  const k = modelKIn();
  const stride = k + 2;
  const cap = INPUT_DOUBLES / stride;
  if (n < 0) n = 0;
  if (n > cap) n = cap;
  let accepted = 0;
  if (modelDegree() > 1) {
    for (let i = 0; i < n; i++) {
      makeRoom(1);
      const row = inputBuffer + (<usize>(i * stride) << 3);
      if (addRowPolynomial(row)) {
        accepted++;
        countPoints(load<f64>(row, 16) < 0 ? -1 : 1, 0);
      } else {
        countPoints(0, 1);
      }
    }
    return accepted;
  }
  for (let start = 0; start < n; start += BLOCK) {
    const end = min(n, start + BLOCK);
    makeRoom(end - start);
    const net = kernel(start, end, k);
    let byKernel = 0, net2: i64 = 0, refused: i64 = 0;
    for (let r = start; r < end; r++) {
      if (load<u8>(taken + <usize>(r - start)) != 0) {
        byKernel++;
        continue;
      }
      const row = inputBuffer + (<usize>(r * stride) << 3);
      if (addRowLinear(row)) {
        accepted++;
        net2 += load<f64>(row + (<usize>(k + 1) << 3)) < 0 ? -1 : 1;
      } else {
        refused++;
      }
    }
    accepted += byKernel;
    countPoints(net + net2, refused);
  }
  return accepted;
}
