/**
 * Parses the command line (with `node:util` `parseArgs`) into checked options.
 *
 * Every mistake — an unknown flag, a missing or bad value, a flag of another source — throws a
 * {@linkcode UsageError} whose one-line message names the flag; the CLI exits with code 2.
 *
 * @example
 * ```ts
 * import { parseCli } from "./args.ts";
 * import { SOURCES } from "./source_specs.ts";
 * const options = parseCli(["--rate", "0", "--output", "-"], SOURCES);
 * options.output; // "-"
 * ```
 * @module
 */

import { type FlagSpec, type FlagValues, numberFlag, parseFlags, UsageError } from "./flags.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../model/rejection.ts";
import { DEFAULT_COMMIT_MS, DEFAULT_COMMIT_ROWS } from "../pipeline/pipeline.ts";
import type { OpenSource, SourceSpec } from "./source_specs.ts";
import type { ModelConfig } from "../model/model_config.ts";
import { inputLogProblem, MODEL_FLAGS, modelConfig } from "./model_flags.ts";
import { DEFAULT_MAX_KEYS, keyColumns, MAX_KEYS_FLAG } from "./key_flags.ts";
import { MESSAGE_KEY } from "../model/keys.ts";
import { lastPoints, WINDOW_FLAGS, type WindowOptions, windowOptions } from "./window_flags.ts";
import { isPlainLine } from "../model/model_config.ts";
import { parseServe, type ServeAddress } from "./serve_setup.ts";

/**
 * Default path of the result change log.
 *
 * @example
 * ```ts
 * parseCli([], SOURCES).output === DEFAULT_OUTPUT; // true
 * ```
 */
export const DEFAULT_OUTPUT = "regression_output_stream.csv";
/**
 * Default path of the input change log.
 *
 * @example
 * ```ts
 * parseCli([], SOURCES).inputLog === DEFAULT_INPUT_LOG; // true
 * ```
 */
export const DEFAULT_INPUT_LOG = "regression_input.csv";

/**
 * The output paths that name the process's own standard output. They are written to stdout as `-` is
 * (as gawk does with these names) rather than opened: Deno's sandbox refuses to open them, and a pipe
 * cannot be cut back, so `--state` refuses them as it refuses `-`.
 *
 * @example
 * ```ts
 * STDOUT_PATHS.includes("/dev/stdout"); // true
 * ```
 */
export const STDOUT_PATHS: readonly string[] = ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/**
 * True if the output path is standard output: `-` or one of {@linkcode STDOUT_PATHS}.
 *
 * @example
 * ```ts
 * isStdout("/dev/stdout"); // true
 * isStdout("out.csv"); // false
 * ```
 */
export function isStdout(path: string): boolean {
  return STDOUT_PATHS.includes(path);
}

/**
 * How many keys get per-key gauges on `/metrics` by default (`--metrics-keys`).
 *
 * @example
 * ```ts
 * parseCli(["--key", "k", "--source", "csv", "--input", "-", "--serve", "0"], SOURCES).metricsKeys; // 100
 * ```
 */
export const DEFAULT_METRICS_KEYS = 100;

/**
 * The flags every source accepts.
 *
 * @example
 * ```ts
 * GENERAL_FLAGS.map((f) => `--${f.name}`); // ["--source", "--commit-ms", ...]
 * ```
 */
