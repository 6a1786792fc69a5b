/**
 * A typed, runtime-agnostic wrapper over the model half of the streamreg WebAssembly core: several
 * explanatory columns or a polynomial in one x, with R² and standard errors, every number exact and
 * rounded once. Only Web-standard APIs are used; the caller supplies the module's bytes.
 *
 * @example
 * ```ts
 * import { ModelCore } from "./model_core.ts";
 * const bytes = await Deno.readFile("build/streamreg.wasm");
 * const core = await ModelCore.load(bytes, { k: 2, degree: 1, intercept: true });
 * const x1 = new Float64Array([0, 1, 0, 1]), x2 = new Float64Array([0, 0, 1, 1]);
 * core.update([x1, x2], new Float64Array([1, 3, 4, 6]), new Float64Array([1, 1, 1, 1]));
 * core.fit().coefficients; // Float64Array [1, 2, 3]
 * ```
 * @module
 */

import { NumberText, type NumberTextExports } from "./number_text.ts";

/**
 * The model: `k` explanatory columns, or one x at `degree` > 1 (x, x², …), with or without an intercept.
 *
 * @example
 * ```ts
 * const cubic: ModelSpec = { k: 1, degree: 3, intercept: true };
 * ```
 */
export interface ModelSpec {
  /** Explanatory columns in each point (1..20; 1 for a polynomial). */
  readonly k: number;
  /** Polynomial degree (1..12); above 1 needs k = 1. */
  readonly degree: number;
  /** Whether the model has an intercept column `a`. */
  readonly intercept: boolean;
}

/**
 * A fit and its statistics. Columns are the intercept (when present), then each x (or x, x², …).
 *
 * @example
 * ```ts
 * const fit: ModelFit = core.fit();
 * fit.aliased.some((a) => a); // whether a column was an exact combination of earlier ones
 * ```
 */
export interface ModelFit {
  /** Net number of points. */
  readonly n: number;
  /** Coefficients, correctly rounded; NaN where aliased. */
  readonly coefficients: Float64Array;
  /** Per coefficient: an exact linear combination of the intercept and the columns before it. */
  readonly aliased: readonly boolean[];
  /** Standard errors, correctly rounded; NaN where aliased or undefined (n ≤ rank). */
  readonly se: Float64Array;
  /** R² (centred with an intercept, uncentred without), correctly rounded; NaN when undefined. */
  readonly r2: number;
  /** Residual standard deviation on n − rank degrees of freedom; NaN when undefined. */
  readonly sigma: number;
  /** Number of non-aliased columns. */
  readonly rank: number;
}

/** The model exports of `build/streamreg.wasm`; see docs/numerics.md, "The model ABI". */
interface ModelExports {
  memory: WebAssembly.Memory;
  model_configure(k: number, degree: number, intercept: number): number;
  model_input_ptr(): number;
  model_input_capacity(): number;
  model_update(n: number): number;
  model_count(): number;
  model_refused(): number;
  model_reset(): void;
  model_fit(): number;
  model_fit_coefficients(): number;
  model_columns(): number;
  model_coefficient(i: number): number;
  model_aliased(i: number): number;
  model_se(i: number): number;
  model_r2(): number;
  model_sigma(): number;
  model_state_ptr(): number;
  model_state_capacity(): number;
  model_save_state(): number;
  model_load_state(n: number): number;
  model_sparse_ptr(): number;
  model_sparse_capacity(): number;
  model_save_sparse(): number;
  model_load_sparse(n: number): number;
  model_add_sparse(n: number, sign: number): number;
}

/** Most explanatory columns a model takes. */
export const MAX_COLUMNS = 20;
/** Highest polynomial degree. */
export const MAX_DEGREE = 12;

/**
 * Thrown by {@linkcode ModelCore.loadState} for a state that cannot be used; `code` is the core's.
 *
 * @example
 * ```ts
 * try { core.loadState(bytes); } catch (e) { if (e instanceof ModelStateError) console.error(e.message); }
 * ```
 */
