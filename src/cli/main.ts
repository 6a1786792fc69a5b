/**
 * The `regress` command, runtime-agnostic: parses flags, loads the core, opens the source and the
 * change logs, runs the pipeline and maps the outcome to an exit code (0 done, 1 failure, 2 usage).
 * Bad records are rejected (reported on stderr, rate-limited, and written to `--dead-letter PATH`), or
 * with `--on-error fail` stop the run with exit code 1. An output that is the input file exits with 2, and
 * so does, with `--state`, an output that is not a regular file (`/dev/null`, a pipe).
 * The plain line (one x, degree 1, an intercept, no `--stats`) runs on the line core (`RegressionCore`),
 * as it always has; any other model on the model core (`ModelCore`), and when a batch first leaves
 * columns aliased (or changes which), one line on stderr names them.
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
import { ModelCore } from "../core/model_core.ts";
import { shareNumberText } from "../core/number_text.ts";
import { coefficientNames, inputColumns, isPlainLine, type ModelConfig } from "../model/model_config.ts";
import type { CommittedBatch, Source } from "../model/source.ts";
import type { KafkaPosition } from "../sources/kafka/options.ts";
import { DeadLetterLog } from "../sinks/dead_letter.ts";
import { InputLog } from "../sinks/input_log.ts";
import { ResultLog } from "../sinks/result_log.ts";
import type { BatchUpdate, KeyChange, Sink } from "../model/sink.ts";
import { isStdout, parseCli } from "./args.ts";
import { UsageError } from "./flags.ts";
import { helpText } from "./help.ts";
import { type Host, isBrokenPipe } from "./host.ts";
import { type PipelineStats, runPipeline } from "../pipeline/pipeline.ts";
import { findOverwrite } from "./overwrite_check.ts";
import { Progress } from "./progress.ts";
import { RejectReporter } from "./reject_reporter.ts";
import { SOURCES, type SourceSpec } from "./source_specs.ts";
import { type OpenedState, openState, stateOutputProblem } from "./state_setup.ts";
import type { OutputLength } from "../state/checkpoint.ts";
import { PointValidator } from "../pipeline/validate/point_validator.ts";
import { isKeyedEngine, KeyedEngine, LastRing } from "../pipeline/keyed/keyed_stage.ts";
import { KEYED_STATE_FILE, KeyedStore } from "../state/keyed_store.ts";
import { StateError } from "../state/checkpoint.ts";
import type { StateStore } from "../state/state_store.ts";
import { isWindowedEngine, WindowedEngine } from "../pipeline/keyed/windowed_stage.ts";
import { isKeyedModelEngine, KeyedModelEngine } from "../pipeline/keyed/keyed_model_stage.ts";
import { isWindowedModelEngine, WindowedModelEngine } from "../pipeline/keyed/windowed_model_stage.ts";
import { MESSAGE_TIMESTAMP } from "../model/windows.ts";
import { KafkaResults } from "../sinks/kafka_results.ts";
// (loaded by runs with --output-topic only: a CSV or demo run loads no Kafka code)
import type { KafkaOutput } from "./kafka_output.ts";
import type { KafkaState } from "./kafka_state.ts";
import type { ManyReaders } from "./kafka_readers.ts";
import { openPartitionStates, partitionRecords } from "./kafka_partitions.ts";
import type { PartitionStates } from "../pipeline/partition_states.ts";

/** The input log's name for the time column: `@timestamp` (Kafka's) is written as `timestamp`. */
function timeColumnName(column: string): string {
  return column === MESSAGE_TIMESTAMP ? "timestamp" : column;
}
import { type Served, startServe } from "./serve_setup.ts";
import { plotMain } from "./plot.ts";

/** How many refused points are reported one by one before only counting them. */
const REFUSED_SHOWN = 10;
/**
 * A second SIGINT or SIGTERM within this many milliseconds of the first is the same stop request (a
 * wrapper such as `deno task` forwarding the terminal's signal); a later one exits without flushing.
 */
