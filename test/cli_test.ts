/**
 * End-to-end tests of the `regress` command: the real Deno and Bun runners as subprocesses.
 * Every test runs both runners, whichever runtime runs the tests.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { size } from "./cli_helpers.ts";
import { test } from "./harness.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules/deno/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");

type Runner = "deno" | "bun";
const RUNNERS: Runner[] = ["deno", "bun"];

function command(runner: Runner, root = ROOT): [string, string[]] {
  return runner === "deno"
    ? [DENO, ["run", "-A", join(root, "src/runtime/deno_main.ts")]]
    : [BUN, ["run", join(root, "src/runtime/bun_main.ts")]];
}

interface RunOptions {
  cwd?: string;
  stdin?: string;
  root?: string;
  /** The child's environment (default this process's), NO_COLOR=1 added. */
  env?: Record<string, string | undefined>;
  /** Send this signal once `when` (polled every 50 ms) is true. */
  stop?: { signal: "SIGINT" | "SIGTERM"; when: () => Promise<boolean> };
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(runner: Runner, args: string[], options: RunOptions = {}): Promise<Result> {
  const [exe, pre] = command(runner, options.root);
  return spawnCollect(exe, [...pre, ...args], options);
}

function spawnCollect(exe: string, args: string[], options: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...(options.env ?? process.env), NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end(options.stdin ?? "");
    if (options.stop) {
      const { signal, when } = options.stop;
      const deadline = Date.now() + 10_000; // signal anyway after 10 s; the assertions will tell
      const poll = async () => {
        if (child.exitCode !== null) return;
        // process.kill, not child.kill: after child.kill, Deno's node:child_process reports the exit as
        // "killed by the signal" even when the child handled it and exited 0 (Deno 2.9).
        if (Date.now() > deadline || await when().catch(() => false)) process.kill(child.pid!, signal);
        else setTimeout(poll, 50);
      };
      setTimeout(poll, 50);
    }
  });
}

const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-cli-"));

const readCsv = async (path: string) =>
  (await readFile(path, "utf8")).trim().split("\n").map((l) => l.split(","));

async function seedPoints(): Promise<string[][]> {
  return (await readFile(new URL("./fixtures/seed_points.csv", import.meta.url), "utf8")).trim().split(
    "\n",
  )
    .slice(1).map((l) => l.split(","));
}

async function expectedLines(): Promise<number[][]> {
  return (await readFile(new URL("./fixtures/seed_expected_exact.csv", import.meta.url), "utf8"))
    .trim()
    .split("\n").slice(1).map((l) => l.split(",").slice(1).map(Number));
}

/** Checks the shape of a result change log; returns its +1 rows as [a, b]. */
function checkResultLog(rows: string[][]): number[][] {
  assert.deepEqual(rows[0], ["a", "b", "time", "diff"]);
  const body = rows.slice(1);
  const inserted: number[][] = [];
  let current: string[] | undefined;
  let lastTime = -Infinity;
  for (const [i, row] of body.entries()) {
    assert.equal(row.length, 4, `row ${i + 2}: ${row}`);
    for (const field of row) assert.match(field, /^-?\d+(\.\d+)?(e[+-]\d+)?$/, `row ${i + 2}: ${row}`);
    const time = Number(row[2]);
    if (row[3] === "-1") {
      assert.deepEqual(row.slice(0, 2), current, "a retraction names the current line");
      assert.ok(time > lastTime, "each batch has a later time");
      current = undefined;
      lastTime = time;
    } else {
      assert.equal(row[3], "1");
      assert.equal(current, undefined, "a new line only after the old one is retracted");
      if (body[i - 1]?.[3] === "-1") assert.equal(time, lastTime, "retraction and insertion share the time");
      else assert.ok(time > lastTime);
      lastTime = time;
      current = row.slice(0, 2);
      inserted.push(current.map(Number));
    }
  }
  return inserted;
}

const withoutTime = (csv: string) =>
  csv.split("\n").map((l) => l.split(",").filter((_, i) => i !== 2).join(",")).join("\n");

