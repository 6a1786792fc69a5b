/**
 * Whole-process runs for the benchmarks that time streamreg end to end: run a command to its end, and the
 * two runtimes' commands for the CLI (the project's own Deno and Bun from `node_modules`).
 *
 * @example
 * ```ts
 * import { runProcess, streamregRuntimes } from "./processes.ts";
 * for (const rt of await streamregRuntimes()) console.log(rt.name, (await runProcess(rt.cli[0], [...rt.cli[1], "--help"])).ms);
 * ```
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The repository's root. */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** The project's Deno and Bun executables. */
export const DENO: string = join(ROOT, "node_modules/deno/deno");
export const BUN: string = join(ROOT, "node_modules/.bin/bun");

/**
 * The V8 flags of `deno task regress` (deno.json), e.g. `["--v8-flags=--max-semi-space-size=4"]`, so that
 * the benchmarks run Deno as users do.
 *
 * @example
 * ```ts
 * spawn(DENO, ["run", "-A", ...denoV8Flags(), "src/runtime/deno_main.ts"]);
 * ```
 */
export function denoV8Flags(): string[] {
  const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const command: string = config.tasks.regress.command;
  return command.match(/--v8-flags=\S+/g) ?? [];
}

/**
 * Runs a command to its end; resolves with its wall time in ms and its stdout, rejects (with its stderr)
 * when it exits with another code than 0.
 *
 * @example
 * ```ts
 * const { ms } = await runProcess("true", []);
 * ```
 */
export function runProcess(cmd: string, args: string[]): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => out += b);
    child.stderr.on("data", (b) => err += b);
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${err}`));
      else resolve({ ms, out });
    });
  });
}

/** A runtime and how to run streamreg's CLI under it. */
export interface StreamregRuntime {
  readonly name: "Deno" | "Bun";
  /** Its version line. */
  readonly version: string;
  /** The executable and the arguments before the CLI's flags. */
  readonly cli: readonly [string, string[]];
}

/**
 * Deno and Bun with their versions and the command that runs streamreg's CLI (this checkout's, or the
 * one at `root`, e.g. an older commit's, to compare).
 *
 * @example
 * ```ts
 * const [deno, bun] = await streamregRuntimes();
 * ```
 */
export async function streamregRuntimes(root: string = ROOT): Promise<StreamregRuntime[]> {
  return [
    {
      name: "Deno",
      version: (await runProcess(DENO, ["--version"])).out.split("\n")[0],
      cli: [DENO, [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net",
        "--allow-sys",
        ...denoV8Flags(),
        join(root, "src/runtime/deno_main.ts"),
      ]],
    },
    {
      name: "Bun",
      version: `bun ${(await runProcess(BUN, ["--version"])).out.trim()}`,
      cli: [BUN, ["run", join(root, "src/runtime/bun_main.ts")]],
    },
  ];
}
