/**
 * Benchmark: keyed and windowed runs (`--key`, `--window`), whole streamreg processes under Deno and Bun,
 * side by side with the unkeyed run on the same points.
 *
 * For each of 1, 10^3, 10^5 and 10^6 keys: a CSV file of N points (default 10^6; x ≈ 1.7·10^9 with
 * millisecond fractions, y shortest round-trip decimals, keys `sensor-<k>` spread evenly), read with
 * `--source csv --key sensor --no-input-log` (batches of `--commit-rows`, default 100 000). Also
 * `--window sliding:1h,1m --time ts` over 1000 keys, the points one second apart per key. It prints
 * points per second, the peak resident memory (VmHWM, sampled every 20 ms) and, for the largest key
 * count, the memory per key above the unkeyed run's. With `--serve`, each keyed run once more with
 * `--serve 127.0.0.1:0` (the live page's key table, samples and per-key metrics, no client).
 *
 * With `--baseline DIR` (another checkout of streamreg, e.g. `git worktree add DIR <commit>` with its
 * `node_modules` and `build/`), each measurement is also taken with DIR's CLI, alternating with this
 * one's run by run, and printed beside it: a comparison on the same files under the same load. With
 * `--no-window`, the windowed run is left out. With `--cpu`, times are the processes' CPU seconds (user +
 * system, all threads, from `/proc/PID/stat` sampled every 20 ms) instead of wall time: steadier on a
 * machine shared with other work; "points/s" are then points per CPU second.
 *
 * Run: `./node_modules/deno/deno run -A bench/keys_bench.ts [--points N] [--runs R] [--keys 1,1000,...] [--serve]
 *   [--baseline DIR] [--no-window]`
 *  or  `node_modules/.bin/bun run bench/keys_bench.ts [...]`
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { formatNumber } from "../src/model/format_number.ts";
import { type StreamregRuntime, streamregRuntimes } from "./processes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "1000000" },
    runs: { type: "string", default: "1" },
    keys: { type: "string", default: "1,1000,100000,1000000" },
    "commit-rows": { type: "string", default: "100000" },
    serve: { type: "boolean", default: false },
    baseline: { type: "string" },
    "no-window": { type: "boolean", default: false },
    cpu: { type: "boolean", default: false },
  },
});
const n = Number(values.points);
const cpu = values.cpu!;
const runs = Number(values.runs);
const keyCounts = values.keys!.split(",").map(Number);
if (
  !Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(runs) || runs < 1 ||
  keyCounts.some((k) => !(k >= 1))
) {
  console.error("keys_bench: --points and --runs must be integers ≥ 1, --keys a list of counts ≥ 1");
  process.exit(2);
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-keys-bench-"));
let seed = 1;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

async function writeFileOf(name: string, header: string, line: (i: number) => string): Promise<string> {
  const path = join(dir, name);
  const parts: string[] = [header + "\n"];
  let chunk = "";
  for (let i = 0; i < n; i++) {
    chunk += line(i) + "\n";
    if (chunk.length > 1 << 20) {
      parts.push(chunk);
      chunk = "";
    }
  }
  parts.push(chunk);
  await writeFile(path, parts.join(""));
  return path;
}

const xy = (i: number) => {
  const x = (1_700_000_000_000 + i * 37 + Math.floor(random() * 37)) / 1000;
  return `${formatNumber(x)},${formatNumber(0.5 * x + (random() - 0.5) * 100)}`;
};
const files = new Map<number, string>();
for (const k of keyCounts) {
  files.set(k, await writeFileOf(`keys_${k}.csv`, "sensor,x,y", (i) => `sensor-${(i * 7919) % k},${xy(i)}`));
}
const plain = await writeFileOf("plain.csv", "x,y", xy);
const windowKeys = 1000;
const windowed = await writeFileOf(
  "windowed.csv",
  "sensor,ts,x,y",
  (i) => `sensor-${i % windowKeys},${1_764_669_600_000 + Math.floor(i / windowKeys) * 1000},${xy(i)}`,
);

/** One whole process: seconds and peak RSS in MB (VmHWM sampled every 20 ms). */
function measure(rt: StreamregRuntime, args: string[]): Promise<{ seconds: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const [exe, pre] = rt.cli;
    const t0 = performance.now();
    const child = spawn(exe, [...pre, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let peakKb = 0;
    let cpuTicks = 0;
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setInterval(async () => {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      const kb = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      peakKb = Math.max(peakKb, kb);
      if (cpu) {
        // utime and stime (fields 14 and 15, in clock ticks of 10 ms), all threads.
        const stat = await readFile(`/proc/${child.pid}/stat`, "utf8").catch(() => "");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const ticks = Number(fields[11]) + Number(fields[12]);
        if (ticks > cpuTicks) cpuTicks = ticks;
      }
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`streamreg ${args.join(" ")} exited with ${code}: ${stderr}`));
      else {
        resolve({ seconds: cpu ? cpuTicks / 100 : (performance.now() - t0) / 1000, peakMb: peakKb / 1024 });
      }
    });
  });
}