export class ModelStateError extends Error {
  /** The core's error code (1 wrong size … 6 another model). */
  readonly code: number;
  /** Makes the error for the core's code. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "ModelStateError";
    this.code = code;
  }
}

const STATE_ERRORS: Record<number, string> = {
  1: "it has the wrong size",
  2: "it is not a streamreg model state",
  3: "it was written by another version of the model core",
  4: "its checksum does not match (the file is damaged)",
  5: "its digits are invalid",
  6: "it holds another model (other number of columns, degree or intercept)",
};

const SPARSE_ERRORS: Record<number, string> = {
  1: "it has the wrong size",
  2: "it holds another model (other number of columns, degree or intercept)",
  5: "a statistic's digits lie outside its accumulator",
};

/**
 * Why the core refuses a value, or undefined when it takes it: 0 or a magnitude in [2^-440, 2^440].
 *
 * @example
 * ```ts
 * checkValue(1e-200); // "out_of_range"
 * checkValue(3.5); // undefined
 * ```
 */
export function checkValue(v: number): "nan" | "infinite" | "out_of_range" | undefined {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return "infinite";
  const a = Math.abs(v);
  if (a !== 0 && (a < 2 ** -440 || a > 2 ** 440)) return "out_of_range";
  return undefined;
}

/** Describes a spec that the core does not take, or returns undefined. */
function specProblem(spec: ModelSpec): string | undefined {
  if (!Number.isInteger(spec.k) || spec.k < 1 || spec.k > MAX_COLUMNS) {
    return `k must be an integer from 1 to ${MAX_COLUMNS}, got ${spec.k}`;
  }
  if (!Number.isInteger(spec.degree) || spec.degree < 1 || spec.degree > MAX_DEGREE) {
    return `degree must be an integer from 1 to ${MAX_DEGREE}, got ${spec.degree}`;
  }
  if (spec.degree > 1 && spec.k !== 1) {
    return `a polynomial (degree ${spec.degree}) takes one x, got k = ${spec.k}`;
  }
  return undefined;
}

/**
 * Exact sums of a model's cross products inside WebAssembly, and the fit from them.
 *
 * @example
 * ```ts
 * const core = await ModelCore.load(bytes, { k: 1, degree: 2, intercept: true });
 * const x = new Float64Array([0, 1, 2, 3]);
 * core.update([x], x.map((v) => v * v), new Float64Array(4).fill(1));
 * core.fit().coefficients; // Float64Array [0, 0, 1]
 * ```
 */
export class ModelCore {
  readonly #ex: ModelExports;
  #numbers: NumberText | undefined;
  /** The model this core fits. */
  readonly spec: ModelSpec;
  /** Coefficient columns: the intercept (when present), then each x or power. */
  readonly columns: number;
  readonly #capacity: number;
  readonly #stats: boolean;
  #rows!: Float64Array;

  private constructor(exports: ModelExports, spec: ModelSpec, stats: boolean) {
    this.#ex = exports;
    this.#stats = stats;
    this.spec = { k: spec.k, degree: spec.degree, intercept: spec.intercept };
    const code = exports.model_configure(spec.k, spec.degree, spec.intercept ? 1 : 0);
    if (code !== 0) throw new RangeError(`the core refused the model (code ${code})`);
    this.columns = (spec.intercept ? 1 : 0) + (spec.degree > 1 ? spec.degree : spec.k);
    this.#capacity = exports.model_input_capacity();
    this.#view();
  }

  /**
   * Instantiates the core from the bytes of `streamreg.wasm` (or a compiled module) for one model.
   * Throws a RangeError naming the problem when the spec is not one the core takes. `options.stats`
   * (default true) is what {@linkcode ModelCore.fit} computes when not told: false leaves se, r2 and
   * sigma NaN and costs a fraction of the full fit for many columns.
   *
   * @example
   * ```ts
   * const core = await ModelCore.load(await Deno.readFile("build/streamreg.wasm"), { k: 6, degree: 1, intercept: true });
   * ```
   */
  static async load(
    bytes: BufferSource | WebAssembly.Module,
    spec: ModelSpec,
    options: { stats?: boolean } = {},
  ): Promise<ModelCore> {
    const problem = specProblem(spec);
    if (problem !== undefined) throw new RangeError(`model: ${problem}`);
    const instance = bytes instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(bytes, {})
      : (await WebAssembly.instantiate(bytes, {})).instance;
    return new ModelCore(instance.exports as unknown as ModelExports, spec, options.stats ?? true);
  }

  /**
   * Numbers as text through this core's instance (its `format_f64`; see `./number_text.ts`): no second
   * instance. The formatter does not touch the core's state.
   *
   * @example
   * ```ts
   * const numbers = core.numberText();
   * numbers.text(0.1 + 0.2); // "0.30000000000000004"
   * ```
   */
  numberText(): NumberText {
    return this.#numbers ??= NumberText.of(this.#ex as unknown as NumberTextExports);
  }