test(
  "cli: the default run (no flags) streams the tutorial's points, one per second, with the exact lines",
  async () => {
    const dirs = await Promise.all(RUNNERS.map(() => tempDir()));
    const results = await Promise.all(RUNNERS.map((runner, i) => run(runner, [], { cwd: dirs[i] })));
    const points = await seedPoints();
    const expected = await expectedLines();
    for (const [i, runner] of RUNNERS.entries()) {
      assert.equal(results[i].code, 0, `${runner}: ${results[i].stderr}`);
      assert.equal(results[i].stdout, "");
      assert.equal(results[i].stderr, "", `${runner}: quiet when stderr is not a terminal`);
      const input = await readCsv(join(dirs[i], "regression_input.csv"));
      assert.deepEqual(input[0], ["x", "y", "time", "diff"]);
      assert.deepEqual(input.slice(1).map((r) => r.slice(0, 2)), points, `${runner}: the tutorial's points`);
      const output = await readCsv(join(dirs[i], "regression_output_stream.csv"));
      assert.deepEqual(checkResultLog(output), expected, `${runner}: one batch per point, exact lines`);
      assert.deepEqual(output.at(-1), ["0.025649728471302445", "0.9958341214647296", output.at(-1)![2], "1"]);
      const times = input.slice(1).map((r) => Number(r[2]));
      assert.ok(times.at(-1)! - times[0] >= 7500, `${runner}: batches over ~8 s (points at 0..9 s)`);
      await rm(dirs[i], { recursive: true });
    }
  },
  { timeoutMs: 60_000 },
);

test("cli: stdout carries only the result change log (progress goes to stderr)", async () => {
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--rate",
      "0",
      "--commit-rows",
      "1",
      "--output",
      "-",
      "--no-input-log",
      "--verbose",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trimEnd().split("\n").map((l) => l.split(","));
    assert.ok(r.stdout.endsWith("\n"));
    assert.deepEqual(checkResultLog(rows), await expectedLines());
    assert.match(
      r.stderr,
      /streamreg: 10 points · 10 batches · .* · a = 0\.025649728471302445 · b = 0\.9958341214647296/,
    );
  }
});

test("cli: the input change log on stdout is the tutorial's points", async () => {
  const dir = await tempDir();
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--rate",
      "0",
      "--commit-rows",
      "1",
      "--input-log",
      "-",
      "--output",
      join(dir, "o.csv"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").map((l) => l.split(","));
    assert.deepEqual(rows[0], ["x", "y", "time", "diff"]);
    assert.deepEqual(rows.slice(1).map((row) => row.slice(0, 2)), await seedPoints());
    assert.ok(rows.slice(1).every((row) => row[3] === "1"));
  }
  await rm(dir, { recursive: true });
});

test("cli: the input log writes each accepted point's numbers as formatNumber does, whatever their text", async () => {
  const dir = await tempDir();
  const values = [
    "1700000000.123", // written as String writes it: copied
    "850000001.3153778",
    "0.30000000000000004",
    "1.50", // not: formatted
    "+2",
    ".5",
    "1e3",
    "0.10000000000000001",
    "4503599627370496.5",
    "-0",
    "5e-324",
    "1e-7",
  ];
  const rows = ["x,y,diff,note"];
  for (const a of values) {
    for (const b of ["2.5", "2.50", "0.1"]) {
      rows.push(`${a},${b},1,plain`, `${a},${b},1,é`, `"${a}",${b},1,q\r`);
    }
  }
  rows.push("abc,1,1,bad", "1700000000.123,2.5,-1,retract");
  const input = join(dir, "mixed.csv");
  await writeFile(input, rows.join("\n") + "\n");
  const expected = ["x,y,diff"];
  for (const row of rows.slice(1)) {
    const [x, y, diff] = row.replaceAll('"', "").split(",");
    if (x === "abc" || x === "5e-324") continue; // rejected (5e-324: out of the core's range)
    const format = (v: number) => Object.is(v, -0) ? "-0" : String(v);
    expected.push(`${format(Number(x))},${format(Number(y))},${diff}`);
  }
  for (const runner of RUNNERS) {
    const log = join(dir, `${runner}_in.csv`);
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      input,
      "--output",
      join(dir, `${runner}_out.csv`),
      "--input-log",
      log,
      "--dead-letter",
      join(dir, `${runner}_dead.csv`),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = (await readFile(log, "utf8")).trim().split("\n").map((line) => {
      const f = line.split(",");
      return `${f[0]},${f[1]},${f[3]}`;
    });
    assert.deepEqual(got, expected);
  }
  await rm(dir, { recursive: true });
});

