// TEMPORARY stand-in: replaced by the exact WASM core at merge.
/**
 * The multi-column model y ≈ a + b₁x₁ + … + b_k x_k (or a polynomial a + b₁x + … + b_D x^D) over a stream
 * of added and retracted points: {@linkcode ModelCore}, with the interface of the exact WASM core.
 *
 * THIS FILE IS A STAND-IN, in plain doubles, so that the pipeline, the sinks and the CLI can be built and
 * tested before the exact core exists: it keeps the normal equations of the data shifted by the first
 * point (so that an intercept does not spoil their condition) in float64, solves them by Gaussian
 * elimination on the equilibrated matrix, and calls a column aliased when what is left of its diagonal
 * after eliminating the columns before it is below 1e-9 of it. Its answers are close to the exact ones
 * (NIST Longley to about 1e-11 relative), not equal; the exact core replaces it with the same interface.
 *
 * @example
 * ```ts
 * import { ModelCore } from "./model_core.ts";
 * const core = await ModelCore.load(wasmBytes, { k: 2, degree: 1, intercept: true });
 * core.update([Float64Array.of(0, 1, 0), Float64Array.of(0, 0, 1)], Float64Array.of(1, 3, 4), Float64Array.of(1, 1, 1));
 * core.fit().coefficients; // ≈ [1, 2, 3]
 * ```
 * @module
 */

/**
 * The shape of a model: k explanatory columns (1..20), the degree of the polynomial in a single x (1..12;
 * above 1 needs k = 1), and whether there is an intercept.
 *
 * @example
 * ```ts
 * const spec: ModelSpec = { k: 6, degree: 1, intercept: true }; // NIST Longley
 * ```
 */
export interface ModelSpec {
  /** Explanatory columns, 1..20. */
  readonly k: number;
  /** Degree of the polynomial in x, 1..12; above 1 needs k = 1. */
  readonly degree: number;
  /** Whether the model has an intercept a. */
  readonly intercept: boolean;
}

/**
 * The least-squares fit over the points held, with R's `summary.lm` statistics.
 *
 * @example
 * ```ts
 * const { coefficients, aliased, se, r2, sigma, n, rank }: ModelFit = core.fit();
 * ```
 */
export interface ModelFit {
  /** Net points (added minus retracted). */
  readonly n: number;
  /** One per coefficient column (a first, if any); NaN where aliased. */
  readonly coefficients: Float64Array;
  /** Whether each coefficient column is aliased (a linear combination of the columns before it). */
  readonly aliased: readonly boolean[];
  /** The standard error of each coefficient; NaN where aliased or undefined. */
  readonly se: Float64Array;
  /** R² (centred with an intercept, uncentred without); NaN when undefined. */
  readonly r2: number;
  /** The residual standard deviation, n − rank degrees of freedom; NaN when undefined. */
  readonly sigma: number;
  /** The number of columns that are not aliased. */
  readonly rank: number;
}

/**
 * A saved state that is not this model's (another k, degree or intercept), or not a state at all.
 *
 * @example
 * ```ts
 * try { core.loadState(bytes); } catch (e) { if (e instanceof ModelStateError) console.error(e.message); }
 * ```
 */
