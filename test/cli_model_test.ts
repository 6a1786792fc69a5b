/**
 * End-to-end tests of the model flags (`--x COL,…`, `--degree`, `--no-intercept`, `--stats`) through the
 * real Deno and Bun runners: header names, rows, empty cells for aliased columns and the stderr line that
 * names them, rejections per column, `--state` (resuming, and refusing another model), NIST Longley and
 * Pontius and Filip equal, bit for bit, to the exact answer for the files' doubles (the independent BigInt
 * reference, test/model_reference.ts) and within 1e-13 of NIST's certified values; the one-x outputs are
 * checked byte for byte by `cli_test.ts`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "./harness.ts";
import { exactModelFit, NIST_CERTIFIED, parseNist, type ReferenceFit } from "./model_reference.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NIST = join(ROOT, "test/fixtures/nist");
type Runner = "deno" | "bun";
const RUNNERS: Runner[] = ["deno", "bun"];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(runner: Runner, args: string[], cwd = ROOT): Promise<Result> {
  const [exe, pre] = runner === "deno"
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, "src/runtime/bun_main.ts")]];
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...pre, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end();
  });
}

const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-model-"));
const rows = (csv: string) => csv.trim().split("\n").map((line) => line.split(","));

/** The cells of the last row with diff 1, by header name. */
function lastInserted(csv: string): Record<string, string> {
  const [header, ...body] = rows(csv);
  const last = body.filter((row) => row.at(-1) === "1").at(-1)!;
  return Object.fromEntries(header.map((name, i) => [name, last[i]]));
}

/**
 * The last inserted line's cells equal the exact reference's numbers read back bit for bit (an aliased or
 * undefined number is an empty cell); `names` are the coefficient columns, `stats` whether n, r2, sigma and
 * the se_ columns are there.
 */
function assertExact(
  last: Record<string, string>,
  names: string[],
  want: ReferenceFit,
  stats: boolean,
): void {
  const cell = (v: number) => (Number.isNaN(v) ? "" : v);
  const got = (name: string) => (last[name] === "" ? "" : Number(last[name]));
  names.forEach((name, i) => assert.equal(got(name), cell(want.coefficients[i]), name));
  if (!stats) return;
  assert.equal(Number(last.n), want.n);
  assert.equal(got("r2"), cell(want.r2), "r2");
  assert.equal(got("sigma"), cell(want.sigma), "sigma");
  names.forEach((name, i) => assert.equal(got(`se_${name}`), cell(want.se[i]), `se_${name}`));
}

function close(got: string, want: number, what: string): void {
  const v = Number(got);
  assert.ok(got !== "" && Math.abs(v - want) <= 1e-13 * Math.abs(want), `${what}: ${got}, certified ${want}`);
}

/** Checks the change-log shape: every row as wide as the header, -1 rows retract the row before. */
function checkRows(csv: string): void {
  const [header, ...body] = rows(csv);
  let current: string | undefined;
  for (const row of body) {
    assert.equal(row.length, header.length, row.join(","));
    const cells = row.slice(0, -2).join(",");
    if (row.at(-1) === "-1") {
      assert.equal(cells, current);
      current = undefined;
    } else {
      assert.equal(row.at(-1), "1");
      assert.equal(current, undefined);
      current = cells;
    }
  }
}

const LONGLEY_X = "x1,x2,x3,x4,x5,x6";

/** A change log without its time column (the one before diff, the last). */
const withoutTimeColumn = (csv: string) =>
  rows(csv).map((row) => [...row.slice(0, -2), row.at(-1)].join(",")).join("\n");

