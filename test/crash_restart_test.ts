/**
 * Crash and restart (`--state DIR`) through the real CLI, under Deno and Bun whichever runtime runs the
 * tests: SIGKILLs at random (seeded) moments while 100 000 points stream from a CSV file (and from the
 * demo stream), each followed by a restart, end with outputs identical to an uninterrupted run's (times
 * aside); a corrupt, truncated or mismatching state is refused with a clear message, never reset.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "./harness.ts";
import {
  assertResumedOutputs,
  assertSameOutputs,
  collect,
  killMidStream,
  random,
  readOutputs,
  size,
  sleep,
  track,
  withoutTime,
} from "./cli_helpers.ts";
import type { Outputs } from "./cli_helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules/deno/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");

type Runner = "deno" | "bun";
const RUNNERS: Runner[] = ["deno", "bun"];

function start(runner: Runner, args: string[], cwd: string): ChildProcess {
  const [exe, pre] = runner === "deno"
    ? [DENO, ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [BUN, ["run", join(ROOT, "src/runtime/bun_main.ts")]];
  return spawn(exe, [...pre, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: "pipe" });
}

const run = (runner: Runner, args: string[], cwd: string) => collect(start(runner, args, cwd));

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * 100 000 records: points with a diff column, 1 in 97 retracting an earlier point, and bad lines
 * (not a number; the retraction of a point never added), so that the multiset of points, the dead
 * letters and the retractions all cross restarts.
 */
