// The model ABI: several explanatory columns or a polynomial, with inference statistics, numbers only.
// See docs/numerics.md, "The model ABI". Every export starts with `model_`; the line's exports stay.
//
//   model_configure(k, degree, intercept) → 0 | 1 bad k (1..20) | 2 bad degree (1..12) | 3 degree > 1 with k > 1
//   model_input_ptr(), model_input_capacity()   rows of k + 2 doubles: x_1..x_k, y, w (w = +1 adds, -1 retracts)
//   model_update(n) → points accepted among the first n rows
//   model_count(), model_refused(), model_reset()
//   model_fit() → rank (or -1: numbers too large for the core's arena; outputs NaN)
//   model_fit_coefficients() → the same without se, r2 and sigma (NaN), at a fraction of the cost
//   model_columns(), model_coefficient(i), model_aliased(i), model_se(i), model_r2(), model_sigma()
//   model_state_ptr(), model_state_capacity(), model_save_state() → bytes, model_load_state(bytes) → 0 | error

import { fnv1a } from "../checksum";
import { reserveArea } from "./heap";
import {
  accumulatorsPtr,
  clearSums,
  configure,
  INPUT_DOUBLES,
  inputBuffer,
  inputColumns,
  isConfigured,
  modelDegree,
  modelIntercept,
  netPoints,
  normalizeAll,
  refusedPoints,
  setCounts,
  statCount,
  totalDigits,
} from "./accumulate";
import { update } from "./ingest";
import { clearFit, fitAliased, fitCoefficient, fitColumns, fitModel, fitR2, fitSe, fitSigma } from "./solve";

/** Sets the model (k explanatory columns, or one x at degree > 1; intercept 1 or 0) and empties it. */
export function model_configure(k: i32, degree: i32, intercept: i32): i32 {
  const code = configure(k, degree, intercept != 0);
  if (code == 0) clearFit((intercept != 0 ? 1 : 0) + (degree > 1 ? degree : k));
  return code;
}

/** Address of the input rows. */
export function model_input_ptr(): usize {
  return inputBuffer;
}

/** Rows the input buffer holds for the configured model. */
export function model_input_capacity(): i32 {
  return INPUT_DOUBLES / (inputColumns() + 2);
}

/** Adds or retracts (by each row's w) the first n rows; returns how many were accepted. */
export function model_update(n: i32): i32 {
  if (!isConfigured()) return 0;
  return update(n);
}

/** Net number of points. */
export function model_count(): f64 {
  return <f64>netPoints();
}

/** Points refused since the last reset or configure. */
export function model_refused(): f64 {
  return <f64>refusedPoints();
}

/** Forgets every point. */
export function model_reset(): void {
  clearSums();
}

/** Fits the model with its statistics; returns the rank, or -1 when it could not (see the header). */
export function model_fit(): i32 {
  if (!isConfigured()) return -1;
  return fitModel(true);
}

/** Fits the coefficients only (se, r2 and sigma are NaN): cheaper. Returns as model_fit(). */
export function model_fit_coefficients(): i32 {
  if (!isConfigured()) return -1;
  return fitModel(false);
}

/** Coefficient columns of the configured model (intercept first when present); outputs are NaN until a fit. */
export function model_columns(): i32 {
  return fitColumns();
}

/** Coefficient i of the last fit; NaN when aliased. */
export function model_coefficient(i: i32): f64 {
  return fitCoefficient(i);
}

/** 1 when coefficient i was aliased in the last fit. */
export function model_aliased(i: i32): i32 {
  return fitAliased(i);
}

/** Standard error of coefficient i; NaN when aliased or undefined (n ≤ rank). */
export function model_se(i: i32): f64 {
  return fitSe(i);
}

/** R² of the last fit (centred with an intercept, uncentred without); NaN when undefined. */
export function model_r2(): f64 {
  return fitR2();
}

