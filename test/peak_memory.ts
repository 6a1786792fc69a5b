/**
 * Runs a command as a child process and measures its peak resident size, for the memory tests: the
 * exit code, stderr and the largest `VmHWM` (peak, as the kernel keeps it) or `VmRSS` (sampled) of
 * `/proc/PID/status`, read every 25 ms.
 *
 * @example
 * ```ts
 * const { code, peakMb } = await runWithPeak(["bun", ["run", "src/runtime/bun_main.ts"]], ["--help"]);
 * ```
 * @module
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import process from "node:process";

/** What {@linkcode runWithPeak} measured. */
export interface PeakRun {
  /** The exit code (null when a signal ended it). */
  readonly code: number | null;
  /** Its stderr, as text. */
  readonly stderr: string;
  /** The peak resident size seen, in MiB. */
  readonly peakMb: number;
}

/**
 * Runs `command` (the executable and its leading arguments) with `args` in `cwd`, stdout ignored, and
 * samples its resident size. `env` is added to this process's environment (with `NO_COLOR=1`);
 * `field`: `VmHWM` (default) or `VmRSS`; `killAfterMs`: a SIGKILL after that long, if given.
 *
 * @example
 * ```ts
 * const run = await runWithPeak([exe, pre], args, { cwd: ROOT, field: "VmRSS" });
 * ```
 */
export function runWithPeak(
  command: readonly [string, readonly string[]],
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; field?: "VmHWM" | "VmRSS"; killAfterMs?: number } =
    {},
): Promise<PeakRun> {
  const [exe, pre] = command;
  const field = new RegExp(`^${options.field ?? "VmHWM"}:\\s+(\\d+)`, "m");
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...pre, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, NO_COLOR: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let peakKb = 0;
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const sample = async () => {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      peakKb = Math.max(peakKb, Number(field.exec(status)?.[1] ?? 0));
    };
    const timer = setInterval(sample, 25);
    const killer = options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      clearTimeout(killer);
      resolve({ code, stderr, peakMb: peakKb / 1024 });
    });
  });
}