const SAME_STOP_MS = 1000;

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
  if (host.args[0] === "plot") return plotMain(host, host.args.slice(1));
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
  const outputPaths = [
    { flag: "--output", path: cli.output },
    ...(cli.inputLog !== undefined ? [{ flag: "--input-log", path: cli.inputLog }] : []),
    ...(cli.deadLetter !== undefined ? [{ flag: "--dead-letter", path: cli.deadLetter }] : []),
  ];
  const refused = await findOverwrite(host, cli.inputFiles ?? [], outputPaths) ??
    (cli.state !== undefined ? await stateOutputProblem(host, outputPaths) : undefined);
  if (refused !== undefined) {
    host.writeStderr(`streamreg: ${refused}\n`);
    return 2;
  }

  const noColor = host.env("NO_COLOR");
  const progress = new Progress((text) => host.writeStderr(text), {
    terminal: host.stderrIsTerminal && !cli.quiet,
    verbose: cli.verbose,
    color: noColor === undefined || noColor === "",
  });
  const controller = new AbortController();
  let firstStop: number | undefined;
  const stopListening = host.onSignal((signal) => {
    const now = performance.now();
    if (firstStop === undefined) {
      firstStop = now;
      progress.info(`streamreg: ${signal}: writing the open batch and closing the files`);
      controller.abort();
      return;
    }
    // A terminal's Ctrl-C reaches the whole process group, and `deno task` / `bun run` / `npx` forward
    // it once more: a second signal so soon after the first is the same request.
    if (now - firstStop < SAME_STOP_MS) return;
    host.writeStderr(`\nstreamreg: second ${signal}: exiting without flushing\n`);
    host.exit(1);
  });

  let source: Source | undefined;
  let served: Served | undefined;
  const sinks: Sink[] = [];
  let deadLetter: DeadLetterLog | undefined;
  let state: OpenedState | undefined;
  /** The output files and their lengths so far (for --state checkpoints). */
  const outputs: { flag: string; path: string; base: number; sink: { readonly bytesWritten: number } }[] = [];
  const lengths = (): OutputLength[] =>
    outputs.map(({ flag, path, base, sink }) => ({ flag, path, length: base + sink.bytesWritten }));
  let finished = false;
  let code = 0;
  /** With `--state` and `--key`: the keyed state's store, and the keys it restored with their counts. */
  let keyedStore: KeyedStore | undefined;
  let restoredKeys: [string, number][] = [];
  let restoredPoints: [string, Uint8Array][] = [];
  let pointWidth = 2;
  let restoredTime = -Infinity;
  /** `--output-topic`, and with `--state kafka` the state topic. */
  let kafkaOut: KafkaOutput | undefined;
  let kafkaState: KafkaState | undefined;
  /** With `--state kafka` and the plain line: each partition's exact state (`p/<partition>` records). */
  let partitionStates: PartitionStates | undefined;
  /**
   * `--readers many`: per-partition transactions and, holding partition 0, the global line; with
   * `--key @key`, each partition's keys' lines.
   */
  let manyReaders: ManyReaders | undefined;
  const fail = (error: unknown) => {
    if (isBrokenPipe(error)) {
      controller.abort(); // the reader of stdout has gone: nothing left to do, and not a failure
      return;
    }
    if (code !== 0) return;
    // A usage error found only once the run starts (a bad value in the -F file or a KAFKA_* variable).
    code = error instanceof UsageError ? 2 : 1;
    progress.message(`streamreg: ${describe(error)}`);
    if (cli.verbose && error instanceof Error && error.stack) host.writeStderr(`${error.stack}\n`);
  };
  try {
    const config: ModelConfig = cli.model ?? { x: ["x"], y: "y", degree: 1, intercept: true, stats: false };
    const plain = isPlainLine(config);
    const wasm = await host.readWasm();
    const lineCore = plain ? await RegressionCore.load(wasm) : undefined;
    const modelCore = plain ? undefined : await ModelCore.load(wasm, {
      k: config.x.length,
      degree: config.degree,
      intercept: config.intercept,
    }, { stats: config.stats });
    // The change logs' numbers (CsvWriter.appendNumber) through the core's instance.
    shareNumberText((lineCore ?? modelCore!).numberText());
    const keyedRun = cli.keys !== undefined || cli.lastPoints !== undefined;
    const core = cli.windows !== undefined
      ? (lineCore
        ? new WindowedEngine(lineCore, { window: cli.windows.window, lateness: cli.windows.lateness })
        : new WindowedModelEngine(modelCore!, config, {
          window: cli.windows.window,
          lateness: cli.windows.lateness,
        }))
      : keyedRun
      ? (lineCore
        ? new KeyedEngine(lineCore, { last: cli.lastPoints })
        : new KeyedModelEngine(modelCore!, config, { last: cli.lastPoints }))
      : lineCore ?? modelCore!;
    /** Values per added point a keyed run's validator keeps for retractions: the x's, y (and the time). */
    const keyPointWidth = config.x.length + 1 + (cli.windows !== undefined ? 1 : 0);
    const snapshot = () => lineCore ? lineCore.snapshot() : modelCore!.saveState();
    const restore = (bytes: Uint8Array) => lineCore ? lineCore.restore(bytes) : modelCore!.loadState(bytes);
    if (cli.outputTopic !== undefined) {
      // Before the state and the source: a transactional producer fences an older reader of the group.
      const { openKafkaOutput } = await import("./kafka_output.ts");
      kafkaOut = await openKafkaOutput(host, cli, {
        message: (line) => progress.message(line),
        verbose: cli.verbose,
      });
      if (cli.state === "kafka") {
        const { openKafkaState } = await import("./kafka_state.ts");
        kafkaState = await openKafkaState(host, cli, kafkaOut, (line) => progress.info(line));
        // (--readers many: no global checkpoint to resume; each partition's state is restored when assigned)
        const resumed = cli.readers === "many" ? undefined : kafkaState.resumed;
        if (resumed !== undefined) {
          try {
            restore(resumed.core);
          } catch (error) {
            throw new StateError(
              `the core state in ${kafkaState.path} was refused (${(error as Error).message}): ` +
                "use another group (-G) to start over",
            );
          }
          if (isKeyedEngine(core) || isKeyedModelEngine(core)) {
            pointWidth = keyPointWidth;
            restoredKeys = restoreKeys(kafkaState, core, restoredPoints);
          } else if (isWindowedEngine(core) || isWindowedModelEngine(core)) {
            restoredKeys = restoreWindows(kafkaState, core, restoredPoints);
            pointWidth = keyPointWidth;
            restoredTime = kafkaState.meta?.maxTime ?? -Infinity;
            core.maxTime = restoredTime;
            core.count = resumed.totals.count;
          }
        }
        if (core === lineCore && cli.readers === "many") {
          const { openManyReaders } = await import("./kafka_readers.ts");
          manyReaders = await openManyReaders(kafkaOut, kafkaState, {
            inputTopic: String(cli.sourceValues?.topic),
            core: lineCore,
            emptyCore: lineCore.snapshot(),
            format: cli.outputTopic!.format,
            mode: cli.outputTopic!.mode,
            fail: (error) => {
              fail(error);
              controller.abort();
            },
            message: (line) => progress.message(line),
            verbose: cli.verbose,
            // (the partitions the source holds now: a batch of no points says it)
            assignment: () => source?.position?.({ time: 0, spans: [] }) as KafkaPosition | undefined,
            fenced: (partition) => source?.fenced?.(partition),
          });
        } else if (cli.readers === "many" && (isKeyedEngine(core) || isKeyedModelEngine(core))) {
          // --key @key: each key lives in one partition; each reader writes its partitions' keys' lines.
          const { openKeyedReaders } = await import("./kafka_keyed_readers.ts");
          manyReaders = await openKeyedReaders(kafkaOut, kafkaState, {
            inputTopic: String(cli.sourceValues?.topic),
            engine: () =>
              lineCore
                ? new KeyedEngine(lineCore, { last: cli.lastPoints })
                : new KeyedModelEngine(modelCore!, config),
            keys: cli.keys ?? [],
            ...(cli.lastPoints !== undefined ? { lastPoints: true } : {}),
            ...(plain ? {} : { model: config }),
            emptyCore: snapshot(),
            format: cli.outputTopic!.format,
            mode: cli.outputTopic!.mode,
            message: (line) => progress.message(line),
            verbose: cli.verbose,
            fenced: (partition) => source?.fenced?.(partition),
          });
        } else if (core === lineCore) partitionStates = openPartitionStates(kafkaState);
      }
    }
    if (cli.state !== undefined && cli.state !== "kafka") {
      const engine = isKeyedEngine(core) || isWindowedEngine(core) || isKeyedModelEngine(core) ||
          isWindowedModelEngine(core)
        ? core
        : undefined;
      state = await openState(
        host,
        cli,
        { restore },
        (line) => progress.info(line),
        engine === undefined ? undefined : async (store) => {
          keyedStore = await openKeyedState(host, store);
          if (store.resumed === undefined) return;
          pointWidth = keyPointWidth;
          if (isKeyedEngine(engine) || isKeyedModelEngine(engine)) {
            restoredKeys = restoreKeys(keyedStore, engine, restoredPoints);
          } else {
            restoredKeys = restoreWindows(keyedStore, engine, restoredPoints);
            restoredTime = (keyedStore.meta() as KeyedMeta | undefined)?.maxTime ?? -Infinity;
            engine.maxTime = restoredTime;
            engine.count = store.resumed.totals.count;
          }
        },
      );
    }
    if (cli.serve !== undefined) {
      // Before the source opens: /healthz answers, and /readyz says "not ready", while it connects.
      const keyed = cli.keys !== undefined || cli.windows !== undefined || cli.lastPoints !== undefined;
      served = await startServe(host, cli.serve, {
        config,
        ...(keyed
          ? {
            keys: {
              columns: cli.keys ?? [],
              ...(cli.windows !== undefined
                ? { window: { text: cli.windows.text, format: cli.windows.format } }
                : cli.lastPoints !== undefined
                ? { window: { text: `last:${cli.lastPoints}` } }
                : {}),
              ...(cli.metricsKeys !== undefined ? { metricsKeys: cli.metricsKeys } : {}),
            },
          }
          : {}),
        message: (line) => {
          if (!cli.quiet) progress.message(line);
        },
      });
    }
    const resumed = state?.store.resumed ?? (manyReaders ? undefined : kafkaState?.resumed);
    try {
      source = await cli.openSource(host, controller.signal, {
        verbose: cli.verbose,
        message: (line) => progress.message(line),
        maxRecordBytes: cli.maxRecordBytes,
        pointText: cli.inputLog !== undefined,
        ...(cli.windows !== undefined
          ? { time: { column: cli.windows.column, format: cli.windows.format } }
          : {}),
        ...(resumed ? { resume: resumed.source } : {}),
        ...(kafkaOut?.transactional ? { transactional: true } : {}),
        ...(manyReaders ? { dropsRevoked: true } : {}),
      });
    } catch (error) {
      // SIGINT or SIGTERM while connecting: a stop as asked for, with nothing read yet.
      if (!controller.signal.aborted) throw error;
      progress.info("streamreg: stopped before reading anything");
      return code;
    }
    const live = served?.live;
    if (live) {
      const opened = source;
      live.opened(source.name, () => opened.status?.());
      // A restart: the page and /metrics show the restored keys' lines before their next change.
      if (resumed) {
        for (const change of restoredLines(core, restoredKeys)) live.restoreKey(change, resumed.time);
      }
    }
    if ((state || kafkaOut?.transactional) && typeof source.position !== "function") {
      throw new Error(`--state: ${source.name} cannot tell where to resume (it has no position method)`);
    }
    // A resumed run appends to its outputs, cut back to their lengths at the checkpoint.
    const base = (flag: string) => resumed?.outputs.find((o) => o.flag === flag)?.length ?? 0;
    const open = async (path: string) =>
      isStdout(path) // "-", and /dev/stdout without opening it (Deno's sandbox would refuse)
        ? host.stdout()
        : resumed
        ? await host.files!.openAppend(path)
        : await host.openWrite(path);
    const name = (path: string) => (path === "-" ? "stdout" : path);
    const options = (flag: string, path: string) => ({ name: name(path), append: base(flag) > 0 });
    const rows = {
      line: resumed?.line,
      ...(plain ? {} : { model: { config, last: resumed?.model } }),
      ...(cli.keys !== undefined || cli.windows !== undefined || cli.lastPoints !== undefined
        ? { keys: cli.keys ?? [] }
        : {}),
      ...(cli.windows !== undefined ? { windows: { format: cli.windows.format } } : {}),
      ...(cli.lastPoints !== undefined ? { windows: {} } : {}),
    };
    if (!cli.noOutputFile) {
      const result = new ResultLog(await open(cli.output), { ...options("--output", cli.output), ...rows });
      sinks.push(result);
      outputs.push({ flag: "--output", path: cli.output, base: base("--output"), sink: result });
    }
    const results = kafkaOut && manyReaders === undefined
      ? new KafkaResults({ ...rows, format: cli.outputTopic!.format, mode: cli.outputTopic!.mode })
      : undefined;
    if (results) sinks.push(results);
    if (cli.inputLog !== undefined) {
      const input = new InputLog(await open(cli.inputLog), {
        ...options("--input-log", cli.inputLog),
        ...(config.x.length > 1 ? { columns: inputColumns(config) } : {}),
        ...(cli.keys !== undefined ? { keys: cli.keys } : {}),
        ...(cli.windows !== undefined
          ? { time: { column: timeColumnName(cli.windows.column), format: cli.windows.format } }
          : {}),
      });
      sinks.push(input);
      outputs.push({ flag: "--input-log", path: cli.inputLog, base: base("--input-log"), sink: input });
    }
    if (cli.deadLetter !== undefined) {
      deadLetter = new DeadLetterLog(await open(cli.deadLetter), options("--dead-letter", cli.deadLetter));
      outputs.push({
        flag: "--dead-letter",
        path: cli.deadLetter,
        base: base("--dead-letter"),
        sink: deadLetter,
      });
      await deadLetter.flush(); // the header: the file exists (and is empty of records) from the start
    }
    if (live) sinks.push(live);
    const store = state?.store;
    const opened = source;
    const columns = { x: config.x, y: config.y };
    const validator = new PointValidator({
      source: opened.name,
      retractions: () => opened.retractions ?? true,
      counts: state?.counts,
      columns,
      ...(cli.maxKeys !== undefined ? { maxKeys: cli.maxKeys } : {}),
      ...(cli.windows !== undefined ? { window: cli.windows.window, lateness: cli.windows.lateness } : {}),
      ...(cli.lastPoints !== undefined
        ? { additionsOnly: `--window last:${cli.lastPoints} takes added points only: diff must be 1` }
        : {}),
    });
    for (const [key, count] of restoredKeys) validator.restoreKey(key, count);
    for (const [key, bytes] of restoredPoints) validator.restoreKeyPoints(key, bytes, pointWidth);
    restoredKeys = [];
    restoredPoints = [];
    if (restoredTime > -Infinity) validator.restoreTime(restoredTime);
    if (store && !resumed) {
      // The first checkpoint: a restart before the first batch starts afresh over these outputs.
      const totals = { points: 0, refused: 0, rejected: 0, batches: 0, changes: 0, count: 0 };
      await store.save({
        time: undefined,
        line: undefined,
        totals,
        core: snapshot(),
        source: undefined,
        outputs: lengths(),
      });
    }
    const logs = [cli.noOutputFile ? undefined : cli.output, cli.inputLog].filter((p) => p !== undefined)
      .map((p) => name(p!)).concat(kafkaOut ? [`topic "${kafkaOut.topic}"`] : []).join(" and ");
    progress.info(`streamreg: ${source.name} → ${logs} (${host.runtime})`);
    const reporter = new RejectReporter((line) => progress.message(line), {
      deadLetter: cli.deadLetter === undefined ? undefined : name(cli.deadLetter),
    });

    const saveDir = store && (async (batch: CommittedBatch, update: BatchUpdate, stats: PipelineStats) => {
      const { points, refused, rejected, batches, changes, count } = stats;
      if (
        keyedStore !== undefined &&
        (isKeyedEngine(core) || isWindowedEngine(core) || isKeyedModelEngine(core) ||
          isWindowedModelEngine(core))
      ) {
        // The keyed state first, with what a restart needs: if the process dies before the
        // checkpoint file below is written, the restart rolls forward to this batch.
        keyedStore.commit({
          meta: {
            time: batch.time,
            totals: { points, refused, rejected, batches, changes, count },
            source: opened.position!(batch),
            outputs: lengths(),
            ...(isWindowedEngine(core) || isWindowedModelEngine(core) ? { maxTime: core.maxTime } : {}),
          } satisfies KeyedMeta,
          changes: isKeyedEngine(core) || isKeyedModelEngine(core)
            ? keyChanges(core, validator)
            : windowChanges(core, validator),
        });
      }
      await store.save({
        time: batch.time,
        line: update.line,
        ...(update.model ? { model: update.model } : {}),
        totals: { points, refused, rejected, batches, changes, count },
        core: snapshot(),
        source: opened.position!(batch),
        outputs: lengths(),
        // (a keyed run keeps each key's added points in the keyed store instead)
        points: validator.tracking && keyedStore === undefined
          ? { counts: validator.multiset, runs: update.points }
          : undefined,
      });
    });
    /** With --output-topic: the batch's results (and --state kafka's records) in one transaction. */
    const produce = kafkaOut && (async (batch: CommittedBatch, update: BatchUpdate, stats: PipelineStats) => {
      const out = kafkaOut!;
      const position = out.transactional ? opened.position!(batch) as KafkaPosition : undefined;
      if (manyReaders) return await manyReaders.commit(batch.time, update, position!);
      const more = [];
      if (kafkaState !== undefined) {
        const { points, refused, rejected, batches, changes, count } = stats;
        if (partitionStates !== undefined) {
          more.push(partitionRecords(partitionStates, update, { topic: kafkaState.topic, position }));
        }
        more.push(
          await kafkaState.records(
            {
              time: batch.time,
              line: update.line,
              ...(update.model ? { model: update.model } : {}),
              totals: { points, refused, rejected, batches, changes, count },
              core: snapshot(),
              source: position,
            },
            isKeyedEngine(core) || isKeyedModelEngine(core)
              ? keyChanges(core, validator)
              : isWindowedEngine(core) || isWindowedModelEngine(core)
              ? windowChanges(core, validator)
              : [],
            isWindowedEngine(core) || isWindowedModelEngine(core) ? { maxTime: core.maxTime } : undefined,
          ),
        );
      }
      await out.commit(results!.take(), more, position);
    });
    const checkpoint = produce || saveDir
      ? async (batch: CommittedBatch, update: BatchUpdate, stats: PipelineStats) => {
        // The topic first: with --state DIR, a crash between the two sends the batch again (at least once).
        await produce?.(batch, update, stats);
        await saveDir?.(batch, update, stats);
      }
      : undefined;
    let refused = 0;
    const names = coefficientNames(config);
    let aliasedNow = resumed?.model ? aliasedNames(names, resumed.model.aliased) : "";
    const stats = await runPipeline(source, core, sinks, {
      commitMs: cli.commitMs,
      commitRows: cli.commitRows,
      signal: controller.signal,
      validator,
      onBatch: (update, stats) => {
        if (update.model !== undefined) {
          const aliased = aliasedNames(names, update.model.aliased);
          if (aliased !== aliasedNow && aliased !== "") {
            progress.message(
              `streamreg: aliased (exact linear combination of the columns before): ${aliased}`,
            );
          }
          aliasedNow = aliased;
        }
        progress.update(stats);
        live?.batch(stats);
      },
      // With --on-error fail, the error message names the one bad record.
      rejectSinks: [
        ...(deadLetter ? [deadLetter] : []),
        ...(cli.onError === "fail" ? [] : [reporter]),
        ...(live ? [live] : []),
      ],
      onError: cli.onError,
      onRefused: (where, reason) => {
        if (++refused <= REFUSED_SHOWN) progress.message(`streamreg: skipped ${where}: ${reason}`);
      },
      ...(resumed
        ? { resume: { time: resumed.time, line: resumed.line, model: resumed.model, totals: resumed.totals } }
        : {}),
      ...(checkpoint ? { checkpoint } : {}),
    }).catch(async (error) => {
      fail(await kafkaOut?.explain(error).catch(() => error) ?? error);
      return undefined;
    });
    reporter.finish();
    if (stats) {
      finished = true;
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
    // Ended cleanly: nothing was written after the last checkpoint, and the outputs are final.
    if (state && finished && code === 0) await state.store.complete(lengths()).catch(fail);
    await Promise.resolve(source?.close?.()).catch(fail);
    await manyReaders?.close().catch(fail);
    await kafkaOut?.close().catch(fail);
    await served?.close().catch(fail);
    try {
      keyedStore?.close();
    } catch (error) {
      fail(error);
    }
    stopListening();
  }
  return code;
}