/** The baseline's runtimes (`--baseline`), by name. */
const baselines = new Map(
  values.baseline === undefined ? [] : (await streamregRuntimes(values.baseline)).map((rt) => [rt.name, rt]),
);
/** Per measurement of `best`, the baseline's (when `--baseline`), for the next `row`. */
let baselineResult: { seconds: number; peakMb: number } | undefined;

async function best(rt: StreamregRuntime, args: string[]): Promise<{ seconds: number; peakMb: number }> {
  let out = { seconds: Infinity, peakMb: 0 };
  const other = baselines.get(rt.name);
  let base = { seconds: Infinity, peakMb: 0 };
  for (let r = 0; r < runs; r++) {
    if (other !== undefined) {
      const got = await measure(other, args);
      base = { seconds: Math.min(base.seconds, got.seconds), peakMb: Math.max(base.peakMb, got.peakMb) };
    }
    const got = await measure(rt, args);
    out = { seconds: Math.min(out.seconds, got.seconds), peakMb: Math.max(out.peakMb, got.peakMb) };
  }
  baselineResult = other === undefined ? undefined : base;
  return out;
}

const common = [
  "--source",
  "csv",
  "--no-input-log",
  "--output",
  "/dev/null",
  "-q",
  "--commit-rows",
  values["commit-rows"]!,
];
console.log(
  `keys_bench: ${n} points per run, --commit-rows ${values["commit-rows"]}, best of ${runs}; ${
    cpu ? "CPU seconds (user + system)" : "wall time"
  }; peak RSS = VmHWM`,
);
for (const rt of await streamregRuntimes()) {
  console.log(`${rt.name} (${rt.version})`);
  const base = await best(rt, [...common, "--input", plain]);
  const baselineBase = baselineResult;
  const row = (name: string, r: { seconds: number; peakMb: number }, extra = "") => {
    const was = baselineResult;
    console.log(
      `  ${name.padEnd(44)} ${(n / r.seconds / 1e6).toFixed(2).padStart(5)} M points/s  ${
        (r.seconds / base.seconds * 100).toFixed(0).padStart(4)
      } % of the time unkeyed  peak ${r.peakMb.toFixed(0).padStart(5)} MB${extra}`,
    );
    if (was !== undefined && baselineBase !== undefined) {
      console.log(
        `    baseline ${(n / was.seconds / 1e6).toFixed(2).padStart(5)} M points/s  ${
          (was.seconds / baselineBase.seconds * 100).toFixed(0).padStart(4)
        } % of its time unkeyed  peak ${was.peakMb.toFixed(0).padStart(5)} MB;  this run takes ${
          (r.seconds / was.seconds * 100).toFixed(0)
        } % of the baseline's time`,
      );
    }
  };
  row("no key (the same points)", base);
  for (const k of keyCounts) {
    const r = await best(rt, [...common, "--input", files.get(k)!, "--key", "sensor"]);
    const perKey = k >= 1000
      ? `  (${((r.peakMb - base.peakMb) * 1024 * 1024 / k).toFixed(0)} bytes/key)`
      : "";
    row(`--key sensor, ${k} keys`, r, perKey);
    if (values.serve) {
      const s = await best(rt, [
        ...common,
        "--input",
        files.get(k)!,
        "--key",
        "sensor",
        "--serve",
        "127.0.0.1:0",
      ]);
      const more = k >= 1000
        ? `  (${((s.peakMb - r.peakMb) * 1024 * 1024 / k).toFixed(0)} bytes/key more)`
        : "";
      row(`--key sensor, ${k} keys, --serve`, s, more);
    }
  }
  if (values["no-window"]) continue;
  const w = await best(rt, [
    ...common,
    "--input",
    windowed,
    "--key",
    "sensor",
    "--time",
    "ts",
    "--window",
    "sliding:1h,1m",
  ]);
  row(`--window sliding:1h,1m, ${windowKeys} keys`, w);
}
await rm(dir, { recursive: true });
