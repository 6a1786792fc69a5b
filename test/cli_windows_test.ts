/**
 * `--window` (with `--key` and `--time`) from CSV files, under Deno and Bun: every key's every window
 * ends with the exact least-squares line of the window's accepted points (an independent BigInt
 * reference and an independent replay of the watermark), whatever the batch size, with retractions and
 * out-of-order points; late points are dead-lettered as late, bad times as bad_time; a window emptied by
 * retraction keeps no line.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { test } from "./harness.ts";
import { exactFit } from "./exact_reference.ts";
import { PythonRandom } from "../src/sources/demo/python_random.ts";
import { formatNumber } from "../src/model/format_number.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
type Runner = "deno" | "bun";
const RUNNERS: Runner[] = ["deno", "bun"];

function run(runner: Runner, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const [exe, pre] = runner === "deno"
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, "src/runtime/bun_main.ts")]];
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...pre, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.stdout!.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin!.end();
  });
}

interface Row {
  key: string;
  t: number;
  x: number;
  y: number;
  diff: number;
}

const MIN = 60_000;

test("cli --window sliding and tumbling: every window's line is the exact fit of its accepted points", async () => {
  const dir = await tempDir();
  const random = new PythonRandom(8);
  const keys = ["a", "b", "c"];
  const rows: (Row | string)[] = [];
  const added: Row[] = [];
  let clock = 1_764_669_600_000;
  for (let i = 0; i < 1500; i++) {
    clock += Math.floor(random.random() * 20_000);
    if (added.length > 10 && random.random() < 0.1) {
      const [r] = added.splice(added.length - 1 - Math.floor(random.random() * 5), 1); // a recent one
      rows.push({ ...r, diff: -1 });
      continue;
    }
    // Mostly in order; some up to 6 minutes behind (late beyond --lateness 3m, or not).
    const t = clock - (random.random() < 0.15 ? Math.floor(random.random() * 6 * MIN) : 0);
    const key = keys[Math.floor(random.random() * keys.length)];
    const x = (t % 3_600_000) / 1000 + random.random();
    const y = 0.5 * x + random.random() * 10;
    const r = { key, t, x, y, diff: 1 };
    rows.push(r);
    added.push(r);
  }
  rows.splice(40, 0, "a,not-a-time,1,2,1");
  const text = [
    "sensor,ts,x,y,diff",
    ...rows.map((r) =>
      typeof r === "string" ? r : `${r.key},${r.t},${formatNumber(r.x)},${formatNumber(r.y)},${r.diff}`
    ),
  ].join("\n") + "\n";
  const input = join(dir, "w.csv");
  await writeFile(input, text);
  for (
    const [spec, size, hop] of [["sliding:10m,2m", 10 * MIN, 2 * MIN], [
      "tumbling:5m",
      5 * MIN,
      5 * MIN,
    ]] as const
  ) {
    const expected = reference(rows.filter((r): r is Row => typeof r !== "string"), size, hop, 3 * MIN);
    for (const runner of RUNNERS) {
      for (const commitRows of ["1", "64", "100000"]) {
        const output = join(dir, `${runner}_${commitRows}.csv`);
        const dead = join(dir, `${runner}_${commitRows}_dead.csv`);
        const r = await run(runner, [
          "--source",
          "csv",
          "--input",
          input,
          "--key",
          "sensor",
          "--time",
          "ts",
          "--window",
          spec,
          "--lateness",
          "3m",
          "--commit-rows",
          commitRows,
          "--output",
          output,
          "--no-input-log",
          "--dead-letter",
          dead,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [header, ...body] = parse(await readFile(output, "utf8")) as string[][];
        assert.deepEqual(header, ["sensor", "window_start", "window_end", "a", "b", "time", "diff"]);
        const standing = new Map<string, string>();
        for (const row of body) {
          const id = row.slice(0, 3).join(" ");
          if (row[6] === "1") {
            assert.ok(!standing.has(id), `${id}: a +1 row while a line stands`);
            standing.set(id, `${row[3]},${row[4]}`);
          } else {
            assert.equal(standing.get(id), `${row[3]},${row[4]}`, `${id}: -1 of another line`);
            standing.delete(id);
          }
        }
        assert.deepEqual(
          new Map([...standing].sort()),
          new Map([...expected.lines].sort()),
          `${spec} ${runner} ${commitRows}`,
        );
        const reasons = (parse(await readFile(dead, "utf8")) as string[][]).slice(1).map((row) => row[2]);
        assert.equal(
          reasons.filter((r) => r === "late").length,
          expected.late,
          `${spec} ${runner} ${commitRows}: late`,
        );
        assert.deepEqual(reasons.filter((r) => r !== "late"), ["bad_time"]);
      }
    }
  }
  await rm(dir, { recursive: true });
});

/** The lines every window should end with, and how many points are late: an independent replay. */
function reference(
  rows: Row[],
  size: number,
  hop: number,
  lateness: number,
): { lines: Map<string, string>; late: number } {
  let max = -Infinity;
  let late = 0;
  const inWindow = new Map<string, Row[]>();
  const held = new Map<string, number>();
  for (const r of rows) {
    const pane = Math.floor(r.t / hop);
    if ((pane + 1) * hop <= max - lateness) {
      late++;
      continue;
    }
    const id = `${r.key}|${r.t}|${r.x}|${r.y}`;
    if (r.diff === -1) {
      const n = held.get(id) ?? 0;
      if (n === 0) throw new Error("the test retracts only points it added");
      held.set(id, n - 1);
    } else held.set(id, (held.get(id) ?? 0) + 1);
    max = Math.max(max, r.t);
    for (let w = pane - size / hop + 1; w <= pane; w++) {
      const name = `${r.key} ${w * hop} ${w * hop + size}`;
      const list = inWindow.get(name) ?? [];
      if (r.diff === 1) list.push(r);
      else list.splice(list.findIndex((p) => p.t === r.t && p.x === r.x && p.y === r.y), 1);
      inWindow.set(name, list);
    }
  }
  const lines = new Map<string, string>();
  for (const [name, list] of inWindow) {
    if (list.length === 0) continue;
    const fit = exactFit(list.map((p) => p.x), list.map((p) => p.y));
    lines.set(name, `${formatNumber(fit.a)},${formatNumber(fit.b)}`);
  }
  return { lines, late };
}