/** The names of the aliased coefficient columns, as a list ("" if none). */
function aliasedNames(names: readonly string[], aliased: readonly boolean[]): string {
  return names.filter((_, i) => aliased[i]).join(", ");
}

/** What the keyed state's store keeps with each batch: what a restart needs besides the keys. */
interface KeyedMeta {
  readonly time: number | undefined;
  readonly totals: { readonly batches: number } & Record<string, number>;
  readonly source: unknown;
  readonly outputs: OutputLength[];
  /** With windows: the largest event time accepted. */
  readonly maxTime?: number;
}

/** Names the added points of a key in the keyed store (a key holds no U+0000, so none is taken). */
const POINTS_OF = "\u0000m";
/** Names a key's last points (`--window last:N`, a `LastRing`) in the keyed store. */
const RING_OF = "\u0000r";

/**
 * A keyed batch's changes for the store: each key it touched, its state or null if forgotten, and with
 * retractions its added points (`POINTS_OF` + key).
 */
function keyChanges(
  engine: KeyedEngine | KeyedModelEngine,
  validator: PointValidator,
): [string, Uint8Array | null][] {
  const out: [string, Uint8Array | null][] = [];
  for (const key of engine.touched) {
    if (isKeyedModelEngine(engine)) out.push([key, engine.saveEntry(key)]);
    else {
      const slot = engine.table.find(key);
      out.push([key, slot < 0 ? null : engine.table.save(slot)]);
      if (engine.last !== undefined) out.push([RING_OF + key, engine.rings.get(slot)?.save() ?? null]);
    }
    if (validator.tracking) out.push([POINTS_OF + key, validator.keyPointBytes(key) ?? null]);
  }
  return out;
}