export class ModelStateError extends Error {
  /** `message` says what differs and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "ModelStateError";
  }
}

const MIN_MAGNITUDE = 2 ** -440;
const MAX_MAGNITUDE = 2 ** 440;
const ALIASED = 1e-9;
const STATE_FORMAT = "streamreg-model-standin";

/**
 * The accepted-range check of the core: "nan", "infinite", "out_of_range" (non-zero with a magnitude
 * outside [2^-440, 2^440]), or undefined for a value the core takes.
 *
 * @example
 * ```ts
 * checkValue(1e-200); // undefined
 * checkValue(1e300 * 1e300); // "infinite"
 * ```
 */
export function checkValue(v: number): "nan" | "infinite" | "out_of_range" | undefined {
  if (v !== v) return "nan";
  if (v === Infinity || v === -Infinity) return "infinite";
  const a = v < 0 ? -v : v;
  if (a !== 0 && (a < MIN_MAGNITUDE || a > MAX_MAGNITUDE)) return "out_of_range";
  return undefined;
}

function checkSpec(spec: ModelSpec): void {
  const { k, degree, intercept } = spec;
  if (!Number.isInteger(k) || k < 1 || k > 20) throw new RangeError(`k must be 1..20: got ${k}`);
  if (!Number.isInteger(degree) || degree < 1 || degree > 12) {
    throw new RangeError(`degree must be 1..12: got ${degree}`);
  }
  if (degree > 1 && k !== 1) throw new RangeError(`a degree above 1 needs k = 1: got k = ${k}`);
  if (typeof intercept !== "boolean") throw new RangeError(`intercept must be a boolean`);
}

function describeSpec(spec: ModelSpec): string {
  const cols = spec.degree > 1
    ? `x of degree ${spec.degree}`
    : `${spec.k} x ${spec.k === 1 ? "column" : "columns"}`;
  return `${cols}, ${spec.intercept ? "with" : "without"} an intercept`;
}

/**
 * The model's sums and fit.
 *
 * @example
 * ```ts
 * const core = await ModelCore.load(bytes, { k: 1, degree: 3, intercept: true });
 * ```
 */
export class ModelCore {
  /** The model's shape. */
  readonly spec: ModelSpec;
  /** P: the number of coefficient columns, (intercept ? 1 : 0) + (degree > 1 ? degree : k). */
  readonly columns: number;
  /** The augmented normal matrix [XᵀX Xᵀy; yᵀX yᵀy] of the shifted data, (P + 1)², row-major. */
  #sums: Float64Array;
  /** The shift: x_1..x_k and y of the first point since empty (zeros without an intercept). */
  #shift: Float64Array | undefined;
  #n = 0;
  #refused = 0;
  readonly #row: Float64Array;

  private constructor(spec: ModelSpec) {
    this.spec = { k: spec.k, degree: spec.degree, intercept: spec.intercept };
    this.columns = (spec.intercept ? 1 : 0) + (spec.degree > 1 ? spec.degree : spec.k);
    this.#sums = new Float64Array((this.columns + 1) ** 2);
    this.#row = new Float64Array(this.columns + 1);
  }

