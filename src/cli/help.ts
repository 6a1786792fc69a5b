/**
 * The text of `--help`: every flag with its default, the sources, the outputs and examples.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * import { SOURCES } from "./source_specs.ts";
 * console.log(helpText(SOURCES));
 * ```
 * @module
 */

import { REJECT_REASONS } from "../model/rejection.ts";
import { GENERAL_FLAGS } from "./args.ts";
import type { FlagSpec } from "./flags.ts";
import type { SourceSpec } from "./source_specs.ts";

/**
 * The help lines of some flags: name and value on the left, help and default on the right, aligned.
 *
 * @example
 * ```ts
 * flagLines([{ name: "rate", value: "N", default: "1", help: "points per second" }]);
 * // ["  --rate N  points per second (default: 1)"]
 * ```
 */
export function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = flags.map((f) =>
    `${f.short ? `-${f.short}, ` : ""}--${f.name}${f.value ? ` ${f.value}` : ""}`
  );
  const width = Math.max(24, ...left.map((l) => l.length + 2));
  return flags.map((f, i) => {
    const also = f.aliases?.length ? ` (also ${f.aliases.map((a) => `--${a}`).join(", ")})` : "";
    const suffix = `${also}${f.default !== undefined ? ` (default: ${f.default})` : ""}`;
    return `  ${left[i].padEnd(width)}${f.help}${suffix}`;
  });
}

/**
 * The help for the given sources (the first is the default).
 *
 * @example
 * ```ts
 * helpText(SOURCES).includes("--commit-ms"); // true
 * ```
 */
