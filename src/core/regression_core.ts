/**
 * A typed, runtime-agnostic wrapper over the streamreg WebAssembly core.
 *
 * Only Web-standard APIs are used (`WebAssembly`, typed arrays), so the same file runs under Deno, Bun,
 * Node and browsers. The caller supplies the module's bytes (see `src/runtime/` for per-runtime loaders).
 *
 * @example
 * ```ts
 * import { RegressionCore } from "./regression_core.ts";
 * const bytes = await Deno.readFile("build/streamreg.wasm");
 * const core = await RegressionCore.load(bytes);
 * core.add(new Float64Array([0, 1, 2]), new Float64Array([1, 3, 5]));
 * console.log(core.fit()); // { a: 1, b: 2, degenerate: false, count: 3 }
 * ```
 * @module
 */

import { NumberText, type NumberTextExports } from "./number_text.ts";

/** The least-squares line y ≈ a + b·x over the points currently in the core. */
export interface Fit {
  /** Intercept a, correctly rounded from the exact sums (0 when degenerate). */
  a: number;
  /** Slope b, correctly rounded from the exact sums (0 when degenerate). */
  b: number;
  /** True when fewer than two distinct x are present, so no line is defined (then a = b = 0). */
  degenerate: boolean;
  /** Net number of points (added minus retracted). */
  count: number;
}

/** The numbers-only ABI of `build/streamreg.wasm`; see docs/numerics.md, "The WASM ABI". */
export interface CoreExports {
  memory: WebAssembly.Memory;
  input_ptr(): number;
  input_capacity(): number;
  add(n: number): number;
  retract(n: number): number;
  update(n: number): number;
  fit(): number;
  intercept(): number;
  slope(): number;
  count(): number;
  refused(): number;
  sum(i: number): number;
  reset(): void;
  state_ptr(): number;
  state_size(): number;
  save_state(): number;
  load_state(n: number): number;
  load_sums(count: number): number;
  fit_sums(count: number): number;
}

/** Which sufficient statistic {@linkcode RegressionCore.sum} returns. */
export const Statistic = { n: 0, x: 1, y: 2, xx: 3, xy: 4, yy: 5 } as const;

/** A statistic name accepted by {@linkcode RegressionCore.sum}. */
export type StatisticName = keyof typeof Statistic;

/**
 * Sufficient statistics of a stream of (x, y) points, kept exactly inside WebAssembly.
 *
 * @example
 * ```ts
 * const core = await RegressionCore.load(await Deno.readFile("build/streamreg.wasm"));
 * core.add(new Float64Array([1e9, 1e9 + 1]), new Float64Array([0, 1]));
 * core.fit().b; // 1
 * ```
 */
export class RegressionCore {
  readonly #ex: CoreExports;
  #numbers: NumberText | undefined;
  readonly #capacity: number;
  #x!: Float64Array;
  #y!: Float64Array;
  #w!: Float64Array;

  private constructor(exports: CoreExports) {
    this.#ex = exports;
    this.#capacity = exports.input_capacity();
    this.#views();
  }

  /**
   * Instantiates the core from the bytes of `streamreg.wasm` (no imports needed).
   *
   * @example
   * ```ts
   * const core = await RegressionCore.load(await Deno.readFile("build/streamreg.wasm"));
   * ```
   */
  static async load(bytes: BufferSource | WebAssembly.Module): Promise<RegressionCore> {
    const instance = bytes instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(bytes, {})
      : (await WebAssembly.instantiate(bytes, {})).instance;
    return new RegressionCore(instance.exports as unknown as CoreExports);
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

  #views(): void {
    const buf = this.#ex.memory.buffer;
    const p = this.#ex.input_ptr();
    const c = this.#capacity;
    this.#x = new Float64Array(buf, p, c);
    this.#y = new Float64Array(buf, p + 8 * c, c);
    this.#w = new Float64Array(buf, p + 16 * c, c);
    this.#all = new Float64Array(buf, p, 3 * c);
  }

  /** The whole input buffer (x, y and w areas), for `loadSums`. */
  #all!: Float64Array;

  /** Maximum points the core takes per call; larger arrays are split transparently. */
  get capacity(): number {
    return this.#capacity;
  }

