/**
 * What the live page and `/metrics` show of a run (`--serve`): a {@linkcode Sink} that the pipeline
 * hands every batch (it keeps the current fit, formatted exactly as the result change log writes it, and
 * a bounded sample of recent points, and shows it once the batch's totals arrive), a {@linkcode RejectSink} (it counts rejected records by reason), and
 * the run's totals after each batch. It publishes a {@linkcode LiveSnapshot} to its subscribers at most
 * once per `publishMs` (default 250 ms: four updates a second whatever the input rate), and once more,
 * at once, when the run ends (`close`).
 *
 * The pipeline awaits `write`, so it does only what is cheap: it samples the batch's points (a few
 * random draws per window, not one per point) and keeps references to the fit; snapshots are built on
 * the timer, never per batch.
 *
 * Snapshots hold a list of `series`, one per fitted model: one today; one per key when the run fits a
 * model per key (a key picker then chooses among them).
 *
 * @example
 * ```ts
 * import { LiveRun } from "./live_run.ts";
 * const live = new LiveRun({ config, runtime: "deno 2.9.6" });
 * live.subscribe((snapshot) => console.log(snapshot.series[0].cells));
 * await runPipeline(source, core, [resultLog, live], { rejectSinks: [live], onBatch: (_, s) => live.batch(s) });
 * await live.close();
 * ```
 * @module
 */

import { formatNumber } from "../model/format_number.ts";
import { coefficientNames, type ModelConfig, resultColumns } from "../model/model_config.ts";
import type { Rejection, RejectSink } from "../model/rejection.ts";
import type { BatchUpdate, Line, ModelResult, Sink } from "../model/sink.ts";
import type { SourceStatus } from "../model/source.ts";
import { PointSample, type SampledPoints } from "./point_sample.ts";

/**
 * The running totals the pipeline reports after each batch (its `PipelineStats` has these fields).
 *
 * @example
 * ```ts
 * const totals: RunTotals = { points: 10, refused: 0, rejected: 1, batches: 3, changes: 3, count: 10, elapsedMs: 900 };
 * ```
 */
export interface RunTotals {
  /** Points the core accepted. */
  readonly points: number;
  /** Points the core refused. */
  readonly refused: number;
  /** Records rejected (bad input). */
  readonly rejected: number;
  /** Batches written. */
  readonly batches: number;
  /** Batches that changed the fit. */
  readonly changes: number;
  /** Net points in the model. */
  readonly count: number;
  /** Milliseconds since the pipeline started. */
  readonly elapsedMs: number;
  /** How long the last batch took, ms (closing to commit). */
  readonly lastBatchMs?: number;
  /** Points accepted before this run (resumed from a checkpoint). */
  readonly pointsBefore?: number;
}

/**
 * What model is fitted, for the page: the kind decides the chart (`line` and `polynomial`: y against x
 * with the fitted curve; `several`: y against the fitted value, with the diagonal).
 *
 * @example
 * ```ts
 * const model: LiveModel = { kind: "line", x: ["x"], y: "y", degree: 1, intercept: true,
 *   coefficients: ["a", "b"], columns: ["a", "b"] };
 * ```
 */
export interface LiveModel {
  /** `line` (one x, degree 1), `polynomial` (one x, `--degree` > 1) or `several` (`--x a,b,…`). */
  readonly kind: "line" | "polynomial" | "several";
  /** The x columns. */
  readonly x: readonly string[];
  /** The y column. */
  readonly y: string;
  /** The polynomial degree (1 unless `--degree`). */
  readonly degree: number;
  /** Whether the model has the intercept `a`. */
  readonly intercept: boolean;
  /** The coefficient names, in the result change log's order (`a`, `b`, `b_x^2`, `b_x1`, …). */
  readonly coefficients: readonly string[];
  /** The result change log's columns before `time,diff` (the coefficients, then with `--stats` the rest). */
  readonly columns: readonly string[];
}

/**
 * One fitted model and its sample of points.
 *
 * @example
 * ```ts
 * const s: LiveSeries = { key: null, time: 1700000000000, cells: ["0.5", "2"], coefficients: [0.5, 2],
 *   sample: { xs: [[0, 1]], y: [0.5, 2.5] } };
 * ```
 */