const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-windows-"));

test("cli --window last:N: each key's line is the exact fit of its last N points; retractions are refused", async () => {
  const dir = await tempDir();
  const random = new PythonRandom(12);
  const byKey = new Map<string, [number, number][]>();
  const lines = ["sensor,x,y,diff"];
  for (let i = 0; i < 2000; i++) {
    const key = `k${Math.floor(random.random() * 4)}`;
    const x = 1e6 + random.random() * 1000;
    const y = 3 * x + random.random();
    byKey.set(key, [...byKey.get(key) ?? [], [x, y]]);
    lines.push(`${key},${formatNumber(x)},${formatNumber(y)},1`);
  }
  lines.push("k0,1,1,-1");
  const input = join(dir, "last.csv");
  await writeFile(input, lines.join("\n") + "\n");
  for (const runner of RUNNERS) {
    for (const commitRows of ["1", "333"]) {
      const output = join(dir, `${runner}_${commitRows}.csv`);
      const dead = join(dir, `${runner}_${commitRows}_dead.csv`);
      const r = await run(runner, [
        "--source",
        "csv",
        "--input",
        input,
        "--key",
        "sensor",
        "--window",
        "last:50",
        "--commit-rows",
        commitRows,
        "--output",
        output,
        "--no-input-log",
        "--dead-letter",
        dead,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [header, ...body] = parse(await readFile(output, "utf8")) as string[][];
      assert.deepEqual(header, ["sensor", "window_start", "window_end", "a", "b", "time", "diff"]);
      const standing = new Map<string, string>();
      for (const row of body) {
        if (row[6] === "1") standing.set(row[0], row.slice(1, 5).join(","));
        else {assert.equal(
            standing.get(row[0]),
            row.slice(1, 5).join(","),
            "the -1 row retracts the standing line",
          );}
      }
      for (const [key, points] of byKey) {
        const tail = points.slice(-50);
        const fit = exactFit(tail.map((p) => p[0]), tail.map((p) => p[1]));
        assert.equal(
          standing.get(key),
          `${points.length - tail.length + 1},${points.length},${formatNumber(fit.a)},${formatNumber(fit.b)}`,
          `${runner} ${commitRows}: ${key}`,
        );
      }
      const reasons = (parse(await readFile(dead, "utf8")) as string[][]).slice(1).map((row) => row[2]);
      assert.deepEqual(reasons, ["bad_diff"]);
    }
  }
  await rm(dir, { recursive: true });
});
