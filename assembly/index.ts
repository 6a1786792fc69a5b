// streamreg core: exact sufficient statistics of a stream of (x, y) points and the least-squares line.
//
// ABI (numbers only; instantiate with `WebAssembly.instantiate(bytes, {})`, no imports):
//   input_ptr(), input_capacity()   the input buffer: x[cap], y[cap], w[cap] as consecutive Float64 arrays
//   add(n), retract(n), update(n)   take the first n points of the buffer (weight +1, -1, or w[i] = ±1);
//                                   return how many were accepted
//   fit() → 0 | 1 (1: degenerate)    then intercept(), slope()
//   count(), refused(), sum(i)       net point count, refused points, statistic i correctly rounded
//   reset()
//   state_ptr(), state_size(), save_state() → bytes, load_state(bytes) → 0 | error code
//   min_magnitude(), max_magnitude() the accepted range of |x| and |y| (besides 0)
// See README.md, "The WASM ABI".

import { FLUSH_TERMS, LIMBS, NSTAT, addTerm, addTermPair, clearAll, fixedPtr, fold, normalize, reserve, widenRange } from "./exact_sum";
import { fitLine, lastIntercept, lastSlope, statistic } from "./closed_form";

const CAPACITY: i32 = 4096;
const input: usize = memory.data(3 * CAPACITY * 8, 16);
const inX: usize = input;
const inY: usize = input + <usize>CAPACITY * 8;
const inW: usize = input + <usize>CAPACITY * 16;

const ABS: u64 = 0x7fff_ffff_ffff_ffff;
// Accepted magnitudes: 0, or 2^-440 ≤ |v| ≤ 2^440. In this range every product of two inputs splits
// exactly into two normal doubles (Dekker), and every term fits the fixed-point accumulators.
const MIN_BITS: u64 = <u64>(1023 - 440) << 52;
const MAX_BITS: u64 = <u64>(1023 + 440) << 52;
const SPLIT: f64 = 134217729.0; // 2^27 + 1

let netCount: i64 = 0;
let refusedCount: i64 = 0;

// @ts-ignore: decorator
@inline function acceptable(v: f64): bool {
  const a = reinterpret<u64>(v) & ABS;
  return a == 0 || a - MIN_BITS <= MAX_BITS - MIN_BITS;
}

/** Address of the input buffer (x, then y, then w; each input_capacity() doubles). */
export function input_ptr(): usize {
  return input;
}

/** Points per call. */
export function input_capacity(): i32 {
  return CAPACITY;
}

/** Smallest accepted non-zero |x| or |y|: 2^-440. */
export function min_magnitude(): f64 {
  return reinterpret<f64>(MIN_BITS);
}

/** Largest accepted |x| or |y|: 2^440. */
export function max_magnitude(): f64 {
  return reinterpret<f64>(MAX_BITS);
}

const MIN_V = f64x2.splat(reinterpret<f64>(MIN_BITS));
const MAX_V = f64x2.splat(reinterpret<f64>(MAX_BITS));
const ZERO_V = f64x2.splat(0);
const ONE_V = f64x2.splat(1.0);
const MINUS_ONE_V = f64x2.splat(-1.0);
const SPLIT_V = f64x2.splat(SPLIT);
const INF_V = f64x2.splat(Infinity);

/** Lanes where |v| (given as a and its zero mask) is 0 or within [2^-440, 2^440]; NaN compares false. */
// @ts-ignore: decorator
@inline function acceptablePair(a: v128, zero: v128): v128 {
  return v128.and(f64x2.le(a, MAX_V), v128.or(f64x2.ge(a, MIN_V), zero));
}

// Per-chunk extremes of the non-zero |x| and |y|, which bound the exponents every term can have.
let minX: f64 = Infinity, maxX: f64 = 0, minY: f64 = Infinity, maxY: f64 = 0;

