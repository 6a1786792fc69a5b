/**
 * Benchmark: streamreg end to end on a CSV file with five x columns against the same run with one x, side
 * by side in one run, under Deno and Bun (each a whole process: start, read, fit, write the change log).
 *
 * Two generated files of N points (default 10^6), written as shortest round-trip decimals:
 * - one x: `x,y` with x ≈ 1.7·10^9 with millisecond fractions (the CSV benchmark's file);
 * - five x: `x1,…,x5,y`, readings of a few significant digits around 10^1…10^5 (sensor-like data).
 *
 * It prints points per second (best of R runs, default 3) of `--source csv --no-input-log` for each, and
 * the target: five x columns at ≥ 50 % of one x's points per second. Also `--stats` with five x.
 *
 * Run: `./node_modules/deno/deno run -A bench/model_csv_bench.ts [--points N] [--runs R]`
 *  or  `node_modules/.bin/bun run bench/model_csv_bench.ts [--points N] [--runs R]`
 * @module
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { formatNumber } from "../src/model/format_number.ts";
import { runProcess, streamregRuntimes } from "./processes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: model_csv_bench.ts [--points N] [--runs R]");
  process.exit(0);
}
const n = Number(values.points);
const runs = Number(values.runs);
if (!Number.isSafeInteger(n) || n < 10 || !Number.isSafeInteger(runs) || runs < 1) {
  console.error("model_csv_bench: --points must be an integer ≥ 10 and --runs an integer ≥ 1");
  process.exit(2);
}

/** Writes `lines()` to a file in 1 MB pieces. */
async function writeLines(file: string, header: string, line: (i: number) => string): Promise<void> {
  const parts: string[] = [];
  let text = header + "\n";
  for (let i = 0; i < n; i++) {
    text += line(i) + "\n";
    if (text.length > 1 << 20) {
      parts.push(text);
      text = "";
    }
  }
  parts.push(text);
  await writeFile(file, parts.join(""));
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-model-csv-bench-"));
let seed = 1;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const oneX = join(dir, "one_x.csv");
await writeLines(oneX, "x,y", (i) => {
  const x = (1_700_000_000_000 + i * 37 + Math.floor(random() * 37)) / 1000;
  return `${formatNumber(x)},${formatNumber(0.5 * x + (random() - 0.5) * 100)}`;
});
const fiveX = join(dir, "five_x.csv");
const reading = (scale: number) => Math.round(random() * scale * 100) / 100; // two decimals
await writeLines(fiveX, "x1,x2,x3,x4,x5,y", () => {
  const xs = [reading(10), reading(100), reading(1e3), reading(1e4), reading(1e5)];
  const y = 3 + xs[0] - 2 * xs[1] + 0.5 * xs[2] + 0.01 * xs[3] - 0.001 * xs[4] + random();
  return [...xs.map(formatNumber), formatNumber(Math.round(y * 1000) / 1000)].join(",");
});

const runtimes = await streamregRuntimes();

console.log(
  `model_csv_bench: ${n} points per file; streamreg --source csv --no-input-log as a whole process, best of ${runs}`,
);
const rate = (ms: number) => (n / ms) * 1000;
const fmt = (ms: number) => `${(rate(ms) / 1e6).toFixed(2)} M points/s`.padStart(16);
const verdicts: string[] = [];
for (const rt of runtimes) {
  const [cli, cliArgs] = rt.cli;
  const time = async (file: string, model: string[]) => {
    const flags = [
      "--source",
      "csv",
      "--input",
      file,
      ...model,
      "--output",
      join(dir, "out.csv"),
      "--no-input-log",
      "-q",
    ];
    let ms = Infinity;
    for (let r = 0; r < runs; r++) ms = Math.min(ms, (await runProcess(cli, [...cliArgs, ...flags])).ms);
    return ms;
  };
  const one = await time(oneX, ["--x", "x", "--y", "y"]);
  const five = await time(fiveX, ["--x", "x1,x2,x3,x4,x5", "--y", "y"]);
  const fiveStats = await time(fiveX, ["--x", "x1,x2,x3,x4,x5", "--y", "y", "--stats"]);
  console.log(`${rt.name} (${rt.version})`);
  console.log(`  ${"one x (x,y)".padEnd(36)} ${fmt(one)}  (${one.toFixed(0)} ms)`);
  console.log(
    `  ${"five x (x1..x5,y)".padEnd(36)} ${fmt(five)}  (${five.toFixed(0)} ms)  ${
      (one / five * 100).toFixed(0)
    } % of one x`,
  );
  console.log(
    `  ${"five x with --stats".padEnd(36)} ${fmt(fiveStats)}  (${fiveStats.toFixed(0)} ms)  ${
      (one / fiveStats * 100).toFixed(0)
    } % of one x`,
  );
  const share = one / five;
  verdicts.push(
    `${rt.name}: five x at ${(share * 100).toFixed(0)} % of one x's points/s (target ≥ 50 %): ${
      share >= 0.5 ? "PASS" : "MISS"
    }`,
  );
}
console.log("Target (issue #11)");
for (const v of verdicts) console.log(`  ${v}`);
await rm(dir, { recursive: true });
