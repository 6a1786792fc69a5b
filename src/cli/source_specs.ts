/**
 * The sources the CLI offers (`--source NAME`), each with its own flags.
 *
 * To add a source (Kafka, say): write a {@linkcode SourceSpec} next to the source and append it to
 * {@linkcode SOURCES}. Its flags then appear in `--help`, are accepted only with `--source NAME`, and
 * reach `configure` as strings; `configure` checks them (throwing {@linkcode UsageError}, exit code 2)
 * and returns the function that opens the source at run time (its errors exit with code 1).
 *
 * @example
 * ```ts
 * import { SOURCES } from "./source_specs.ts";
 * console.log(SOURCES.map((s) => s.name)); // ["demo", "csv", "kafka"]
 * ```
 * @module
 */

import { CsvSource } from "../sources/csv/csv_source.ts";
import { kafkaSpec } from "./kafka_spec.ts";
import { DEMO_DEFAULTS, DemoSource } from "../sources/demo/demo_source.ts";
import type { Source } from "../model/source.ts";
import { type FlagSpec, type FlagValues, numberFlag, UsageError } from "./flags.ts";
import type { Host } from "./host.ts";
import { modelColumns, X_HELP } from "./model_flags.ts";
import { keyColumns, keyFlag } from "./key_flags.ts";
import { timeFlag } from "./window_flags.ts";
import { outputConnectionFlags } from "./kafka_flags.ts";
import type { TimeFormat } from "../model/windows.ts";

/**
 * What the CLI offers a source while it opens and runs, besides the host.
 *
 * @example
 * ```ts
 * const context: OpenContext = { verbose: false, message: (line) => console.error(line) };
 * ```
 */
export interface OpenContext {
  /** `--verbose` was given: informational lines are welcome. */
  readonly verbose: boolean;
  /** Prints one line for the user on stderr (keeping the status line intact). */
  message(line: string): void;
  /**
   * `--max-record-bytes`: reject longer records (lines, messages) as `too_large`, without holding
   * more than this of one record. Absent: `DEFAULT_MAX_RECORD_BYTES` (1 MiB).
   */
  readonly maxRecordBytes?: number;
  /**
   * `--state`, restarting: the position the source returned (`Source.position`) after the last batch
   * of the checkpoint. The source must start exactly at the first record after it, or throw an Error
   * saying why it cannot (the input changed...). Absent: start from the beginning (also with `--state`,
   * on a fresh run; a resumable source must then still implement `Source.position`).
   */
  readonly resume?: unknown;
  /**
   * The input change log is written: a source that can should give each point's text as the log
   * writes it (`PointChunk.text`), to spare formatting the numbers again.
   */
  readonly pointText?: boolean;
  /**
   * With `--window`: the event time column (`--time`) and how it writes times (`--time-format`): each
   * point carries its time (`PointChunk.times`), and a record without a usable time is `bad_time`.
   */
  readonly time?: { readonly column: string; readonly format: TimeFormat };
  /**
   * `--output-topic` from a Kafka source: the source commits no offsets itself, each batch's transaction
   * does (with its output).
   */
  readonly transactional?: boolean;
  /**
   * `--readers many`: a batch leaves out the points of partitions revoked before it commits, so a
   * partition assigned again is read again from the group's committed offset.
   */
  readonly dropsRevoked?: boolean;
}

/**
 * Opens a configured source at run time.
 *
 * @example
 * ```ts
 * const open: OpenSource = demoSpec.configure({ rows: "5", rate: "0", slope: "1", intercept: "0", noise: "0", seed: "0" });
 * const source = await open(host, new AbortController().signal);
 * ```
 */
export type OpenSource = (host: Host, signal: AbortSignal, context?: OpenContext) => Promise<Source>;

/**
 * A source as offered on the command line.
 *
 * @example
 * ```ts
 * const fixed: SourceSpec = {
 *   name: "fixed",
 *   summary: "three points on y = x",
 *   flags: [],
 *   example: "--source fixed",
 *   configure: () => async () => new CsvSource(new Blob(["x,y\n0,0\n1,1\n2,2\n"]).stream()),
 * };
 * ```
 */