/** One point, the scalar way (odd tails and pairs holding a refused point). */
function ingestOne(x: f64, y: f64, w: f64): bool {
  if (!(acceptable(x) && acceptable(y) && (w == 1.0 || w == -1.0))) {
    refusedCount++;
    return false;
  }
  const ax = abs(x), ay = abs(y);
  if (ax != 0) { minX = min(minX, ax); maxX = max(maxX, ax); }
  if (ay != 0) { minY = min(minY, ay); maxY = max(maxY, ay); }
  // Dekker splits: x = xh + xl, y = yh + yl with 26-bit halves, so each partial product is exact.
  let c = SPLIT * x;
  const xh = c - (c - x);
  const xl = x - xh;
  c = SPLIT * y;
  const yh = c - (c - y);
  const yl = y - yh;
  const xw = x * w, yw = y * w;
  const xwh = xh * w, xwl = xl * w, ywh = yh * w, ywl = yl * w;
  // w·x·x = pxx + exx, w·x·y = pxy + exy, w·y·y = pyy + eyy, all exactly.
  const pxx = xw * x;
  const exx = ((xwh * xh - pxx) + xwh * xl + xwl * xh) + xwl * xl;
  const pxy = xw * y;
  const exy = ((xwh * yh - pxy) + xwh * yl + xwl * yh) + xwl * yl;
  const pyy = yw * y;
  const eyy = ((ywh * yh - pyy) + ywh * yl + ywl * yh) + ywl * yl;
  addTerm(0, xw);
  addTerm(1, yw);
  addTerm(2, pxx);
  addTerm(2, exx);
  addTerm(3, pxy);
  addTerm(3, exy);
  addTerm(4, pyy);
  addTerm(4, eyy);
  netCount += <i64>w;
  return true;
}

/** Biased exponent of a positive finite double. */
// @ts-ignore: decorator
@inline function biasedExponent(v: f64): i32 {
  return <i32>(reinterpret<u64>(v) >> 52);
}

/** Widens each statistic's slot range to cover every term the chunk's inputs can produce. */
function recordRanges(): void {
  if (maxX != 0) {
    const lo = biasedExponent(minX), hi = biasedExponent(maxX);
    widenRange(0, lo, hi);
    widenRange(2, 2 * lo - 1127, 2 * hi - 1020); // lowest bit of a product .. its top
  }
  if (maxY != 0) {
    const lo = biasedExponent(minY), hi = biasedExponent(maxY);
    widenRange(1, lo, hi);
    widenRange(4, 2 * lo - 1127, 2 * hi - 1020);
  }
  if (maxX != 0 && maxY != 0) {
    widenRange(3, biasedExponent(minX) + biasedExponent(minY) - 1127, biasedExponent(maxX) + biasedExponent(maxY) - 1020);
  }
  minX = Infinity; maxX = 0; minY = Infinity; maxY = 0;
}

/**
 * Adds the first n buffered points with weight `sign` (±1), or with the weights w[i] when `weighted`.
 * A point is refused (counted, not added) when x or y is NaN, ±Inf or out of range, or its weight is not ±1.
 * Points go two at a time through SIMD lanes; the arithmetic is the same as ingestOne's, lane by lane.
 * Inlined into each export, so the loop is specialised for its constant sign and weighting.
 */
