/**
 * Memory stays flat however many points a run reads: 2·10⁷ demo points and a 5·10⁶-point CSV file run
 * under a small heap (Deno: V8's `--max-old-space-size`; Bun: JavaScriptCore's `forceRAMSize`, its
 * closest equivalent, which makes the collector keep the heap near that size) and their peak resident
 * size, sampled from /proc while they run, stays far below what the points would take if they were kept.
 * Before the fix the pipeline kept every chunk alive until the run ended: Deno died on the heap limit and
 * Bun grew past 900 MB on the same file.
 */
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeName, test } from "./harness.ts";
import { runWithPeak } from "./peak_memory.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const POINTS = 5_000_000;
/** The demo source makes big chunks, so it takes more points to show growth. */
const DEMO_POINTS = 20_000_000;
/** The heap the runs get, in MB. */
const HEAP_MB = 128;
/** Peak resident size a run may reach, in MB (a run that kept its points would need several times this). */
const RSS_LIMIT_MB = 320;

/** Runs the CLI under the current runtime with a small heap; returns the exit code, stderr, peak RSS. */
function runCapped(args: string[]): Promise<{ code: number | null; stderr: string; peakMb: number }> {
  const [exe, pre, env] = runtimeName === "deno"
    ? [
      join(ROOT, "node_modules/deno/deno"),
      ["run", "-A", `--v8-flags=--max-old-space-size=${HEAP_MB}`, join(ROOT, "src/runtime/deno_main.ts")],
      {},
    ]
    : [
      join(ROOT, "node_modules/.bin/bun"),
      ["run", join(ROOT, "src/runtime/bun_main.ts")],
      { BUN_JSC_forceRAMSize: String(HEAP_MB * 1024 * 1024) },
    ];
  return runWithPeak([exe, pre], args, { cwd: ROOT, env, field: "VmRSS" });
}

async function writeCsv(path: string, points: number): Promise<void> {
  const out = createWriteStream(path);
  out.write("x,y\n");
  const step = 100_000;
  for (let i = 0; i < points; i += step) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(points, i + step); j++) lines.push(`${1.7e9 + j / 1000},${(j % 997) / 8}`);
    if (!out.write(lines.join("\n") + "\n")) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => error ? reject(error) : resolve())
  );
}

const lastLine = (text: string) => text.trimEnd().split("\n").at(-1)!;

test("memory: 2·10⁷ demo points under a small heap, resident size flat", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-mem-"));
  try {
    const output = join(dir, "out.csv");
    const r = await runCapped([
      "--rows",
      String(DEMO_POINTS),
      "--rate",
      "0",
      "--output",
      output,
      "--input-log",
      join(dir, "in.csv"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.peakMb < RSS_LIMIT_MB, `peak RSS ${r.peakMb.toFixed(0)} MB ≥ ${RSS_LIMIT_MB} MB`);
    assert.match(lastLine(await readFile(output, "utf8")), /,1$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 120_000 });

test("memory: a 5·10⁶-point CSV file under a small heap, resident size flat", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-mem-"));
  try {
    const input = join(dir, "points.csv");
    await writeCsv(input, POINTS);
    const output = join(dir, "out.csv");
    const inputLog = join(dir, "in.csv");
    const r = await runCapped([
      "--source",
      "csv",
      "--input",
      input,
      "--output",
      output,
      "--input-log",
      inputLog,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.peakMb < RSS_LIMIT_MB, `peak RSS ${r.peakMb.toFixed(0)} MB ≥ ${RSS_LIMIT_MB} MB`);
    assert.match(lastLine(await readFile(output, "utf8")), /,1$/);
    // Every point went through: the input change log has a line per point (and its header).
    let lines = 0;
    for (const byte of await readFile(inputLog)) if (byte === 10) lines++;
    assert.equal(lines, POINTS + 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 180_000 });
