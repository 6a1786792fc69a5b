/**
 * Deno entry point of the `regress` command (`deno task regress [flags]`).
 * @module
 */
import { main } from "../cli/main.ts";
import { denoHost } from "./deno.ts";

Deno.exit(await main(denoHost()));
