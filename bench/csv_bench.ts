/**
 * Benchmark: reading CSV, side by side in one run, under Deno and Bun. On one generated file of 10^6
 * points (x ≈ 1.7·10^9 with millisecond fractions, y ≈ 0.5·x + noise, shortest round-trip decimals):
 *
 * - the bare loop: the whole file decoded, then `indexOf` + `parseFloat` (the parse limit);
 * - csv-parse alone, streaming from the file, rows to numbers;
 * - uDSV alone, streaming from the file (`parser.chunk` with a row handler), rows to numbers;
 * - streamreg's CSV reader alone (`CsvSource` over the file: points and their line numbers, offsets);
 * - streamreg end to end, a whole process: `--source csv` with `--no-input-log`, with the input log, and
 *   with the input log and `--serve 127.0.0.1:0` (the live page's sampling and metrics, no client).
 *
 * Run: `./node_modules/deno/deno run -A bench/csv_bench.ts [--points N] [--runs R]`
 *  or  `node_modules/.bin/bun run bench/csv_bench.ts [--points N] [--runs R]`
 *
 * Either command measures both runtimes (each as its own subprocess) and prints points per second (best
 * of R runs, default 5) and each figure's ratio to the bare loop of the same runtime.
 * @module
 */

import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { parse } from "csv-parse";
import { inferSchema, initParser } from "udsv";
import type { Host } from "../src/cli/host.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { CsvSource } from "../src/sources/csv/csv_source.ts";
import { runProcess as run, streamregRuntimes } from "./processes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
    child: { type: "string" }, // the file to measure, in a child process
  },
});
const n = Number(values.points);
const runs = Number(values.runs);
if (!Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(runs) || runs < 1) {
  console.error("csv_bench: --points must be an integer ≥ 2 and --runs an integer ≥ 1");
  process.exit(2);
}

// deno-lint-ignore no-explicit-any
const isDeno = (globalThis as any).Deno !== undefined;
const root = new URL("..", import.meta.url).pathname;

/** What a child measures: name → best milliseconds. */
type Timings = Record<string, number>;

const best = async (f: () => Promise<number>): Promise<number> => {
  let ms = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const count = await f();
    const t = performance.now() - t0;
    if (count !== n) throw new Error(`csv_bench: read ${count} points, expected ${n}`);
    ms = Math.min(ms, t);
  }
  return ms;
};

/** The bare loop: the whole file as one string, lines by indexOf, two fields by indexOf + parseFloat. */
async function bareLoop(file: string): Promise<number> {
  const text = new TextDecoder().decode(await readFile(file));
  let count = 0;
  let sum = 0;
  let i = text.indexOf("\n") + 1; // after the header
  while (i < text.length) {
    const lf = text.indexOf("\n", i);
    const end = lf < 0 ? text.length : lf;
    const comma = text.indexOf(",", i);
    sum += parseFloat(text.slice(i, comma)) + parseFloat(text.slice(comma + 1, end));
    count++;
    i = end + 1;
  }
  if (sum !== sum) throw new Error("bare loop: NaN");
  return count;
}

/** csv-parse, streaming from the file, each row's two fields to numbers. */
function csvParse(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let count = -1; // the header
    let sum = 0;
    createReadStream(file, { highWaterMark: 1 << 16 })
      .pipe(parse())
      .on("data", (row: string[]) => {
        if (count++ >= 0) sum += Number(row[0]) + Number(row[1]);
      })
      .on("error", reject)
      .on("end", () => resolve(sum === sum ? count : NaN));
  });
}

/** uDSV, streaming from the file: `parser.chunk` with a row handler, fields typed as numbers. */
function uDsv(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let parser: ReturnType<typeof initParser> | undefined;
    let count = 0;
    let sum = 0;
    const onRow = (row: number[]) => {
      sum += row[0] + row[1];
      count++;
    };
    createReadStream(file, { highWaterMark: 1 << 16 })
      .on("data", (chunk) => {
        const text = chunk.toString(); // ASCII: no character is cut between chunks
        parser ??= initParser(inferSchema(text));
        parser.chunk<number[]>(text, parser.typedArrs, onRow);
      })
      .on("error", reject)
      .on("end", () => {
        parser!.end();
        resolve(sum === sum ? count : NaN);
      });
  });
}