function pointsCsv(records: number): string {
  const next = random(42);
  const held: string[] = [];
  const lines = ["x,y,diff"];
  for (let i = 0; i < records; i++) {
    if (i % 97 === 5 && held.length > 60) lines.push(`${held.splice(held.length - 50, 1)[0]},-1`);
    else if (i % 1000 === 7) lines.push("oops,1,1");
    else if (i % 1500 === 8) lines.push("123456,7,-1");
    else {
      const point = `${i / 7},${2 * i + next()}`;
      held.push(point);
      lines.push(`${point},1`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs `args` with `--state` in `dir`, SIGKILLing it `kills` times at random moments and restarting
 * it, then lets it finish. About one kill in four comes at a random time after the start (during
 * start-up or resumption, within 250 ms); the others once the input log has grown past a random
 * point of what is left, plus a random delay (up to 15 ms), so that every kill lands mid-stream. Returns the
 * number of kills that hit a running process.
 */
async function crashAndRestart(
  runner: Runner,
  args: string[],
  dir: string,
  options: { kills: number; seed: number; finalInputBytes: number },
): Promise<number> {
  const next = random(options.seed);
  const log = join(dir, "in.csv");
  let killed = 0;
  for (let k = 0; k < options.kills; k++) {
    const result = await killMidStream(track(start(runner, args, dir)), next, {
      k,
      kills: options.kills,
      log,
      finalBytes: options.finalInputBytes,
      earlyMs: 230,
      clamp: true,
    });
    if (result.signal === "SIGKILL") killed++;
    else assert.equal(result.code, 0, `${runner}: run ${k} ended by itself: ${result.stderr}`);
  }
  const last = await run(runner, args, dir);
  assert.equal(last.code, 0, `${runner}: the last restart: ${last.stderr}`);
  return killed;
}

test(
  "crash and restart: SIGKILLs at random moments while 100 000 CSV points stream, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-"));
    const csv = pointsCsv(100_000);
    await writeFile(join(dir, "points.csv"), csv);
    const args = (sub: string) => [
      "--source",
      "csv",
      "--input",
      "../points.csv",
      "--commit-rows",
      "500",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(sub === "ref" ? [] : ["--state", "state"]),
    ];
    for (const [r, runner] of RUNNERS.entries()) {
      const ref = join(dir, `${runner}-ref`);
      const crash = join(dir, `${runner}-crash`);
      for (const d of [ref, crash]) await mkdir(d);
      const uninterrupted = await run(runner, args("ref"), ref);
      assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
      const expected = await readOutputs(ref, true);
      assert.ok(expected.input.length > 2_000_000 && expected.dead!.split("\n").length > 100);

      const killed = await crashAndRestart(runner, args("crash"), crash, {
        kills: 13,
        seed: 1000 + r,
        finalInputBytes: expected.input.length,
      });
      assert.ok(killed >= 10, `${runner}: ${killed} SIGKILLs hit a running process`);
      assertSameOutputs(await readOutputs(crash, true), expected, `${runner} after ${killed} SIGKILLs`);

      // The run is complete: a restart has nothing to add and changes nothing.
      const again = await run(runner, args("crash"), crash);
      assert.equal(again.code, 0, again.stderr);
      assertSameOutputs(await readOutputs(crash, true), expected, `${runner}, restarted once complete`);
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  "crash and restart with --key: SIGKILLs while 60 000 points of 300 keys (with retractions) stream, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-keys-"));
    const next = random(77);
    const lines = ["sensor,x,y,diff"];
    const held: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      if (i % 2000 === 3) lines.push(`,1,2,1`);
      else if (i % 53 === 7 && held.length > 40) lines.push(`${held.splice(held.length - 30, 1)[0]},-1`);
      else if (i % 3001 === 11) lines.push("s1,123456,7,-1"); // never added: unknown_retraction
      else {
        const point = `s${Math.floor(next() * 300)},${i / 7},${2 * i + next()}`;
        held.push(point);
        lines.push(`${point},1`);
      }
    }
    await writeFile(join(dir, "points.csv"), lines.join("\n") + "\n");
    const args = (sub: string) => [
      "--source",
      "csv",
      "--input",
      "../points.csv",
      "--key",
      "sensor",
      "--commit-rows",
      "400",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(sub === "ref" ? [] : ["--state", "state"]),
    ];
    await keyedCrashRuns(dir, args, 3000, async (crash, expected, runner) => {
      assert.ok(await exists(join(crash, "state/keys.sqlite")), "the keyed state is in the state directory");
      const again = await run(runner, args("crash"), crash);
      assert.equal(again.code, 0, again.stderr);
      assertSameKeyed(await readOutputs(crash, true), expected, `${runner}, restarted once complete`);
    });
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  "crash and restart with --key and --window last:N: SIGKILLs, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-last-"));
    const next = random(79);
    const lines = ["sensor,x,y,diff"];
    for (let i = 0; i < 40_000; i++) {
      if (i % 1999 === 5) lines.push(`s3,${i / 7},1,-1`); // last:N takes no retraction: bad_diff
      else if (i % 2503 === 9) lines.push(`s4,oops,1,1`);
      else lines.push(`s${Math.floor(next() * 200)},${i / 7},${2 * i + next()},1`);
    }
    await writeFile(join(dir, "points.csv"), lines.join("\n") + "\n");
    const args = (sub: string) => [
      "--source",
      "csv",
      "--input",
      "../points.csv",
      "--key",
      "sensor",
      "--window",
      "last:50",
      "--commit-rows",
      "300",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(sub === "ref" ? [] : ["--state", "state"]),
    ];
    await keyedCrashRuns(dir, args, 5000, async (crash, expected, runner) => {
      assert.ok(expected.dead!.includes(",bad_diff,"), "some points are refused retractions");
      // Past the window: every key's later lines are over its last 50 points.
      assert.ok(expected.result.includes(",151,200,"), "windows of 50 points, numbered from 1");
      const other = await run(runner, [...args("crash").map((a) => a === "last:50" ? "last:40" : a)], crash);
      assert.equal(other.code, 1, other.stderr);
      assert.match(other.stderr, /last 50 points, not 40/);
    });
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  "crash and restart with --key and --window sliding: SIGKILLs, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-windows-"));
    const next = random(78);
    const lines = ["sensor,ts,x,y,diff"];
    let clock = 1_764_669_600_000;
    const held: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      clock += Math.floor(next() * 400);
      if (i % 61 === 9 && held.length > 20) {
        lines.push(`${held.splice(held.length - 5, 1)[0]},-1`); // a recent point retracted
        continue;
      }
      const late = next() < 0.05 ? Math.floor(next() * 180_000) : 0; // some behind, a few beyond --lateness
      const point = `s${Math.floor(next() * 40)},${clock - late},${i / 7},${2 * i + next()}`;
      held.push(point);
      lines.push(`${point},1`);
    }
    await writeFile(join(dir, "points.csv"), lines.join("\n") + "\n");
    const args = (sub: string) => [
      "--source",
      "csv",
      "--input",
      "../points.csv",
      "--key",
      "sensor",
      "--time",
      "ts",
      "--window",
      "sliding:5m,1m",
      "--lateness",
      "1m",
      "--commit-rows",
      "300",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(sub === "ref" ? [] : ["--state", "state"]),
    ];
    await keyedCrashRuns(dir, args, 4000, (_crash, expected) => {
      assert.ok(expected.dead!.includes(",late,"), "some points are late");
    });
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  "crash and restart with --key and a model (3 x columns, --stats): SIGKILLs, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-keys-model-"));
    const next = random(79);
    const lines = ["sensor,x1,x2,x3,y,diff"];
    const held: string[] = [];
    for (let i = 0; i < 24_000; i++) {
      if (i % 2000 === 3) lines.push(`,1,2,3,4,1`); // no key: missing_key
      else if (i % 53 === 7 && held.length > 40) lines.push(`${held.splice(held.length - 30, 1)[0]},-1`);
      else if (i % 3001 === 11) lines.push("s1,1,2,3,7,-1"); // never added: unknown_retraction
      else {
        const point = `s${Math.floor(next() * 200)},${i / 7},${next()},${Math.floor(next() * 9)},${
          2 * i + next()
        }`;
        held.push(point);
        lines.push(`${point},1`);
      }
    }
    await writeFile(join(dir, "points.csv"), lines.join("\n") + "\n");
    const args = (sub: string) => [
      ...["--source", "csv", "--input", "../points.csv", "--key", "sensor", "--x", "x1,x2,x3", "--stats"],
      ...["--commit-rows", "400", "--commit-ms", "1e9", "--output", "out.csv", "--input-log", "in.csv"],
      ...["--dead-letter", "dead.csv", ...(sub === "ref" ? [] : ["--state", "state"])],
    ];
    await keyedCrashRuns(dir, args, 5000, async (crash, expected, runner) => {
      assert.ok(expected.dead!.includes(",unknown_retraction,"), "a retraction is unknown");
      const again = await run(runner, args("crash"), crash);
      assert.equal(again.code, 0, again.stderr);
      assertSameKeyed(await readOutputs(crash, true), expected, `${runner}, restarted once complete`);
    });
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 180_000 },
);