test("cli model: NIST Longley with 6 x columns and --stats, under Deno and Bun", async () => {
  const dir = await tempDir();
  const outputs: string[] = [];
  for (const runner of RUNNERS) {
    const input = join(dir, `${runner}_in.csv`);
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      join(NIST, "longley.csv"),
      "--x",
      LONGLEY_X,
      "--stats",
      "--commit-rows",
      "5",
      "--commit-ms",
      "1e9",
      "--output",
      "-",
      "--input-log",
      input,
    ]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      "streamreg: aliased (exact linear combination of the columns before): b_x5, b_x6\n",
      `${runner}: 5 points fit at most 5 columns; from 10 points on, none is aliased (no new line)`,
    );
    assert.equal(
      r.stdout.split("\n")[0],
      "a,b_x1,b_x2,b_x3,b_x4,b_x5,b_x6,n,r2,sigma,se_a,se_b_x1,se_b_x2,se_b_x3,se_b_x4,se_b_x5,se_b_x6,time,diff",
    );
    checkRows(r.stdout);
    assert.equal(rows(r.stdout).length, 1 + 4 + 3, `${runner}: batches of 5, 5, 5 and 1 points`);
    const last = lastInserted(r.stdout);
    assert.equal(last.n, "16");
    const { coefficients: certified, sd: se } = NIST_CERTIFIED.longley;
    const names = ["a", ...LONGLEY_X.split(",").map((x) => `b_${x}`)];
    assertExact(
      last,
      names,
      exactModelFit(parseNist("longley").points, { k: 6, degree: 1, intercept: true }),
      true,
    );
    names.forEach((name, i) => close(last[name], certified[i], `${runner} ${name}`));
    names.forEach((name, i) => close(last[`se_${name}`], se[i], `${runner} se_${name}`));
    close(last.sigma, NIST_CERTIFIED.longley.residualSD, `${runner} sigma`);
    close(last.r2, NIST_CERTIFIED.longley.r2, `${runner} r2`);
    const inputLog = await readFile(input, "utf8");
    const source = await readFile(join(NIST, "longley.csv"), "utf8");
    assert.deepEqual(
      rows(inputLog).map((row) => row.filter((_, i) => i !== 7).join(",")),
      [
        "x1,x2,x3,x4,x5,x6,y,diff",
        ...rows(source).slice(1).map((row) => `${row.map((v) => String(Number(v))).join(",")},1`),
      ],
    );
    outputs.push(r.stdout);
  }
  assert.equal(
    withoutTimeColumn(outputs[0]),
    withoutTimeColumn(outputs[1]),
    "Deno and Bun write the same rows",
  );
  await rm(dir, { recursive: true });
});

test("cli model: a duplicated column and a constant one are aliased: empty cells, one stderr line per change", async () => {
  const dir = await tempDir();
  const path = join(dir, "points.csv");
  // x2 = x1 always; x3 is 0 for the first 4 points, then varies.
  const lines = ["x1,x2,x3,y"];
  const x3 = [0, 0, 0, 0, 1, 3, 2, 5, 4];
  for (let i = 0; i < 9; i++) lines.push(`${i},${i},${x3[i]},${2 * i + 3 * x3[i] + (i % 3) / 4}`);
  await writeFile(path, lines.join("\n") + "\n");
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      path,
      "--x",
      "x1,x2,x3",
      "--stats",
      "--commit-rows",
      "2",
      "--commit-ms",
      "1e9",
      "--output",
      "-",
      "--no-input-log",
    ]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      "streamreg: aliased (exact linear combination of the columns before): b_x2, b_x3\n" +
        "streamreg: aliased (exact linear combination of the columns before): b_x2\n",
      runner,
    );
    const [header, ...body] = rows(r.stdout);
    assert.deepEqual(header, "a,b_x1,b_x2,b_x3,n,r2,sigma,se_a,se_b_x1,se_b_x2,se_b_x3,time,diff".split(","));
    checkRows(r.stdout);
    assert.equal(body.length, 1 + 2 * 4, `${runner}: 5 batches, each changes the fit`);
    for (const row of body) {
      assert.equal(row[2], "", "b_x2 is always empty");
      assert.equal(row[9], "", "se_b_x2 is always empty");
    }
    const inserted = body.filter((row) => row.at(-1) === "1");
    assert.deepEqual(inserted.map((row) => row[4]), ["2", "4", "6", "8", "9"]);
    assert.deepEqual(inserted.map((row) => row[3] === ""), [true, true, false, false, false]);
    assert.equal(inserted[0][6], "", "sigma: 2 points, 2 columns kept: no degree of freedom");
  }
  await rm(dir, { recursive: true });
});

