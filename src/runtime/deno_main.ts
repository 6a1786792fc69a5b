/**
 * Deno entry point of the `regress` command (`deno task regress [flags]`).
 * @module
 */
import { main } from "../cli/main.ts";
import { denoHost } from "./deno.ts";
import { silenceTimeoutWarnings } from "./kafkajs_quiet.ts";

silenceTimeoutWarnings();
Deno.exit(await main(denoHost()));
