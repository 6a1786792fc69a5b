/**
 * Benchmark: per-key models (`--key` with 3 x columns), whole streamreg processes under Deno and Bun, side
 * by side with the unkeyed model run on the same points; and the size of each key's exact state.
 *
 * A CSV file of N points (default 10^6; x1 ≈ 1.7·10^9 with millisecond fractions, x2 in [-1, 1), x3 a
 * small integer, y shortest round-trip decimals, keys `sensor-<k>` spread evenly over K keys, default
 * 10^4), read with `--source csv --x x1,x2,x3 --no-input-log` (batches of `--commit-rows`, default
 * 100 000, and `--commit-ms`, default 10^9: batches by rows only): without a key, then `--key sensor`,
 * each also with `--stats`. It prints points per second and the peak resident memory (VmHWM, sampled
 * every 20 ms). Then, in this process, the same points through one model core into a record arena, as
 * the keyed stage keeps them: the average sparse record of a key (bytes of its exact sums) and the
 * arena's bytes per key.
 *
 * Run: `./node_modules/deno/deno run -A bench/keys_model_bench.ts [--points N] [--keys K] [--runs R]`
 *  (`--state-only`: only the state per key, no processes; `--sliding`: also `--time ts --window
 *  sliding:1h,1m` with the keys, each key's points one second apart)
 *  or  `node_modules/.bin/bun run bench/keys_model_bench.ts [...]`
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { formatNumber } from "../src/model/format_number.ts";
import { ModelCore } from "../src/core/model_core.ts";
import { RecordArena } from "../src/pipeline/keyed/record_arena.ts";
import { type StreamregRuntime, streamregRuntimes } from "./processes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "1000000" },
    keys: { type: "string", default: "10000" },
    runs: { type: "string", default: "1" },
    "commit-rows": { type: "string", default: "100000" },
    // Batches by rows only: with the default 1 s autocommit, a batch that takes longer makes the next ones
    // small, and each batch refits every key (and window) it touches.
    "commit-ms": { type: "string", default: "1e9" },
    "state-only": { type: "boolean", default: false },
    sliding: { type: "boolean", default: false },
  },
});
const n = Number(values.points);
const keys = Number(values.keys);
const runs = Number(values.runs);
if (![n, keys, runs].every((v) => Number.isSafeInteger(v) && v >= 1)) {
  console.error("keys_model_bench: --points, --keys and --runs must be integers ≥ 1");
  process.exit(2);
}

let seed = 1;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const xs: Float64Array[] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
const y = new Float64Array(n);
const keyOf = new Int32Array(n);
for (let i = 0; i < n; i++) {
  xs[0][i] = (1_700_000_000_000 + i * 37 + Math.floor(random() * 37)) / 1000;
  xs[1][i] = Number(formatNumber(2 * random() - 1).slice(0, 8));
  xs[2][i] = Math.floor(random() * 9);
  y[i] = Number((0.5 * xs[0][i] - 3 * xs[1][i] + xs[2][i] + (random() - 0.5) * 100).toFixed(3));
  keyOf[i] = (i * 7919) % keys;
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-keys-model-bench-"));
async function csvFile(name: string, keyed: boolean, timed = false): Promise<string> {
  const path = join(dir, name);
  const parts: string[] = [keyed ? `sensor,${timed ? "ts," : ""}x1,x2,x3,y\n` : "x1,x2,x3,y\n"];
  let chunk = "";
  for (let i = 0; i < n; i++) {
    const key = keyed ? `sensor-${keyOf[i]},` : "";
    const ts = timed ? `${1_764_669_600_000 + Math.floor(i / keys) * 1000},` : "";
    chunk += `${key}${ts}${formatNumber(xs[0][i])},${formatNumber(xs[1][i])},${formatNumber(xs[2][i])},${
      formatNumber(y[i])
    }\n`;
    if (chunk.length > 1 << 20) {
      parts.push(chunk);
      chunk = "";
    }
  }
  parts.push(chunk);
  await writeFile(path, parts.join(""));
  return path;
}
const plain = await csvFile("plain.csv", false);
const keyed = await csvFile("keyed.csv", true);
const timed = values.sliding ? await csvFile("timed.csv", true, true) : "";

/** One whole process: seconds and peak RSS in MB (VmHWM sampled every 20 ms). */
function measure(rt: StreamregRuntime, args: string[]): Promise<{ seconds: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const [exe, pre] = rt.cli;
    const t0 = performance.now();
    const child = spawn(exe, [...pre, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let peakKb = 0;
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setInterval(async () => {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0));
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`streamreg ${args.join(" ")} exited with ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - t0) / 1000, peakMb: peakKb / 1024 });
    });
  });
}

async function best(rt: StreamregRuntime, args: string[]): Promise<{ seconds: number; peakMb: number }> {
  let out = { seconds: Infinity, peakMb: 0 };
  for (let r = 0; r < runs; r++) {
    const got = await measure(rt, args);
    out = { seconds: Math.min(out.seconds, got.seconds), peakMb: Math.max(out.peakMb, got.peakMb) };
  }
  return out;
}

const common = [
  ...["--source", "csv", "--x", "x1,x2,x3", "--no-input-log", "--output", "/dev/null", "-q"],
  ...["--commit-rows", values["commit-rows"]!, "--commit-ms", values["commit-ms"]!],
];
console.log(
  `keys_model_bench: ${n} points, 3 x columns, ${keys} keys, --commit-rows ${values["commit-rows"]} ` +
    `--commit-ms ${values["commit-ms"]}, ` +
    `best of ${runs}; peak RSS = VmHWM`,
);
for (const rt of values["state-only"] ? [] : await streamregRuntimes()) {
  console.log(`${rt.name} (${rt.version})`);
  for (const stats of [[], ["--stats"]]) {
    const base = await best(rt, [...common, ...stats, "--input", plain]);
    const r = await best(rt, [...common, ...stats, "--input", keyed, "--key", "sensor"]);
    const row = (name: string, m: { seconds: number; peakMb: number }) =>
      console.log(
        `  ${name.padEnd(36)} ${(n / m.seconds / 1e3).toFixed(0).padStart(6)} k points/s  peak ${
          m.peakMb.toFixed(0).padStart(5)
        } MB`,
      );
    row(`no key${stats.length ? ", --stats" : ""}`, base);
    row(`--key sensor, ${keys} keys${stats.length ? ", --stats" : ""}`, r);
    console.log(
      `    ${
        ((r.peakMb - base.peakMb) * 1024 * 1024 / keys).toFixed(0)
      } bytes/key of peak RSS above the unkeyed run`,
    );
    if (values.sliding) {
      const window = ["--key", "sensor", "--time", "ts", "--window", "sliding:1h,1m"];
      row(
        `--window sliding:1h,1m, ${keys} keys${stats.length ? ", --stats" : ""}`,
        await best(rt, [...common, ...stats, "--input", timed, ...window]),
      );
    }
  }
}

// The state of each key as the keyed stage keeps it: one core, a sparse record per key in an arena.
const wasm = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
const core = await ModelCore.load(wasm, { k: 3, degree: 1, intercept: true });
const arena = new RecordArena();
const rowsOf: number[][] = Array.from({ length: keys }, () => []);
for (let i = 0; i < n; i++) rowsOf[keyOf[i]].push(i);
const w = new Float64Array(n).fill(1);
const batch = Number(values["commit-rows"]);
// Batch by batch, as a run does: each key's record is loaded, takes its points, and is saved again.
for (let from = 0; from < n; from += batch) {
  const touched = new Map<number, number[]>();
  for (let i = from; i < Math.min(n, from + batch); i++) {
    const list = touched.get(keyOf[i]) ?? [];
    list.push(i);
    touched.set(keyOf[i], list);
  }
  for (const [k, rows] of touched) {
    const record = arena.get(`sensor-${k}`);
    if (record) core.loadSparse(record);
    else core.reset();
    core.updateRows(xs, y, w, rows);
    arena.set(`sensor-${k}`, core.saveSparse());
  }
}
const dense = core.saveState().length;
console.log(
  `state per key (3 x columns, ${n / keys} points a key): sparse record ${
    (arena.recordBytes / arena.size).toFixed(0)
  } bytes on average (the dense state: ${dense} bytes); arena ${
    (arena.arenaBytes / arena.size).toFixed(0)
  } bytes/key (records with room to grow, and offsets)`,
);
await rm(dir, { recursive: true });