/** streamreg's CSV reader alone: CsvSource over the file, as the CLI opens it. */
async function csvSource(file: string, host: Host): Promise<number> {
  const source = new CsvSource(await host.openRead(file), { name: file });
  let count = 0;
  let sum = 0;
  for await (const chunk of source.chunks(new AbortController().signal)) {
    count += chunk.x.length;
    sum += chunk.x[0] + chunk.y[0];
  }
  return sum === sum ? count : NaN;
}

if (values.child !== undefined) {
  const file = values.child;
  const bunModule = "../src/runtime/bun.ts"; // not a literal import, so Deno does not type-check Bun's API
  const host: Host = isDeno
    ? (await import("../src/runtime/deno.ts")).denoHost([])
    : (await import(bunModule)).bunHost([]);
  const timings: Timings = {};
  await bareLoop(file); // warm-up
  timings.bare = await best(() => bareLoop(file));
  timings.csvParse = await best(() => csvParse(file));
  timings.uDsv = await best(() => uDsv(file));
  timings.csvSource = await best(() => csvSource(file, host));
  console.log(JSON.stringify(timings));
  process.exit(0);
}

// The parent: the file, then each runtime's child and its end-to-end runs.
const dir = await mkdtemp(join(tmpdir(), "streamreg-csv-bench-"));
const file = join(dir, "points.csv");
{
  let text = "x,y\n";
  const parts: string[] = [];
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < n; i++) {
    const x = (1_700_000_000_000 + i * 37 + Math.floor(random() * 37)) / 1000;
    const y = 0.5 * x + (random() - 0.5) * 100;
    text += `${formatNumber(x)},${formatNumber(y)}\n`;
    if (text.length > 1 << 20) {
      parts.push(text);
      text = "";
    }
  }
  parts.push(text);
  await writeFile(file, parts.join(""));
}
const bytes = (await stat(file)).size;
const runtimes = (await streamregRuntimes()).map((rt) => ({
  ...rt,
  child: [rt.cli[0], [
    ...(rt.name === "Deno" ? ["run", "-A"] : ["run"]),
    join(root, "bench/csv_bench.ts"),
  ]] as const,
}));

console.log(
  `csv_bench: ${n} points (${(bytes / 1e6).toFixed(1)} MB of CSV: x ≈ 1.7e9 with ms fractions, y shortest ` +
    `round-trip decimals), best of ${runs}`,
);
const rate = (ms: number) => (n / ms) * 1000;
const fmt = (ms: number) => `${(rate(ms) / 1e6).toFixed(2)} M points/s`.padStart(16);
for (const rt of runtimes) {
  const [cmd, args] = rt.child;
  const { out } = await run(cmd, [...args, "--child", file, "--points", String(n), "--runs", String(runs)]);
  const t: Timings = JSON.parse(out.trim().split("\n").pop()!);
  const endToEnd = async (inputLog: boolean, serve = false) => {
    const [cli, cliArgs] = rt.cli;
    const flags = ["--source", "csv", "--input", file, "--output", join(dir, "out.csv"), "-q"];
    flags.push(...(inputLog ? ["--input-log", join(dir, "in.csv")] : ["--no-input-log"]));
    if (serve) flags.push("--serve", "127.0.0.1:0");
    let ms = Infinity;
    for (let r = 0; r < runs; r++) ms = Math.min(ms, (await run(cli, [...cliArgs, ...flags])).ms);
    return ms;
  };
  t.e2eNoLog = await endToEnd(false);
  t.e2eLog = await endToEnd(true);
  t.e2eServe = await endToEnd(true, true);
  const ratio = (ms: number) => `${((t.bare / ms) * 100).toFixed(0).padStart(3)} % of the bare loop`;
  const rows: [string, number][] = [
    ["bare loop: decode + indexOf + parseFloat", t.bare],
    ["csv-parse alone (streaming, rows to numbers)", t.csvParse],
    ["uDSV alone (streaming, parser.chunk)", t.uDsv],
    ["streamreg CSV reader alone (CsvSource)", t.csvSource],
    ["streamreg --source csv --no-input-log (process)", t.e2eNoLog],
    ["streamreg --source csv, with the input log", t.e2eLog],
    ["... and --serve (live page, /metrics)", t.e2eServe],
  ];
  console.log(`${rt.name} (${rt.version})`);
  for (const [label, ms] of rows) {
    console.log(`  ${label.padEnd(48)} ${fmt(ms)}  ${ratio(ms)}  (${ms.toFixed(0)} ms)`);
  }
}
await rm(dir, { recursive: true });