export interface SourceSpec {
  /** The value of `--source`. */
  readonly name: string;
  /** One line for --help. */
  readonly summary: string;
  /** Flags only this source accepts. */
  readonly flags: readonly FlagSpec[];
  /** Example arguments for --help (after the command). */
  readonly example: string;
  /** More lines for --help, after the flags. */
  readonly notes?: readonly string[];
  /**
   * The local files this source reads with these flag values ("-" for stdin), so that the CLI can
   * refuse to write an output over them. Absent: none.
   */
  inputFiles?(values: FlagValues): readonly string[];
  /**
   * Checks this source's flag values (defaults already applied; `true` for boolean flags) and returns
   * the opener. Throws {@linkcode UsageError} for a bad value.
   */
  configure(values: FlagValues): OpenSource;
  /**
   * Support of `--state DIR` (crash and restart); absent: the source cannot resume and `--state` is
   * refused. A resumable source implements `Source.position` and starts from `OpenContext.resume`.
   */
  readonly state?: StateSupport;
}

/**
 * How a source takes part in `--state DIR`.
 *
 * @example
 * ```ts
 * const state: StateSupport = {
 *   refuse: (values) => (values.input === "-" ? "stdin cannot be read again after a restart" : undefined),
 *   settings: (values) => ({ "--x": String(values.x) }),
 * };
 * ```
 */
export interface StateSupport {
  /** Why `--state` cannot work with these flag values (a usage error, exit 2), or undefined. */
  refuse?(values: FlagValues): string | undefined;
  /**
   * The settings a checkpoint is bound to, by flag (a restart with other values is refused); default:
   * every flag of the source. Input files are compared by their resolved paths in any case.
   */
  settings?(values: FlagValues): Record<string, string | number | boolean | null>;
  /**
   * Whether the checkpoint is bound to the resolved paths of `SourceSpec.inputFiles`. Default true;
   * false when those files are not the data read (the Kafka source's `-F` properties file).
   */
  readonly bindInputFiles?: boolean;
}

const text = (values: FlagValues, name: string): string => String(values[name]);

/**
 * `--source demo`: the built-in noisy line.
 *
 * @example
 * ```ts
 * const open = demoSpec.configure({ rows: "0", rate: "50", slope: "2", intercept: "1", noise: "0.5", seed: "7" });
 * ```
 */
export const demoSpec: SourceSpec = {
  name: "demo",
  summary:
    "built-in stream: x = 0, 1, 2, ...; y = intercept + slope·x + uniform noise (the tutorial's points)",
  flags: [
    { name: "rows", value: "N", default: String(DEMO_DEFAULTS.rows), help: "number of points; 0 = endless" },
    {
      name: "rate",
      value: "N",
      default: String(DEMO_DEFAULTS.rate),
      help: "points per second; 0 = as fast as possible",
    },
    { name: "slope", value: "B", default: String(DEMO_DEFAULTS.slope), help: "slope of the line" },
    {
      name: "intercept",
      value: "A",
      default: String(DEMO_DEFAULTS.intercept),
      help: "intercept of the line",
    },
    {
      name: "noise",
      value: "E",
      default: String(DEMO_DEFAULTS.noise),
      help: "y gets (2r-1)/(1/E), r = Python random.random(): uniform in [-E, E)",
    },
    {
      name: "seed",
      value: "N",
      default: String(DEMO_DEFAULTS.seed),
      help: "seed, as Python's random.seed(N)",
    },
    ...outputConnectionFlags(),
  ],
  example: "--rows 0 --rate 20 --slope 2 --noise 0.5",
  state: {
    // The pace and the length may change from run to run: the points are the same.
    settings: (values) => ({
      "--slope": text(values, "slope"),
      "--intercept": text(values, "intercept"),
      "--noise": text(values, "noise"),
      "--seed": text(values, "seed"),
    }),
  },
  configure(values) {
    const options = {
      rows: numberFlag("rows", text(values, "rows"), { min: 0, integer: true }),
      rate: numberFlag("rate", text(values, "rate"), { min: 0 }),
      slope: numberFlag("slope", text(values, "slope")),
      intercept: numberFlag("intercept", text(values, "intercept")),
      noise: numberFlag("noise", text(values, "noise"), { min: 0 }),
      seed: numberFlag("seed", text(values, "seed"), { integer: true }),
    };
    return (_host, _signal, context) => {
      const resume = context?.resume as { next?: unknown } | undefined;
      if (resume !== undefined && !(Number.isSafeInteger(resume?.next) && (resume.next as number) >= 0)) {
        return Promise.reject(new Error(`not a demo stream position: ${JSON.stringify(resume)}`));
      }
      return Promise.resolve(new DemoSource({ ...options, start: resume?.next as number | undefined }));
    };
  },
};

