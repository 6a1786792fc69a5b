/**
 * Sends a test stream of points to a Kafka topic: the reference tutorial's generator by default.
 * `bun run scripts/produce.ts --help` or `deno run -A scripts/produce.ts --help` for the flags; the
 * work is done by `src/cli/produce.ts`.
 * @module
 */
import process from "node:process";
import type { Host } from "../src/cli/host.ts";
import { produceMain } from "../src/cli/produce.ts";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";

// deno-lint-ignore no-explicit-any
const isDeno = (globalThis as any).Deno !== undefined;
const bunModule = "../src/runtime/bun.ts"; // not a literal import, so Deno does not type-check Bun's API
silenceTimeoutWarnings();
const host: Host = isDeno
  ? (await import("../src/runtime/deno.ts")).denoHost()
  : (await import(bunModule)).bunHost();
process.exit(await produceMain(host));
