/**
 * Kernel benchmark: points per second of the WASM core (exact sums) against a plain JavaScript loop of
 * naive double sums over the same arrays, measured side by side in one run.
 *
 * Run: `./node_modules/deno/deno run --allow-read bench/core_bench.ts` or `bun run bench/core_bench.ts`.
 * @module
 */
import { readFile } from "node:fs/promises";
import { RegressionCore } from "../src/core/regression_core.ts";

const N = 1_000_000;
const ROUNDS = 7;

/** The naive closed form on plain double sums: the reference tutorial's method. */
function naiveFit(x: Float64Array, y: Float64Array): { a: number; b: number } {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i], yi = y[i];
    n++;
    sx += xi;
    sy += yi;
    sxx += xi * xi;
    sxy += xi * yi;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? { a: 0, b: 0 } : { a: (sy * sxx - sx * sxy) / d, b: (n * sxy - sx * sy) / d };
}

function median(v: number[]): number {
  const s = [...v].sort((p, q) => p - q);
  return s[s.length >> 1];
}

const bytes = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
const core = await RegressionCore.load(bytes);
const x = new Float64Array(N);
const y = new Float64Array(N);
let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
for (let i = 0; i < N; i++) {
  x[i] = 1.7e9 + i * 0.37 + rnd();
  y[i] = 3 + 0.5 * x[i] + rnd();
}

const wasmTimes: number[] = [];
const naiveTimes: number[] = [];
let sink = 0;
for (let r = 0; r < ROUNDS; r++) {
  let t0 = performance.now();
  core.reset();
  core.add(x, y);
  const f = core.fit();
  wasmTimes.push(performance.now() - t0);
  t0 = performance.now();
  const g = naiveFit(x, y);
  naiveTimes.push(performance.now() - t0);
  sink += f.b + g.b;
}
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const wasmRate = N / (median(wasmTimes) / 1000);
const naiveRate = N / (median(naiveTimes) / 1000);
console.log(`runtime: ${runtime}, ${N} points, median of ${ROUNDS} rounds`);
console.log(`wasm core (exact sums + fit): ${(wasmRate / 1e6).toFixed(1)} M points/s`);
console.log(`naive JS double sums:         ${(naiveRate / 1e6).toFixed(1)} M points/s`);
console.log(`cost ratio (naive / wasm):    ${(naiveRate / wasmRate).toFixed(2)}x`);
if (Number.isNaN(sink)) console.log("");
