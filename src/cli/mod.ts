/**
 * The `streamreg` command as a library (the package's `./cli` export): {@linkcode main} runs the command
 * against a {@linkcode Host} (arguments, stdio, files, signals of one runtime) and resolves to its exit code;
 * {@linkcode helpText}, the flag lists and the source specs let a program show the same help, parse the same
 * flags or offer other sources. The runtime hosts are `denoHost()` in `src/runtime/deno.ts` and `bunHost()`
 * in `src/runtime/bun.ts`, which is what the entry points `src/runtime/deno_main.ts` and `bun_main.ts` do.
 *
 * @example
 * ```ts
 * import { helpText, main, SOURCES } from "./mod.ts";
 * import { denoHost } from "../runtime/deno.ts";
 *
 * console.error(helpText(SOURCES).split("\n")[0]); // streamreg: streaming linear regression. …
 * Deno.exit(await main(denoHost(["--rows", "3", "--rate", "0", "--output", "-", "--no-input-log"])));
 * ```
 * @module
 */

export { main, type MainOptions } from "./main.ts";
export { helpText } from "./help.ts";
export {
  type CliOptions,
  DEFAULT_INPUT_LOG,
  DEFAULT_OUTPUT,
  GENERAL_FLAGS,
  isStdout,
  type OutputTopic,
  parseCli,
  STDOUT_PATHS,
} from "./args.ts";
export { type FlagSpec, type FlagValues, numberFlag, UsageError } from "./flags.ts";
export { inputLogProblem, MODEL_FLAGS, modelColumns, modelConfig, X_HELP } from "./model_flags.ts";
export { DEFAULT_MAX_KEYS, keyColumns, keyFlag, MAX_KEYS_FLAG } from "./key_flags.ts";
export { lastPoints, timeFlag, WINDOW_FLAGS, type WindowOptions, windowOptions } from "./window_flags.ts";
export type { ModelConfig } from "../model/model_config.ts";
export {
  csvSpec,
  demoSpec,
  type OpenContext,
  type OpenSource,
  SOURCES,
  type SourceSpec,
  type StateSupport,
} from "./source_specs.ts";
export { kafkaSpec } from "./kafka_spec.ts";
export { DEFAULT_SERVE_HOST, parseServe, type ServeAddress } from "./serve_setup.ts";
export { plotMain } from "./plot.ts";
export type { Source } from "../model/source.ts";
export {
  BrokenPipeError,
  type FileIdentity,
  type FileKind,
  type Host,
  isBrokenPipe,
  type Listener,
  type ListenOptions,
  type SqlDatabase,
  type Sqlite,
  type SqlRow,
  type SqlStatement,
  type SqlValue,
  type StateFiles,
  type StopSignal,
} from "./host.ts";