export interface LiveSeries {
  /** The key of the model (null: the run has no keys). */
  readonly key: string | null;
  /** The commit time (epoch ms) of the batch that gave the fit; null before the first. */
  readonly time: number | null;
  /**
   * The fit as the result change log's cells (`model.columns`), formatted as there (shortest round trip;
   * "" where undefined, as for an aliased coefficient); null while the model holds no points.
   */
  readonly cells: readonly string[] | null;
  /** The coefficients as numbers (null where aliased or undefined); null while there is no fit. */
  readonly coefficients: readonly (number | null)[] | null;
  /** A bounded sample of recent points. */
  readonly sample: SampledPoints;
}

/**
 * The run's counters and rates.
 *
 * @example
 * ```ts
 * snapshot.stats.pointsPerSecond; // 1.0 for the demo stream
 * ```
 */
export interface LiveStats {
  /** Points accepted (see {@linkcode RunTotals}). */
  readonly points: number;
  /** Points refused by the core. */
  readonly refused: number;
  /** Records rejected. */
  readonly rejected: number;
  /** Records rejected, by reason code. */
  readonly rejectedBy: Readonly<Record<string, number>>;
  /** Batches written. */
  readonly batches: number;
  /** Batches that changed the fit. */
  readonly changes: number;
  /** Net points in the model. */
  readonly count: number;
  /** Milliseconds since the pipeline started. */
  readonly elapsedMs: number;
  /** Points accepted per second over the last seconds. */
  readonly pointsPerSecond: number;
  /** Commit time of the last batch (epoch ms), or null. */
  readonly lastCommitTime: number | null;
  /** How long the last batch took (ms), or null. */
  readonly lastBatchMs: number | null;
  /** Bytes of input read, if the source counts them. */
  readonly bytesRead: number | null;
  /** Kafka: messages not read yet, over every partition (high watermark − position); else null. */
  readonly lag: number | null;
  /** Kafka: each partition's position and high watermark. */
  readonly partitions: readonly { partition: number; position: number; highWatermark: number }[];
}

/**
 * What the page receives, at most a few times a second.
 *
 * @example
 * ```ts
 * const first = snapshot.series[0];
 * console.log(first.cells?.join(","), snapshot.stats.points);
 * ```
 */
export interface LiveSnapshot {
  /** The format's version. */
  readonly version: 1;
  /** The run: its source, runtime, and whether it is starting, running or ended. */
  readonly run: {
    readonly source: string;
    readonly runtime: string;
    readonly status: "starting" | "running" | "ended";
    readonly ready: boolean;
  };
  /** The model fitted. */
  readonly model: LiveModel;
  /** Totals and rates. */
  readonly stats: LiveStats;
  /** One fitted model (later: one per key). */
  readonly series: readonly LiveSeries[];
}

/**
 * Options of {@linkcode LiveRun}.
 *
 * @example
 * ```ts
 * const options: LiveRunOptions = { config, runtime: "bun 1.4.5", publishMs: 250, sampleSize: 2000 };
 * ```
 */
export interface LiveRunOptions {
  /** The model fitted. */
  config: ModelConfig;
  /** The runtime's name and version, for the page. */
  runtime: string;
  /** Least time between two published snapshots, ms. Default 250. */
  publishMs?: number;
  /** Most points in the sample. Default 2000. */
  sampleSize?: number;
  /** Monotonic clock, ms. Default `performance.now`. */
  monotonic?: () => number;
}

/** A fit as the result change log's cells: `formatNumber`, and "" where undefined (NaN, aliased). */
function fitCells(
  config: ModelConfig,
  line: Line | undefined,
  model: ModelResult | undefined,
): string[] | null {
  if (model === undefined) return line === undefined ? null : [formatNumber(line.a), formatNumber(line.b)];
  const cell = (v: number) => (v !== v ? "" : formatNumber(v));
  const cells: string[] = [];
  for (let i = 0; i < model.coefficients.length; i++) {
    cells.push(model.aliased[i] ? "" : cell(model.coefficients[i]));
  }
  if (config.stats) {
    cells.push(cell(model.n), cell(model.r2), cell(model.sigma));
    for (let i = 0; i < model.se.length; i++) cells.push(model.aliased[i] ? "" : cell(model.se[i]));
  }
  return cells;
}

