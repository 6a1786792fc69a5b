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
 * Snapshots hold a list of `series`, the fitted models shown: the one model of a run without keys; with
 * keys (`--key`, `--window`), the key a page asked for (`subscribe(listener, { key })`), or else the most
 * active key, and a table of the most active keys ({@linkcode KeyBoard}). Only a few keys keep a sample of
 * points: the keys pages ask for and the most active ones.
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
import { keyCells } from "../model/keys.ts";
import { coefficientNames, type ModelConfig, resultColumns } from "../model/model_config.ts";
import type { Rejection, RejectSink } from "../model/rejection.ts";
import type { BatchUpdate, KeyChange, Line, ModelResult, Sink } from "../model/sink.ts";
import type { SourceStatus } from "../model/source.ts";
import type { TimeFormat } from "../model/windows.ts";
import { KeyBoard, type KeyRow } from "./key_board.ts";
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
  /**
   * With `--key` or `--window`: the key columns (none for windows over the whole stream); null for a run
   * with one model.
   */
  readonly keys: readonly string[] | null;
  /** With `--window`: its specification (`sliding:1h,1m`, `last:100`); else null. */
  readonly window: string | null;
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
  /** The key of the model (null: the run has no keys; "": windows over the whole stream). */
  readonly key: string | null;
  /** With keys: the key as the change logs write its columns (fields as CSV fields, joined by commas). */
  readonly label?: string;
  /** With `--window`: the window of the line shown (the key's most recent), as the change log writes it. */
  readonly window?: readonly [string, string] | null;
  /** With keys: the net points the line is fitted to; null without a line. */
  readonly n?: number | null;
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
  /**
   * The fitted models shown: the run's one model; with keys the key asked for, or the most active key
   * (none before the first point).
   */
  readonly series: readonly LiveSeries[];
  /** With keys: how many, and the most active ones; null for a run with one model. */
  readonly keys: LiveKeys | null;
}

/**
 * The keys of a keyed run, for the page's table.
 *
 * @example
 * ```ts
 * const top = snapshot.keys?.shown[0]; // the most active key's row
 * ```
 */
export interface LiveKeys {
  /** Keys the run holds. */
  readonly count: number;
  /** How the table is sorted: by activity (keyed lines have no R²). */
  readonly sortedBy: "activity";
  /** `recent` counts the points of this many seconds (the current one and those before). */
  readonly recentSeconds: number;
  /** The most active keys, most active first: by points in the last seconds, then points in all. */
  readonly shown: readonly KeyRow[];
  /** The keys with a sample of points now. */
  readonly sampled: readonly string[];
}

/**
 * The keys of a keyed or windowed run, for {@linkcode LiveRun}.
 *
 * @example
 * ```ts
 * const keys: LiveKeysOptions = { columns: ["sensor"], window: { text: "tumbling:1m", format: "ms" } };
 * ```
 */
export interface LiveKeysOptions {
  /** The key columns (`--key`); none: windows over the whole stream. */
  readonly columns: readonly string[];
  /**
   * With `--window`: its text, and how the result change log writes window bounds (`--time-format`;
   * none for `last:N`, whose bounds number points).
   */
  readonly window?: { readonly text: string; readonly format?: TimeFormat };
  /** The most keys with per-key gauges on `/metrics` (`--metrics-keys`). Default 100. */
  readonly metricsKeys?: number;
  /** Rows of the keys table. Default 50. */
  readonly shownKeys?: number;
  /** The most keys with a sample of points at once. Default 8. */
  readonly sampledKeys?: number;
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
  /** With `--key` or `--window`: the keys. */
  keys?: LiveKeysOptions;
}

