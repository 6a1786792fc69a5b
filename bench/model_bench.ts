/**
 * Model benchmark (issue #11): points per second of the exact model core (`ModelCore.update`) against a
 * plain JavaScript loop forming the same normal equations in doubles (XᵀWX, XᵀWy, yᵀWy over the same
 * columnar arrays), side by side in one run, for k = 1, 2, 5, 10 explanatory columns and polynomials of
 * degree 3 and 10; then the time of one `ModelCore.fit()` (coefficients and every statistic) at k = 10 and
 * degree 10 for two numbers of points, to show it does not grow with n; then the ratios against the issue's
 * targets.
 *
 * Run: `./node_modules/deno/deno run --allow-read bench/model_bench.ts [--points N] [--rounds R] [--only k5,deg10]`
 *  or  `node_modules/.bin/bun run bench/model_bench.ts [...]`
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { ModelCore, type ModelSpec } from "../src/core/model_core.ts";

/** A benchmarked model: its name for `--only`, its spec, and what the fit target says about it. */
interface Case {
  readonly name: string;
  readonly spec: ModelSpec;
  /** Highest acceptable cost ratio (naive points/s ÷ exact points/s), when the issue sets one. */
  readonly ratioTarget?: number;
  /** Highest acceptable time of one fit + stats in ms, when the issue sets one; undefined: shown only. */
  readonly fitTarget?: number;
  /** Whether the fit is timed at all. */
  readonly timeFit: boolean;
}

const CASES: Case[] = [
  { name: "k1", spec: { k: 1, degree: 1, intercept: true }, ratioTarget: 8, timeFit: false },
  { name: "k2", spec: { k: 2, degree: 1, intercept: true }, ratioTarget: 8, timeFit: false },
  { name: "k5", spec: { k: 5, degree: 1, intercept: true }, ratioTarget: 8, timeFit: false },
  { name: "k10", spec: { k: 10, degree: 1, intercept: true }, fitTarget: 5, timeFit: true },
  { name: "deg3", spec: { k: 1, degree: 3, intercept: true }, timeFit: false },
  { name: "deg10", spec: { k: 1, degree: 10, intercept: true }, timeFit: true },
];

/**
 * Largest ratio of the fit's time at the larger n to the smaller one still counted as "independent of n":
 * 100 times the points add log2(100) ≈ 7 bits to every exact sum, so the big numbers (and the fit) grow a
 * little; a cost that followed n would be 100 times slower.
 */
const INDEPENDENCE = 1.5;

/** Deterministic uniform [0, 1) with 53 random bits (two 32-bit mulberry32 draws), fast enough for 10⁷ values. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  const u32 = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
}

/** Columnar points: xs[c][i], y[i], w[i] (all +1). */
interface Data {
  readonly xs: Float64Array[];
  readonly y: Float64Array;
  readonly w: Float64Array;
}

/**
 * n points of realistic magnitude with full 53-bit significands: each x_c uniform in [500, 1500), y a
 * linear combination of them (or, for a polynomial, 1000 + 2x) plus uniform noise of width 100.
 */
function generate(spec: ModelSpec, n: number, seed: number): Data {
  const r = uniform(seed);
  const xs = Array.from({ length: spec.k }, () => new Float64Array(n));
  const y = new Float64Array(n), w = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    let yi = 1000 + 100 * r();
    for (let c = 0; c < spec.k; c++) {
      const x = 500 + 1000 * r();
      xs[c][i] = x;
      yi += (c + 2) * 0.5 * x;
    }
    y[i] = yi;
  }
  return { xs, y, w };
}

/** The normal equations in doubles: the upper triangle of XᵀWX row by row, XᵀWy, yᵀWy. */
interface Normal {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  yy: number;
}

function normal(p: number): Normal {
  return { xtx: new Float64Array((p * (p + 1)) / 2), xty: new Float64Array(p), yy: 0 };
}

/** What a user would write for several x: a design row [1, x_1, .., x_k], then the obvious nested loops. */
function naiveLinear(d: Data, out: Normal): void {
  const { xs, y, w } = d;
  const k = xs.length, p = k + 1, n = y.length;
  const { xtx, xty } = out;
  xtx.fill(0);
  xty.fill(0);
  let yy = 0;
  const row = new Float64Array(p);
  row[0] = 1;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) row[c + 1] = xs[c][i];
    const wi = w[i], yi = y[i];
    let t = 0;
    for (let a = 0; a < p; a++) {
      const ra = wi * row[a];
      for (let b = a; b < p; b++) xtx[t++] += ra * row[b];
      xty[a] += ra * yi;
    }
    yy += wi * yi * yi;
  }
  out.yy = yy;
}