/**
 * The model's kind and columns, for the page.
 *
 * @example
 * ```ts
 * liveModel({ x: ["t"], y: "y", degree: 2, intercept: true, stats: false }).kind; // "polynomial"
 * ```
 */
export function liveModel(config: ModelConfig): LiveModel {
  return {
    kind: config.x.length > 1 ? "several" : config.degree > 1 ? "polynomial" : "line",
    x: [...config.x],
    y: config.y,
    degree: config.degree,
    intercept: config.intercept,
    coefficients: coefficientNames(config),
    columns: resultColumns(config),
  };
}

/**
 * The live state of a run (see the module documentation).
 *
 * @example
 * ```ts
 * const live = new LiveRun({ config, runtime: host.runtime });
 * ```
 */
export class LiveRun implements Sink, RejectSink {
  readonly #config: ModelConfig;
  readonly #model: LiveModel;
  readonly #runtime: string;
  readonly #publishMs: number;
  readonly #monotonic: () => number;
  readonly #sample: PointSample;
  readonly #listeners = new Set<(snapshot: LiveSnapshot) => void>();
  readonly #batchListeners = new Set<(totals: RunTotals) => void>();
  readonly #rejectedBy: Record<string, number> = {};
  #source = "";
  #status: (() => SourceStatus | undefined) | undefined;
  #opened = false;
  #ended = false;
  #line: Line | undefined;
  #fit: ModelResult | undefined;
  #time: number | null = null;
  /** The batch written but not reported committed yet. */
  #pending: BatchUpdate | undefined;
  #totals: RunTotals = { points: 0, refused: 0, rejected: 0, batches: 0, changes: 0, count: 0, elapsedMs: 0 };
  /** (monotonic ms, points) at the last publications, for the rate. */
  #history: { at: number; points: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastPublish = -Infinity;
  #latest: LiveSnapshot | undefined;