/** The most active keys that keep a sample even when no page shows them. */
const ACTIVE_SAMPLED = 3;

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
export function liveModel(config: ModelConfig, keys?: LiveKeysOptions): LiveModel {
  return {
    kind: config.x.length > 1 ? "several" : config.degree > 1 ? "polynomial" : "line",
    x: [...config.x],
    y: config.y,
    degree: config.degree,
    intercept: config.intercept,
    coefficients: coefficientNames(config),
    columns: resultColumns(config),
    keys: keys === undefined ? null : [...keys.columns],
    window: keys?.window?.text ?? null,
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
  readonly #listeners = new Map<(snapshot: LiveSnapshot) => void, string | undefined>();
  /** With keys: the keys and their lines. */
  readonly #board: KeyBoard | undefined;
  readonly #shownKeys: number;
  /** The keys subscribers asked for, with how many ask, the latest asked last. */
  readonly #watched = new Map<string, number>();
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
    this.#model = liveModel(options.config, options.keys);
    const keys = options.keys;
    this.#board = keys === undefined ? undefined : new KeyBoard({
      windows: keys.window === undefined ? undefined : { format: keys.window.format },
      metricsKeys: keys.metricsKeys,
      sampledKeys: keys.sampledKeys,
    });
    this.#shownKeys = keys?.shownKeys ?? 50;
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
    const board = this.#board;
    if (board === undefined) { for (const run of update.points) this.#sample.add(run); }
    else {
      const now = this.#monotonic();
      for (const run of update.points) board.count(run, now);
    }
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
      const board = this.#board;
      if (board === undefined) {
        this.#line = update.line;
        this.#fit = update.model;
      } else {
        board.apply(update.keys ?? [], update.time, this.#monotonic());
        // Windows over the whole stream: the model is the latest window's line.
        if (this.#model.keys?.length === 0) this.#line = board.row("", 0)?.line ?? undefined;
      }
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

  /**
   * With keys, the keys `/metrics` shows (the first `metricsKeys` to get a line) and their lines; else
   * none.
   *
   * @example
   * ```ts
   * for (const row of live.metricKeys()) console.log(row.label, row.cells);
   * ```
   */
  metricKeys(): KeyRow[] {
    return this.#board?.metricRows(this.#monotonic()) ?? [];
  }

  /** With keys: how many keys the run holds; else undefined. */
  get keyCount(): number | undefined {
    return this.#board?.size;
  }

  /**
   * Puts back a key's line (with windows: a window's line) found by a restart (`--state`), written at
   * `time`, so that the page and `/metrics` show it before the key's next change. Ignored without keys.
   *
   * @example
   * ```ts
   * live.restoreKey({ key: "sensor-1", line: { a: 0.5, b: 2 }, n: 120 }, checkpoint.time);
   * ```
   */
  restoreKey(change: KeyChange, time: number | undefined): void {
    this.#board?.apply([change], time ?? NaN, this.#monotonic());
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
   * Calls `listener` with each published snapshot; returns a function that stops it. With keys,
   * `options.key` chooses the key whose series the snapshots carry (and keeps a sample of its points
   * while asked for); without it, the most active key's.
   *
   * @example
   * ```ts
   * const stop = live.subscribe((s) => send(JSON.stringify(s)), { key: "sensor-1" });
   * ```
   */
  subscribe(listener: (snapshot: LiveSnapshot) => void, options: { key?: string } = {}): () => void {
    const key = this.#board === undefined ? undefined : options.key;
    this.#listeners.set(listener, key);
    if (key !== undefined) {
      const asking = this.#watched.get(key) ?? 0;
      this.#watched.delete(key);
      this.#watched.set(key, asking + 1);
      this.#schedule(); // its sample starts at the next publication
    }
    return () => {
      if (!this.#listeners.delete(listener) || key === undefined) return;
      const asking = this.#watched.get(key) ?? 1;
      if (asking > 1) this.#watched.set(key, asking - 1);
      else this.#watched.delete(key);
    };
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
   * The last published snapshot (one is built if none was yet); with keys and `key`, with that key's
   * series (as it stands now).
   *
   * @example
   * ```ts
   * new Response(JSON.stringify(live.snapshot()));
   * ```
   */
  snapshot(key?: string): LiveSnapshot {
    const latest = this.#latest ?? this.#build();
    if (key === undefined || this.#board === undefined) return latest;
    return { ...latest, series: [this.#keySeries(key)] };
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
    this.#latest = snapshot;
    const board = this.#board;
    if (board === undefined) {
      this.#sample.closeWindow();
      for (const listener of this.#listeners.keys()) listener(snapshot);
      return;
    }
    // One snapshot per key asked for; then the next window's samples: the keys asked for (the latest
    // first), then the most active.
    const perKey = new Map<string, LiveSnapshot>();
    for (const [listener, key] of this.#listeners) {
      if (key === undefined) {
        listener(snapshot);
        continue;
      }
      let own = perKey.get(key);
      if (own === undefined) perKey.set(key, own = { ...snapshot, series: [this.#keySeries(key)] });
      listener(own);
    }
    board.closeWindow();
    const wanted = [...this.#watched.keys()].reverse();
    for (const row of snapshot.keys!.shown.slice(0, ACTIVE_SAMPLED)) wanted.push(row.key);
    if (this.#model.keys?.length === 0) wanted.unshift("");
    board.resample(wanted);
    // The table may be a ranking behind the keys: publish again until it is not (at most four a second).
    if (board.rankStale) this.#schedule();
  }

  /** The series of one key, as it stands. */
  #keySeries(key: string): LiveSeries {
    const row = this.#board!.row(key, this.#monotonic());
    return {
      key,
      label: keyCells(key),
      time: row?.time ?? null,
      cells: row?.cells ?? null,
      coefficients: row?.line ? [row.line.a, row.line.b] : null,
      sample: this.#board!.sample(key),
      window: row?.window ?? null,
      n: row?.n ?? null,
    };
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
    const board = this.#board;
    const shown = board?.top(this.#shownKeys, now);
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
      series: board === undefined
        ? [{
          key: null,
          time: this.#time,
          cells: fitCells(this.#config, line, fit),
          coefficients,
          sample: this.#sample.points(),
        }]
        : this.#model.keys?.length === 0
        ? [this.#keySeries("")]
        : shown!.slice(0, 1).map((row) => this.#keySeries(row.key)),
      keys: board === undefined ? null : {
        count: board.size,
        sortedBy: "activity",
        recentSeconds: board.recentSeconds,
        shown: shown!,
        sampled: board.sampled,
      },
    };
  }
}