/** Residual standard deviation (n − rank degrees of freedom); NaN when undefined. */
export function model_sigma(): f64 {
  return fitSigma();
}

// ---- State: the model and its exact sums, self-checking. ----
// Layout (little endian): magic u32 "SRGM", version u32, k u32, degree u32, intercept u32, statistics u32,
// digits u32, reserved u32, count i64, refused i64, digits × i64 (canonical), FNV-1a 64 of all before.
const MAGIC: u32 = 0x4d475253; // "SRGM"
const VERSION: u32 = 1;
const HEADER: i32 = 48;
const STATE_CAPACITY: i32 = HEADER + (1 << 17) * 8 + 8;
const stateArea: usize = reserveArea(STATE_CAPACITY);

function stateSize(): i32 {
  return HEADER + totalDigits() * 8 + 8;
}

/** Address of the state area (model_state_capacity() bytes). */
export function model_state_ptr(): usize {
  return stateArea;
}

/** Bytes the state area holds. */
export function model_state_capacity(): i32 {
  return STATE_CAPACITY;
}

/** Writes the state into the state area; returns its size in bytes (0 when not configured). */
export function model_save_state(): i32 {
  if (!isConfigured()) return 0;
  normalizeAll();
  const size = stateSize();
  store<u32>(stateArea, MAGIC);
  store<u32>(stateArea, VERSION, 4);
  store<u32>(stateArea, <u32>inputColumns(), 8);
  store<u32>(stateArea, <u32>modelDegree(), 12);
  store<u32>(stateArea, modelIntercept() ? 1 : 0, 16);
  store<u32>(stateArea, <u32>statCount(), 20);
  store<u32>(stateArea, <u32>totalDigits(), 24);
  store<u32>(stateArea, 0, 28);
  store<i64>(stateArea, netPoints(), 32);
  store<i64>(stateArea, refusedPoints(), 40);
  memory.copy(stateArea + HEADER, accumulatorsPtr(), <usize>totalDigits() * 8);
  store<u64>(stateArea + <usize>(size - 8), fnv1a(stateArea, size - 8));
  return size;
}

/**
 * Replaces the sums by the n-byte state in the state area, for the configured model. Returns 0, or an
 * error code and changes nothing: 1 wrong size, 2 not a model state, 3 other version, 4 checksum
 * mismatch, 5 digits invalid, 6 the state is of another model (k, degree or intercept differ).
 */
export function model_load_state(n: i32): i32 {
  if (!isConfigured()) return 6;
  if (n < HEADER + 8 || n > STATE_CAPACITY) return 1;
  if (load<u32>(stateArea) != MAGIC) return 2;
  if (load<u32>(stateArea, 4) != VERSION) return 3;
  if (load<u64>(stateArea + <usize>(n - 8)) != fnv1a(stateArea, n - 8)) return 4;
  if (
    load<u32>(stateArea, 8) != <u32>inputColumns() || load<u32>(stateArea, 12) != <u32>modelDegree() ||
    load<u32>(stateArea, 16) != (modelIntercept() ? 1 : 0)
  ) return 6;
  if (n != stateSize() || load<u32>(stateArea, 20) != <u32>statCount()) return 1;
  if (load<u32>(stateArea, 24) != <u32>totalDigits()) return 1;
  // canonical: every digit in [0, 2^32) but each statistic's top one, which the layout does not mark, so
  // only the range of the whole is checked loosely here: a digit is below 2^32 or a sign extension.
  for (let i = 0; i < totalDigits(); i++) {
    const d = load<i64>(stateArea + HEADER + <usize>(i << 3));
    if (d < -0x1_0000_0000 || d > 0xffff_ffff) return 5;
  }
  setCounts(load<i64>(stateArea, 32), load<i64>(stateArea, 40));
  memory.copy(accumulatorsPtr(), stateArea + HEADER, <usize>totalDigits() * 8);
  normalizeAll();
  return 0;
}