  /** A live view of a run of the model `options.config`. */
  constructor(options: LiveRunOptions) {
    this.#config = options.config;
    this.#model = liveModel(options.config);
    this.#runtime = options.runtime;
    this.#publishMs = options.publishMs ?? 250;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#sample = new PointSample({
      columns: options.config.x.length,
      capacity: options.sampleSize ?? 2000,
    });
  }

  /** The model fitted, as the page describes it. */
  get model(): LiveModel {
    return this.#model;
  }

  /**
   * The source is open: its name, and how to ask how it stands (its `status` method, if any).
   *
   * @example
   * ```ts
   * live.opened(source.name, () => source.status?.());
   * ```
   */
  opened(name: string, status?: () => SourceStatus | undefined): void {
    this.#source = name;
    this.#status = status;
    this.#opened = true;
    this.#schedule();
  }

  /**
   * Takes one batch: samples its points and keeps its fit, which is shown once the batch is committed
   * ({@linkcode LiveRun.batch}), with the totals that include it (see {@linkcode Sink.write}).
   */
  write(update: BatchUpdate): Promise<void> {
    for (const run of update.points) this.#sample.add(run);
    this.#pending = update;
    return Promise.resolve();
  }

  /** Counts one rejected record by its reason (see {@linkcode RejectSink.reject}). */
  reject(rejection: Rejection): void {
    this.#rejectedBy[rejection.reason] = (this.#rejectedBy[rejection.reason] ?? 0) + 1;
  }

  /**
   * The run's totals after a batch (the pipeline's `onBatch` stats).
   *
   * @example
   * ```ts
   * runPipeline(source, core, sinks, { onBatch: (_, stats) => live.batch(stats) });
   * ```
   */
  batch(totals: RunTotals): void {
    const update = this.#pending;
    if (update !== undefined) {
      this.#line = update.line;
      this.#fit = update.model;
      this.#time = update.time;
      this.#pending = undefined;
    }
    this.#totals = { ...totals };
    for (const listener of this.#batchListeners) listener(this.#totals);
    this.#schedule();
  }

  /** The totals after the last batch. */
  get totals(): RunTotals {
    return this.#totals;
  }

  /** Rejected records by reason so far. */
  get rejectedBy(): Readonly<Record<string, number>> {
    return this.#rejectedBy;
  }

  /** The current fit: the line (plain line) or the model's fit; both undefined before any point. */
  get fit(): { line: Line | undefined; model: ModelResult | undefined; time: number | null } {
    return { line: this.#line, model: this.#fit, time: this.#time };
  }

  /** How the source stands (undefined before it is open, or if it does not say). */
  sourceStatus(): SourceStatus | undefined {
    return this.#status?.();
  }

  /**
   * Whether the run is ready to serve: the source is open and (Kafka) the group joined, and the run
   * has not ended. With the reason when not.
   *
   * @example
   * ```ts
   * live.readiness(); // { ready: false, reason: "the source is not open yet" }
   * ```
   */
  readiness(): { ready: boolean; reason: string } {
    if (this.#ended) return { ready: false, reason: "the run has ended" };
    if (!this.#opened) return { ready: false, reason: "the source is not open yet" };
    const status = this.sourceStatus();
    if (status !== undefined && !status.ready) {
      return { ready: false, reason: `${this.#source}: not connected (joining the group)` };
    }
    return { ready: true, reason: `reading ${this.#source}` };
  }

  /** Whether the run has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Calls `listener` with each published snapshot; returns a function that stops it.
   *
   * @example
   * ```ts
   * const stop = live.subscribe((s) => send(JSON.stringify(s)));
   * ```
   */
  subscribe(listener: (snapshot: LiveSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` after each batch with the totals (for the batch latency histogram).
   *
   * @example
   * ```ts
   * live.onBatch((totals) => histogram.observe(totals.lastBatchMs! / 1000));
   * ```
   */
  onBatch(listener: (totals: RunTotals) => void): () => void {
    this.#batchListeners.add(listener);
    return () => void this.#batchListeners.delete(listener);
  }

  /**
   * The last published snapshot (one is built if none was yet).
   *
   * @example
   * ```ts
   * new Response(JSON.stringify(live.snapshot()));
   * ```
   */
  snapshot(): LiveSnapshot {
    return this.#latest ?? this.#build();
  }

  /** The run has ended: publishes the final snapshot at once. Idempotent. */
  close(): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#publish();
    return Promise.resolve();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#ended) return;
    const wait = Math.max(0, this.#lastPublish + this.#publishMs - this.#monotonic());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publish();
    }, wait);
  }

  #publish(): void {
    this.#lastPublish = this.#monotonic();
    const snapshot = this.#build();
    this.#sample.closeWindow();
    this.#latest = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
  }

  #rate(now: number): number {
    const points = this.#totals.points;
    this.#history.push({ at: now, points });
    while (this.#history.length > 2 && now - this.#history[1].at >= 2000) this.#history.shift();
    const first = this.#history[0];
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (points - first.points) / seconds : 0;
  }

  #build(): LiveSnapshot {
    const now = this.#monotonic();
    const status = this.sourceStatus();
    const partitions = (status?.partitions ?? []).map((p) => ({ ...p }));
    const totals = this.#totals;
    const fit = this.#fit;
    const line = this.#line;
    const coefficients = fit
      ? Array.from(fit.coefficients, (v, i) => (fit.aliased[i] || v !== v ? null : v))
      : line
      ? [line.a, line.b]
      : null;
    return {
      version: 1,
      run: {
        source: this.#source,
        runtime: this.#runtime,
        status: this.#ended ? "ended" : this.#opened ? "running" : "starting",
        ready: this.readiness().ready,
      },
      model: this.#model,
      stats: {
        points: totals.points,
        refused: totals.refused,
        rejected: totals.rejected,
        rejectedBy: { ...this.#rejectedBy },
        batches: totals.batches,
        changes: totals.changes,
        count: totals.count,
        elapsedMs: totals.elapsedMs,
        pointsPerSecond: this.#rate(now),
        lastCommitTime: this.#time,
        lastBatchMs: totals.lastBatchMs ?? null,
        bytesRead: status?.bytesRead ?? null,
        lag: status?.partitions
          ? partitions.reduce((sum, p) => sum + (p.highWatermark - p.position), 0)
          : null,
        partitions,
      },
      series: [{
        key: null,
        time: this.#time,
        cells: fitCells(this.#config, line, fit),
        coefficients,
        sample: this.#sample.points(),
      }],
    };
  }
}
