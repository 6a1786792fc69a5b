/**
 * `--key` and `--window` with a model other than the plain line (several x columns, `--degree`,
 * `--no-intercept`, `--stats`), from CSV files, under Deno and Bun: every key's (every window's) standing
 * row in the result change log is, bit for bit, the exact fit of that key's (window's) points — an
 * independent BigInt reference (`./model_reference.ts`), and the unkeyed model run over the key's points
 * — whatever the batch size, with retractions, for tumbling, sliding and `last:N` windows.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { test } from "./harness.ts";
import { runCli, type Runner } from "./cli_helpers.ts";
import { exactModelFit, type ModelPoint, seededRandom } from "./model_reference.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { modelCells } from "../src/model/fit_cells.ts";
import { type ModelConfig, resultColumns } from "../src/model/model_config.ts";

const RUNNERS: Runner[] = ["deno", "bun"];
const MIN = 60_000;

interface Row {
  key: string;
  t: number;
  xs: number[];
  y: number;
  diff: number;
}

/** Rows of 3 keys, 3 x columns, times 20 s apart, and retractions of recent points (same time). */
function rows(n: number, seed: number, retractions: boolean): Row[] {
  const random = seededRandom(seed);
  const out: Row[] = [];
  const added: Row[] = [];
  let clock = 1_764_669_600_000;
  for (let i = 0; i < n; i++) {
    clock += 20_000;
    if (retractions && added.length > 8 && random() < 0.15) {
      const [r] = added.splice(added.length - 1 - Math.floor(random() * 4), 1);
      out.push({ ...r, diff: -1 });
      continue;
    }
    const key = `s${Math.floor(random() * 3)}`;
    // x's far from 0 compared with their spread (hard for double sums), y a noisy plane in them
    const xs = [1e6 + random() * 10, random() * 4 - 2, Math.round(random() * 50) / 8];
    const y = 3 + 2 * xs[0] - xs[1] + 0.25 * xs[2] + random();
    const r = { key, t: clock, xs, y, diff: 1 };
    out.push(r);
    added.push(r);
  }
  return out;
}

function csv(data: Row[], diff: boolean): string {
  return [
    `sensor,ts,x1,x2,x3,y${diff ? ",diff" : ""}`,
    ...data.map((r) =>
      `${r.key},${r.t},${r.xs.map(formatNumber).join(",")},${formatNumber(r.y)}${diff ? `,${r.diff}` : ""}`
    ),
  ].join("\n") + "\n";
}

/** The model's points of some rows, for the reference (a polynomial: x1 only). */
function modelPoints(data: readonly Row[], config: ModelConfig): ModelPoint[] {
  const k = config.x.length;
  return data.map((r) => ({ xs: r.xs.slice(0, k), y: r.y, w: r.diff }));
}

/** The cells the result log should write for the exact fit of `points`. */
function expectedCells(points: ModelPoint[], config: ModelConfig): string {
  const spec = { k: config.x.length, degree: config.degree, intercept: config.intercept };
  const fit = exactModelFit(points, spec);
  return modelCells(config, {
    ...fit,
    coefficients: Float64Array.from(fit.coefficients),
    se: Float64Array.from(fit.se),
  });
}

/** The standing row of each id (the first `idWidth` cells) after replaying the -1/+1 rows. */
function standing(body: string[][], idWidth: number): Map<string, string> {
  const rows = new Map<string, string>();
  for (const row of body) {
    const id = row.slice(0, idWidth).join(" ");
    const cells = row.slice(idWidth, -2).join(",");
    if (row.at(-1) === "1") {
      assert.ok(!rows.has(id), `${id}: a +1 row while a row stands`);
      rows.set(id, cells);
    } else {
      assert.equal(rows.get(id), cells, `${id}: the -1 row retracts the standing row`);
      rows.delete(id);
    }
  }
  return rows;
}

function sorted(map: Map<string, string>): Map<string, string> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const MODELS: { flags: string[]; config: ModelConfig }[] = [
  {
    flags: ["--x", "x1,x2,x3", "--stats"],
    config: { x: ["x1", "x2", "x3"], y: "y", degree: 1, intercept: true, stats: true },
  },
  {
    flags: ["--x", "x2", "--degree", "2", "--no-intercept", "--stats"],
    config: { x: ["x2"], y: "y", degree: 2, intercept: false, stats: true },
  },
];