// @ts-ignore: decorator
@inline function ingest(n: i32, sign: f64, weighted: bool): i32 {
  if (n < 0) n = 0;
  if (n > CAPACITY) n = CAPACITY;
  const before = refusedCount;
  const signV = f64x2.splat(sign);
  for (let start = 0; start < n; start += FLUSH_TERMS) {
    const end = min(n, start + FLUSH_TERMS);
    reserve(end - start);
    let minXV = INF_V, maxXV = f64x2.splat(0), minYV = INF_V, maxYV = f64x2.splat(0);
    let countV = f64x2.splat(0);
    let i = start;
    for (; i + 1 < end; i += 2) {
      const off = <usize>i << 3;
      const X = v128.load(inX + off);
      const Y = v128.load(inY + off);
      const W = weighted ? v128.load(inW + off) : signV;
      const ax = f64x2.abs(X);
      const ay = f64x2.abs(Y);
      const zx = f64x2.eq(ax, ZERO_V);
      const zy = f64x2.eq(ay, ZERO_V);
      const ok = v128.and(
        v128.and(acceptablePair(ax, zx), acceptablePair(ay, zy)),
        v128.or(f64x2.eq(W, ONE_V), f64x2.eq(W, MINUS_ONE_V)),
      );
      if (!i64x2.all_true(ok)) {
        ingestOne(load<f64>(inX + off), load<f64>(inY + off), weighted ? load<f64>(inW + off) : sign);
        ingestOne(load<f64>(inX + off + 8), load<f64>(inY + off + 8), weighted ? load<f64>(inW + off + 8) : sign);
        continue;
      }
      // pmin/pmax are single instructions; no NaN can reach them here.
      maxXV = f64x2.pmax(maxXV, ax);
      maxYV = f64x2.pmax(maxYV, ay);
      minXV = f64x2.pmin(minXV, v128.bitselect(INF_V, ax, zx));
      minYV = f64x2.pmin(minYV, v128.bitselect(INF_V, ay, zy));
      let C = f64x2.mul(SPLIT_V, X);
      const XH = f64x2.sub(C, f64x2.sub(C, X));
      const XL = f64x2.sub(X, XH);
      C = f64x2.mul(SPLIT_V, Y);
      const YH = f64x2.sub(C, f64x2.sub(C, Y));
      const YL = f64x2.sub(Y, YH);
      const XW = f64x2.mul(X, W), YW = f64x2.mul(Y, W);
      const XWH = f64x2.mul(XH, W), XWL = f64x2.mul(XL, W);
      const YWH = f64x2.mul(YH, W), YWL = f64x2.mul(YL, W);
      const PXX = f64x2.mul(XW, X);
      const EXX = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(XWH, XH), PXX), f64x2.mul(XWH, XL)), f64x2.mul(XWL, XH)), f64x2.mul(XWL, XL));
      const PXY = f64x2.mul(XW, Y);
      const EXY = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(XWH, YH), PXY), f64x2.mul(XWH, YL)), f64x2.mul(XWL, YH)), f64x2.mul(XWL, YL));
      const PYY = f64x2.mul(YW, Y);
      const EYY = f64x2.add(f64x2.add(f64x2.add(f64x2.sub(f64x2.mul(YWH, YH), PYY), f64x2.mul(YWH, YL)), f64x2.mul(YWL, YH)), f64x2.mul(YWL, YL));
      addTermPair(0, XW);
      addTermPair(1, YW);
      addTermPair(2, PXX);
      addTermPair(2, EXX);
      addTermPair(3, PXY);
      addTermPair(3, EXY);
      addTermPair(4, PYY);
      addTermPair(4, EYY);
      countV = f64x2.add(countV, W);
    }
    if (i < end) {
      const off = <usize>i << 3;
      ingestOne(load<f64>(inX + off), load<f64>(inY + off), weighted ? load<f64>(inW + off) : sign);
    }
    netCount += <i64>(f64x2.extract_lane(countV, 0) + f64x2.extract_lane(countV, 1));
    minX = min(minX, min(f64x2.extract_lane(minXV, 0), f64x2.extract_lane(minXV, 1)));
    maxX = max(maxX, max(f64x2.extract_lane(maxXV, 0), f64x2.extract_lane(maxXV, 1)));
    minY = min(minY, min(f64x2.extract_lane(minYV, 0), f64x2.extract_lane(minYV, 1)));
    maxY = max(maxY, max(f64x2.extract_lane(maxYV, 0), f64x2.extract_lane(maxYV, 1)));
    recordRanges();
  }
  return n - <i32>(refusedCount - before);
}

/** Adds the first n buffered points; returns how many were accepted. */
export function add(n: i32): i32 {
  return ingest(n, 1.0, false);
}

/** Retracts the first n buffered points; returns how many were accepted. */
export function retract(n: i32): i32 {
  return ingest(n, -1.0, false);
}

/** Adds or retracts the first n buffered points by their weights w[i] (each +1 or -1). */
export function update(n: i32): i32 {
  return ingest(n, 1.0, true);
}