export const GENERAL_FLAGS: readonly FlagSpec[] = [
  { name: "source", value: "NAME", default: "demo", help: "where points come from (see the sources below)" },
  {
    name: "commit-ms",
    value: "MS",
    default: String(DEFAULT_COMMIT_MS),
    help: "close a batch every MS milliseconds (each batch is one update at one time)",
  },
  {
    name: "commit-rows",
    value: "N",
    default: String(DEFAULT_COMMIT_ROWS),
    help: "... or as soon as it holds N points, if sooner; 0 = no limit",
  },
  ...MODEL_FLAGS,
  MAX_KEYS_FLAG,
  ...WINDOW_FLAGS,
  {
    name: "output",
    value: "PATH",
    default: DEFAULT_OUTPUT,
    help: "result change log a,b,time,diff (columns: see Outputs); - = stdout",
  },
  {
    name: "input-log",
    value: "PATH",
    default: DEFAULT_INPUT_LOG,
    help: "input change log x,y,time,diff of accepted points (several x: x1,x2,…,y,…); - = stdout",
  },
  { name: "no-input-log", help: "do not write the input change log" },
  {
    name: "dead-letter",
    value: "PATH",
    help: "write rejected records there: CSV source,location,reason,detail,raw; - = stdout",
  },
  {
    name: "on-error",
    value: "MODE",
    default: "skip",
    help: "bad record: skip = reject it and go on; fail = stop with exit 1 naming it",
  },
  {
    name: "max-record-bytes",
    value: "N",
    default: String(DEFAULT_MAX_RECORD_BYTES),
    help: "reject records (lines, messages) longer than N bytes as too_large",
  },
  {
    name: "output-topic",
    value: "NAME",
    help:
      "also write the result change log to this Kafka topic (then files only if --output/--input-log given)",
  },
  {
    name: "output-format",
    value: "json|csv",
    default: "json",
    help: 'with --output-topic: {"a":…,"b":…,"time":…,"diff":1} messages, or CSV rows',
  },
  {
    name: "output-mode",
    value: "changelog|upsert",
    default: "changelog",
    help: "with --output-topic: every row, or the latest line per key and tombstones (compacted topics)",
  },
  {
    name: "readers",
    value: "one|many",
    default: "one",
    help: "with --state kafka: many readers of the group; one global line, or with --key @key each key's " +
      "(docs/kafka.md, Many readers)",
  },
  {
    name: "state",
    value: "DIR|kafka",
    help: "checkpoint each batch in DIR (or, with kafka, in a compacted topic); run again to resume there",
  },
  {
    name: "serve",
    value: "[HOST:]PORT",
    help:
      "serve a live page, /metrics, /healthz, /readyz while running (host default 127.0.0.1; port 0 = any)",
  },
  {
    name: "metrics-keys",
    value: "N",
    default: String(DEFAULT_METRICS_KEYS),
    help: "with --serve and --key: per-key gauges on /metrics for the first N keys (0 = none)",
  },
  { name: "verbose", help: "show progress on stderr even when it is not a terminal" },
  {
    name: "quiet",
    short: "q",
    help: "no progress on stderr, not even on a terminal (warnings and errors still are)",
  },
  { name: "help", short: "h", help: "show this help and exit" },
];

/**
 * Checked command-line options.
 *
 * @example
 * ```ts
 * const { commitMs, output } = parseCli(["--commit-ms", "500"], SOURCES); // 500, "regression_output_stream.csv"
 * ```
 */
export interface CliOptions {
  /** `--help` was given: print the help and exit 0 (nothing else is checked). */
  help: boolean;
  /** Show progress even when stderr is not a terminal. */
  verbose: boolean;
  /** Show no progress, not even on a terminal (`--quiet`, `-q`). */
  quiet?: boolean;
  /** The chosen source. */
  source: SourceSpec;
  /** Opens the chosen source with its checked flags. */
  openSource: OpenSource;
  /** Batch window in milliseconds. */
  commitMs: number;
  /** Most points per batch (0 = no limit). */
  commitRows: number;
  /** Result change log path, "-" for stdout. */
  output: string;
  /** Input change log path, "-" for stdout, or undefined when off. */
  inputLog: string | undefined;
  /** Dead-letter file path, "-" for stdout, or undefined when off. */
  deadLetter?: string;
  /** What a bad record does: "skip" (reject it and go on) or "fail" (stop with exit 1). */
  onError?: "skip" | "fail";
  /** Longest record in bytes. */
  maxRecordBytes?: number;
  /** The local files the source reads ("-" for stdin): no output may overwrite them. */
  inputFiles?: readonly string[];
  /** `--state DIR`: checkpoint after every batch there, and resume from it (`"kafka"`: the state topic). */
  state?: string;
  /** `--output-topic` (with `--output-format`, `--output-mode`): the result change log as Kafka messages. */
  outputTopic?: OutputTopic;
  /**
   * `--readers many` (with `--state kafka`): each reader commits its partitions in per-partition
   * transactions; with the plain line the holder of partition 0 writes the global line of all of them,
   * with `--key @key` each reader writes the lines of its partitions' keys.
   */
  readers?: "many";
  /** With `--output-topic` and no `--output`: no result change log file. */
  noOutputFile?: boolean;
  /** The chosen source's flag values (defaults applied), e.g. for the settings a checkpoint keeps. */
  sourceValues?: FlagValues;
  /**
   * The model to fit (`--x`, `--y`, `--degree`, `--no-intercept`, `--stats`). Absent only with `--help`;
   * treat absent as the plain line of x and y.
   */
  model?: ModelConfig;
  /** `--serve [HOST:]PORT`: where to serve the live page and the metrics, if asked for. */
  serve?: ServeAddress;
  /** `--metrics-keys`: with `--serve` and keys, how many keys get per-key gauges on `/metrics`. */
  metricsKeys?: number;
  /** `--key`: the key columns (`@key`: the Kafka message key); absent: one line over everything. */
  keys?: readonly string[];
  /** `--max-keys`: the most keys held at once. */
  maxKeys?: number;
  /** `--window` (with `--time`, `--time-format`, `--lateness`): one line per window (and key). */
  windows?: WindowOptions;
  /** `--window last:N`: one line per key over its last N points. */
  lastPoints?: number;
}

