/**
 * The pipeline: source → validator → batcher → core → sinks, one batch at a time.
 *
 * Every record is checked on arrival, in stream order ({@linkcode PointValidator}): a bad one (rejected
 * by its source, or NaN, ±Infinity, out of the core's range, a weight other than ±1, the retraction of a
 * point not added) is handed to the `rejectSinks` (the dead-letter file, the stderr reporter) and left
 * out, so the fit is exactly that of the good records. With `onError: "fail"` the first bad record stops
 * the run instead: the points before it are written and committed, then a
 * {@linkcode RejectedRecordError} is thrown.
 *
 * Chunks are pulled from the source (the next one is requested while the current one is processed).
 * The {@linkcode Batcher} closes a batch at each `commitMs` window end or at `commitRows` points; the
 * batch goes to the core ({@linkcode applyBatch}; a model core, for several x columns, a polynomial, no
 * intercept or statistics: {@linkcode applyModelBatch}), gets a strictly increasing commit time, is written by
 * every sink, and only then is reported to the source's `committed` hook. When the source ends, fails or
 * the signal aborts, the open batch is closed and written first.
 *
 * @example
 * ```ts
 * import { runPipeline } from "./pipeline.ts";
 * const stats = await runPipeline(new DemoSource({ rate: 0 }), core, [new ResultLog(stream)]);
 * console.log(stats.points, stats.batches);
 * ```
 * @module
 */

import { Batcher } from "./batcher/batcher.ts";
import { CommitClock } from "./batcher/commit_clock.ts";
import { RejectedRecordError, type RejectSink } from "../model/rejection.ts";
import type { CommittedBatch, PointChunk, Source } from "../model/source.ts";
import { PointValidator } from "./validate/point_validator.ts";
import type { BatchUpdate, Line, ModelResult, Sink } from "../model/sink.ts";
import { applyBatch, type LineModel } from "./core_stage.ts";
import { applyModelBatch, isModelEngine, type ModelEngine } from "./model_stage.ts";
import { applyKeyedBatch, isKeyedEngine, type KeyedEngine } from "./keyed/keyed_stage.ts";
import { applyWindowedBatch, isWindowedEngine, type WindowedEngine } from "./keyed/windowed_stage.ts";
import {
  applyKeyedModelBatch,
  isKeyedModelEngine,
  type KeyedModelEngine,
} from "./keyed/keyed_model_stage.ts";
import {
  applyWindowedModelBatch,
  isWindowedModelEngine,
  type WindowedModelEngine,
} from "./keyed/windowed_model_stage.ts";

/**
 * Default batch window: the tutorial's `autocommit_duration_ms`.
 *
 * @example
 * ```ts
 * await runPipeline(source, core, sinks, { commitMs: DEFAULT_COMMIT_MS });
 * ```
 */
export const DEFAULT_COMMIT_MS = 1000;
/**
 * Default most points per batch.
 *
 * @example
 * ```ts
 * await runPipeline(source, core, sinks, { commitRows: DEFAULT_COMMIT_ROWS });
 * ```
 */
export const DEFAULT_COMMIT_ROWS = 100_000;

/**
 * Options of {@linkcode runPipeline}.
 *
 * @example
 * ```ts
 * const options: PipelineOptions = { commitMs: 500, commitRows: 0, signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface PipelineOptions {
  /** Batch window in milliseconds. Default 1000. */
  commitMs?: number;
  /** Most points per batch; 0 = no limit. Default 100 000. */
  commitRows?: number;
  /** Aborting stops reading; the open batch is still written. */
  signal?: AbortSignal;
  /** Wall clock, epoch ms, for commit times. Default `Date.now`. */
  now?: () => number;
  /** Monotonic clock, ms, for batch windows. Default `performance.now`. */
  monotonic?: () => number;
  /** Called after each batch is written and committed. */
  onBatch?: (update: BatchUpdate, stats: PipelineStats) => void;
  /**
   * Called for each point the core refused, with where it came from and why. (The validator rejects
   * every point the core would refuse first, so this is a safety net.)
   */
  onRefused?: (where: string, reason: string) => void;
  /**
   * Where rejected records go, in stream order; each sink's `flush` is awaited before a batch is
   * reported to the source as committed. The caller closes them.
   */
  rejectSinks?: readonly RejectSink[];
  /** "skip" (default): leave bad records out and go on; "fail": stop at the first one. */
  onError?: "skip" | "fail";
  /**
   * The validator to use (a resumed run's, holding the restored multiset of added points). Default: a
   * new one, keeping the multiset only if the source may retract points (`Source.retractions`).
   */
  validator?: PointValidator;
  /**
   * Called once per batch after its output is written and flushed (change logs and reject sinks) and
   * before the source's `committed` hook: the place to persist a checkpoint (`--state`). The batch's
   * records, and no record after them, have been through the validator.
   */
  checkpoint?: (
    batch: CommittedBatch<PointChunk>,
    update: BatchUpdate,
    stats: PipelineStats,
  ) => Promise<void>;
  /** Where a run resumed from a checkpoint starts: the last commit time, the current line, the totals. */
  resume?: PipelineResume;
}

