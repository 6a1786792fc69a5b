/**
 * Kernel benchmark: points per second of the WASM core (exact sums + fit) against a plain JavaScript loop
 * of naive double sums over the same arrays, measured side by side in one run, for several shapes of data
 * (the core's block kernel takes different paths for them; see assembly/split_block.ts).
 *
 * Run: `./node_modules/deno/deno run --allow-read bench/core_bench.ts [--points N] [--rounds R] [--shape S]`
 *  or  `node_modules/.bin/bun run bench/core_bench.ts [...]`
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { RegressionCore } from "../src/core/regression_core.ts";

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

/** Deterministic uniform [0, 1) with 53 random bits (xorshift128+), so every run sees the same data. */
function uniform(seed: number): () => number {
  let s0 = BigInt(seed) | 1n, s1 = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  return () => {
    let a = s0;
    const b = s1;
    s0 = b;
    a ^= (a << 23n) & mask;
    a ^= a >> 17n;
    a ^= b ^ (b >> 26n);
    s1 = a;
    return Number(((s0 + s1) & mask) >> 11n) / 2 ** 53;
  };
}

/** x normal, y = 0.5·x + normal noise (Box–Muller). */
function centered(r: () => number): [number, number] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const x = normal();
  return [x, 0.5 * x + normal()];
}

/** The shapes of data: name, what the block kernel does with it, and a generator of (x, y). */
const SHAPES: { name: string; path: string; point: (i: number, r: () => number) => [number, number] }[] = [
  {
    name: "epoch",
    path: "x ≈ 1.7e9 s, y ≈ 8.5e8: both anchored (2 pieces)",
    point: (i, r) => {
      const x = 1.7e9 + i * 0.37 + r();
      return [x, 3 + 0.5 * x + r()];
    },
  },
  {
    name: "wide",
    path: "x uniform in [0, 1000), y = 2x + noise: both plain (3 pieces)",
    point: (_, r) => {
      const x = 1000 * r();
      return [x, 2 * x + r()];
    },
  },
  {
    name: "centered",
    path: "x, y normal around 0: plain; values near 0 go to the scalar path",
    point: (_, r) => centered(r),
  },
  {
    name: "outliers",
    path: "centered, and x = 1e6 at every 1000th point: plain, clipped below the outliers",
    point: (i, r) => {
      const [x, y] = centered(r);
      return [i % 1000 === 7 ? 1e6 : x, y];
    },
  },
  {
    name: "logspread",
    path: "|x|, |y| log-uniform over 1e-6..1e6: worst case, most pairs scalar",
    point: (_, r) => [10 ** (12 * r() - 6), 10 ** (12 * r() - 6)],
  },
];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "7" },
    shape: { type: "string", default: "all" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    `usage: core_bench [--points N] [--rounds R] [--shape ${SHAPES.map((s) => s.name).join("|")}|all]`,
  );
  process.exit(0);
}
const n = Number(values.points), rounds = Number(values.rounds);
const shapes = values.shape === "all" ? SHAPES : SHAPES.filter((s) => s.name === values.shape);
if (!Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(rounds) || rounds < 1 || shapes.length === 0) {
  console.error(
    `core_bench: --points must be an integer ≥ 2, --rounds ≥ 1, --shape one of ${
      SHAPES.map((s) => s.name).join(", ")
    } or all`,
  );
  process.exit(2);
}

const bytes = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
const core = await RegressionCore.load(bytes);
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
console.log(`runtime: ${runtime}, ${n} points per shape, median of ${rounds} rounds`);
console.log("shape      wasm core (exact)   naive JS sums       cost ratio  kernel path");
let sink = 0;
for (const shape of shapes) {
  const r = uniform(12345);
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) [x[i], y[i]] = shape.point(i, r);
  const wasmTimes: number[] = [], naiveTimes: number[] = [];
  // Untimed rounds first, at least two and 4·10⁶ points: both engines compile hot code in tiers (WASM:
  // baseline, then optimised), and the optimised code comes after enough has run.
  const warmup = Math.max(2, Math.ceil(4e6 / n));
  for (let k = -warmup; k < rounds; k++) {
    if (k === 0) wasmTimes.length = naiveTimes.length = 0;
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
  const wasmRate = n / (median(wasmTimes) / 1000), naiveRate = n / (median(naiveTimes) / 1000);
  const rate = (v: number) => `${(v / 1e6).toFixed(1)} M points/s`.padEnd(20);
  console.log(
    `${shape.name.padEnd(11)}${rate(wasmRate)}${rate(naiveRate)}${
      (naiveRate / wasmRate).toFixed(2).padStart(6)
    }x     ${shape.path}`,
  );
}
if (Number.isNaN(sink)) console.log("");