test("cli: a change log fed back in (file or stdin, with retractions) rebuilds the same line", async () => {
  const dir = await tempDir();
  const demo = ["--seed", "7", "--slope", "3", "--intercept", "-2", "--noise", "0.5", "--rate", "0"];
  for (const runner of RUNNERS) {
    const log = join(dir, `${runner}_in.csv`);
    const out = join(dir, `${runner}_out.csv`);
    const first = await run(runner, [
      ...demo,
      "--rows",
      "200",
      "--commit-rows",
      "13",
      "--output",
      out,
      "--input-log",
      log,
    ]);
    assert.equal(first.code, 0, first.stderr);
    const finalLine = (await readCsv(out)).at(-1)!.slice(0, 2);

    const replay = await run(runner, ["--source", "csv", "--input", log, "--output", "-", "--no-input-log"]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.deepEqual(replay.stdout.trim().split("\n").at(-1)!.split(",").slice(0, 2), finalLine);

    const piped = await run(runner, ["--source", "csv", "--input", "-", "--output", "-", "--no-input-log"], {
      stdin: await readFile(log, "utf8"),
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(piped.stdout.trim().split("\n").at(-1)!.split(",").slice(0, 2), finalLine);

    // Retract the last 50 points: the line must be exactly that of the first 150 points.
    const rows = (await readCsv(log)).slice(1);
    await appendFile(log, rows.slice(150).map((r) => `${r[0]},${r[1]},${r[2]},-1\n`).join(""));
    const retracted = await run(runner, [
      "--source",
      "csv",
      "--input",
      log,
      "--output",
      "-",
      "--input-log",
      join(dir, "re.csv"),
    ]);
    assert.equal(retracted.code, 0, retracted.stderr);
    const short = await run(runner, [...demo, "--rows", "150", "--output", "-", "--no-input-log"]);
    assert.deepEqual(
      retracted.stdout.trim().split("\n").at(-1)!.split(",").slice(0, 2),
      short.stdout.trim().split("\n").at(-1)!.split(",").slice(0, 2),
    );
    const relog = (await readCsv(join(dir, "re.csv"))).slice(1);
    assert.equal(relog.length, 250);
    assert.equal(relog.filter((r) => r[3] === "-1").length, 50);
  }
  await rm(dir, { recursive: true });
});

test("cli: Deno and Bun write identical bytes, times aside", async () => {
  const dir = await tempDir();
  const args = [
    "--rows",
    "500",
    "--rate",
    "0",
    "--commit-rows",
    "7",
    "--slope",
    "-1e-3",
    "--intercept",
    "1e6",
    "--seed",
    "3",
  ];
  const outs: string[] = [];
  const ins: string[] = [];
  for (const runner of RUNNERS) {
    const log = join(dir, `${runner}.csv`);
    const r = await run(runner, [...args, "--output", "-", "--input-log", log]);
    assert.equal(r.code, 0, r.stderr);
    outs.push(r.stdout);
    ins.push(await readFile(log, "utf8"));
  }
  assert.ok(outs[0].split("\n").length > 100);
  assert.equal(withoutTime(outs[0]), withoutTime(outs[1]));
  assert.equal(withoutTime(ins[0]), withoutTime(ins[1]));
  const csv = "x,y,diff\n" +
    Array.from({ length: 300 }, (_, i) => `${i * 1e-3},${Math.sin(i)},1`).join("\n") +
    "\n";
  const csvOuts = await Promise.all(
    RUNNERS.map((runner) =>
      run(runner, [
        "--source",
        "csv",
        "--input",
        "-",
        "--commit-rows",
        "1",
        "--output",
        "-",
        "--no-input-log",
      ], { stdin: csv })
    ),
  );
  assert.equal(withoutTime(csvOuts[0].stdout), withoutTime(csvOuts[1].stdout));
  assert.equal(csvOuts[0].stdout.split("\n").length, 2 + 1 + 2 * 299);
  await rm(dir, { recursive: true });
});

test("cli: usage errors exit 2 with one line naming the flag", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], "streamreg: unknown flag --bogus: see --help for the flags\n"],
    [["--rate", "fast"], 'streamreg: --rate: expected a number ≥ 0, got "fast"\n'],
    [["--rows"], "streamreg: --rows needs a value: --rows N\n"],
    [["--commit-ms", "0"], 'streamreg: --commit-ms: expected a number > 0, got "0"\n'],
    [["--source", "csv"], "streamreg: --source csv needs --input PATH (a CSV file, or - for stdin)\n"],
    [["--source", "nope"], 'streamreg: --source: unknown source "nope": use one of demo, csv, kafka\n'],
    [
      ["--output", "-", "--input-log", "-"],
      "streamreg: --output and --input-log cannot both be stdout (-): send one to a file or use --no-input-log\n",
    ],
  ];
  for (const runner of RUNNERS) {
    for (const [args, message] of cases) {
      const r = await run(runner, args);
      assert.equal(r.code, 2, `${runner} ${args.join(" ")}`);
      assert.equal(r.stderr, message);
      assert.equal(r.stdout, "");
    }
  }
});

