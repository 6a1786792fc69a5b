/**
 * Benchmark: 10^6 points from a CSV file through the whole pipeline (csv-parse source → batcher → WASM
 * core → result change log), next to the WASM core alone on the same points, in the same run.
 *
 * Run: `./node_modules/deno/deno run -A bench/pipeline_bench.ts [--points N] [--runs R]`
 *  or  `node_modules/.bin/bun run bench/pipeline_bench.ts [--points N] [--runs R]`
 *
 * Prints the best of R runs (default 3) in points per second, and the ratio of the two.
 * @module
 */

import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { RegressionCore } from "../src/core/regression_core.ts";
import type { Host } from "../src/cli/host.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { InputLog } from "../src/sinks/input_log.ts";
import { ResultLog } from "../src/sinks/result_log.ts";
import type { Sink } from "../src/model/sink.ts";
import { CsvSource } from "../src/sources/csv/csv_source.ts";
import { PythonRandom } from "../src/sources/demo/python_random.ts";

// deno-lint-ignore no-explicit-any
const isDeno = (globalThis as any).Deno !== undefined;
const bunModule = "../src/runtime/bun.ts"; // not a literal import, so Deno does not type-check Bun's API
const host: Host = isDeno
  ? (await import("../src/runtime/deno.ts")).denoHost([])
  : (await import(bunModule)).bunHost([]);

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { points: { type: "string", default: "1000000" }, runs: { type: "string", default: "3" } },
});
const n = Number(values.points);
const runs = Number(values.runs);
if (!Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(runs) || runs < 1) {
  console.error("pipeline_bench: --points must be an integer ≥ 2 and --runs an integer ≥ 1");
  process.exit(2);
}

// The points: x = i, y = 2i + 1 + noise, as a CSV file and as arrays.
const rng = new PythonRandom(1);
const xs = new Float64Array(n);
const ys = new Float64Array(n);
const lines: string[] = ["x,y"];
for (let i = 0; i < n; i++) {
  xs[i] = i;
  ys[i] = 2 * i + 1 + (2 * rng.random() - 1);
  lines.push(`${xs[i]},${ys[i]}`);
}
const dir = await mkdtemp(join(tmpdir(), "streamreg-bench-"));
const csvPath = join(dir, "points.csv");
await writeFile(csvPath, lines.join("\n") + "\n");
lines.length = 0;
const csvBytes = (await stat(csvPath)).size;
const wasm = await host.readWasm();

async function timeCore(): Promise<{ ms: number; a: number; b: number }> {
  const core = await RegressionCore.load(wasm);
  const ones = new Float64Array(n).fill(1);
  const t0 = performance.now();
  core.update(xs, ys, ones);
  const fit = core.fit();
  return { ms: performance.now() - t0, a: fit.a, b: fit.b };
}

async function timePipeline(
  withInputLog: boolean,
): Promise<{ ms: number; a: number; b: number; batches: number }> {
  const core = await RegressionCore.load(wasm);
  const sinks: Sink[] = [new ResultLog(await host.openWrite(join(dir, "out.csv")))];
  if (withInputLog) sinks.push(new InputLog(await host.openWrite(join(dir, "in.csv"))));
  const t0 = performance.now();
  const source = new CsvSource(await host.openRead(csvPath), { name: csvPath });
  const stats = await runPipeline(source, core, sinks);
  for (const sink of sinks) await sink.close();
  const ms = performance.now() - t0;
  if (stats.points !== n) throw new Error(`pipeline saw ${stats.points} points, expected ${n}`);
  return { ms, a: stats.line!.a, b: stats.line!.b, batches: stats.batches };
}

const best = <T extends { ms: number }>(xs: T[]) => xs.reduce((p, q) => (q.ms < p.ms ? q : p));
const rate = (ms: number) => (n / ms) * 1000;
const fmt = (r: number) => `${(r / 1e6).toFixed(2)} M points/s`;

const core: Awaited<ReturnType<typeof timeCore>>[] = [];
const pipe: Awaited<ReturnType<typeof timePipeline>>[] = [];
const pipeLog: Awaited<ReturnType<typeof timePipeline>>[] = [];
await timeCore(); // warm-up
for (let r = 0; r < runs; r++) {
  core.push(await timeCore());
  pipe.push(await timePipeline(false));
  pipeLog.push(await timePipeline(true));
}
await rm(dir, { recursive: true });

const c = best(core);
const p = best(pipe);
const l = best(pipeLog);
if (c.a !== p.a || c.b !== p.b || c.a !== l.a || c.b !== l.b) {
  throw new Error(`the pipeline's line (${p.a}, ${p.b}) differs from the core's (${c.a}, ${c.b})`);
}
console.log(
  `pipeline_bench: ${n} points (${(csvBytes / 1e6).toFixed(1)} MB of CSV), best of ${runs}, ${host.runtime}`,
);
console.log(
  `  WASM core alone (update + fit)              ${fmt(rate(c.ms)).padStart(18)}  (${c.ms.toFixed(1)} ms)`,
);
console.log(
  `  pipeline: CSV file → core → result log       ${fmt(rate(p.ms)).padStart(18)}  (${
    p.ms.toFixed(1)
  } ms, ${p.batches} batches)`,
);
console.log(
  `  pipeline, also writing the input log         ${fmt(rate(l.ms)).padStart(18)}  (${l.ms.toFixed(1)} ms)`,
);
console.log(
  `  ratio core alone / pipeline: ${(p.ms / c.ms).toFixed(1)}× (with the input log: ${
    (l.ms / c.ms).toFixed(1)
  }×)`,
);
console.log(`  line: a = ${p.a}, b = ${p.b}`);