  #view(): void {
    const stride = this.spec.k + 2;
    this.#rows = new Float64Array(
      this.#ex.memory.buffer,
      this.#ex.model_input_ptr(),
      this.#capacity * stride,
    );
  }

  /**
   * Adds (w = +1) or retracts (w = -1) points: `xs[c][i]` is column c of point i. Returns how many
   * were accepted; a point with a value NaN, ±Infinity or out of range, or another weight, is refused
   * (see {@linkcode checkValue}) and changes nothing.
   *
   * @example
   * ```ts
   * core.update([new Float64Array([1, 2])], new Float64Array([2, 4]), new Float64Array([1, 1])); // 2
   * ```
   */
  update(xs: readonly Float64Array[], y: Float64Array, w: Float64Array): number {
    const k = this.spec.k;
    if (xs.length !== k) throw new RangeError(`expected ${k} x columns, got ${xs.length}`);
    for (const col of xs) {
      if (col.length !== y.length) {
        throw new RangeError(`every x column must have the length of y (${y.length}), got ${col.length}`);
      }
    }
    if (w.length !== y.length) {
      throw new RangeError(`w must have the length of y (${y.length}), got ${w.length}`);
    }
    if (this.#rows.buffer.byteLength === 0) this.#view(); // memory was grown
    const stride = k + 2;
    const rows = this.#rows;
    let accepted = 0;
    for (let off = 0; off < y.length; off += this.#capacity) {
      const n = Math.min(this.#capacity, y.length - off);
      for (let c = 0; c < k; c++) {
        const col = xs[c];
        for (let i = 0; i < n; i++) rows[i * stride + c] = col[off + i];
      }
      for (let i = 0; i < n; i++) {
        rows[i * stride + k] = y[off + i];
        rows[i * stride + k + 1] = w[off + i];
      }
      accepted += this.#ex.model_update(n);
    }
    return accepted;
  }

  /**
   * Adds or retracts the points `rows[from..to)` of the columns (each index into `xs`, `y` and `w`),
   * as {@linkcode ModelCore.update} does for the points in order: for one key's points among a batch's.
   * Returns how many were accepted.
   *
   * @example
   * ```ts
   * core.updateRows([x], y, w, Int32Array.of(0, 2), 0, 2); // points 0 and 2
   * ```
   */
  updateRows(
    xs: readonly Float64Array[],
    y: Float64Array,
    w: Float64Array,
    rows: ArrayLike<number>,
    from = 0,
    to: number = rows.length,
  ): number {
    const k = this.spec.k;
    if (xs.length !== k) throw new RangeError(`expected ${k} x columns, got ${xs.length}`);
    if (this.#rows.buffer.byteLength === 0) this.#view(); // memory was grown
    const stride = k + 2;
    const buffer = this.#rows;
    let accepted = 0;
    for (let off = from; off < to; off += this.#capacity) {
      const n = Math.min(this.#capacity, to - off);
      for (let i = 0; i < n; i++) {
        const r = rows[off + i];
        const at = i * stride;
        for (let c = 0; c < k; c++) buffer[at + c] = xs[c][r];
        buffer[at + k] = y[r];
        buffer[at + k + 1] = w[r];
      }
      accepted += this.#ex.model_update(n);
    }
    return accepted;
  }

  /**
   * The exact sums held now as a compact record (only the digits in use), for
   * {@linkcode ModelCore.loadSparse} and {@linkcode ModelCore.addSparse}: one core serves many keys, each
   * key's sums kept outside it as such a record. The refused count is not in it.
   *
   * @example
   * ```ts
   * const record = core.saveSparse();
   * ```
   */
  saveSparse(): Uint8Array {
    const n = this.#ex.model_save_sparse();
    if (n < 0) throw new RangeError("the model's sums do not fit a sparse record: please report this");
    return new Uint8Array(this.#ex.memory.buffer, this.#ex.model_sparse_ptr(), n).slice();
  }

  /**
   * Replaces the sums by a record of {@linkcode ModelCore.saveSparse} (the refused count becomes 0).
   * Throws {@linkcode ModelStateError} (and changes nothing) when it is not a record of this model.
   *
   * @example
   * ```ts
   * core.loadSparse(record);
   * core.fit();
   * ```
   */
  loadSparse(record: Uint8Array): void {
    this.#sparse(record, (n) => this.#ex.model_load_sparse(n));
  }

  /**
   * Adds (`sign` 1) or subtracts (-1) a record of {@linkcode ModelCore.saveSparse} to the sums held,
   * exactly: e.g. a window's sums from its panes'. Throws {@linkcode ModelStateError} (and changes
   * nothing) when it is not a record of this model.
   *
   * @example
   * ```ts
   * core.loadSparse(first);
   * core.addSparse(second, 1); // the sums of both
   * ```
   */
  addSparse(record: Uint8Array, sign: 1 | -1): void {
    this.#sparse(record, (n) => this.#ex.model_add_sparse(n, sign));
  }

  #sparse(record: Uint8Array, call: (n: number) => number): void {
    const ex = this.#ex;
    if (record.length > ex.model_sparse_capacity()) {
      throw new ModelStateError(1, `model record not loaded: ${SPARSE_ERRORS[1]}`);
    }
    new Uint8Array(ex.memory.buffer, ex.model_sparse_ptr(), record.length).set(record);
    const code = call(record.length);
    if (code !== 0) {
      throw new ModelStateError(code, `model record not loaded: ${SPARSE_ERRORS[code] ?? `error ${code}`}`);
    }
  }

  /**
   * Fits the model to the points held now. With `stats: false` only the coefficients are computed
   * (se, r2 and sigma are NaN), which costs a fraction of the full fit for many columns; the default is
   * the `stats` option given to {@linkcode ModelCore.load}.
   *
   * @example
   * ```ts
   * const { coefficients, se, r2, sigma } = core.fit();
   * const quick = core.fit({ stats: false }).coefficients;
   * ```
   */
  fit(options: { stats?: boolean } = {}): ModelFit {
    const ex = this.#ex;
    const rank = (options.stats ?? this.#stats) ? ex.model_fit() : ex.model_fit_coefficients();
    if (rank < 0) {
      throw new RangeError("the model's exact numbers outgrew the core's work area; fit fewer columns");
    }
    const p = this.columns;
    const coefficients = new Float64Array(p);
    const se = new Float64Array(p);
    const aliased: boolean[] = [];
    for (let i = 0; i < p; i++) {
      coefficients[i] = ex.model_coefficient(i);
      se[i] = ex.model_se(i);
      aliased.push(ex.model_aliased(i) !== 0);
    }
    return {
      n: ex.model_count(),
      coefficients,
      aliased,
      se,
      r2: ex.model_r2(),
      sigma: ex.model_sigma(),
      rank,
    };
  }

  /**
   * Net number of points (added minus retracted).
   *
   * @example
   * ```ts
   * core.count(); // 0 for a new core
   * ```
   */
  count(): number {
    return this.#ex.model_count();
  }

  /**
   * Points refused since the core was made or reset.
   *
   * @example
   * ```ts
   * core.refused(); // 0
   * ```
   */
  refused(): number {
    return this.#ex.model_refused();
  }

  /**
   * Forgets every point.
   *
   * @example
   * ```ts
   * core.reset();
   * ```
   */
  reset(): void {
    this.#ex.model_reset();
  }

  /**
   * The model and its exact sums as bytes, for {@linkcode ModelCore.loadState}.
   *
   * @example
   * ```ts
   * const bytes = core.saveState();
   * ```
   */
  saveState(): Uint8Array {
    const n = this.#ex.model_save_state();
    return new Uint8Array(this.#ex.memory.buffer, this.#ex.model_state_ptr(), n).slice();
  }

  /**
   * Replaces the sums by a saved state of the same model. Throws {@linkcode ModelStateError} (and
   * changes nothing) when the state is damaged or of another model.
   *
   * @example
   * ```ts
   * other.loadState(core.saveState());
   * ```
   */
  loadState(bytes: Uint8Array): void {
    const ex = this.#ex;
    if (bytes.length > ex.model_state_capacity()) {
      throw new ModelStateError(1, `model state not loaded: ${STATE_ERRORS[1]}`);
    }
    new Uint8Array(ex.memory.buffer, ex.model_state_ptr(), bytes.length).set(bytes);
    const code = ex.model_load_state(bytes.length);
    if (code === 0) return;
    const what = STATE_ERRORS[code] ?? `error ${code}`;
    const hint = code === 6
      ? "; resume with the same --x, --degree and intercept settings, or start from a new --state file"
      : "";
    throw new ModelStateError(code, `model state not loaded: ${what}${hint}`);
  }
}