test("cli: --help lists every flag with its default and examples, exit 0", async () => {
  for (const runner of RUNNERS) {
    const r = await run(runner, ["--help"]);
    assert.equal(r.code, 0);
    for (
      const flag of [
        "--source NAME",
        "--commit-ms MS",
        "--commit-rows N",
        "--output PATH",
        "--input-log PATH",
        "--no-input-log",
        "--verbose",
        "--rows N",
        "--rate N",
        "--slope B",
        "--intercept A",
        "--noise E",
        "--seed N",
        "--input PATH",
        "--x COLUMN",
        "--y COLUMN",
        "--diff COLUMN",
      ]
    ) {
      assert.ok(r.stdout.includes(flag), `${runner}: ${flag}`);
    }
    assert.match(r.stdout, /\(default: 1000\)/);
    assert.match(r.stdout, /\(default: regression_output_stream\.csv\)/);
    assert.match(r.stdout, /Examples:/);
  }
});

test("cli: run-time failures exit 1 with a message", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "bad.csv"), "x,y\n1,2\n2,3\n3,oops\n");
  for (const runner of RUNNERS) {
    const missing = await run(
      runner,
      ["--source", "csv", "--input", join(dir, "none.csv"), "--output", "-"],
      { cwd: dir },
    );
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      `streamreg: cannot read "${join(dir, "none.csv")}": no such file or directory\n`,
    );

    const bad = await run(runner, [
      "--source",
      "csv",
      "--input",
      "bad.csv",
      "--output",
      "-",
      "--no-input-log",
      "--on-error",
      "fail",
    ], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'streamreg: bad.csv line 4: y is "oops", not a number [not_a_number] (stopped at the first bad record: --on-error fail)\n',
    );
    assert.match(bad.stdout, /^a,b,time,diff\n1,1,\d+,1\n$/);

    const unwritable = await run(runner, ["--rate", "0", "--output", join(dir, "no/such/dir.csv")], {
      cwd: dir,
    });
    assert.equal(unwritable.code, 1);
    assert.match(
      unwritable.stderr,
      /^streamreg: cannot write ".*no\/such\/dir\.csv": no such file or directory\n$/,
    );
  }
  await rm(dir, { recursive: true });
});

