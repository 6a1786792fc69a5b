/**
 * The `regress` command, runtime-agnostic: parses flags, loads the core, opens the source and the
 * change logs, runs the pipeline and maps the outcome to an exit code (0 done, 1 failure, 2 usage).
 * Bad records are rejected (reported on stderr, rate-limited, and written to `--dead-letter PATH`), or
 * with `--on-error fail` stop the run with exit code 1. An output that is the input file exits with 2.
 * The Deno and Bun entry points (`src/runtime/*_main.ts`) only build a {@linkcode Host} and call it.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(host); // host: see ./host.ts
 * ```
 * @module
 */

import { RegressionCore } from "../core/regression_core.ts";
import type { Source } from "../sources/source.ts";
import { DeadLetterLog } from "../sinks/dead_letter.ts";
import { InputLog } from "../sinks/input_log.ts";
import { ResultLog } from "../sinks/result_log.ts";
import type { Sink } from "../sinks/sink.ts";
import { parseCli } from "./args.ts";
import { UsageError } from "./flags.ts";
import { helpText } from "./help.ts";
import { type Host, isBrokenPipe } from "./host.ts";
import { runPipeline } from "./pipeline.ts";
import { findOverwrite } from "./overwrite_check.ts";
import { Progress } from "./progress.ts";
import { RejectReporter } from "./reject_reporter.ts";
import { SOURCES, type SourceSpec } from "./source_specs.ts";

/** How many refused points are reported one by one before only counting them. */
const REFUSED_SHOWN = 10;

/**
 * Options of {@linkcode main}.
 *
 * @example
 * ```ts
 * await main(host, { sources: [demoSpec, csvSpec, kafkaSpec] });
 * ```
 */
export interface MainOptions {
  /** The sources offered by `--source`. Default {@linkcode SOURCES}. */
  sources?: readonly SourceSpec[];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the command; resolves to the exit code. Never throws.
 *
 * @example
 * ```ts
 * Deno.exit(await main(denoHost()));
 * ```
 */
export async function main(host: Host, options: MainOptions = {}): Promise<number> {
  const sources = options.sources ?? SOURCES;
  let cli;
  try {
    cli = parseCli(host.args, sources);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    host.writeStderr(`streamreg: ${error.message}\n`);
    return 2;
  }
  if (cli.help) {
    const out = host.stdout().getWriter();
    await out.write(new TextEncoder().encode(helpText(sources)));
    await out.close();
    return 0;
  }
  const overwrite = await findOverwrite(host, cli.inputFiles ?? [], [
    { flag: "--output", path: cli.output },
    ...(cli.inputLog !== undefined ? [{ flag: "--input-log", path: cli.inputLog }] : []),
    ...(cli.deadLetter !== undefined ? [{ flag: "--dead-letter", path: cli.deadLetter }] : []),
  ]);
  if (overwrite !== undefined) {
    host.writeStderr(`streamreg: ${overwrite}\n`);
    return 2;
  }

  const noColor = host.env("NO_COLOR");
  const progress = new Progress((text) => host.writeStderr(text), {
    terminal: host.stderrIsTerminal,
    verbose: cli.verbose,
    color: noColor === undefined || noColor === "",
  });
  const controller = new AbortController();
  let stops = 0;
  const stopListening = host.onSignal((signal) => {
    stops++;
    if (stops > 1) {
      host.writeStderr(`\nstreamreg: second ${signal}: exiting without flushing\n`);
      host.exit(1);
    }
    progress.info(`streamreg: ${signal}: writing the open batch and closing the files`);
    controller.abort();
  });

  let source: Source | undefined;
  const sinks: Sink[] = [];
  let deadLetter: DeadLetterLog | undefined;
  let code = 0;
  const fail = (error: unknown) => {
    if (isBrokenPipe(error)) {
      controller.abort(); // the reader of stdout has gone: nothing left to do, and not a failure
      return;
    }
    if (code !== 0) return;
    code = 1;
    progress.message(`streamreg: ${describe(error)}`);
    if (cli.verbose && error instanceof Error && error.stack) host.writeStderr(`${error.stack}\n`);
  };
  try {
    const core = await RegressionCore.load(await host.readWasm());
    source = await cli.openSource(host, controller.signal, {
      verbose: cli.verbose,
      message: (line) => progress.message(line),
      maxRecordBytes: cli.maxRecordBytes,
    });
    const open = async (path: string) => (path === "-" ? host.stdout() : await host.openWrite(path));
    const name = (path: string) => (path === "-" ? "stdout" : path);
    sinks.push(new ResultLog(await open(cli.output), { name: name(cli.output) }));
    if (cli.inputLog !== undefined) {
      sinks.push(new InputLog(await open(cli.inputLog), { name: name(cli.inputLog) }));
    }
    if (cli.deadLetter !== undefined) {
      deadLetter = new DeadLetterLog(await open(cli.deadLetter), { name: name(cli.deadLetter) });
      await deadLetter.flush(); // the header: the file exists (and is empty of records) from the start
    }
    const logs = [cli.output, cli.inputLog].filter((p) => p !== undefined).map((p) => name(p!)).join(" and ");
    progress.info(`streamreg: ${source.name} → ${logs} (${host.runtime})`);
    const reporter = new RejectReporter((line) => progress.message(line), {
      deadLetter: cli.deadLetter === undefined ? undefined : name(cli.deadLetter),
    });

    let refused = 0;
    const stats = await runPipeline(source, core, sinks, {
      commitMs: cli.commitMs,
      commitRows: cli.commitRows,
      signal: controller.signal,
      onBatch: (_, stats) => progress.update(stats),
      // With --on-error fail, the error message names the one bad record.
      rejectSinks: [...(deadLetter ? [deadLetter] : []), ...(cli.onError === "fail" ? [] : [reporter])],
      onError: cli.onError,
      onRefused: (where, reason) => {
        if (++refused <= REFUSED_SHOWN) progress.message(`streamreg: skipped ${where}: ${reason}`);
      },
    }).catch((error) => {
      fail(error);
      return undefined;
    });
    reporter.finish();
    if (stats) {
      progress.finish(stats);
      if (refused > REFUSED_SHOWN) {
        progress.message(
          `streamreg: ${refused} points refused in all (the first ${REFUSED_SHOWN} are shown above)`,
        );
      }
    }
  } catch (error) {
    fail(error);
  } finally {
    for (const sink of sinks) await sink.close().catch(fail);
    await deadLetter?.close().catch(fail);
    await Promise.resolve(source?.close?.()).catch(fail);
    stopListening();
  }
  return code;
}