export function helpText(sources: readonly SourceSpec[]): string {
  const lines = [
    "streamreg: streaming linear regression. Fits y ≈ a + b·x exactly as points arrive, in batches,",
    "and writes the fitted line and the accepted points as CSV change logs. Also several x columns",
    "(--x x1,x2,…: y ≈ a + b₁x₁ + … + b_k·x_k), a polynomial in x (--degree D), no intercept (--no-intercept)",
    "and the fit's statistics (--stats).",
    "",
    "Usage:",
    "  deno task regress [flags]",
    "  bun run regress [flags]",
    "  deno task regress plot [flags]   draw the change logs as SVG (see: plot --help)",
    "",
    "General flags:",
    ...flagLines(GENERAL_FLAGS),
  ];
  for (const [i, source] of sources.entries()) {
    lines.push(
      "",
      `--source ${source.name}${i === 0 ? " (the default)" : ""}: ${source.summary}`,
      ...flagLines(source.flags),
      ...(source.notes ?? []).map((line) => `  ${line}`),
      `  example: deno task regress${i === 0 ? "" : ` --source ${source.name}`} ${source.example}`,
    );
  }
  lines.push(
    "",
    "Outputs (CSV with a header; numbers as the shortest decimal that reads back to the same double):",
    "  result  a,b,time,diff  for each batch that changes the line: the previous line with diff -1, then the",
    "                         new line with diff 1; time = the batch's commit time in epoch ms, increasing",
    "          Other models (several x, --degree, --no-intercept, --stats): a (without --no-intercept), then",
    "          b (one x), b_<col> for each x column (b_x1,b_x2,…) or b_x,b_x^2,…,b_x^D (--degree D); with",
    "          --stats then n,r2,sigma,se_a,se_b… (se_ of every coefficient, same order); then time,diff.",
    "          An empty cell: undefined (an aliased column, collinear with the columns before it, named once",
    "          on stderr; r2 or sigma that the data do not define). These names are stable.",
    "  input   x,y,time,diff  every accepted point, at its batch's time; can be fed back with --source csv",
    "                         (several x: the x columns by name, then y,time,diff)",
    "  --key, --window: the key columns first, then window_start,window_end (result) or the --time column",
    "          (input); a batch writes result rows only for the keys and windows whose line it changed.",
    "          Other models work per key and window too (not with --serve), with the columns above.",
    "  Only CSV goes to stdout; progress and messages go to stderr (a status line when it is a terminal;",
    "  set NO_COLOR to turn colours off).",
    "  dead    source,location,reason,detail,raw  with --dead-letter: one row per rejected record (created",
    "          at the start, also if none is rejected); raw = the record with \\\\ for \\ and \\xNN for",
    "          control bytes and bytes that are not UTF-8",
    "",
    "Bad input (every source): a record that is not a valid point never changes the fit. It is rejected,",
    "counted and reported on stderr (the first 10, then a summary at most every 10 s, and at the end),",
    "and written to the dead-letter file; --on-error fail stops at the first one instead (exit 1). A CSV",
    "line is one record (a quoted field cannot span lines). Reason codes:",
    ...Object.entries(REJECT_REASONS).map(([code, text]) => `  ${code.padEnd(20)}${text}`),
    "",
    "Crash and restart (--state DIR): after every batch the outputs are written and fsynced, then",
    "DIR/checkpoint.json is replaced atomically (temporary file, fsync, rename). It holds the core's exact state,",
    "where the source stands after the batch (csv: the byte offset and line, and the header; demo: the next",
    "point; kafka: the next offset of every partition and its header), the current line, the last commit time,",
    "the length of every output and a checksum; with a diff column, the multiset of added points is kept beside",
    "it (points-N.snap, points-N.log). Restarted with the same flags, the run goes on from there: an output",
    "longer than recorded (a batch written after the checkpoint) is cut back, and the outputs are appended to. So",
    "after a kill at any moment (SIGKILL, power loss) the change logs end up as an uninterrupted run's, commit",
    "times aside (byte for byte with deterministic batches: --commit-rows N and a large --commit-ms); times keep",
    "increasing across restarts. SIGINT and SIGTERM write the open batch and its checkpoint and exit 0; a run",
    "that ends cleanly marks its outputs complete, and they are never cut back. A missing DIR starts a new run. A",
    "corrupt or truncated checkpoint, a missing or shorter output, a changed input file or other flags stop the",
    "run (exit 1) saying what to do: it never starts over silently (delete DIR to start over). Needs file outputs",
    "and a file input (not stdin), the demo stream or Kafka.",
    "",
    "Results to Kafka (--output-topic NAME; the source's -b, -X, -F and KAFKA_* settings; a missing topic is",
    'created): the result change log as messages, json (default: {"a":…,"b":…,"time":…,"diff":1}, the CSV',
    "columns by name, numbers as the CSV writes them) or --output-format csv (the row; a record header",
    "columns=a,b,time,diff). Key: the JSON of the key columns and window bounds (--key, --window), else none.",
    "--output-mode upsert, for compacted topics: per batch only the latest line of each key, or a tombstone",
    "when its line was retracted with nothing in its place (key {} when unkeyed). With --output-topic the",
    "files are written only if --output or --input-log is given. From --source kafka, each batch's messages",
    "and offsets are one transaction (transactional.id, default <group>.streamreg-tx): exactly once for",
    "read_committed readers; an older reader of the group still running (paused, cut off) is fenced and",
    "exits 1. From csv or demo: at least once. -X compression.type=... compresses the batches sent.",
    "--state kafka (with --source kafka and --output-topic, no --output, --input-log, --dead-letter): the",
    "checkpoint goes to the compacted topic <group>.streamreg-state (created if missing), in the same",
    "transaction, and a restart reads it back first: after a kill at any moment, the read_committed output",
    "is an uninterrupted run's, commit times aside.",
    "",
    "Examples:",
    "  deno task regress                      the tutorial's 10 points, one per second",
    "  bun run regress --rate 0 --output - --no-input-log",
    "                                         the same at once, result change log on stdout",
    "  deno task regress --rows 0 --rate 50 --slope 2 --intercept 1 --noise 0.5 --verbose",
    "  deno task regress --source csv --input regression_input.csv --output replay.csv --no-input-log",
    "                                         replay an input change log",
    "  tail -f points.csv | deno task regress --source csv --input - --commit-ms 500",
    "  deno task regress --source csv --input longley.csv --x x1,x2,x3,x4,x5,x6 --y y --stats",
    "                                         several x columns, with R², sigma and standard errors",
    "  deno task regress --source csv --input filip.csv --degree 10 --output -",
    "                                         a polynomial of degree 10 in x",
    "  deno task regress --source csv --input points.csv --state state --commit-rows 10000 --commit-ms 1e9",
    "                                         restartable after a crash; run the same command again",
    "",
    "Exit codes: 0 done (also after SIGINT or SIGTERM, which close the open batch and flush the files),",
    "1 failure while running (or a bad record with --on-error fail), 2 bad flags (also a flag with a value",
    "given twice, a bad Kafka property in -X, -F or KAFKA_*, or an output that is the input file: paths are",
    "compared after resolving links).",
  );
  return lines.join("\n") + "\n";
}