/**
 * What a run resumed from a checkpoint carries over.
 *
 * @example
 * ```ts
 * const resume: PipelineResume = { time: 1700000000000, line: { a: 1, b: 2 }, totals: { points: 10 } };
 * ```
 */
export interface PipelineResume {
  /** The last commit time handed out: later batches get later times. */
  time?: number;
  /** The line after the last batch (undefined: the model holds no points). */
  line?: Line;
  /** With a model core: its fit after the last batch (undefined: the model holds no points). */
  model?: ModelResult;
  /** The running totals so far. */
  totals?: Partial<Pick<PipelineStats, "points" | "refused" | "rejected" | "batches" | "changes" | "count">>;
}

/**
 * Running totals of a pipeline.
 *
 * @example
 * ```ts
 * const { points, batches, line } = await runPipeline(source, core, sinks);
 * ```
 */
export interface PipelineStats {
  /** Points the core accepted. */
  points: number;
  /** Points the core refused. */
  refused: number;
  /** Records rejected (bad input), by the source or the validator. */
  rejected: number;
  /** Batches written (batches with points). */
  batches: number;
  /** Batches that changed the line (with a model core: its coefficients). */
  changes: number;
  /** Net points in the model. */
  count: number;
  /** The current line, if the model holds points (always undefined with a model core). */
  line: Line | undefined;
  /** With a model core: the current fit, if the model holds points. */
  model?: ModelResult | undefined;
  /** Milliseconds since the pipeline started (monotonic clock). */
  elapsedMs: number;
  /** How the run ended: the source's end, or the abort signal. */
  ended: "source" | "signal" | "running";
  /** Points accepted before this run (a run resumed from a checkpoint), included in `points`. */
  pointsBefore?: number;
  /**
   * How long the last batch took, in milliseconds, from its closing to its commit: the core, the sinks,
   * the checkpoint and the source's `committed` (absent before the first batch).
   */
  lastBatchMs?: number;
}

type Event<C> =
  | { kind: "chunk"; result: IteratorResult<C> }
  | { kind: "error"; error: unknown }
  | { kind: "tick" }
  | { kind: "abort" };

/**
 * Runs until the source ends or `signal` aborts; returns the totals. Throws the first error of the
 * source, the core or a sink (after writing the open batch if the source failed). The caller owns
 * the source and the sinks: close them afterwards, also after errors.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const stats = await runPipeline(source, core, [resultLog, inputLog], {
 *   commitMs: 1000,
 *   signal: controller.signal,
 *   onBatch: (update) => console.error(update.line),
 * });
 * ```
 */
