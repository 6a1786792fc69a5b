/**
 * One test API for both runtimes: `Deno.test` under Deno, `bun:test` under Bun.
 *
 * Test files import `test` from here and assert with `node:assert/strict`, which both runtimes provide,
 * so every suite runs unchanged under `deno test` and `bun test`.
 *
 * @example
 * ```ts
 * import { test } from "../test/harness.ts";
 * import assert from "node:assert/strict";
 * test("adds", () => assert.equal(1 + 1, 2));
 * ```
 * @module
 */

/** A test body; may be async. */
export type TestFn = () => void | Promise<void>;

/** Options for {@linkcode test}. */
export interface TestOptions {
  /** Time limit in milliseconds (Bun only; Deno has no per-test limit). Default 30 000. */
  timeoutMs?: number;
  /**
   * Deno's leak checks (ops and resources left open when the test ends): on unless a test sets this to
   * false and says why beside it. Bun has no such checks.
   */
  leakChecks?: boolean;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const bunSpecifier = "bun:test"; // kept out of a literal import so Deno never resolves it
// deno-lint-ignore no-explicit-any
const bunTest: any = g.Bun ? (await import(bunSpecifier)).test : undefined;

/** True when running under Deno. */
export const isDeno: boolean = g.Deno !== undefined;
/** The runtime's name: "deno" or "bun". */
export const runtimeName: "deno" | "bun" = isDeno ? "deno" : "bun";

/**
 * Registers a test with the current runtime's runner.
 *
 * @example
 * ```ts
 * test("sum", () => { if (2 + 2 !== 4) throw new Error("math"); });
 * ```
 */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  if (isDeno) {
    const leakChecks = options.leakChecks ?? true;
    g.Deno.test({ name, fn, sanitizeOps: leakChecks, sanitizeResources: leakChecks });
  } else {
    bunTest(name, fn, options.timeoutMs ?? 30_000);
  }
}
