/**
 * Shared pieces of the tests that run the real CLI as a child process: collecting a child's output,
 * a seeded random generator, small file helpers, and comparing change logs with their time column aside.
 * @module
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The runtimes whose CLI the tests run. */
export type Runner = "deno" | "bun";

/** How a child process ended, and everything it wrote. */
export interface Result {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Closes `child`'s stdin and resolves, once it closes, to its exit code, signal and output. */
export function collect(child: ChildProcess): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin!.end();
  });
}

/**
 * Runs the CLI under `runner` from the repository's root (stdin closed, NO_COLOR set) and resolves to how
 * it ended and what it wrote.
 */
export function runCli(runner: Runner, args: readonly string[]): Promise<Result> {
  const [exe, pre] = runner === "deno"
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, "src/runtime/bun_main.ts")]];
  return collect(spawn(exe, [...pre, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } }));
}

/** A seeded generator of numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A seeded generator over {@linkcode random}: uniform doubles, integers below n, and a pick from a list.
 *
 * @example
 * ```ts
 * const g = seededGenerator(7);
 * g.pick(["a", "b"]);
 * ```
 */
export function seededGenerator(seed: number): {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(list: readonly T[]) => T;
} {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  return { next, int, pick };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

/** The size in bytes of the file at `path`, or 0 if there is none. */
export const size = async (path: string): Promise<number> =>
  (await stat(path).catch(() => undefined))?.size ?? 0;

/** A change log without its time column (the third). */
export const withoutTime = (csv: string): string =>
  csv.split("\n").map((l) => l.split(",").filter((_, i) => i !== 2).join(",")).join("\n");

/** Asserts that commit times only grow (result log: strictly from batch to batch; input log: never back). */
export function checkTimes(csv: string, strict: boolean): void {
  let last = -Infinity;
  let lastDiff = "";
  for (const line of csv.trim().split("\n").slice(1)) {
    const [, , time, diff] = line.split(",");
    const t = Number(time);
    const sameBatch = strict && lastDiff === "-1" && diff === "1";
    assert.ok(sameBatch ? t === last : strict ? t > last : t >= last, `time ${t} after ${last}: ${line}`);
    last = t;
    lastDiff = diff;
  }
}

/** A run's outputs: the result log, the input log and, when asked for, the dead-letter file. */
export interface Outputs {
  result: string;
  input: string;
  dead?: string;
}

/** Reads out.csv, in.csv and (if `dead`) dead.csv from `dir`. */
export async function readOutputs(dir: string, dead: boolean): Promise<Outputs> {
  return {
    result: await readFile(join(dir, "out.csv"), "utf8"),
    input: await readFile(join(dir, "in.csv"), "utf8"),
    ...(dead ? { dead: await readFile(join(dir, "dead.csv"), "utf8") } : {}),
  };
}

/** Asserts that two runs' outputs are the same, times aside, and that the times in `got` only grow. */
export function assertSameOutputs(got: Outputs, expected: Outputs, what: string): void {
  assert.equal(withoutTime(got.result), withoutTime(expected.result), `${what}: result log`);
  assert.equal(withoutTime(got.input), withoutTime(expected.input), `${what}: input log`);
  assert.equal(got.dead, expected.dead, `${what}: dead letters`);
  checkTimes(got.result, true);
  checkTimes(got.input, false);
}

/** The last line of a change log, x and y only. */
export const lastLine = (csv: string): string =>
  csv.trim().split("\n").at(-1)!.split(",").slice(0, 2).join(",");

/**
 * Asserts that a run stopped early and resumed gives the uninterrupted run's points and dead letters: the
 * early batch moved the later batch boundaries, so of the result log only the last line is compared.
 */
export function assertResumedOutputs(got: Outputs, expected: Outputs): void {
  assert.equal(withoutTime(got.input), withoutTime(expected.input));
  assert.equal(got.dead, expected.dead);
  assert.equal(lastLine(got.result), lastLine(expected.result));
  checkTimes(got.result, true);
  checkTimes(got.input, false);
}

/** A running child: the promise of its result, and whether it has ended yet. */
export interface Tracked {
  child: ChildProcess;
  done: Promise<Result>;
  exited: () => boolean;
}

/** Collects `child`'s output (see {@link collect}) and keeps track of whether it has ended. */
export function track(child: ChildProcess): Tracked {
  const done = collect(child);
  let exited = false;
  done.then(() => (exited = true));
  return { child, done, exited: () => exited };
}

/**
 * SIGKILLs a running child at the `k`th of `kills` moments drawn from `next`: one time in four (`k % 4 === 0`)
 * within 20 + `earlyMs` ms of its start, otherwise once the input log `log` has grown past a random point
 * of what is left up to `finalBytes` (`clamp`: what is left is never below 0), plus up to 15 ms.
 * Resolves to the child's result.
 */
export async function killMidStream(
  run: Tracked,
  next: () => number,
  options: { k: number; kills: number; log: string; finalBytes: number; earlyMs: number; clamp: boolean },
): Promise<Result> {
  const { k, kills, log, finalBytes } = options;
  if (k % 4 === 0) {
    await sleep(20 + next() * options.earlyMs);
  } else {
    const from = await size(log);
    const left = options.clamp ? Math.max(0, finalBytes - from) : finalBytes - from;
    const target = from + left * (0.15 + 0.5 * next()) / (kills - k + 1);
    const deadline = Date.now() + 20_000;
    while (!run.exited() && (await size(log)) < target && Date.now() < deadline) await sleep(2);
    await sleep(next() * 15);
  }
  if (!run.exited()) process.kill(run.child.pid!, "SIGKILL");
  return await run.done;
}