/** The same for a polynomial: the design row [1, x, x², .., x^D] by repeated multiplication. */
function naivePolynomial(d: Data, degree: number, out: Normal): void {
  const x = d.xs[0], { y, w } = d;
  const p = degree + 1, n = y.length;
  const { xtx, xty } = out;
  xtx.fill(0);
  xty.fill(0);
  let yy = 0;
  const row = new Float64Array(p);
  row[0] = 1;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    for (let j = 1; j < p; j++) row[j] = row[j - 1] * xi;
    const wi = w[i], yi = y[i];
    let t = 0;
    for (let a = 0; a < p; a++) {
      const ra = wi * row[a];
      for (let b = a; b < p; b++) xtx[t++] += ra * row[b];
      xty[a] += ra * yi;
    }
    yy += wi * yi * yi;
  }
  out.yy = yy;
}

/** A value depending on every sum, so that no engine can skip the loop. */
function digest(e: Normal): number {
  let s = e.yy;
  for (const v of e.xtx) s += v;
  for (const v of e.xty) s += v;
  return s;
}

function median(v: number[]): number {
  const s = [...v].sort((p, q) => p - q);
  return s[s.length >> 1];
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "200000" },
    rounds: { type: "string", default: "5" },
    only: { type: "string", default: "all" },
    "fit-points": { type: "string", default: "1000,100000" },
    help: { type: "boolean", short: "h", default: false },
  },
});
const names = CASES.map((c) => c.name);
if (values.help) {
  console.log(
    `usage: model_bench [--points N] [--rounds R] [--only ${names.join(",")}] [--fit-points N1,N2]\n` +
      "  --points      points per ingestion round (default 200000)\n" +
      "  --rounds      timed rounds; each figure is their median (default 5)\n" +
      "  --only        comma-separated models to run (default all)\n" +
      "  --fit-points  the two numbers of points the fit is timed at (default 1000,100000)",
  );
  process.exit(0);
}
const n = Number(values.points), rounds = Number(values.rounds);
const onlyNames = values.only === "all" ? names : values.only.split(",").map((s) => s.trim());
const fitPoints = values["fit-points"].split(",").map(Number);
const unknown = onlyNames.filter((s) => !names.includes(s));
if (
  !Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(rounds) || rounds < 1 || unknown.length > 0 ||
  fitPoints.length !== 2 || !fitPoints.every((v) => Number.isSafeInteger(v) && v >= 2) ||
  fitPoints[0] >= fitPoints[1]
) {
  console.error(
    `model_bench: --points must be an integer ≥ 2, --rounds ≥ 1, --only a comma-separated list of ${
      names.join(", ")
    } (or all)${
      unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""
    }, --fit-points two increasing ` +
      "integers ≥ 2 such as 1000,100000",
  );
  process.exit(2);
}
const cases = CASES.filter((c) => onlyNames.includes(c.name));