test(
  "crash and restart with a model (2 x columns, --stats) over --key and --window sliding: SIGKILLs, then restarts, give the uninterrupted run's outputs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-windows-model-"));
    const next = random(80);
    const lines = ["sensor,ts,x1,x2,y,diff"];
    let clock = 1_764_669_600_000;
    const held: string[] = [];
    for (let i = 0; i < 16_000; i++) {
      clock += Math.floor(next() * 400);
      if (i % 61 === 9 && held.length > 20) {
        lines.push(`${held.splice(held.length - 5, 1)[0]},-1`); // a recent point retracted
        continue;
      }
      const late = next() < 0.05 ? Math.floor(next() * 180_000) : 0; // some behind, a few beyond --lateness
      const point = `s${Math.floor(next() * 40)},${clock - late},${i / 7},${next()},${2 * i + next()}`;
      held.push(point);
      lines.push(`${point},1`);
    }
    await writeFile(join(dir, "points.csv"), lines.join("\n") + "\n");
    const args = (sub: string) => [
      ...["--source", "csv", "--input", "../points.csv", "--key", "sensor", "--time", "ts", "--x", "x1,x2"],
      ...["--stats", "--window", "sliding:5m,1m", "--lateness", "1m", "--commit-rows", "300"],
      ...["--commit-ms", "1e9", "--output", "out.csv", "--input-log", "in.csv", "--dead-letter", "dead.csv"],
      ...(sub === "ref" ? [] : ["--state", "state"]),
    ];
    await keyedCrashRuns(dir, args, 6000, (_crash, expected) => {
      assert.ok(expected.dead!.includes(",late,"), "some points are late");
    });
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 180_000 },
);

