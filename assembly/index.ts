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
//   load_sums(count) → 0 | 1         the state from exact sums given as terms in the input buffer
// See docs/numerics.md, "The WASM ABI".

import { fnv1a } from "./checksum";
import { LIMBS, NSTAT, addExact, clearAll, fixedPtr, fold, markSettled, normalize } from "./exact_sum";
import { fitLine, fitSums, lastIntercept, lastSlope, statistic } from "./closed_form";
import { CAPACITY, MAX_BITS, MIN_BITS, inX } from "./input_buffer";
import { BLOCK, ingestBlock } from "./split_block";
import { netPoints, recordRanges, refusedPoints, setCounts } from "./scalar_path";

/** Address of the input buffer (x, then y, then w; each input_capacity() doubles). */
export function input_ptr(): usize {
  return inX;
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

/**
 * Adds the first n buffered points with weight `sign` (±1), or with the weights w[i] when `weighted`, a
 * block at a time (split_block.ts; the points it cannot take go through scalar_path.ts). A point is
 * refused (counted, not added) when x or y is NaN, ±Inf or out of range, or its weight is not ±1.
 * Inlined into each export, so the loops are specialised for their constant sign and weighting.
 */
// @ts-ignore: decorator
@inline function ingest(n: i32, sign: f64, weighted: bool): i32 {
  if (n < 0) n = 0;
  if (n > CAPACITY) n = CAPACITY;
  const before = refusedPoints();
  for (let start = 0; start < n; start += BLOCK) {
    const end = min(n, start + BLOCK);
    ingestBlock(start, end, sign, weighted);
    recordRanges(); // so that a fold (fit, sum, save_state) scans every slot the scalar path wrote
  }
  return n - <i32>(refusedPoints() - before);
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
  return fitLine(netPoints());
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
  return <f64>netPoints();
}

/** Points refused since the last reset. */
export function refused(): f64 {
  return <f64>refusedPoints();
}

/** Statistic i, correctly rounded: 0 n, 1 Σx, 2 Σy, 3 Σx², 4 Σxy, 5 Σy²; NaN for another i. */
export function sum(i: i32): f64 {
  if (i == 0) return <f64>netPoints();
  if (i < 1 || i > NSTAT) return NaN;
  fold();
  return statistic(i - 1);
}

/** Forgets every point and the refused count. */
export function reset(): void {
  clearAll();
  setCounts(0, 0);
}

// ---- Exact sums from outside: the state of one key of a keyed run (src/state/key_table.ts). ----

/**
 * Replaces the state by exact sums given as terms (e.g. the components of floating-point expansions):
 * the input buffer holds, as doubles, the number of terms of each statistic (Σx, Σy, Σx², Σxy, Σy²), then
 * every term, statistic by statistic; `count` is the net number of points. Returns 0; or 1 when a length
 * or a term is not valid (not finite, too many), and the state is then empty. fit() and sum(i) follow.
 */
export function load_sums(count: f64): i32 {
  fold(); // (empties the slot tables; cheap when they are)
  memory.fill(fixedPtr(0), 0, <usize>(NSTAT * LIMBS * 8));
  setCounts(0, 0);
  let total: i32 = 0;
  for (let s = 0; s < NSTAT; s++) {
    const length = load<f64>(inX + (<usize>s << 3));
    if (!(length >= 0 && length <= 64) || length != Math.floor(length)) return 1;
    total += <i32>length;
  }
  if (total + NSTAT > 3 * CAPACITY || !(count == Math.floor(count)) || Math.abs(count) > 9007199254740992) {
    return 1;
  }
  let at = inX + (<usize>NSTAT << 3);
  for (let s = 0; s < NSTAT; s++) {
    const length = <i32>load<f64>(inX + (<usize>s << 3));
    for (let i = 0; i < length; i++) {
      const t = load<f64>(at);
      at += 8;
      if (!isFinite(t)) {
        memory.fill(fixedPtr(0), 0, <usize>(NSTAT * LIMBS * 8));
        return 1;
      }
      addExact(s, t);
    }
    normalize(fixedPtr(s));
  }
  markSettled(); // (every statistic was just normalized)
  setCounts(<i64>count, 0);
  return 0;
}

/**
 * Fits the line straight from exact sums laid out as for load_sums, without changing the state (faster:
 * the sums are built in the unit of their smallest term). Returns 0, 1 when degenerate, or 2 when the
 * sums are not valid; then intercept() and slope() as after fit().
 */
export function fit_sums(count: f64): i32 {
  let total: i32 = 0;
  for (let s = 0; s < NSTAT; s++) {
    const length = load<f64>(inX + (<usize>s << 3));
    if (!(length >= 0 && length <= 64) || length != Math.floor(length)) return 2;
    total += <i32>length;
  }
  if (total + NSTAT > 3 * CAPACITY || !(count == Math.floor(count)) || Math.abs(count) > 9007199254740992) {
    return 2;
  }
  const terms = inX + (<usize>NSTAT << 3);
  for (let i = 0; i < total; i++) if (!isFinite(load<f64>(terms + (<usize>i << 3)))) return 2;
  return fitSums(<i64>count, inX, terms);
}

// ---- State: a self-checking snapshot of the exact sums, for persistence across restarts. ----
// Layout (little endian): magic u32 "SREG", version u32, count i64, refused i64, NSTAT u32, LIMBS u32,
// NSTAT·LIMBS i64 digits, FNV-1a 64 checksum of everything before it.
const MAGIC: u32 = 0x47455253; // "SREG"
const VERSION: u32 = 1;
const HEADER: i32 = 32;
const STATE_SIZE: i32 = HEADER + NSTAT * LIMBS * 8 + 8;
const stateArea: usize = memory.data(STATE_SIZE, 16);

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
  store<i64>(stateArea + 8, netPoints());
  store<i64>(stateArea + 16, refusedPoints());
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
  setCounts(load<i64>(stateArea + 8), load<i64>(stateArea + 16));
  memory.copy(fixedPtr(0), stateArea + HEADER, <usize>(NSTAT * LIMBS * 8));
  for (let s = 0; s < NSTAT; s++) normalize(fixedPtr(s));
  return 0;
}

// ---- The model ABI: several x, polynomials, statistics (model/abi.ts). ----
export * from "./model/abi";
// Sparse records of the model's sums, one per key, window or pane (model/sparse.ts).
export * from "./model/sparse";

// ---- Numbers as text: the shortest round-trip decimal, as JavaScript's String(n) writes it. ----
// (format/shortest.ts; "-0" for negative zero.) src/core/number_text.ts is the TypeScript face.
import { MAX_TEXT, formatShortest } from "./format/shortest";
const textArea: usize = memory.data(MAX_TEXT, 16);

/** Address of the text that format_f64 writes (room for 32 bytes). */
export function text_ptr(): usize {
  return textArea;
}

/** Writes x as ASCII at text_ptr(), as JavaScript's String(x) but "-0" for negative zero; returns its length. */
export function format_f64(x: f64): i32 {
  return formatShortest(x, textArea);
}