/** A windowed batch's changes: its panes and windows, and each touched key's count (`k` entries). */
function windowChanges(
  engine: WindowedEngine | WindowedModelEngine,
  validator: PointValidator,
): [string, Uint8Array | null][] {
  const out: [string, Uint8Array | null][] = [...engine.changes];
  for (const key of engine.touchedKeys) {
    const count = validator.keyCount(key);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, count, true);
    out.push([`k\u0002${key}`, count === 0 ? null : bytes]);
    if (validator.tracking) out.push([`m\u0002${key}`, validator.keyPointBytes(key) ?? null]);
  }
  return out;
}

/** The keyed state's entries, from `keys.sqlite` (`--state DIR`) or the state topic (`--state kafka`). */
interface StateEntries {
  readonly path: string;
  entries(): Iterable<[string, Uint8Array]>;
}

/** Loads every pane and window of the store into the engine; returns each key's count (`k` entries). */
function restoreWindows(
  keyed: StateEntries,
  engine: WindowedEngine | WindowedModelEngine,
  points: [string, Uint8Array][],
): [string, number][] {
  const counts: [string, number][] = [];
  for (const [name, bytes] of keyed.entries()) {
    if (engine.restoreEntry(name, bytes)) continue;
    if (name.startsWith("k\u0002") && bytes.length === 8) {
      counts.push([name.slice(2), new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true)]);
    } else if (name.startsWith("m\u0002")) {
      points.push([name.slice(2), bytes.slice()]);
    } else {throw new StateError(
        `${keyed.path}: an entry that is no key, pane or window: ${JSON.stringify(name)}`,
      );}
  }
  return counts;
}