  /**
   * Makes a core for `spec` (throws a RangeError for a bad one). `bytes` is the module of
   * `build/streamreg.wasm` (the stand-in does not use it).
   *
   * @example
   * ```ts
   * const core = await ModelCore.load(await Deno.readFile("build/streamreg.wasm"), { k: 2, degree: 1, intercept: true });
   * ```
   */
  static load(_bytes: BufferSource | WebAssembly.Module, spec: ModelSpec): Promise<ModelCore> {
    try {
      checkSpec(spec);
      return Promise.resolve(new ModelCore(spec));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Adds (w = +1) and retracts (w = -1) points: `xs[c][i]` is column c (0..k-1) of point i. A point with
   * a value the core does not take (see {@linkcode checkValue}) or another weight is refused (counted,
   * not added). Returns how many were accepted.
   *
   * @example
   * ```ts
   * core.update([Float64Array.of(1, 2)], Float64Array.of(3, 5), Float64Array.of(1, 1)); // 2
   * ```
   */
  update(xs: readonly Float64Array[], y: Float64Array, w: Float64Array): number {
    const { k, degree, intercept } = this.spec;
    if (xs.length !== k) throw new RangeError(`expected ${k} x columns, got ${xs.length}`);
    for (const x of xs) {
      if (x.length !== y.length) {
        throw new RangeError(`every column must have the length of y: got ${x.length} and ${y.length}`);
      }
    }
    if (w.length !== y.length) {
      throw new RangeError(`weights must have the length of y: got ${w.length} and ${y.length}`);
    }
    const P = this.columns;
    const W = P + 1;
    const row = this.#row;
    const sums = this.#sums;
    let accepted = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = w[i];
      let ok = (wi === 1 || wi === -1) && checkValue(y[i]) === undefined;
      for (let c = 0; ok && c < k; c++) ok = checkValue(xs[c][i]) === undefined;
      if (!ok) {
        this.#refused++;
        continue;
      }
      if (this.#shift === undefined) {
        this.#shift = new Float64Array(k + 1);
        if (intercept) {
          for (let c = 0; c < k; c++) this.#shift[c] = xs[c][i];
          this.#shift[k] = y[i];
        }
      }
      const s = this.#shift;
      let o = 0;
      if (intercept) row[o++] = 1;
      if (degree > 1) {
        const x = xs[0][i] - s[0];
        let p = 1;
        for (let d = 1; d <= degree; d++) row[o++] = p *= x;
      } else {
        for (let c = 0; c < k; c++) row[o++] = xs[c][i] - s[c];
      }
      row[o] = y[i] - s[k];
      for (let r = 0; r < W; r++) {
        const v = wi * row[r];
        for (let c = 0; c < W; c++) sums[r * W + c] += v * row[c];
      }
      this.#n += wi;
      accepted++;
      if (this.#n === 0) {
        sums.fill(0);
        this.#shift = undefined;
      }
    }
    return accepted;
  }

  /**
   * The fit over the points held: coefficients (NaN where aliased), standard errors, R², sigma, rank.
   *
   * @example
   * ```ts
   * const { coefficients, rank } = core.fit();
   * ```
   */
  fit(): ModelFit {
    const P = this.columns;
    const W = P + 1;
    const n = this.#n;
    const { k, degree, intercept } = this.spec;
    const coefficients = new Float64Array(P).fill(NaN);
    const se = new Float64Array(P).fill(NaN);
    const aliased = new Array<boolean>(P).fill(true);
    if (n <= 0) return { n, coefficients, aliased, se, r2: NaN, sigma: NaN, rank: 0 };
    const sums = this.#sums;
    const d = new Float64Array(P);
    for (let i = 0; i < P; i++) d[i] = Math.sqrt(sums[i * W + i]);
    // Equilibrated copy; eliminate in column order, deciding aliasing as we go.
    const A = new Float64Array(P * P);
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < P; j++) A[i * P + j] = d[i] > 0 && d[j] > 0 ? sums[i * W + j] / (d[i] * d[j]) : 0;
    }
    const kept: number[] = [];
    const R = new Float64Array(P * P); // Cholesky factor rows of the kept columns (upper)
    for (let j = 0; j < P; j++) {
      if (!(d[j] > 0)) continue;
      let diag = A[j * P + j];
      for (const i of kept) diag -= R[i * P + j] * R[i * P + j];
      if (!(diag > ALIASED)) continue;
      const r = Math.sqrt(diag);
      R[j * P + j] = r;
      for (let c = j + 1; c < P; c++) {
        let v = A[j * P + c];
        for (const i of kept) v -= R[i * P + j] * R[i * P + c];
        R[j * P + c] = v / r;
      }
      kept.push(j);
      aliased[j] = false;
    }
    const rank = kept.length;
    const shift = this.#shift!;
    // Solve (RᵀR) c = b over the kept columns (scaled), then unscale.
    const m = rank;
    const Rk = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = a; b < m; b++) Rk[a * m + b] = R[kept[a] * P + kept[b]];
    const b = new Float64Array(m);
    for (let a = 0; a < m; a++) b[a] = sums[kept[a] * W + P] / d[kept[a]];
    const z = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      let v = b[a];
      for (let c = 0; c < a; c++) v -= Rk[c * m + a] * z[c];
      z[a] = v / Rk[a * m + a];
    }
    const cs = new Float64Array(m);
    for (let a = m - 1; a >= 0; a--) {
      let v = z[a];
      for (let c = a + 1; c < m; c++) v -= Rk[a * m + c] * cs[c];
      cs[a] = v / Rk[a * m + a];
    }
    // Inverse of the kept normal matrix (scaled): (RᵀR)⁻¹ = R⁻¹R⁻ᵀ.
    const Rinv = new Float64Array(m * m);
    for (let col = 0; col < m; col++) {
      for (let a = m - 1; a >= 0; a--) {
        let v = a === col ? 1 : 0;
        for (let c = a + 1; c < m; c++) v -= Rk[a * m + c] * Rinv[c * m + col];
        Rinv[a * m + col] = v / Rk[a * m + a];
      }
    }
    const shifted = new Float64Array(P); // coefficients of the shifted model (0 where aliased)
    const cov = new Float64Array(P * P); // (XᵀX)⁻¹ of the shifted model, unscaled (0 where aliased)
    for (let a = 0; a < m; a++) {
      shifted[kept[a]] = cs[a] / d[kept[a]];
      for (let c = 0; c < m; c++) {
        let v = 0;
        for (let e = Math.max(a, c); e < m; e++) v += Rinv[a * m + e] * Rinv[c * m + e];
        cov[kept[a] * P + kept[c]] = v / (d[kept[a]] * d[kept[c]]);
      }
    }
    // RSS = yᵀy − cᵀXᵀy (shifted), TSS.
    let rss = sums[P * W + P];
    for (let j = 0; j < P; j++) rss -= shifted[j] * sums[j * W + P];
    if (rss < 0) rss = 0;
    let tss: number;
    if (intercept) {
      const sy = sums[0 * W + P];
      tss = sums[P * W + P] - (sy * sy) / n;
    } else tss = sums[P * W + P];
    // Back to the unshifted columns: β = L c (+ the y shift on the intercept).
    const L = new Float64Array(P * P);
    for (let j = 0; j < P; j++) L[j * P + j] = 1;
    if (intercept) {
      if (degree > 1) {
        const s = -shift[0];
        for (let j = 0; j <= degree; j++) {
          for (let i = j + 1; i <= degree; i++) L[j * P + i] = binomial(i, j) * s ** (i - j);
        }
      } else {
        for (let c = 0; c < k; c++) L[0 * P + 1 + c] = -shift[c];
      }
    }
    const beta = new Float64Array(P);
    for (let j = 0; j < P; j++) {
      let v = 0;
      for (let i = 0; i < P; i++) v += L[j * P + i] * shifted[i];
      beta[j] = v;
    }
    if (intercept) beta[0] += shift[k];
    const df = n - rank;
    const sigma2 = df > 0 ? rss / df : NaN;
    for (let j = 0; j < P; j++) {
      if (aliased[j]) continue;
      coefficients[j] = beta[j];
      let v = 0;
      for (let a = 0; a < P; a++) {
        if (L[j * P + a] === 0) continue;
        for (let c = 0; c < P; c++) v += L[j * P + a] * cov[a * P + c] * L[j * P + c];
      }
      se[j] = df > 0 ? Math.sqrt(sigma2 * v) : NaN;
    }
    const r2 = tss > 0 && rank > 0 ? 1 - rss / tss : NaN;
    const sigma = df > 0 ? Math.sqrt(sigma2) : NaN;
    if (k === 1 && degree === 1 && intercept && aliased[1]) {
      // The tutorial's rule: fewer than two distinct x gives a = b = 0.
      return {
        n,
        coefficients: Float64Array.of(0, 0),
        aliased: [false, false],
        se: Float64Array.of(NaN, NaN),
        r2: NaN,
        sigma: NaN,
        rank,
      };
    }
    return { n, coefficients, aliased, se, r2, sigma, rank };
  }

  /** Net points held (added minus retracted). */
  count(): number {
    return this.#n;
  }

  /** Points refused since the last reset. */
  refused(): number {
    return this.#refused;
  }

  /** Forgets every point and the refused count. */
  reset(): void {
    this.#sums.fill(0);
    this.#shift = undefined;
    this.#n = 0;
    this.#refused = 0;
  }

  /**
   * The state, to persist; {@linkcode ModelCore.loadState} reads it back.
   *
   * @example
   * ```ts
   * other.loadState(core.saveState());
   * ```
   */
  saveState(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({
      format: STATE_FORMAT,
      spec: this.spec,
      n: this.#n,
      refused: this.#refused,
      shift: this.#shift ? Array.from(this.#shift) : null,
      sums: Array.from(this.#sums),
    }));
  }

  /**
   * Replaces the state by one from {@linkcode ModelCore.saveState}; throws a {@linkcode ModelStateError}
   * when it is not a state, or a state of another model.
   *
   * @example
   * ```ts
   * core.loadState(saved);
   * ```
   */
  loadState(bytes: Uint8Array): void {
    let state: {
      format?: unknown;
      spec?: ModelSpec;
      n?: number;
      refused?: number;
      shift?: number[] | null;
      sums?: number[];
    };
    try {
      state = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      throw new ModelStateError("not a model state (it is not the stand-in core's JSON)");
    }
    if (state?.format !== STATE_FORMAT || typeof state.spec !== "object" || state.spec === null) {
      throw new ModelStateError("not a model state");
    }
    const s = state.spec;
    if (s.k !== this.spec.k || s.degree !== this.spec.degree || s.intercept !== this.spec.intercept) {
      throw new ModelStateError(
        `the state is of a model with ${describeSpec(s)}, this one has ${describeSpec(this.spec)}: ` +
          `use the same model, or start over`,
      );
    }
    if (!Array.isArray(state.sums) || state.sums.length !== this.#sums.length) {
      throw new ModelStateError("not a model state (its sums have the wrong size)");
    }
    this.#sums = Float64Array.from(state.sums);
    this.#shift = state.shift ? Float64Array.from(state.shift) : undefined;
    this.#n = Number(state.n);
    this.#refused = Number(state.refused);
  }
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