test("cli model: bad fields are rejected per column, with today's reasons; the fit leaves them out", async () => {
  const dir = await tempDir();
  const path = join(dir, "points.csv");
  await writeFile(
    path,
    [
      "t,u,v,diff",
      "1,2,3,1",
      "2,1,5,1",
      "3,4,4,1",
      "4,3,9,1",
      "x,1,1,1",
      "1,,1,1",
      "1,1e999,1,1",
      "1,1,NaN,1",
      "1,2,3,5",
      "9,9,9,-1",
      "1,2,3,-1",
      "1,2",
    ].join("\n") + "\n",
  );
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      path,
      "--x",
      "t,u",
      "--y",
      "v",
      "--output",
      join(dir, "out.csv"),
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      "-",
      "-q",
    ]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    assert.equal(
      r.stdout,
      [
        "source,location,reason,detail,raw",
        `${path},line 6,not_a_number,"t is ""x"", not a number","x,1,1,1"`,
        `${path},line 7,empty_field,u is empty: every point needs a number,"1,,1,1"`,
        `${path},line 8,overflow,"u is ""1e999"": too large for a double (it would read as Infinity)","1,1e999,1,1"`,
        `${path},line 9,nan,v is NaN,"1,1,NaN,1"`,
        `${path},line 10,bad_diff,"diff is ""5"": it must be 1 (add the point) or -1 (retract it)","1,2,3,5"`,
        `${path},line 11,unknown_retraction,"retracts (t, u, v) = (9, 9, 9), which is not among the points added","9,9,9,-1"`,
        `${path},line 13,missing_column,2 fields where the header has 4,"1,2"`,
        "",
      ].join("\n"),
    );
    const input = rows(await readFile(join(dir, "in.csv"), "utf8"));
    assert.deepEqual(input.map((row) => [...row.slice(0, 3), row[4]].join(",")), [
      "t,u,y,diff",
      "1,2,3,1",
      "2,1,5,1",
      "3,4,4,1",
      "4,3,9,1",
      "1,2,3,-1",
    ]);
    const last = lastInserted(await readFile(join(dir, "out.csv"), "utf8"));
    // Three points left: (2,1,5), (3,4,4), (4,3,9): v = a + b_t t + b_u u exactly, a = -0.5, b_t = 3.5, b_u = -1.5.
    assert.deepEqual(Object.keys(last), ["a", "b_t", "b_u", "time", "diff"]);
    close(last.a, -0.5, `${runner} a`);
    close(last.b_t, 3.5, `${runner} b_t`);
    close(last.b_u, -1.5, `${runner} b_u`);
  }
  await rm(dir, { recursive: true });
});