export async function runPipeline<C extends PointChunk>(
  source: Source<C>,
  core: LineModel | ModelEngine | KeyedEngine | WindowedEngine | KeyedModelEngine | WindowedModelEngine,
  sinks: readonly Sink[],
  options: PipelineOptions = {},
): Promise<PipelineStats> {
  const monotonic = options.monotonic ?? (() => performance.now());
  const signal = options.signal ?? new AbortController().signal;
  const started = monotonic();
  const batcher = new Batcher<C>({
    commitMs: options.commitMs ?? DEFAULT_COMMIT_MS,
    commitRows: options.commitRows ?? DEFAULT_COMMIT_ROWS,
    start: started,
  });
  const resume = options.resume;
  const clock = new CommitClock({ now: options.now, last: resume?.time });
  const stats: PipelineStats = {
    points: 0,
    refused: 0,
    rejected: 0,
    batches: 0,
    changes: 0,
    count: 0,
    ...resume?.totals,
    ...(resume?.totals?.points ? { pointsBefore: resume.totals.points } : {}),
    line: resume?.line,
    ...(isModelEngine(core) ? { model: resume?.model } : {}),
    elapsedMs: 0,
    ended: "running",
  };
  const onRefused = options.onRefused &&
    ((chunk: PointChunk, i: number, reason: string) => options.onRefused!(chunk.where(i), reason));
  const validator = options.validator ??
    new PointValidator({ source: source.name, retractions: () => source.retractions ?? true });
  const masks = new WeakMap<PointChunk, Uint8Array>();
  const skip = (chunk: PointChunk) => masks.get(chunk);
  const rejectSinks = options.rejectSinks ?? [];
  const failFast = options.onError === "fail";
  const flushRejects = () => Promise.all(rejectSinks.map((sink) => sink.flush?.()));

  const emit = async () => {
    const spans = batcher.close();
    if (!spans) return;
    const begun = monotonic();
    const result = isWindowedEngine(core)
      ? applyWindowedBatch(core, spans, { onRefused, skip })
      : isWindowedModelEngine(core)
      ? applyWindowedModelBatch(core, spans, { onRefused, skip })
      : isKeyedModelEngine(core)
      ? applyKeyedModelBatch(core, spans, { onRefused, skip })
      : isKeyedEngine(core)
      ? applyKeyedBatch(core, spans, { onRefused, skip, keyIds: (chunk) => validator.keyIds(chunk) })
      : isModelEngine(core)
      ? applyModelBatch(core, spans, { onRefused, skip })
      : applyBatch(core, spans, { onRefused, skip });
    const update: BatchUpdate = { time: clock.next(), ...result };
    await Promise.all([...sinks.map((sink) => sink.write(update)), flushRejects()]);
    const changed = update.keys !== undefined
      ? update.keys.length > 0
      : isModelEngine(core)
      ? !sameModel(stats.model, update.model)
      : !sameLine(stats.line, update.line);
    stats.points += update.accepted;
    stats.refused += update.refused;
    stats.batches++;
    if (changed) stats.changes++;
    stats.count = update.count;
    stats.line = update.line;
    if (isModelEngine(core)) stats.model = update.model;
    stats.elapsedMs = monotonic() - started;
    const batch = { time: update.time, spans };
    await options.checkpoint?.(batch, update, stats);
    await source.committed?.(batch);
    stats.lastBatchMs = monotonic() - begun;
    options.onBatch?.(update, stats);
  };

  const iterator = source.chunks(signal)[Symbol.asyncIterator]();
  const pull = (): Promise<Event<C>> =>
    iterator.next().then(
      (result): Event<C> => ({ kind: "chunk", result }),
      (error): Event<C> => ({ kind: "error", error }),
    );
  let pending = pull();
  let lastYield = performance.now();
  let failure: { error: unknown; fromSource: boolean } | undefined;

  try {
    for (;;) {
      const event = await next(pending, signal, batcher.deadline, monotonic);
      if (event.kind === "abort") {
        stats.ended = "signal";
        break;
      }
      if (event.kind === "error") {
        failure = { error: event.error, fromSource: true };
        break;
      }
      if (event.kind === "tick") {
        if (batcher.arrive(monotonic())) await emit();
        continue;
      }
      if (event.result.done) {
        stats.ended = "source";
        break;
      }
      const chunk = event.result.value;
      const arrived = monotonic(); // before asking for the next chunk, which may run the source
      pending = pull();
      if (batcher.arrive(arrived)) await emit();
      // Records are validated one batch's worth at a time, so that when a batch is written, exactly
      // its records (and no later one) have reached the validator's multiset and the reject sinks.
      for (let i = 0, end = chunk.x.length; i < end;) {
        // SIGINT, SIGTERM: stop at the batch boundary, not at the end of a chunk (a fetched Kafka batch
        // may hold thousands of batches' worth of records); the records left are read again next time.
        if (signal.aborted) break;
        let to = Math.min(end, i + batcher.room);
        const found = validator.check(chunk, { from: i, to, stopAtFirst: failFast, mask: masks.get(chunk) });
        if (found) {
          masks.set(chunk, found.mask);
          for (const { rejection } of found.rejected) {
            stats.rejected++;
            for (const sink of rejectSinks) sink.reject(rejection);
          }
          if (failFast) {
            to = end = found.end - 1; // the points before the bad record are written and committed
            failure = { error: new RejectedRecordError(found.rejected[0].rejection), fromSource: false };
          }
        }
        i = batcher.add(chunk, i, to);
        if (batcher.full) await emit();
      }
      if (failure) break;
      if (signal.aborted) {
        stats.ended = "signal";
        break;
      }
      // Let timers, I/O and signal handlers run even when every promise is already resolved.
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
  } finally {
    // Stopped early (signal, bad record, or a core or sink error): tell the source; do not wait for it.
    if (stats.ended !== "source" && !failure?.fromSource) iterator.return?.().catch(() => {});
  }
  await emit();
  await flushRejects();
  stats.elapsedMs = monotonic() - started;
  if (failure) throw failure.error;
  return stats;
}

/**
 * The first of: the pending chunk, the abort, the batch deadline.
 *
 * Nothing here outlives the call: the abort listener and the timer are removed when it returns. (Racing
 * each read against one promise that stays pending for the whole run attached a reaction to it per
 * chunk, and each reaction kept its chunk alive until the run ended: memory grew with every point.)
 */
async function next<C>(
  pending: Promise<Event<C>>,
  signal: AbortSignal,
  deadline: number,
  monotonic: () => number,
): Promise<Event<C>> {
  if (signal.aborted) return { kind: "abort" };
  let onAbort = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = new Promise<Event<C>>((resolve) => {
    onAbort = () => resolve({ kind: "abort" });
    signal.addEventListener("abort", onAbort, { once: true });
    if (deadline !== Infinity) {
      timer = setTimeout(() => resolve({ kind: "tick" }), Math.max(0, deadline - monotonic()));
    }
  });
  try {
    return await Promise.race([stop, pending]);
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(timer);
  }
}

function sameLine(p: Line | undefined, q: Line | undefined): boolean {
  if (p === undefined || q === undefined) return p === q;
  return Object.is(p.a, q.a) && Object.is(p.b, q.b);
}

/** Whether two fits have the same coefficients, bit for bit (what "changed the line" means for a model). */
function sameModel(p: ModelResult | undefined, q: ModelResult | undefined): boolean {
  if (p === undefined || q === undefined) return p === q;
  const u = p.coefficients, v = q.coefficients;
  return u.length === v.length && u.every((x, i) => Object.is(x, v[i]));
}