/**
 * Opens the keyed state's store in the state directory, and rolls the checkpoint forward to it when it
 * is ahead (the process died between the two writes).
 */
async function openKeyedState(host: Host, store: StateStore): Promise<KeyedStore> {
  if (host.sqlite === undefined) {
    throw new StateError(`--state with --key is not supported by ${host.runtime}`);
  }
  const keyed = await KeyedStore.open(host.sqlite, store.path(KEYED_STATE_FILE));
  const meta = keyed.meta() as KeyedMeta | undefined;
  const resumed = store.resumed;
  const remove = `delete the state directory ${store.dir} to start over`;
  if (resumed === undefined) {
    if (meta !== undefined) {
      keyed.close();
      throw new StateError(`${keyed.path} holds keys but ${store.dir} has no checkpoint: ${remove}`);
    }
    return keyed;
  }
  const behind = meta === undefined ? 0 : meta.totals.batches;
  // Ahead by one batch: the process died between the two writes. By more: it died so again in the first
  // batch after a roll-forward (which lives in memory until the next checkpoint). The store's meta is a
  // whole checkpoint of a keyed run (its keys, source position, totals and output lengths), so either way
  // the run resumes from it.
  if (behind > resumed.totals.batches && meta !== undefined) {
    store.rollForward({
      time: meta.time,
      totals: { ...resumed.totals, ...meta.totals },
      source: meta.source,
      outputs: meta.outputs,
    });
  } else if (behind !== resumed.totals.batches) {
    keyed.close();
    throw new StateError(
      `${keyed.path} is at batch ${behind}, the checkpoint at batch ${resumed.totals.batches}: ` +
        `they do not belong together; ${remove}`,
    );
  }
  return keyed;
}