test("cli: without build/streamreg.wasm, exit 1 and say how to build it", async () => {
  const dir = await tempDir();
  await cp(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  await cp(join(ROOT, "deno.json"), join(dir, "deno.json"));
  await cp(join(ROOT, "package.json"), join(dir, "package.json"));
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  await mkdir(join(dir, "build"));
  for (const runner of RUNNERS) {
    const r = await run(runner, ["--rate", "0", "--output", "-"], { root: dir, cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, "streamreg: build/streamreg.wasm not found: run `npm run build:wasm` first\n");
  }
  await rm(dir, { recursive: true });
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`cli: ${signal} closes the open batch, flushes the files and exits 0`, async () => {
    const dir = await tempDir();
    for (const runner of RUNNERS) {
      const out = join(dir, `${runner}_out.csv`);
      const log = join(dir, `${runner}_in.csv`);
      const lines = async () => (await readFile(out, "utf8")).split("\n").length;
      const r = await run(runner, [
        "--rows",
        "0",
        "--rate",
        "500",
        "--commit-ms",
        "100",
        "--output",
        out,
        "--input-log",
        log,
      ], {
        stop: { signal, when: async () => (await lines()) > 6 },
      });
      assert.equal(r.code, 0, `${runner}: ${JSON.stringify(r)}`);
      const output = await readFile(out, "utf8");
      const input = await readFile(log, "utf8");
      assert.ok(output.endsWith("\n") && input.endsWith("\n"), "complete lines");
      checkResultLog(output.trim().split("\n").map((l) => l.split(",")));
      // Everything accepted was logged: replaying the input log gives the last line written.
      const replay = await run(runner, [
        "--source",
        "csv",
        "--input",
        log,
        "--output",
        "-",
        "--no-input-log",
      ]);
      assert.equal(
        replay.stdout.trim().split("\n").at(-1)!.split(",").slice(0, 2).join(","),
        output.trim().split("\n").at(-1)!.split(",").slice(0, 2).join(","),
      );
      assert.ok(input.split("\n").length > 10);
    }
    await rm(dir, { recursive: true });
  }, { timeoutMs: 60_000 });
}

test("cli: when the reader of stdout goes away (| head), stop quietly with exit 0", async () => {
  for (const runner of RUNNERS) {
    const [exe, pre] = command(runner);
    const args = [
      ...pre,
      "--rows",
      "0",
      "--rate",
      "0",
      "--commit-rows",
      "1",
      "--output",
      "-",
      "--no-input-log",
    ];
    const result = await new Promise<{ code: number | null; stderr: string; got: string }>(
      (resolve, reject) => {
        const child = spawn(exe, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        let got = "";
        child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
        child.stdout!.setEncoding("utf8").once("data", (s: string) => {
          got = s;
          child.stdout!.destroy(); // like `head` exiting
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stderr, got }));
      },
    );
    assert.equal(result.code, 0, `${runner}: ${result.stderr}`);
    assert.equal(result.stderr, "");
    assert.match(result.got, /^a,b,time,diff\n/);
  }
});

test("cli: `deno task regress` and `bun run regress` run the runners", async () => {
  const args = ["--rate", "0", "--output", "-", "--no-input-log"];
  const viaDeno = await spawnCollect(DENO, ["task", "-q", "regress", ...args], {});
  const viaBun = await spawnCollect(BUN, ["run", "--silent", "regress", ...args], {});
  for (const r of [viaDeno, viaBun]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^a,b,time,diff\n0\.025649728471302445,0\.9958341214647296,\d+,1\n$/);
  }
});

/** The regress command through the package scripts, as a user of a clone runs it. */
function runTask(runner: Runner, args: string[]): Promise<Result> {
  return runner === "deno"
    ? spawnCollect(DENO, ["task", "-q", "regress", ...args], {})
    : spawnCollect(BUN, ["run", "--silent", "regress", ...args], {});
}

const ONE_BATCH = /^a,b,time,diff\n0\.025649728471302445,0\.9958341214647296,\d+,1\n$/;

test("cli: /dev/stdout, /dev/fd/1 and /proc/self/fd/1 as --output write into the stdout pipe (runners and tasks)", async () => {
  for (const runner of RUNNERS) {
    for (const path of ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]) {
      const args = ["--rate", "0", "--output", path, "--no-input-log"];
      const runs = [["runner", await run(runner, args)], ["task", await runTask(runner, args)]] as const;
      for (const [how, r] of runs) {
        assert.equal(r.code, 0, `${runner} ${how} ${path}: ${r.stderr}`);
        assert.equal(r.stderr, "", `${runner} ${how} ${path}`);
        assert.match(r.stdout, ONE_BATCH, `${runner} ${how} ${path}`);
      }
    }
    // The input log on /dev/stdout, the result log in a file.
    const dir = await tempDir();
    try {
      const args = ["--rate", "0", "--output", join(dir, "out.csv"), "--input-log", "/dev/stdout"];
      const r = await runTask(runner, args);
      assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
      const points = (await seedPoints()).map(([x, y]) => `${x},${y}`);
      const logged = r.stdout.trim().split("\n").map((l) => l.split(",").slice(0, 2).join(","));
      assert.deepEqual(logged, ["x,y", ...points]);
      assert.match(await readFile(join(dir, "out.csv"), "utf8"), ONE_BATCH);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test("cli: with --state, outputs that are not regular files are refused up front (exit 2, nothing written)", async () => {
  const cases: [string[], string][] = [
    [
      ["--output", "/dev/stdout"],
      "streamreg: --state needs file outputs: --output /dev/stdout (stdout) cannot be cut back after a crash; " +
      "give a file path, or run without --state\n",
    ],
    [
      ["--output", "/proc/self/fd/1"],
      "streamreg: --state needs file outputs: --output /proc/self/fd/1 (stdout) cannot be cut back after a " +
      "crash; give a file path, or run without --state\n",
    ],
    [
      ["--output", "/dev/null"],
      'streamreg: --state needs regular files as outputs: --output "/dev/null" is a character device, which ' +
      "cannot be cut back after a crash; give a file path, or run without --state\n",
    ],
  ];
  for (const runner of RUNNERS) {
    for (const [output, message] of cases) {
      const dir = await tempDir();
      try {
        const state = join(dir, "state");
        const args = ["--rate", "0", ...output, "--no-input-log", "--state", state];
        for (const r of [await run(runner, args), await runTask(runner, args)]) {
          assert.equal(r.code, 2, `${runner} ${output.join(" ")}: ${r.stderr}`);
          assert.equal(r.stderr, message);
          assert.equal(r.stdout, "", "not even the header");
          assert.equal(await stat(state).catch(() => undefined), undefined, "no state directory");
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    // Likewise the input log: a named pipe, then /dev/null.
    const dir = await tempDir();
    try {
      const fifo = join(dir, "fifo");
      execFileSync("mkfifo", [fifo]);
      for (const [path, kind] of [[fifo, "pipe"], ["/dev/null", "character device"]]) {
        const state = ["--state", join(dir, "state")];
        const r = await run(runner, [
          "--rate",
          "0",
          "--output",
          join(dir, "out.csv"),
          "--input-log",
          path,
          ...state,
        ]);
        assert.equal(r.code, 2, `${runner} ${path}: ${r.stderr}`);
        assert.equal(
          r.stderr,
          `streamreg: --state needs regular files as outputs: --input-log "${path}" is a ${kind}, which cannot be ` +
            "cut back after a crash; give a file path, or run without --state\n",
        );
        assert.equal(await size(join(dir, "out.csv")), 0, "nothing written");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test("cli: --output /dev/null --input-log /dev/null runs (the same-file check is for regular files)", async () => {
  for (const runner of RUNNERS) {
    const r = await run(runner, ["--rate", "0", "--output", "/dev/null", "--input-log", "/dev/null"]);
    assert.equal(r.code, 0, `${runner}: ${r.stderr}`);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "");
    const dir = await tempDir();
    try {
      const same = await run(runner, ["--rate", "0", "--output", "same.csv", "--input-log", "./same.csv"], {
        cwd: dir,
      });
      assert.equal(same.code, 2);
      assert.match(
        same.stderr,
        /^streamreg: --output "same\.csv" and --input-log "\.\/same\.csv" are the same file/,
      );
      assert.equal(await size(join(dir, "same.csv")), 0, "not created");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test("cli: an output path that cannot be written is named, with no advice about Deno's permission flags", async () => {
  for (const runner of RUNNERS) {
    // /dev/full: ENOSPC, or (deno task regress) a device file Deno's sandbox does not open.
    const args = ["--rate", "0", "--output", "/dev/full", "--no-input-log"];
    for (const r of [await run(runner, args), await runTask(runner, args)]) {
      assert.equal(r.code, 1, `${runner}: ${r.stderr}`);
      assert.match(r.stderr, /^streamreg: cannot write "?\/dev\/full"?: /, runner);
      assert.doesNotMatch(r.stderr, /--allow|run again with/i, runner);
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    }
  }
});

/** PATH without Deno or Bun, as on a clone after `npm ci` (they are in node_modules only); npm stays. */
function npmOnlyEnv(): Record<string, string | undefined> {
  const bare = (process.env.PATH ?? "").split(delimiter)
    .filter((dir) => dir !== "" && !existsSync(join(dir, "deno")) && !existsSync(join(dir, "bun")));
  assert.ok(bare.some((dir) => existsSync(join(dir, "npm"))), "npm on PATH");
  return { ...process.env, PATH: bare.join(delimiter), npm_config_update_notifier: "false" };
}

/** The first code block opening with "```" + `lang` after the heading `heading` of a Markdown file. */
async function firstBlock(file: string, heading: string, lang: string): Promise<string> {
  const text = await readFile(join(ROOT, file), "utf8");
  const section = text.split(`\n${heading}\n`)[1];
  assert.ok(section !== undefined, `${file} has a section "${heading}"`);
  const block = section.split(`\n\`\`\`${lang}\n`)[1]?.split("\n```")[0];
  assert.ok(block !== undefined, `${file}, "${heading}": a \`\`\`${lang} block`);
  return block;
}

test("cli: the stdout examples under Running in docs/cli.md work with only Node and npm on PATH", async () => {
  const block = await firstBlock("docs/cli.md", "## Running", "sh");
  const lines = block.split("\n").map((l) => l.replace(/\s+#.*$/, ""));
  const commands = lines.filter((l) => l.includes("--output -"));
  assert.ok(commands.length > 0, block);
  const env = npmOnlyEnv();
  for (const line of commands) {
    const r = await spawnCollect("sh", ["-c", line], { env });
    assert.equal(r.code, 0, `${line}: ${r.stderr}`);
    assert.match(r.stdout, ONE_BATCH, line);
  }
});

test(
  "cli: the README's sample output is what its command prints with only Node and npm on PATH (times aside)",
  async () => {
    const block = await firstBlock("README.md", "## What it does", "console");
    const [prompt, ...shown] = block.split("\n");
    assert.match(prompt, /^\$ npx /, "the sample starts with the command, run through npx");
    const expected = await expectedLines();
    // The sample itself: the exact line after each of the tutorial's points, as a change log.
    assert.deepEqual(checkResultLog(shown.map((l) => l.split(","))), expected, "the README's sample");
    // Run from the repository's root (spawnCollect's default cwd), as a reader of the README would.
    const r = await spawnCollect("sh", ["-c", prompt.slice(2)], { env: npmOnlyEnv() });
    assert.equal(r.code, 0, `${prompt}: ${r.stderr}`);
    const rows = r.stdout.trimEnd().split("\n").map((l) => l.split(","));
    assert.deepEqual(checkResultLog(rows), expected, prompt);
    assert.equal(
      withoutTime(r.stdout.trimEnd()),
      withoutTime(shown.join("\n")),
      "the README shows this output",
    );
  },
  { timeoutMs: 60_000 },
);
