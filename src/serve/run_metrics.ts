/**
 * `/metrics` of `--serve`: a run's counters, the batch latency, the source's position and the model's
 * values, in the Prometheus text format, with `prom-client` (its own registry: no process-wide default
 * metrics). Every value is read from the {@linkcode LiveRun} when scraped, except the batch latency
 * histogram, which observes every batch. The names (all prefixed `streamreg_`) are listed in
 * docs/serve.md.
 *
 * @example
 * ```ts
 * import { RunMetrics } from "./run_metrics.ts";
 * const metrics = new RunMetrics(live);
 * const text = await metrics.text(); // "# HELP streamreg_points_accepted_total ..."
 * ```
 * @module
 */

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LiveRun } from "./live_run.ts";

/** Upper bounds of the batch latency histogram, seconds. */
const BATCH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A counter that follows a running total: on each scrape it is raised by what the total grew.
 */
function totalCounter(
  registry: Registry,
  options: { name: string; help: string },
  total: () => number | undefined,
): void {
  let counted = 0;
  new Counter({
    ...options,
    registers: [registry],
    collect() {
      const now = total();
      if (now !== undefined && now > counted) {
        this.inc(now - counted);
        counted = now;
      }
    },
  });
}

/**
 * The Prometheus metrics of one run.
 *
 * @example
 * ```ts
 * const metrics = new RunMetrics(live);
 * new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } });
 * ```
 */
export class RunMetrics {
  readonly #registry = new Registry();

  /** Metrics read from `live` (and a histogram fed by its batches). */
  constructor(live: LiveRun) {
    const registry = this.#registry;
    const registers = [registry];
    totalCounter(registry, {
      name: "streamreg_points_accepted_total",
      help: "Points the core accepted (added or retracted), since the first run of a --state directory.",
    }, () => live.totals.points);
    totalCounter(registry, {
      name: "streamreg_points_refused_total",
      help: "Points the core refused (a safety net: the validator rejects them first).",
    }, () => live.totals.refused);
    totalCounter(
      registry,
      { name: "streamreg_batches_total", help: "Batches written and committed." },
      () => live.totals.batches,
    );
    totalCounter(registry, {
      name: "streamreg_source_bytes_read_total",
      help: "Bytes of input read by this process (a file's bytes; Kafka: the message values).",
    }, () => live.sourceStatus()?.bytesRead);

    const counted: Record<string, number> = {};
    new Counter({
      name: "streamreg_records_rejected_total",
      help: "Records rejected as bad input, by reason code (see docs/bad_input_and_restart.md).",
      labelNames: ["reason"],
      registers,
      collect() {
        for (const [reason, total] of Object.entries(live.rejectedBy)) {
          const before = counted[reason] ?? 0;
          if (total > before) this.inc({ reason }, total - before);
          counted[reason] = total;
        }
      },
    });

    const latency = new Histogram({
      name: "streamreg_batch_duration_seconds",
      help:
        "Time from closing a batch to its commit: the core, the change logs, the checkpoint, the offsets.",
      buckets: BATCH_BUCKETS,
      registers,
    });
    live.onBatch((totals) => {
      if (totals.lastBatchMs !== undefined) latency.observe(totals.lastBatchMs / 1000);
    });

    new Gauge({
      name: "streamreg_last_commit_timestamp_seconds",
      help: "Commit time of the last batch (the time column of the change logs / 1000).",
      registers,
      collect() {
        const time = live.fit.time;
        if (time === null) this.reset();
        else this.set(time / 1000);
      },
    });
    new Gauge({
      name: "streamreg_ready",
      help: "1 when /readyz answers 200 (source open, Kafka group joined, run not ended), else 0.",
      registers,
      collect() {
        this.set(live.readiness().ready ? 1 : 0);
      },
    });

    const partitionGauge = (name: string, help: string, value: (p: PartitionValues) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["partition"],
        registers,
        collect() {
          this.reset();
          for (const p of live.sourceStatus()?.partitions ?? []) {
            this.set({ partition: String(p.partition) }, value(p));
          }
        },
      });
    partitionGauge(
      "streamreg_kafka_partition_position",
      "Kafka: the next offset this reader reads, per assigned partition.",
      (p) => p.position,
    );
    partitionGauge(
      "streamreg_kafka_partition_high_watermark",
      "Kafka: the partition's high watermark (offset after its last message) at the last fetch.",
      (p) => p.highWatermark,
    );
    partitionGauge(
      "streamreg_kafka_partition_lag",
      "Kafka: messages not read yet (high watermark − position), per assigned partition.",
      (p) => p.highWatermark - p.position,
    );

    const names = live.model.coefficients;
    new Gauge({
      name: "streamreg_model_coefficient",
      help:
        "The fitted coefficients (a, b; b_<x>; b_<x>^<d>), as in the result change log; none where aliased.",
      labelNames: ["name"],
      registers,
      collect() {
        this.reset();
        const { line, model } = live.fit;
        if (model) names.forEach((name, i) => model.aliased[i] || this.set({ name }, model.coefficients[i]));
        else if (line) {
          this.set({ name: "a" }, line.a);
          this.set({ name: "b" }, line.b);
        }
      },
    });
    new Gauge({
      name: "streamreg_model_n",
      help: "Net points in the model (added minus retracted).",
      registers,
      collect() {
        this.set(live.totals.count);
      },
    });
    if (live.model.keys !== null && live.model.keys.length > 0) {
      // With --key: per key, for the first --metrics-keys keys to get a line (label: the key's cells).
      new Gauge({
        name: "streamreg_keys",
        help: "Keys the run holds (with --key).",
        registers,
        collect() {
          this.set(live.keyCount ?? 0);
        },
      });
      new Gauge({
        name: "streamreg_key_coefficient",
        help: "Each key's line (a, b), as in the result change log, for the first --metrics-keys keys " +
          "(key: the key's columns as the change log writes them; with --window: the latest window's line).",
        labelNames: ["key", "name"],
        registers,
        collect() {
          this.reset();
          for (const row of live.metricKeys()) {
            this.set({ key: row.label, name: "a" }, row.line!.a);
            this.set({ key: row.label, name: "b" }, row.line!.b);
          }
        },
      });
      new Gauge({
        name: "streamreg_key_n",
        help: "Net points of each key's line (with --window: of its latest window), for the first " +
          "--metrics-keys keys.",
        labelNames: ["key"],
        registers,
        collect() {
          this.reset();
          for (const row of live.metricKeys()) if (row.n !== null) this.set({ key: row.label }, row.n);
        },
      });
    }
    // With --stats only: the plain line's core computes no R².
    const fitGauge = (name: string, help: string, value: "r2" | "sigma") =>
      new Gauge({
        name,
        help,
        labelNames: [],
        registers,
        collect() {
          const model = live.fit.model;
          if (model !== undefined) this.set(model[value]);
        },
      });
    if (live.model.columns.includes("r2")) {
      fitGauge("streamreg_model_r2", "R² of the fit (with --stats; NaN when undefined).", "r2");
      fitGauge(
        "streamreg_model_sigma",
        "Residual standard deviation (with --stats; NaN if undefined).",
        "sigma",
      );
    }
  }

  /** The content type of {@linkcode RunMetrics.text}'s answer. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /**
   * The metrics in the Prometheus text format.
   *
   * @example
   * ```ts
   * (await metrics.text()).includes("streamreg_model_coefficient{name=\"a\"}"); // true once fitted
   * ```
   */
  text(): Promise<string> {
    return this.#registry.metrics();
  }
}

interface PartitionValues {
  readonly position: number;
  readonly highWatermark: number;
}