/** The lines of a restored keyed or windowed engine, per key (with windows: per open window). */
function restoredLines(engine: unknown, keys: readonly [string, number][]): KeyChange[] {
  const lines: KeyChange[] = [];
  if (isKeyedEngine(engine)) {
    const table = engine.table;
    for (const [key] of keys) {
      const slot = table.find(key);
      const line = slot < 0 ? undefined : table.written(slot);
      const ring = engine.rings.get(slot);
      const bounds = ring && { windowStart: ring.writtenStart, windowEnd: ring.writtenEnd };
      if (line !== undefined) lines.push({ key, line, n: table.count(slot), ...bounds });
    }
  } else if (isWindowedEngine(engine)) {
    const { hop, size } = engine.window;
    for (const [id, line] of engine.written) {
      const cut = id.lastIndexOf("\u0001");
      const start = Number(id.slice(cut + 1)) * hop;
      lines.push({ key: id.slice(0, cut), line, windowStart: start, windowEnd: start + size });
    }
  }
  return lines;
}

/** Loads every key of the store into the engine; returns each key and its count (for the validator). */
function restoreKeys(
  keyed: StateEntries,
  engine: KeyedEngine | KeyedModelEngine,
  points: [string, Uint8Array][],
): [string, number][] {
  const restored: [string, number][] = [];
  const rings: [string, Uint8Array][] = [];
  for (const [key, bytes] of keyed.entries()) {
    if (key.startsWith(POINTS_OF)) {
      points.push([key.slice(POINTS_OF.length), bytes.slice()]);
      continue;
    }
    if (key.startsWith(RING_OF)) {
      rings.push([key.slice(RING_OF.length), bytes]);
      continue;
    }
    if (isKeyedModelEngine(engine)) {
      restored.push([key, engine.restoreEntry(key, bytes.slice())]);
      continue;
    }
    const slot = engine.table.restore(key, bytes);
    const count = engine.table.count(slot);
    engine.count += count;
    restored.push([key, count]);
  }
  if (isKeyedModelEngine(engine)) {
    if (rings.length > 0) {
      throw new StateError(`${keyed.path} holds the last N points of keys' lines: restart without models`);
    }
    return restored;
  }
  if (rings.length > 0 && engine.last === undefined) {
    throw new StateError(`${keyed.path} holds windows of the last N points: restart with --window last:N`);
  }
  for (const [key, bytes] of rings) {
    const slot = engine.table.find(key);
    if (slot < 0) throw new StateError(`${keyed.path}: the last points of a key it does not hold`);
    try {
      engine.rings.set(slot, LastRing.restore(bytes, engine.last!));
    } catch (error) {
      throw new StateError(`${keyed.path}: ${(error as Error).message}`);
    }
  }
  if (engine.last !== undefined && engine.rings.size !== restored.length) {
    throw new StateError(
      `${keyed.path} holds keys without their last points: it was not written with --window last:N`,
    );
  }
  return restored;
}
