/**
 * Bun entry point of the `regress` command (`bun run regress [flags]`).
 * @module
 */
import process from "node:process";
import { main } from "../cli/main.ts";
import { bunHost, startBunGcPacer } from "./bun.ts";
import { silenceTimeoutWarnings } from "./kafkajs_quiet.ts";

silenceTimeoutWarnings();
if (process.env.STREAMREG_GC_PACER !== "0") startBunGcPacer();
process.exit(await main(bunHost()));
