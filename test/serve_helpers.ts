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

/**
 * CSV rows `sensor,x,y` for keys s0, s1, …: `counts[i]` points of key si along y = a + (b + i)·x + noise,
 * interleaved (the keys take turns while they have points left). Returns the text and its row count.
 */
export function keyedPoints(
  options: { counts: readonly number[]; seed: number; a?: number; b?: number },
): { text: string; rows: number } {
  let seed = options.seed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const left = [...options.counts];
  let text = "";
  let rows = 0;
  for (let round = 0; left.some((n) => n > 0); round++) {
    left.forEach((n, i) => {
      if (n === 0) return;
      left[i]--;
      const x = round / 4 + random();
      const y = (options.a ?? 1) + ((options.b ?? 0) + i) * x + (random() - 0.5);
      text += `s${i},${x},${y}\n`;
      rows++;
    });
  }
  return { text, rows };
}

/**
 * The standing lines of a keyed result change log, as the +1 rows not retracted leave them: per key (the
 * first `keyColumns` cells joined by commas, as the change log writes them) its cells after the key
 * columns (`a,b`; with `windowed`, `window_start,window_end,a,b` of the key's latest window).
 */
export async function standingLines(
  path: string,
  options: { keyColumns?: number; windowed?: boolean } = {},
): Promise<Map<string, string[]>> {
  const keyColumns = options.keyColumns ?? 1;
  const text = await readFile(path, "utf8").catch(() => "");
  const standing = new Map<string, string[]>();
  for (const line of text.trim().split("\n").slice(1)) {
    if (line === "") continue;
    const cells = line.split(",");
    const key = cells.slice(0, keyColumns).join(",");
    const values = cells.slice(keyColumns, -2);
    const diff = cells.at(-1);
    const id = `${key}\u0001${values.slice(0, -2).join(",")}`; // key and window bounds, if any
    if (diff === "1") standing.set(id, values);
    else if (standing.get(id)?.join(",") === values.join(",")) standing.delete(id);
  }
  const lines = new Map<string, string[]>();
  for (const [id, values] of standing) {
    const key = id.slice(0, id.indexOf("\u0001"));
    const before = lines.get(key);
    if (before === undefined || (options.windowed && Number(values[0]) > Number(before[0]))) {
      lines.set(key, values);
    }
  }
  return lines;
}
