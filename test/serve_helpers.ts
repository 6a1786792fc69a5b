/**
 * Shared pieces of the `--serve` tests: starting a run with `--serve 127.0.0.1:0` under Deno or Bun and
 * finding its address on stderr, waiting for a condition, reading a change log's current row, and
 * launching Debian's Chromium for the browser tests.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules/deno/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");

/** A runner of the CLI. */
export type Runner = "deno" | "bun";
/** Both runners: every test runs both, whichever runtime runs the tests. */
export const RUNNERS: Runner[] = ["deno", "bun"];

/** The command that runs `regress` under `runner`. */
export function command(runner: Runner): [string, string[]] {
  return runner === "deno"
    ? [DENO, ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [BUN, ["run", join(ROOT, "src/runtime/bun_main.ts")]];
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 25 ms until it returns a value other than undefined/false; throws after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A run of `regress` with `--serve`. */
export interface ServedRun {
  child: ChildProcess;
  /** The page's address, from the "live page at" line on stderr. */
  url: string;
  /** Everything on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the child exits. */
  done: Promise<number | null>;
}

/**
 * Starts `regress ARGS --serve 127.0.0.1:0` under `runner` in `cwd` and waits for the address.
 * Its stdin stays open (write points to it with `--source csv --input -`).
 */
export async function startServed(runner: Runner, args: string[], cwd: string): Promise<ServedRun> {
  const [exe, pre] = command(runner);
  const child = spawn(exe, [...pre, ...args, "--serve", "127.0.0.1:0"], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  child.stdout!.resume();
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let exited = false;
  done.then(() => (exited = true));
  const url = await waitFor(`the "live page at" line of ${runner}`, () => {
    if (exited) throw new Error(`${runner} exited before serving: ${stderr}`);
    return /live page at (http:\/\/\S+\/)/.exec(stderr)?.[1];
  });
  return { child, url, stderr: () => stderr, done };
}

/** The cells (before time,diff) of the last row of a result change log, or undefined if it has none. */
export async function lastFit(path: string): Promise<string[] | undefined> {
  const text = await readFile(path, "utf8").catch(() => "");
  const rows = text.trim().split("\n").slice(1).filter((l) => l !== "");
  const last = rows.at(-1)?.split(",");
  return last && last.at(-1) === "1" ? last.slice(0, -2) : undefined;
}

/** The number of lines of a file (0 if missing). */
export async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text === "" ? 0 : text.trimEnd().split("\n").length;
}

/** Debian's Chromium, or CHROMIUM_PATH; throws saying how to install it. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install it (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return path;
}

/** `lines` CSV rows `x,y` of y = a + b·x + noise for x = from, from+1, … (noise from a seeded generator). */
export function linePoints(
  options: { a: number; b: number; from: number; count: number; seed: number },
): string {
  let seed = options.seed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  let text = "";
  for (let i = 0; i < options.count; i++) {
    const x = (options.from + i) / 10;
    text += `${x},${options.a + options.b * x + (random() - 0.5) * 2}\n`;
  }
  return text;
}