/** Fits the line; 0 when defined, 1 when degenerate (then intercept() = slope() = 0). */
export function fit(): i32 {
  fold();
  return fitLine(netCount);
}

/** Intercept a of the last fit(). */
export function intercept(): f64 {
  return lastIntercept();
}

/** Slope b of the last fit(). */
export function slope(): f64 {
  return lastSlope();
}

/** Net number of points: added minus retracted. */
export function count(): f64 {
  return <f64>netCount;
}

/** Points refused since the last reset. */
export function refused(): f64 {
  return <f64>refusedCount;
}

/** Statistic i, correctly rounded: 0 n, 1 Σx, 2 Σy, 3 Σx², 4 Σxy, 5 Σy²; NaN for another i. */
export function sum(i: i32): f64 {
  if (i == 0) return <f64>netCount;
  if (i < 1 || i > NSTAT) return NaN;
  fold();
  return statistic(i - 1);
}

/** Forgets every point and the refused count. */
export function reset(): void {
  clearAll();
  netCount = 0;
  refusedCount = 0;
}

// ---- State: a self-checking snapshot of the exact sums, for persistence across restarts. ----
// Layout (little endian): magic u32 "SREG", version u32, count i64, refused i64, NSTAT u32, LIMBS u32,
// NSTAT·LIMBS i64 digits, FNV-1a 64 checksum of everything before it.
const MAGIC: u32 = 0x47455253; // "SREG"
const VERSION: u32 = 1;
const HEADER: i32 = 32;
const STATE_SIZE: i32 = HEADER + NSTAT * LIMBS * 8 + 8;
const stateArea: usize = memory.data(STATE_SIZE, 16);

function fnv1a(p: usize, n: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < n; i++) {
    h ^= <u64>load<u8>(p + <usize>i);
    h *= 0x100000001b3;
  }
  return h;
}

/** Address of the state area. */
export function state_ptr(): usize {
  return stateArea;
}

/** Size in bytes of a state. */
export function state_size(): i32 {
  return STATE_SIZE;
}

/** Writes the current state into the state area; returns its size in bytes. */
export function save_state(): i32 {
  fold();
  store<u32>(stateArea, MAGIC);
  store<u32>(stateArea + 4, VERSION);
  store<i64>(stateArea + 8, netCount);
  store<i64>(stateArea + 16, refusedCount);
  store<u32>(stateArea + 24, <u32>NSTAT);
  store<u32>(stateArea + 28, <u32>LIMBS);
  memory.copy(stateArea + HEADER, fixedPtr(0), <usize>(NSTAT * LIMBS * 8));
  store<u64>(stateArea + <usize>(STATE_SIZE - 8), fnv1a(stateArea, STATE_SIZE - 8));
  return STATE_SIZE;
}

/**
 * Replaces the state by the n bytes in the state area. Returns 0, or an error code and changes nothing:
 * 1 wrong size, 2 not a streamreg state, 3 other version or layout, 4 checksum mismatch, 5 digits invalid.
 */
export function load_state(n: i32): i32 {
  if (n != STATE_SIZE) return 1;
  if (load<u32>(stateArea) != MAGIC) return 2;
  if (load<u32>(stateArea + 4) != VERSION) return 3;
  if (load<u32>(stateArea + 24) != <u32>NSTAT || load<u32>(stateArea + 28) != <u32>LIMBS) return 3;
  if (load<u64>(stateArea + <usize>(STATE_SIZE - 8)) != fnv1a(stateArea, STATE_SIZE - 8)) return 4;
  for (let s = 0; s < NSTAT; s++) {
    for (let i = 0; i < LIMBS - 1; i++) {
      const d = load<i64>(stateArea + HEADER + <usize>((s * LIMBS + i) * 8));
      if (d < 0 || d > 0xffff_ffff) return 5;
    }
  }
  clearAll();
  netCount = load<i64>(stateArea + 8);
  refusedCount = load<i64>(stateArea + 16);
  memory.copy(fixedPtr(0), stateArea + HEADER, <usize>(NSTAT * LIMBS * 8));
  for (let s = 0; s < NSTAT; s++) normalize(fixedPtr(s));
  return 0;
}