/** The model's points of rows, with a polynomial in x2 reading x2 (the reference takes xs[0]). */
function pointsOf(data: readonly Row[], config: ModelConfig): ModelPoint[] {
  if (config.degree > 1) return data.map((r) => ({ xs: [r.xs[1]], y: r.y, w: r.diff }));
  return modelPoints(data, config);
}

test("--key with several x, --degree, --no-intercept, --stats: each key's row is the exact fit of its points", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-keys-model-"));
  const data = rows(240, 7, true);
  // A key with one point, and a key whose only point is retracted (its row retracted, the key forgotten).
  const one = { key: "s8", t: data[0].t, xs: [3, 0.5, 1], y: 2, diff: 1 };
  const gone = { key: "s9", t: data[0].t, xs: [4, 0.25, 2], y: 5, diff: 1 };
  data.splice(100, 0, one, gone);
  data.splice(150, 0, { ...gone, diff: -1 });
  const input = join(dir, "k.csv");
  await writeFile(input, csv(data, true));
  for (const { flags, config } of MODELS) {
    const expected = new Map<string, string>();
    for (const key of new Set(data.map((r) => r.key))) {
      const mine = data.filter((r) => r.key === key);
      if (mine.reduce((n, r) => n + r.diff, 0) === 0) continue;
      expected.set(key, expectedCells(pointsOf(mine, config), config));
    }
    assert.ok(expected.has("s8") && !expected.has("s9"));
    for (const runner of RUNNERS) {
      for (const commitRows of ["1", "17", "100000"]) {
        const log = join(dir, `in_${runner}_${commitRows}.csv`);
        const r = await runCli(runner, [
          ...["--source", "csv", "--input", input, "--key", "sensor", ...flags],
          ...["--commit-rows", commitRows, "--output", "-", "--input-log", log],
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [header, ...body] = parse(r.stdout) as string[][];
        assert.deepEqual(header, ["sensor", ...resultColumns(config), "time", "diff"]);
        assert.deepEqual(sorted(standing(body, 1)), sorted(expected), `${flags} ${runner} ${commitRows}`);
        // The input log carries the key with every x column, and every accepted point.
        const [logHeader, ...logBody] = parse(await readFile(log, "utf8")) as string[][];
        const xs = config.x.length > 1 ? [...config.x, "y"] : ["x", "y"];
        assert.deepEqual(logHeader, ["sensor", ...xs, "time", "diff"]);
        assert.equal(logBody.length, data.length);
        assert.deepEqual(logBody.map((row) => row[0]), data.map((r) => r.key));
      }
      // The unkeyed model run over one key's points ends on the same row.
      const one = join(dir, "one.csv");
      await writeFile(one, csv(data.filter((r) => r.key === "s1"), true));
      const plain = await runCli(runner, [
        ...["--source", "csv", "--input", one, ...flags, "--output", "-", "--no-input-log"],
      ]);
      assert.equal(plain.code, 0, plain.stderr);
      const last = (parse(plain.stdout) as string[][]).at(-1)!;
      assert.equal(last.slice(0, -2).join(","), expected.get("s1"));
    }
  }
  await rm(dir, { recursive: true });
});

/** Each window's expected row: the exact fit of the points in [start, start + size), none late. */
function windowReference(data: readonly Row[], size: number, hop: number, config: ModelConfig) {
  const inWindow = new Map<string, Row[]>();
  for (const r of data) {
    const pane = Math.floor(r.t / hop);
    for (let w = pane - size / hop + 1; w <= pane; w++) {
      const id = `${r.key} ${w * hop} ${w * hop + size}`;
      const list = inWindow.get(id) ?? [];
      list.push(r);
      inWindow.set(id, list);
    }
  }
  const expected = new Map<string, string>();
  for (const [id, list] of inWindow) {
    const net = list.reduce((s, r) => s + r.diff, 0);
    if (net > 0) expected.set(id, expectedCells(pointsOf(list, config), config));
  }
  return expected;
}

test("--window tumbling and sliding with several x and --stats: each window's row is the exact fit of its points", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-windows-model-"));
  const data = rows(200, 11, true);
  const input = join(dir, "w.csv");
  await writeFile(input, csv(data, true));
  const { flags, config } = MODELS[0];
  for (
    const [spec, size, hop] of [["sliding:10m,2m", 10 * MIN, 2 * MIN], [
      "tumbling:5m",
      5 * MIN,
      5 * MIN,
    ]] as const
  ) {
    const expected = windowReference(data, size, hop, config);
    for (const runner of RUNNERS) {
      for (const commitRows of spec.startsWith("sliding") ? ["1", "23", "100000"] : ["23"]) {
        const r = await runCli(runner, [
          ...["--source", "csv", "--input", input, "--key", "sensor", "--time", "ts", "--window", spec],
          ...["--lateness", "3m", ...flags, "--commit-rows", commitRows, "--output", "-", "--no-input-log"],
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [header, ...body] = parse(r.stdout) as string[][];
        assert.deepEqual(header, [
          "sensor",
          "window_start",
          "window_end",
          ...resultColumns(config),
          "time",
          "diff",
        ]);
        assert.deepEqual(sorted(standing(body, 3)), sorted(expected), `${spec} ${runner} ${commitRows}`);
      }
    }
  }
  await rm(dir, { recursive: true });
});

test("--window without --key, a polynomial: each window's row is the exact fit of the stream's points in it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-windows-model-"));
  const data = rows(150, 13, true).map((r) => ({ ...r, key: "" }));
  const input = join(dir, "w.csv");
  await writeFile(input, csv(data, true).replace(/^sensor,/, "").replace(/\n,/g, "\n"));
  const { flags, config } = MODELS[1];
  const expected = new Map(
    [...windowReference(data, 5 * MIN, 5 * MIN, config)].map(([id, cells]) => [id.trim(), cells]),
  );
  for (const runner of RUNNERS) {
    const r = await runCli(runner, [
      ...["--source", "csv", "--input", input, "--time", "ts", "--window", "tumbling:5m", "--lateness", "3m"],
      ...[...flags, "--commit-rows", "19", "--output", "-", "--no-input-log"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...body] = parse(r.stdout) as string[][];
    assert.deepEqual(header, ["window_start", "window_end", ...resultColumns(config), "time", "diff"]);
    assert.deepEqual(sorted(standing(body, 2)), sorted(expected), runner);
  }
  await rm(dir, { recursive: true });
});

test("--window last:N with several x: each key's row is the exact fit of its last N points", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-last-model-"));
  const data = rows(150, 5, false);
  const input = join(dir, "l.csv");
  await writeFile(input, csv(data, false));
  const config: ModelConfig = { x: ["x1", "x2"], y: "y", degree: 1, intercept: true, stats: false };
  const expected = new Map<string, string>();
  for (const key of new Set(data.map((r) => r.key))) {
    const mine = data.filter((r) => r.key === key);
    const last = mine.slice(-7);
    expected.set(
      `${key} ${mine.length - last.length + 1} ${mine.length}`,
      expectedCells(modelPoints(last, config), config),
    );
  }
  for (const runner of RUNNERS) {
    for (const commitRows of ["1", "100000"]) {
      const r = await runCli(runner, [
        ...["--source", "csv", "--input", input, "--key", "sensor", "--window", "last:7", "--x", "x1,x2"],
        ...["--commit-rows", commitRows, "--output", "-", "--no-input-log"],
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [header, ...body] = parse(r.stdout) as string[][];
      assert.deepEqual(header, ["sensor", "window_start", "window_end", "a", "b_x1", "b_x2", "time", "diff"]);
      // Each key has one standing row: its latest window.
      assert.deepEqual(
        sorted(standing(body, 1)),
        sorted(
          new Map([...expected].map(([id, cells]) => {
            const [key, start, end] = id.split(" ");
            return [key, `${start},${end},${cells}`];
          })),
        ),
        `${runner} ${commitRows}`,
      );
    }
  }
  await rm(dir, { recursive: true });
});

test("--key with a model: what is not supported is refused with a usage error", async () => {
  for (const runner of RUNNERS) {
    const csvFlags = ["--source", "csv", "--input", "-", "--key", "sensor", "--x", "x1,x2"];
    const serve = await runCli(runner, [...csvFlags, "--serve", "0"]);
    assert.equal(serve.code, 2);
    assert.match(serve.stderr, /--serve with --key or --window .* not supported yet/);
    const last = await runCli(runner, [...csvFlags, "--window", "last:5", "--state", "/tmp/streamreg-never"]);
    assert.equal(last.code, 2);
    assert.match(last.stderr, /--window last:N with --state is not supported yet/);
  }
});