/**
 * `--output-topic NAME` with its format and mode.
 *
 * @example
 * ```ts
 * const output: OutputTopic = { topic: "results", format: "json", mode: "changelog" };
 * ```
 */
export interface OutputTopic {
  /** The topic. */
  readonly topic: string;
  /** `json` or `csv` messages. */
  readonly format: "json" | "csv";
  /** `changelog` (every row) or `upsert` (the latest line per key, tombstones). */
  readonly mode: "changelog" | "upsert";
}

/**
 * Parses and checks `args` (without the program name) against the general flags and those of
 * `sources`; the first source is the default.
 *
 * @example
 * ```ts
 * parseCli(["--source", "csv", "--input", "-"], SOURCES).source.name; // "csv"
 * parseCli(["--bogus"], SOURCES); // throws UsageError: unknown flag --bogus: see --help
 * ```
 */
export function parseCli(args: readonly string[], sources: readonly SourceSpec[]): CliOptions {
  // The sources owning each flag (undefined: a general flag). Sources may share a flag, such as --x of
  // csv and kafka, when it parses the same way in each.
  const owners = new Map<string, SourceSpec[] | undefined>();
  const specs = new Map<string, FlagSpec>();
  for (const flag of GENERAL_FLAGS) {
    specs.set(flag.name, flag);
    owners.set(flag.name, undefined);
  }
  const sameShape = (a: FlagSpec, b: FlagSpec) =>
    !!a.value === !!b.value && a.short === b.short && !!a.repeatable === !!b.repeatable &&
    String(a.aliases) === String(b.aliases);
  for (const source of sources) {
    for (const flag of source.flags) {
      const other = specs.get(flag.name);
      const shared = owners.get(flag.name);
      if (other !== undefined && (shared === undefined || !sameShape(other, flag))) {
        throw new Error(`flag --${flag.name} is defined twice: rename one`);
      }
      if (other === undefined) specs.set(flag.name, flag);
      owners.set(flag.name, [...(shared ?? []), source]);
    }
  }
  const { values, given } = parseFlags(args, specs);
  const help = values.help === true;
  const sourceName = typeof values.source === "string" ? values.source : sources[0].name;
  const source = sources.find((s) => s.name === sourceName);
  if (!help && source === undefined) {
    const names = sources.map((s) => s.name).join(", ");
    throw new UsageError(`--source: unknown source "${sourceName}": use one of ${names}`);
  }
  if (help || source === undefined) {
    return {
      help: true,
      verbose: false,
      source: sources[0],
      openSource: () => Promise.reject(new Error("not configured: --help")),
      commitMs: DEFAULT_COMMIT_MS,
      commitRows: DEFAULT_COMMIT_ROWS,
      output: DEFAULT_OUTPUT,
      inputLog: undefined,
    };
  }
  for (const name of given) {
    const from = owners.get(name);
    if (from !== undefined && !from.includes(source)) {
      const names = from.map((s) => s.name);
      const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
      throw new UsageError(`--${name} applies to --source ${list} only (the source is ${source.name})`);
    }
  }

  const sourceValues: Record<string, string | boolean | string[] | undefined> = {};
  for (const flag of source.flags) sourceValues[flag.name] = values[flag.name] ?? flag.default;
  const openSource = source.configure(sourceValues as FlagValues);
  const model = modelConfig(values, sourceValues as FlagValues);
  const keys = typeof sourceValues.key === "string"
    ? keyColumns(sourceValues.key, model, { messageKey: source.name === "kafka" })
    : undefined;
  const maxKeys = numberFlag("max-keys", String(values["max-keys"] ?? DEFAULT_MAX_KEYS), {
    min: 1,
    integer: true,
  });
  const timeColumn = typeof sourceValues.time === "string" ? sourceValues.time : undefined;
  const windows = windowOptions(values, timeColumn);
  const last = lastPoints(values, timeColumn);
  if (keys !== undefined || windows !== undefined || last !== undefined) {
    if (!isPlainLine(model) && values.serve !== undefined) {
      throw new UsageError(
        "--serve with --key or --window shows one line y ≈ a + b·x per key; with several x columns, " +
          "--degree, --no-intercept or --stats it is not supported yet: leave --serve out",
      );
    }
    if (!isPlainLine(model) && values.state !== undefined && last !== undefined) {
      throw new UsageError(
        "--window last:N with --state is not supported yet for models (several x columns, --degree, " +
          "--no-intercept or --stats); it is for the line, and tumbling and sliding windows are for models",
      );
    }
  }
  if (values["metrics-keys"] !== undefined && (values.serve === undefined || keys === undefined)) {
    throw new UsageError("--metrics-keys applies with --serve and --key only");
  }
  if (keys === undefined && values["max-keys"] !== undefined) {
    throw new UsageError("--max-keys applies with --key only");
  }

  const inputFiles = source.inputFiles?.(sourceValues as FlagValues) ?? [];
  const outputTopic = parseOutputTopic(values);
  if (outputTopic !== undefined && source.name === "kafka" && outputTopic.topic === sourceValues.topic) {
    throw new UsageError(
      `--output-topic ${outputTopic.topic} is the topic read (-t): the results would be read back as points; ` +
        "name another topic",
    );
  }
  if (outputTopic === undefined && source.name !== "kafka") {
    const connection = ["brokers", "property", "config"].find((flag) => given.includes(flag));
    if (connection !== undefined) {
      throw new UsageError(
        `--${connection} applies to --source kafka, or with --output-topic (the source is ${source.name})`,
      );
    }
  }

  const output = String(values.output ?? DEFAULT_OUTPUT);
  if (output === "") throw new UsageError(`--output: expected a path or -, got ""`);
  let inputLog: string | undefined = String(values["input-log"] ?? DEFAULT_INPUT_LOG);
  // With --output-topic, the files are written only when asked for.
  if (outputTopic !== undefined && values["input-log"] === undefined) inputLog = undefined;
  if (values["no-input-log"] === true) {
    if (values["input-log"] !== undefined) {
      throw new UsageError("--input-log and --no-input-log contradict each other: give one of them");
    }
    inputLog = undefined;
  }
  if (inputLog === "") throw new UsageError(`--input-log: expected a path or -, got ""`);
  const ambiguous = inputLog === undefined ? undefined : inputLogProblem(model);
  if (ambiguous !== undefined) throw new UsageError(ambiguous);
  // Two outputs that are the same regular file are refused by findOverwrite (overwrite_check.ts), which
  // compares files, not spellings: `--output /dev/null --input-log /dev/null` is fine.
  /** "(-)" or "(-, /dev/stdout)": how the two flags named stdout. */
  const spelled = (p: string, q: string) => `(${p === q ? p : `${p}, ${q}`})`;
  if (inputLog !== undefined && isStdout(inputLog) && isStdout(output)) {
    throw new UsageError(
      `--output and --input-log cannot both be stdout ${
        spelled(output, inputLog)
      }: send one to a file or use --no-input-log`,
    );
  }
  const deadLetter = values["dead-letter"] === undefined ? undefined : String(values["dead-letter"]);
  if (deadLetter === "") throw new UsageError(`--dead-letter: expected a path or -, got ""`);
  for (const [flag, path] of [["--output", output], ["--input-log", inputLog]] as const) {
    if (deadLetter === undefined || path === undefined || !isStdout(path) || !isStdout(deadLetter)) continue;
    throw new UsageError(
      `${flag} and --dead-letter cannot both be stdout ${spelled(path, deadLetter)}: send one to a file`,
    );
  }
  const onError = String(values["on-error"] ?? "skip");
  if (onError !== "skip" && onError !== "fail") {
    throw new UsageError(`--on-error: expected skip or fail, got "${onError}"`);
  }
  const state = values.state === undefined ? undefined : String(values.state);
  if (state === "kafka") {
    if (source.name !== "kafka" || outputTopic === undefined) {
      throw new UsageError(
        "--state kafka keeps the state in the source's Kafka cluster, in the transaction of each batch's " +
          "output: it needs --source kafka and --output-topic (for a directory named kafka: --state ./kafka)",
      );
    }
    const files = (["output", "input-log", "dead-letter"] as const).filter((f) => values[f] !== undefined);
    if (files.length > 0) {
      throw new UsageError(
        `--state kafka keeps its outputs in Kafka only: --${files[0]} cannot be rolled back with a ` +
          "transaction; leave it out, or use --state DIR",
      );
    }
  } else if (state !== undefined) {
    if (state === "") throw new UsageError(`--state: expected a directory, got ""`);
    for (
      const [flag, path] of [["--output", output], ["--input-log", inputLog], ["--dead-letter", deadLetter]]
    ) {
      if (path === undefined || !isStdout(path)) continue;
      throw new UsageError(
        `--state needs file outputs: ${flag} ${path} (stdout) cannot be cut back after a crash; ` +
          "give a file path, or run without --state",
      );
    }
    if (source.state === undefined) {
      throw new UsageError(`--state: --source ${source.name} cannot resume after a restart yet`);
    }
    const refused = source.state.refuse?.(sourceValues as FlagValues);
    if (refused !== undefined) throw new UsageError(`--state: ${refused}`);
  }
  const readers = String(values.readers ?? "one");
  if (readers !== "one" && readers !== "many") {
    throw new UsageError(`--readers: expected one or many, got "${readers}"`);
  }
  if (readers === "many") {
    if (state !== "kafka") {
      throw new UsageError(
        "--readers many merges the partitions' states kept in the state topic: it needs --state kafka",
      );
    }
    if (windows !== undefined || (last !== undefined && (keys === undefined || !isPlainLine(model)))) {
      throw new UsageError(
        "--readers many keeps no windows of time (--window tumbling or sliding) yet, and --window last:N only " +
          "with --key @key and the plain line: use one reader per group",
      );
    }
    if (keys !== undefined && !keys.includes(MESSAGE_KEY)) {
      throw new UsageError(
        `--readers many with --key ${keys.join(",")}: each reader writes the lines of the keys of its ` +
          "partitions, so a key must live in one partition: key the messages and use --key @key (the message key)",
      );
    }
    if (keys === undefined && !isPlainLine(model)) {
      throw new UsageError(
        "--readers many merges exact per-partition states of the plain line (one x, degree 1, no --stats) " +
          "only: other models cannot be merged across readers yet; key the messages and use --key @key " +
          "(one model per key, no merge), or use one reader per group",
      );
    }
  }
  if (values.verbose === true && values.quiet === true) {
    throw new UsageError("--verbose and --quiet contradict each other: give one of them");
  }
  return {
    help: false,
    ...(keys !== undefined ? { keys, maxKeys } : {}),
    ...(windows !== undefined ? { windows } : {}),
    ...(last !== undefined ? { lastPoints: last } : {}),
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    source,
    openSource,
    commitMs: numberFlag("commit-ms", String(values["commit-ms"] ?? DEFAULT_COMMIT_MS), { above: 0 }),
    commitRows: numberFlag("commit-rows", String(values["commit-rows"] ?? DEFAULT_COMMIT_ROWS), {
      min: 0,
      integer: true,
    }),
    output,
    inputLog,
    deadLetter,
    onError,
    maxRecordBytes: numberFlag(
      "max-record-bytes",
      String(values["max-record-bytes"] ?? DEFAULT_MAX_RECORD_BYTES),
      { min: 1, integer: true },
    ),
    inputFiles,
    ...(state !== undefined ? { state } : {}),
    ...(readers === "many" ? { readers } : {}),
    ...(outputTopic !== undefined ? { outputTopic } : {}),
    ...(outputTopic !== undefined && values.output === undefined ? { noOutputFile: true } : {}),
    sourceValues: sourceValues as FlagValues,
    model,
    ...(values.serve !== undefined ? { serve: parseServe(String(values.serve)) } : {}),
    ...(values.serve !== undefined && keys !== undefined
      ? {
        metricsKeys: numberFlag("metrics-keys", String(values["metrics-keys"] ?? DEFAULT_METRICS_KEYS), {
          min: 0,
          integer: true,
        }),
      }
      : {}),
  };
}

/** `--output-topic`, `--output-format`, `--output-mode`; undefined without `--output-topic`. */
function parseOutputTopic(values: FlagValues): OutputTopic | undefined {
  const topic = values["output-topic"];
  if (typeof topic !== "string") {
    for (const flag of ["output-format", "output-mode"]) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} applies with --output-topic only`);
    }
    return undefined;
  }
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new UsageError(
      `--output-topic: "${topic}" is not a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')`,
    );
  }
  const format = String(values["output-format"] ?? "json");
  if (format !== "json" && format !== "csv") {
    throw new UsageError(`--output-format: expected json or csv, got "${format}"`);
  }
  const mode = String(values["output-mode"] ?? "changelog");
  if (mode !== "changelog" && mode !== "upsert") {
    throw new UsageError(`--output-mode: expected changelog or upsert, got "${mode}"`);
  }
  return { topic, format, mode };
}