const bytes = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
const wasm = await WebAssembly.compile(bytes);
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Deno ? `Deno ${g.Deno.version.deno}` : g.Bun ? `Bun ${g.Bun.version}` : "node";
const specText = (s: ModelSpec) => s.degree > 1 ? `1 x, degree ${s.degree}` : `k = ${s.k}`;
const columns = (s: ModelSpec) => (s.intercept ? 1 : 0) + (s.degree > 1 ? s.degree : s.k);
const rate = (v: number) => v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(0)} k/s`;
let sink = 0;

console.log(`runtime: ${runtime}; ${n} points per round, median of ${rounds} rounds after a warm-up`);
console.log(
  "\nIngestion: ModelCore.update (copy into WASM memory + exact sums) against a naive JS loop of double sums",
);
console.log("model                    P   exact core     naive JS loop   cost ratio   ns/point exact  naive");
const ratios = new Map<string, number>();
for (const c of cases) {
  const data = generate(c.spec, n, 12345 + c.spec.k * 100 + c.spec.degree);
  const core = await ModelCore.load(wasm, c.spec);
  const out = normal(columns(c.spec));
  const exactTimes: number[] = [], naiveTimes: number[] = [];
  // Untimed rounds first, at least two and 2·10⁶ points: both engines compile hot code in tiers.
  const warmup = Math.max(2, Math.ceil(2e6 / n));
  for (let r = -warmup; r < rounds; r++) {
    let t0 = performance.now();
    core.reset();
    const accepted = core.update(data.xs, data.y, data.w);
    const exactMs = performance.now() - t0;
    if (accepted !== n) throw new Error(`model_bench: the core accepted ${accepted} of ${n} points`);
    t0 = performance.now();
    if (c.spec.degree > 1) naivePolynomial(data, c.spec.degree, out);
    else naiveLinear(data, out);
    const naiveMs = performance.now() - t0;
    sink += digest(out);
    if (r >= 0) {
      exactTimes.push(exactMs);
      naiveTimes.push(naiveMs);
    }
  }
  sink += core.fit().coefficients[1];
  const exactRate = n / (median(exactTimes) / 1000), naiveRate = n / (median(naiveTimes) / 1000);
  const ratio = naiveRate / exactRate;
  ratios.set(c.name, ratio);
  console.log(
    `${(c.name + " (" + specText(c.spec) + ")").padEnd(25)}${String(columns(c.spec)).padStart(2)}   ${
      rate(exactRate).padEnd(15)
    }${rate(naiveRate).padEnd(16)}${ratio.toFixed(2).padStart(7)}×    ${
      (1e9 / exactRate).toFixed(1).padStart(9)
    }  ${(1e9 / naiveRate).toFixed(1).padStart(6)}`,
  );
}

const fitCases = cases.filter((c) => c.timeFit);
const fitTimes = new Map<string, number[]>();
if (fitCases.length > 0) {
  console.log(`\nOne fit + stats: ModelCore.fit() (coefficients, se, r2, sigma), median of ${rounds} fits`);
  console.log(`model                    P   ${fitPoints.map((p) => `n = ${p}`.padEnd(14)).join("")}ratio`);
}
for (const c of fitCases) {
  const times: number[] = [];
  for (const points of fitPoints) {
    const data = generate(c.spec, points, 777 + c.spec.k * 100 + c.spec.degree);
    const core = await ModelCore.load(wasm, c.spec);
    core.update(data.xs, data.y, data.w);
    // Warm-up: fits until 300 ms or 20 fits have run, so the fit's code reaches the optimising tier.
    const start = performance.now();
    for (let i = 0; i < 20 && performance.now() - start < 300; i++) sink += core.fit().r2;
    const ms: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const fit = core.fit();
      ms.push(performance.now() - t0);
      if (fit.rank !== columns(c.spec)) {
        throw new Error(`model_bench: rank ${fit.rank} at ${c.name}, expected ${columns(c.spec)}`);
      }
      sink += fit.sigma + fit.se[0];
    }
    times.push(median(ms));
  }
  fitTimes.set(c.name, times);
  console.log(
    `${(c.name + " (" + specText(c.spec) + ")").padEnd(25)}${String(columns(c.spec)).padStart(2)}   ${
      times.map((t) => `${t.toFixed(2)} ms`.padEnd(14)).join("")
    }${(times[1] / times[0]).toFixed(2)}×`,
  );
}

console.log("\nTargets (issue #11)");
console.log("measure                                            value      target      result");
const row = (what: string, value: string, target: string, ok: boolean | undefined) =>
  console.log(
    `${what.padEnd(51)}${value.padEnd(11)}${target.padEnd(12)}${
      ok === undefined ? "(shown)" : ok ? "PASS" : "MISS"
    }`,
  );
for (const c of cases) {
  const ratio = ratios.get(c.name)!;
  row(
    `ingestion cost ratio, ${c.name} (${specText(c.spec)})`,
    `${ratio.toFixed(2)}×`,
    c.ratioTarget === undefined ? "—" : `≤ ${c.ratioTarget}×`,
    c.ratioTarget === undefined ? undefined : ratio <= c.ratioTarget,
  );
}
for (const c of fitCases) {
  const [t0, t1] = fitTimes.get(c.name)!;
  for (let i = 0; i < 2; i++) {
    const t = i === 0 ? t0 : t1;
    row(
      `fit + stats, ${c.name}, n = ${fitPoints[i]}`,
      `${t.toFixed(2)} ms`,
      c.fitTarget === undefined ? "—" : `≤ ${c.fitTarget} ms`,
      c.fitTarget === undefined ? undefined : t <= c.fitTarget,
    );
  }
  row(
    `fit independent of n, ${c.name}: time ${fitPoints[1]} / ${fitPoints[0]}`,
    `${(t1 / t0).toFixed(2)}×`,
    `≤ ${INDEPENDENCE}×`,
    c.fitTarget === undefined ? undefined : t1 / t0 <= INDEPENDENCE,
  );
}
if (Number.isNaN(sink)) console.log("");