/**
 * `--source csv`: a CSV file or stdin.
 *
 * @example
 * ```ts
 * const open = csvSpec.configure({ input: "points.csv", x: "x", y: "y", diff: "diff" });
 * ```
 */
export const csvSpec: SourceSpec = {
  name: "csv",
  summary: "a CSV file with a header (columns x and y, or several x, optional diff of 1 or -1), or stdin",
  flags: [
    { name: "input", value: "PATH", help: "CSV file to read; - reads stdin (required)" },
    { name: "x", value: "COLUMN", default: "x", help: X_HELP },
    { name: "y", value: "COLUMN", default: "y", help: "column holding y" },
    { name: "diff", value: "COLUMN", default: "diff", help: "column holding the weight, if present" },
    keyFlag(),
    timeFlag(),
    ...outputConnectionFlags(),
  ],
  example: "--input points.csv --x time --y price",
  state: {
    refuse: (values) =>
      values.input === "-"
        ? "stdin cannot be read again after a restart: give the CSV file with --input PATH"
        : undefined,
    settings: (values) => ({
      "--x": text(values, "x"),
      "--y": text(values, "y"),
      "--diff": text(values, "diff"),
      ...(typeof values.key === "string" ? { "--key": values.key } : {}),
    }),
  },
  configure(values) {
    const input = values.input;
    if (typeof input !== "string" || input === "") {
      throw new UsageError("--source csv needs --input PATH (a CSV file, or - for stdin)");
    }
    for (const column of ["x", "y", "diff"]) {
      if (text(values, column) === "") throw new UsageError(`--${column}: expected a column name, got ""`);
    }
    const { x, y } = modelColumns(values);
    const diff = text(values, "diff");
    if (x.length > 1 && (x.includes(diff) || y === diff)) {
      throw new UsageError(
        `--diff: the column "${diff}" is also ${y === diff ? "y" : "an x column"}: ` +
          `name the weight column with --diff (it is read if the header has it)`,
      );
    }
    const keys = typeof values.key === "string" ? keyColumns(values.key, { x, y }) : undefined;
    const time = typeof values.time === "string" ? values.time : undefined;
    if (
      time !== undefined &&
      (time === "" || time === y || x.includes(time) || time === diff || keys?.includes(time))
    ) {
      throw new UsageError(`--time: "${time}" must name a column of its own, not x, y, diff or a key column`);
    }
    if (keys?.includes(diff)) {
      throw new UsageError(
        `--key: "${diff}" is also the diff column (--diff): a key column holds the key only`,
      );
    }
    const columns = { x: x[0], ...(x.length > 1 ? { xs: x } : {}), y, diff, ...(keys ? { keys } : {}) };
    return async (host, _signal, context) => {
      const options = {
        ...columns,
        maxRecordBytes: context?.maxRecordBytes,
        pointText: context?.pointText,
        ...(context?.time !== undefined ? { time: context.time } : {}),
      };
      if (input === "-") return new CsvSource(host.stdin(), { name: "stdin", ...options });
      if (context?.resume === undefined) {
        return new CsvSource(await host.openRead(input), { name: input, ...options });
      }
      const resume = CsvSource.checkPosition(context.resume);
      const stream = await host.openRead(input, { start: CsvSource.startByte(resume) });
      return new CsvSource(stream, { name: input, ...options, resume });
    };
  },
  inputFiles: (values) => (typeof values.input === "string" && values.input !== "" ? [values.input] : []),
};

/**
 * Every source of the CLI; the first is the default.
 *
 * @example
 * ```ts
 * const sources = [...SOURCES, mySpec]; // what `main(host, { sources })` offers
 * ```
 */
export const SOURCES: readonly SourceSpec[] = [demoSpec, csvSpec, kafkaSpec];
