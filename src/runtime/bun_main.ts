/**
 * Bun entry point of the `regress` command (`bun run regress [flags]`).
 * @module
 */
import process from "node:process";
import { main } from "../cli/main.ts";
import { bunHost } from "./bun.ts";
import { silenceTimeoutWarnings } from "./kafkajs_quiet.ts";

silenceTimeoutWarnings();
process.exit(await main(bunHost()));
