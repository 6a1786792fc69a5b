/**
 * The workaround for a kafkajs timer that computes negative delays: {@linkcode silenceTimeoutWarnings}.
 *
 * @example
 * ```ts
 * import { silenceTimeoutWarnings } from "./kafkajs_quiet.ts";
 * silenceTimeoutWarnings();
 * ```
 * @module
 */

import process from "node:process";

let quiet = false;

/**
 * Silences kafkajs's harmless `TimeoutNegativeWarning` (one of its timers computes a negative delay).
 * Under Deno and Node the warning goes through `process.emitWarning`, which is filtered; Bun prints it
 * from `setTimeout` itself, so negative delays are clamped to 1 ms there first (what every runtime does
 * with them anyway). Idempotent. It changes globals (`process.emitWarning`, `setTimeout`), so it is the
 * entry points' to call (`deno_main.ts`, `bun_main.ts`, `scripts/produce.ts`, the benchmarks, tests),
 * before any kafkajs client exists; library code never calls it.
 *
 * @example
 * ```ts
 * silenceTimeoutWarnings();
 * ```
 */
export function silenceTimeoutWarnings(): void {
  if (quiet) return;
  quiet = true;
  // deno-lint-ignore no-explicit-any
  const p = process as any;
  const emitWarning = p.emitWarning;
  if (typeof emitWarning === "function") {
    // deno-lint-ignore no-explicit-any
    p.emitWarning = function (warning: any, ...rest: any[]) {
      const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
      const name = typeof warning === "object" && warning !== null ? warning.name : type;
      if (name === "TimeoutNegativeWarning") return;
      return emitWarning.call(this, warning, ...rest);
    };
  }
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const setTimeoutOriginal = g.setTimeout;
  // deno-lint-ignore no-explicit-any
  g.setTimeout = function (fn: any, ms?: any, ...args: any[]) {
    return setTimeoutOriginal(fn, typeof ms === "number" && ms < 0 ? 1 : ms, ...args);
  };
}