  #run(x: Float64Array, y: Float64Array, w: Float64Array | undefined, op: (n: number) => number): number {
    if (x.length !== y.length) {
      throw new RangeError(`x and y must have the same length: got ${x.length} and ${y.length}`);
    }
    if (w !== undefined && w.length !== x.length) {
      throw new RangeError(`weights must have the length of x: got ${w.length} and ${x.length}`);
    }
    if (this.#x.buffer.byteLength === 0) this.#views(); // memory was grown/detached
    let accepted = 0;
    for (let off = 0; off < x.length; off += this.#capacity) {
      const n = Math.min(this.#capacity, x.length - off);
      this.#x.set(x.subarray(off, off + n));
      this.#y.set(y.subarray(off, off + n));
      if (w) this.#w.set(w.subarray(off, off + n));
      accepted += op(n);
    }
    return accepted;
  }

  /**
   * Replaces the state by exact sums kept outside the core (e.g. one key's, see
   * `../state/key_table.ts`): `sums` holds the number of terms of Σx, Σy, Σx², Σxy and Σy², then every
   * term, statistic by statistic (e.g. the components of each floating-point expansion); their exact
   * sum is the statistic. `count` is the net number of points. Then {@linkcode RegressionCore.fit} fits
   * them. Throws a RangeError if the sums are not valid (non-finite terms, more than 64 per statistic).
   *
   * @example
   * ```ts
   * // two points (0, 1) and (1, 3): Σx = 1, Σy = 4, Σx² = 1, Σxy = 3, Σy² = 10
   * core.loadSums(2, Float64Array.of(1, 1, 1, 1, 1, 1, 4, 1, 3, 10));
   * core.fit(); // { a: 1, b: 2, degenerate: false, count: 2 }
   * ```
   */
  loadSums(count: number, sums: Float64Array): void {
    if (this.#x.buffer.byteLength === 0) this.#views();
    if (sums.length > 3 * this.#capacity) throw new RangeError(`too many terms: ${sums.length}`);
    this.#all.set(sums);
    if (this.#ex.load_sums(count) !== 0) {
      throw new RangeError("not valid sums: a term is not finite, or a statistic has more than 64 terms");
    }
  }

  /**
   * The line of exact sums laid out as for {@linkcode RegressionCore.loadSums}, fitted straight from them
   * (the core's own sums are left as they are): the same a and b, bit for bit, as `loadSums` then `fit`,
   * in a fraction of the time. `count` is the net number of points. Throws a RangeError if the sums are
   * not valid.
   *
   * @example
   * ```ts
   * core.fitSums(2, Float64Array.of(1, 1, 1, 1, 1, 1, 4, 1, 3, 10)); // { a: 1, b: 2, degenerate: false, count: 2 }
   * ```
   */
  fitSums(count: number, sums: Float64Array): Fit {
    if (this.#x.buffer.byteLength === 0) this.#views();
    if (sums.length > 3 * this.#capacity) throw new RangeError(`too many terms: ${sums.length}`);
    this.#all.set(sums);
    const code = this.#ex.fit_sums(count);
    if (code === 2) {
      throw new RangeError("not valid sums: a term is not finite, or a statistic has more than 64 terms");
    }
    return { a: this.#ex.intercept(), b: this.#ex.slope(), degenerate: code !== 0, count };
  }

  /**
   * Adds points; returns how many were accepted (NaN, ±Inf and out-of-range values are refused).
   *
   * @example
   * ```ts
   * core.add(new Float64Array([0, 1]), new Float64Array([0, NaN])); // 1
   * ```
   */
  add(x: Float64Array, y: Float64Array): number {
    return this.#run(x, y, undefined, this.#ex.add);
  }

  /**
   * Retracts points previously added; returns how many were accepted.
   *
   * @example
   * ```ts
   * core.add(new Float64Array([1e12]), new Float64Array([5]));
   * core.retract(new Float64Array([1e12]), new Float64Array([5])); // as if never added
   * ```
   */
  retract(x: Float64Array, y: Float64Array): number {
    return this.#run(x, y, undefined, this.#ex.retract);
  }

  /**
   * Adds (weight 1) and retracts (weight -1) points in one call; other weights are refused.
   *
   * @example
   * ```ts
   * core.update(new Float64Array([1, 2]), new Float64Array([1, 2]), new Float64Array([1, -1]));
   * ```
   */
  update(x: Float64Array, y: Float64Array, weights: Float64Array): number {
    return this.#run(x, y, weights, this.#ex.update);
  }

  /**
   * The least-squares line over the current points.
   *
   * @example
   * ```ts
   * const { a, b, degenerate } = core.fit();
   * ```
   */
  fit(): Fit {
    const degenerate = this.#ex.fit() !== 0;
    return { a: this.#ex.intercept(), b: this.#ex.slope(), degenerate, count: this.#ex.count() };
  }

  /** Net number of points (added minus retracted). */
  get count(): number {
    return this.#ex.count();
  }

  /** How many values the core refused (NaN, ±Inf, magnitude out of range, bad weight) since the last reset. */
  get refused(): number {
    return this.#ex.refused();
  }

  /**
   * One exact sufficient statistic, correctly rounded to a double.
   *
   * @example
   * ```ts
   * core.add(new Float64Array([1e16, 1, -1e16]), new Float64Array([0, 0, 0]));
   * core.sum("x"); // 1
   * ```
   */
  sum(statistic: StatisticName): number {
    const i = Statistic[statistic];
    if (i === undefined) {
      throw new RangeError(`unknown statistic "${statistic}": use one of n, x, y, xx, xy, yy`);
    }
    return this.#ex.sum(i);
  }

  /** Forgets every point and the refused count. */
  reset(): void {
    this.#ex.reset();
  }

  /**
   * A copy of the exact state (to persist); {@linkcode RegressionCore.restore} reads it back.
   *
   * @example
   * ```ts
   * const saved = core.snapshot();
   * other.restore(saved); // other now fits exactly like core
   * ```
   */
  snapshot(): Uint8Array {
    const n = this.#ex.save_state();
    return new Uint8Array(this.#ex.memory.buffer, this.#ex.state_ptr(), n).slice();
  }

  /** Replaces the state by one from {@linkcode RegressionCore.snapshot}; throws if it is not valid. */
  restore(state: Uint8Array): void {
    if (state.length > this.#ex.state_size()) {
      throw new RangeError(
        `state is ${state.length} bytes, more than the core's ${this.#ex.state_size()}: not a streamreg state`,
      );
    }
    new Uint8Array(this.#ex.memory.buffer, this.#ex.state_ptr(), state.length).set(state);
    const rc = this.#ex.load_state(state.length);
    if (rc !== 0) {
      throw new RangeError(`state rejected by the core (code ${rc}): it is corrupt or from another version`);
    }
  }
}