test("cli model: --state resumes a model run; another model, or --stats toggled, is refused", async () => {
  const dir = await tempDir();
  const path = join(dir, "longley.csv");
  const all = (await readFile(join(NIST, "longley.csv"), "utf8")).trim().split("\n");
  const common = ["--source", "csv", "--input", path, "--commit-rows", "8", "--commit-ms", "1e9"];
  for (const runner of RUNNERS) {
    await writeFile(path, all.slice(0, 9).join("\n") + "\n"); // the header and 8 points
    const flags = [...common, "--x", LONGLEY_X, "--stats"];
    const outs = ["--output", join(dir, "out.csv"), "--input-log", join(dir, "in.csv")];
    const state = ["--state", join(dir, "state")];
    let r = await run(runner, [...flags, ...outs, ...state]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    await appendFile(path, all.slice(9).join("\n") + "\n");
    r = await run(runner, [...flags, ...outs, ...state]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    const fresh = ["--output", join(dir, "fresh_out.csv"), "--input-log", join(dir, "fresh_in.csv")];
    r = await run(runner, [...flags, ...fresh]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    for (const name of ["out.csv", "in.csv"]) {
      const resumed = await readFile(join(dir, name), "utf8");
      const uninterrupted = await readFile(join(dir, `fresh_${name}`), "utf8");
      assert.equal(
        withoutTimeColumn(resumed),
        withoutTimeColumn(uninterrupted),
        `${runner}: ${name} resumed = uninterrupted`,
      );
    }
    for (
      const [other, says] of [
        [
          ["--x", "x1,x2,x3,x4,x5", "--stats"],
          /belongs to a run with --x "x1,x2,x3,x4,x5,x6", but this run has --x "x1,x2,x3,x4,x5"/,
        ],
        [
          ["--x", LONGLEY_X, "--stats", "--no-intercept"],
          /belongs to a run with --no-intercept \(none\), but this run has --no-intercept true/,
        ],
        [["--x", LONGLEY_X], /belongs to a run with --stats true, but this run has --stats \(none\)/],
        [
          ["--x", "x1", "--degree", "3", "--stats"],
          /belongs to a run with --x "x1,x2,x3,x4,x5,x6", but this run has --x "x1"/,
        ],
      ] as const
    ) {
      r = await run(runner, [...common, ...other, ...outs, ...state]);
      assert.equal(r.code, 1, `${runner} ${other.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, says);
      assert.match(r.stderr, /restart with the same settings, or use another --state directory/);
    }
    await rm(join(dir, "state"), { recursive: true });
  }
  // A checkpoint of the plain line is refused by a model run, and the other way round.
  await copyFile(join(ROOT, "test/fixtures/seed_points.csv"), join(dir, "seed.csv"));
  const seed = [
    "--source",
    "csv",
    "--input",
    join(dir, "seed.csv"),
    "--output",
    join(dir, "o.csv"),
    "--no-input-log",
  ];
  const state = ["--state", join(dir, "line_state")];
  let r = await run("deno", [...seed, ...state]);
  assert.equal(r.code, 0, r.stderr);
  r = await run("deno", [...seed, ...state, "--degree", "2"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /belongs to a run with --degree \(none\), but this run has --degree "2"/);
  await rm(dir, { recursive: true });
});

test("cli model: the demo stream with --stats, --degree and --no-intercept; Pontius at degree 2", async () => {
  for (const runner of RUNNERS) {
    const demo = ["--rate", "0", "--output", "-", "--no-input-log"];
    let r = await run(runner, [...demo, "--stats"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rows(r.stdout)[0].join(","), "a,b,n,r2,sigma,se_a,se_b,time,diff");
    const line = lastInserted(r.stdout);
    close(line.a, 0.025649728471302445, "a"); // the tutorial's line
    close(line.b, 0.9958341214647296, "b");
    assert.equal(line.n, "10");
    r = await run(runner, [...demo, "--degree", "3", "--no-intercept"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rows(r.stdout)[0].join(","), "b_x,b_x^2,b_x^3,time,diff");
    r = await run(runner, [...demo, "--no-intercept"]);
    assert.equal(rows(r.stdout)[0].join(","), "b,time,diff");
    r = await run(runner, [
      "--source",
      "csv",
      "--input",
      join(NIST, "pontius.csv"),
      "--degree",
      "2",
      "--stats",
      "--output",
      "-",
      "--no-input-log",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rows(r.stdout)[0].join(","), "a,b_x,b_x^2,n,r2,sigma,se_a,se_b_x,se_b_x^2,time,diff");
    const p = lastInserted(r.stdout);
    close(p.a, 0.673565789473684E-03, "B0");
    close(p.b_x, 0.732059160401003E-06, "B1");
    close(p["b_x^2"], -0.316081871345029E-14, "B2");
    close(p["se_b_x^2"], 0.486652849992036E-16, "se B2");
    close(p.sigma, 0.205177424076185E-03, "sigma");
    const pontius = exactModelFit(parseNist("pontius").points, { k: 1, degree: 2, intercept: true });
    assertExact(p, ["a", "b_x", "b_x^2"], pontius, true);
  }
});

test("cli model: NIST Filip at --degree 10 --stats gives the exact answer's bits under Deno and Bun (x^10 kept)", async () => {
  const want = exactModelFit(parseNist("filip").points, { k: 1, degree: 10, intercept: true });
  const names = ["a", "b_x", ...Array.from({ length: 9 }, (_, i) => `b_x^${i + 2}`)];
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      join(NIST, "filip.csv"),
      "--degree",
      "10",
      "--stats",
      "--commit-rows",
      "30",
      "--commit-ms",
      "1e9",
      "--output",
      "-",
      "--no-input-log",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rows(r.stdout)[0].slice(0, 11).join(","), names.join(","));
    const last = lastInserted(r.stdout);
    assert.notEqual(last["b_x^10"], "", `${runner}: x^10 is not aliased`);
    assertExact(last, names, want, true);
    close(last.a, -1467.48961422980, `${runner} B0`);
    close(last["b_x^10"], -0.402962525080404E-04, `${runner} B10`);
  }
});

test("cli model: usage errors exit 2 with one line; --help documents the flags and the header names", async () => {
  for (const runner of RUNNERS) {
    const r = await run(runner, ["--source", "csv", "--input", "-", "--x", "a,b", "--degree", "4"]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "streamreg: --degree 4 fits a polynomial in one x column, but --x names 2 (a,b): give one x column, " +
        "or leave --degree out\n",
    );
    assert.equal(r.stdout, "");
  }
  const help = (await run("deno", ["--help"])).stdout;
  for (
    const text of [
      "--degree D",
      "--no-intercept",
      "--stats",
      "--x COLUMN",
      "separated by commas",
      "b_x,b_x^2",
      "se_a,se_b",
      "n,r2,sigma",
    ]
  ) {
    assert.ok(help.includes(text), text);
  }
});