test(
  "crash and restart: the demo stream (100 000 points) resumes at its next point after SIGKILLs",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-crash-demo-"));
    const args = (state: boolean) => [
      "--rows",
      "100000",
      "--rate",
      "0",
      "--seed",
      "5",
      "--slope",
      "-3",
      "--commit-rows",
      "700",
      "--commit-ms",
      "1e9",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      ...(state ? ["--state", "state"] : []),
    ];
    for (const [r, runner] of RUNNERS.entries()) {
      const ref = await mkdtemp(join(dir, `${runner}-ref-`));
      const crash = await mkdtemp(join(dir, `${runner}-crash-`));
      const uninterrupted = await run(runner, args(false), ref);
      assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
      const expected = await readOutputs(ref, false);
      const killed = await crashAndRestart(runner, args(true), crash, {
        kills: 5,
        seed: 2000 + r,
        finalInputBytes: expected.input.length,
      });
      assert.ok(killed >= 3, `${runner}: ${killed} SIGKILLs hit a running process`);
      assertSameOutputs(await readOutputs(crash, false), expected, `${runner} after ${killed} SIGKILLs`);
      const state = await readFile(join(crash, "state/checkpoint.json"), "utf8");
      assert.match(state, /"source":\{"next":100000\}/);
      assert.match(state, /"points":null/, "the demo stream never retracts: no multiset is kept");
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  "crash and restart: SIGTERM finishes the open batch and persists it; the restart goes on from there",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-term-"));
    await writeFile(join(dir, "points.csv"), pointsCsv(60_000));
    const args = (state: boolean) => [
      "--source",
      "csv",
      "--input",
      "points.csv",
      "--commit-rows",
      "200",
      "--output",
      "out.csv",
      "--input-log",
      "in.csv",
      "--dead-letter",
      "dead.csv",
      ...(state ? ["--state", "state"] : []),
    ];
    for (const runner of RUNNERS) {
      await rm(join(dir, "state"), { recursive: true, force: true });
      const uninterrupted = await run(runner, args(false), dir);
      assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
      const expected = await readOutputs(dir, true);

      const { child, done, exited } = track(start(runner, args(true), dir));
      await rm(join(dir, "in.csv"), { force: true });
      while (!exited() && (await size(join(dir, "in.csv"))) < 200_000) await sleep(2);
      assert.ok(!exited(), `${runner}: the run ended before SIGTERM`);
      process.kill(child.pid!, "SIGTERM");
      const stopped = await done;
      assert.equal(stopped.code, 0, `${runner}: ${JSON.stringify(stopped)}`);
      const checkpoint = await readFile(join(dir, "state/checkpoint.json"), "utf8");
      assert.match(checkpoint, /"complete":true/, "ended cleanly");
      const cut = await readOutputs(dir, true);
      assert.ok(cut.input.length < expected.input.length, "stopped mid-way");
      assert.ok(
        checkpoint.includes(`"flag":"--input-log","path":"in.csv","length":${Buffer.byteLength(cut.input)}`),
      );

      const resumed = await run(runner, args(true), dir);
      assert.equal(resumed.code, 0, resumed.stderr);
      const got = await readOutputs(dir, true);
      assertResumedOutputs(got, expected);
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

test(
  "crash and restart: a corrupt, truncated or mismatching state is refused with a clear message, never reset",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-badstate-"));
    await writeFile(join(dir, "points.csv"), pointsCsv(3000));
    const args = (...more: string[]) => [
      "--source",
      "csv",
      "--input",
      "points.csv",
      "--commit-rows",
      "100",
      ...(more.includes("--output") ? [] : ["--output", "out.csv"]), // a flag is given once
      "--input-log",
      "in.csv",
      "--state",
      "state",
      ...more,
    ];
    const checkpoint = join(dir, "state/checkpoint.json");
    const remedy = /(delete the state directory|use another --state directory)/;
    for (const runner of RUNNERS) {
      await rm(join(dir, "state"), { recursive: true, force: true });
      const first = await run(runner, args(), dir);
      assert.equal(first.code, 0, first.stderr);
      const good = await readFile(checkpoint);
      const outputs = await readOutputs(dir, false);
      const unchanged = async (what: string) => {
        assert.deepEqual(await readOutputs(dir, false), outputs, `${runner} ${what}: outputs untouched`);
        await writeFile(checkpoint, good);
      };
      const refused = async (what: string, pattern: RegExp, more: string[] = []) => {
        const r = await run(runner, args(...more), dir);
        assert.equal(r.code, 1, `${runner} ${what}: ${r.stderr}`);
        assert.match(r.stderr, pattern, `${runner} ${what}`);
        assert.match(r.stderr, remedy, `${runner} ${what}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, `${runner} ${what}: one line: ${r.stderr}`);
        await unchanged(what);
      };

      const flipped = Uint8Array.from(good);
      flipped[good.length - 40] ^= 0x04;
      await writeFile(checkpoint, flipped);
      await refused(
        "flipped byte",
        /^streamreg: checkpoint state\/checkpoint\.json is corrupt \(its checksum does not match/,
      );

      await writeFile(checkpoint, good.subarray(0, good.length - 100));
      await refused(
        "truncated body",
        /^streamreg: checkpoint state\/checkpoint\.json is truncated \(its content has \d+ of \d+ bytes\)/,
      );
      await writeFile(checkpoint, good.subarray(0, 12));
      await refused("truncated header", /^streamreg: checkpoint state\/checkpoint\.json is truncated/);
      await writeFile(checkpoint, new Uint8Array(0));
      await refused("empty", /^streamreg: checkpoint state\/checkpoint\.json is empty \(truncated\)/);
      await writeFile(checkpoint, "x,y\n1,2\n");
      await refused("not a checkpoint", /^streamreg: state\/checkpoint\.json is not a streamreg checkpoint/);

      await refused(
        "other output",
        /^streamreg: the state in state belongs to a run with --output ".*out\.csv", but this run has --output ".*other\.csv"/,
        [
          "--output",
          "other.csv",
        ],
      );
      await refused("other column", /belongs to a run with --y "y", but this run has --y "x"/, ["--y", "x"]);

      // Outputs: shorter or missing is an error; longer after a complete run too (never cut back).
      await truncate(join(dir, "in.csv"), outputs.input.length - 10);
      const short = await run(runner, args(), dir);
      assert.equal(short.code, 1);
      assert.match(
        short.stderr,
        /^streamreg: --input-log in\.csv has \d+ bytes, fewer than the \d+ that the checkpoint/,
      );
      await writeFile(join(dir, "in.csv"), outputs.input);
      await rm(join(dir, "out.csv"));
      const missing = await run(runner, args(), dir);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /^streamreg: --output out\.csv is missing, but the checkpoint .* says it has \d+ bytes/,
      );
      await writeFile(join(dir, "out.csv"), outputs.result);
      await appendFile(join(dir, "out.csv"), "1,2,3,1\n");
      const longer = await run(runner, args(), dir);
      assert.equal(longer.code, 1);
      assert.match(longer.stderr, /a complete output is never cut back/);
      assert.equal(await readFile(join(dir, "out.csv"), "utf8"), outputs.result + "1,2,3,1\n");
      await writeFile(join(dir, "out.csv"), outputs.result);

      // A state still usable after all that: the run goes on, and a CSV file that grew is read on.
      await appendFile(join(dir, "points.csv"), "1e6,3,1\n1e6,3,-1\n2e6,5,1\n");
      const grown = await run(runner, args(), dir);
      assert.equal(grown.code, 0, grown.stderr);
      const after = await readOutputs(dir, false);
      assert.equal(after.input.slice(0, outputs.input.length), outputs.input);
      assert.deepEqual(
        withoutTime(after.input.slice(outputs.input.length)).trim().split("\n"),
        ["1000000,3,1", "1000000,3,-1", "2000000,5,1"],
      );
      // A changed input file is noticed.
      await writeFile(join(dir, "points.csv"), "x,y\n1,2\n");
      const changed = await run(runner, args(), dir);
      assert.equal(changed.code, 1);
      assert.match(
        changed.stderr,
        /^streamreg: points\.csv does not match the checkpoint: line \d+ should end at byte \d+/,
      );
      await writeFile(join(dir, "points.csv"), pointsCsv(3000));
    }

    // Usage errors (exit 2): no stdin input, no stdout outputs.
    for (const runner of RUNNERS) {
      const stdin = await run(runner, ["--source", "csv", "--input", "-", "--state", "s"], dir);
      assert.equal(stdin.code, 2);
      assert.equal(
        stdin.stderr,
        "streamreg: --state: stdin cannot be read again after a restart: give the CSV file with --input PATH\n",
      );
      const stdout = await run(runner, ["--output", "-", "--no-input-log", "--state", "s"], dir);
      assert.equal(stdout.code, 2);
      assert.match(
        stdout.stderr,
        /^streamreg: --state needs file outputs: --output - \(stdout\) cannot be cut back/,
      );
      assert.ok(!(await exists(join(dir, "s"))));
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

/** The change logs without their `time` column (found by name: keyed logs start with the key). */
function withoutTimeColumn(csv: string): string {
  const lines = csv.split("\n");
  const at = lines[0].split(",").indexOf("time");
  return lines.map((l) => l.split(",").filter((_, i) => i !== at).join(",")).join("\n");
}

function assertSameKeyed(got: Outputs, expected: Outputs, what: string): void {
  assert.equal(withoutTimeColumn(got.result), withoutTimeColumn(expected.result), `${what}: result log`);
  assert.equal(withoutTimeColumn(got.input), withoutTimeColumn(expected.input), `${what}: input log`);
  assert.equal(got.dead, expected.dead, `${what}: dead letters`);
}

/**
 * For each runner: an uninterrupted keyed run, then the same with `--state` SIGKILLed 12 times and
 * restarted, whose outputs must be the uninterrupted run's (times aside); `more` checks further.
 */
async function keyedCrashRuns(
  dir: string,
  args: (sub: string) => string[],
  seed: number,
  more: (crash: string, expected: Outputs, runner: Runner) => void | Promise<void>,
): Promise<void> {
  for (const [r, runner] of RUNNERS.entries()) {
    const ref = join(dir, `${runner}-ref`);
    const crash = join(dir, `${runner}-crash`);
    for (const d of [ref, crash]) await mkdir(d);
    const uninterrupted = await run(runner, args("ref"), ref);
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const expected = await readOutputs(ref, true);
    const killed = await crashAndRestart(runner, args("crash"), crash, {
      kills: 12,
      seed: seed + r,
      finalInputBytes: expected.input.length,
    });
    assert.ok(killed >= 10, `${runner}: ${killed} SIGKILLs hit a running process`);
    assertSameKeyed(await readOutputs(crash, true), expected, `${runner} after ${killed} SIGKILLs`);
    await more(crash, expected, runner);
  }
}
