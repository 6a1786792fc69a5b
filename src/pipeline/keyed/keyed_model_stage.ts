/**
 * Stage 3 for a keyed run of a model other than the plain line (`--key` with several x columns,
 * `--degree`, `--no-intercept` or `--stats`; also `--window last:N`): one independent model per key, fitted
 * by one {@linkcode ModelCore}. Each key's exact sums live outside the core as a sparse record
 * (`ModelCore.saveSparse`: only the digits in use) in a {@linkcode RecordArena}; for each key a batch
 * touched, the core loads the key's record, takes the key's points of the batch, fits, and the record is
 * saved back. The fit is the core's over exactly the key's sums, so it is bit for bit the fit of an
 * unkeyed run over the key's points. A batch reports the keys whose row changed (as written).
 *
 * @example
 * ```ts
 * import { applyKeyedModelBatch, KeyedModelEngine } from "./keyed_model_stage.ts";
 * const engine = new KeyedModelEngine(core, config);
 * const { keys } = applyKeyedModelBatch(engine, spans);
 * ```
 * @module
 */

import type { ModelCore } from "../../core/model_core.ts";
import { modelCells } from "../../model/fit_cells.ts";
import type { ModelConfig } from "../../model/model_config.ts";
import type { KeyChange } from "../../model/sink.ts";
import type { BatchSpan } from "../../model/source.ts";
import type { ApplyOptions, CoreResult } from "../core_stage.ts";
import { groupRows, updateGroup } from "./model_rows.ts";
import { RecordArena } from "./record_arena.ts";

/**
 * What the keyed model stages need of a {@linkcode ModelCore}.
 *
 * @example
 * ```ts
 * const core: SparseModel = await ModelCore.load(bytes, { k: 3, degree: 1, intercept: true });
 * ```
 */
export type SparseModel = Pick<
  ModelCore,
  "spec" | "update" | "updateRows" | "fit" | "reset" | "count" | "saveSparse" | "loadSparse" | "addSparse"
>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A key's checkpoint entry: u32 length of the cells last written (0xffffffff: none), their UTF-8, then
 * the key's sparse record.
 */
function entryBytes(cells: string | undefined, record: Uint8Array): Uint8Array {
  const text = cells === undefined ? new Uint8Array(0) : encoder.encode(cells);
  const bytes = new Uint8Array(4 + text.length + record.length);
  new DataView(bytes.buffer).setUint32(0, cells === undefined ? 0xffff_ffff : text.length, true);
  bytes.set(text, 4);
  bytes.set(record, 4 + text.length);
  return bytes;
}

function parseEntry(bytes: Uint8Array): { cells: string | undefined; record: Uint8Array } {
  if (bytes.length < 4) throw new RangeError(`not a keyed model entry: ${bytes.length} bytes`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(0, true);
  if (n === 0xffff_ffff) return { cells: undefined, record: bytes.subarray(4) };
  if (4 + n > bytes.length) throw new RangeError(`not a keyed model entry: ${bytes.length} bytes`);
  return { cells: decoder.decode(bytes.subarray(4, 4 + n)), record: bytes.subarray(4 + n) };
}

/**
 * The net point count a sparse record holds (its i64 at byte 8).
 *
 * @example
 * ```ts
 * recordCount(core.saveSparse()); // core.count()
 * ```
 */
export function recordCount(record: Uint8Array): number {
  return Number(new DataView(record.buffer, record.byteOffset, record.length).getBigInt64(8, true));
}

/**
 * A key's last N rows (`--window last:N`): a ring of rows of k x values and y.
 *
 * @example
 * ```ts
 * const ring = new RowRing(2, 1);
 * ring.push(Float64Array.of(1, 1)); // false
 * ```
 */
export class RowRing {
  /** Points the key has had. */
  seen = 0;
  /** The window last written (point numbers, from 1). */
  writtenStart = 0;
  /** (See `writtenStart`.) */
  writtenEnd = 0;
  /** The row that left the window at the last `push` that returned true. */
  readonly left: Float64Array;
  readonly #n: number;
  readonly #width: number;
  #rows: Float64Array;

  /** A ring of windows of `n` points of `k` x values and y. */
  constructor(n: number, k: number) {
    this.#n = n;
    this.#width = k + 1;
    this.left = new Float64Array(k + 1);
    this.#rows = new Float64Array(this.#width * Math.min(n, 4));
  }

  /** Adds a row; true when the window was full, so that its oldest row left (into `left`). */
  push(row: ArrayLike<number>): boolean {
    const n = this.#n, w = this.#width;
    const held = Math.min(this.seen, n);
    if (held < n && w * (held + 1) > this.#rows.length) {
      const bigger = new Float64Array(w * Math.min(n, 2 * (this.#rows.length / w)));
      bigger.set(this.#rows);
      this.#rows = bigger;
    }
    const at = w * (this.seen % n);
    const full = this.seen >= n;
    if (full) this.left.set(this.#rows.subarray(at, at + w));
    for (let c = 0; c < w; c++) this.#rows[at + c] = row[c];
    this.seen++;
    return full;
  }
}

/**
 * The per-key state of a keyed model run, with the core that fits each key.
 *
 * @example
 * ```ts
 * const engine = new KeyedModelEngine(await ModelCore.load(bytes, spec), config);
 * ```
 */
export class KeyedModelEngine {
  /** Marks the engine for `isKeyedModelEngine`. */
  readonly keyedModel = true;
  /** The core that fits each key (it holds one key's sums at a time). */
  readonly core: SparseModel;
  /** The model, for the cells of each row. */
  readonly config: ModelConfig;
  /** Each key's exact sums as a sparse record. */
  readonly records: RecordArena = new RecordArena();
  /** The cells of the row last written per key. */
  readonly written: Map<string, string> = new Map();
  /** With `--window last:N`: N. */
  readonly last: number | undefined;
  /** With `last`: each key's last rows. */
  readonly rings: Map<string, RowRing> = new Map();
  /** The keys the last batch touched. */
  touched: string[] = [];
  /** Net points over all keys. */
  count = 0;

  /** `last`: each key's model is over its last `last` points only (`--window last:N`). */
  constructor(core: SparseModel, config: ModelConfig, options: { last?: number } = {}) {
    this.core = core;
    this.config = config;
    this.last = options.last;
  }

  /**
   * A key's checkpoint entry (its sums and the row last written), or null when it holds nothing.
   *
   * @example
   * ```ts
   * for (const key of engine.touched) store.set(key, engine.saveEntry(key));
   * ```
   */
  saveEntry(key: string): Uint8Array | null {
    const record = this.records.get(key);
    return record === undefined ? null : entryBytes(this.written.get(key), record);
  }

  /**
   * Puts back a key's checkpoint entry (from `saveEntry`); returns the key's net point count.
   *
   * @example
   * ```ts
   * const count = engine.restoreEntry("sensor-1", bytes);
   * ```
   */
  restoreEntry(key: string, bytes: Uint8Array): number {
    const { cells, record } = parseEntry(bytes);
    this.core.loadSparse(record); // (checks it is a record of this model)
    this.records.set(key, record);
    if (cells !== undefined) this.written.set(key, cells);
    const count = recordCount(record);
    this.count += count;
    return count;
  }
}

/**
 * Whether the engine of a run is a {@linkcode KeyedModelEngine}.
 *
 * @example
 * ```ts
 * if (isKeyedModelEngine(engine)) applyKeyedModelBatch(engine, spans);
 * ```
 */
export function isKeyedModelEngine(engine: unknown): engine is KeyedModelEngine {
  return (engine as KeyedModelEngine | undefined)?.keyedModel === true;
}

/**
 * Applies the spans' points to their keys' models, fits every key touched, and returns the accepted
 * points and the keys whose row changed.
 *
 * @example
 * ```ts
 * const { accepted, keys } = applyKeyedModelBatch(engine, [{ chunk, start: 0, end: chunk.y.length }]);
 * ```
 */
export function applyKeyedModelBatch(
  engine: KeyedModelEngine,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const { core, config, records, written, last } = engine;
  const grouped = groupRows(spans, options.skip, (chunk, i) => chunk.keys?.[i] ?? "");
  const changes: KeyChange[] = [];
  const { names } = grouped;
  for (let g = 0; g < names.length; g++) {
    const key = names[g];
    const record = records.get(key);
    if (record !== undefined) core.loadSparse(record);
    else core.reset();
    const before = core.count();
    if (last === undefined) updateGroup(core, grouped, g);
    else lastUpdate(engine, key, grouped, g);
    const n = core.count();
    engine.count += n - before;
    const old = written.get(key);
    if (n === 0) {
      // No points left: the key's row is retracted and the key forgotten.
      if (old !== undefined) changes.push({ key, oldCells: old });
      written.delete(key);
      records.delete(key);
      continue;
    }
    const cells = modelCells(config, core.fit());
    records.set(key, core.saveSparse());
    if (last !== undefined) {
      const ring = engine.rings.get(key)!;
      const bounds = { windowStart: ring.seen - n + 1, windowEnd: ring.seen };
      if (old !== undefined) {
        changes.push({ key, windowStart: ring.writtenStart, windowEnd: ring.writtenEnd, oldCells: old });
      }
      changes.push({ key, ...bounds, cells, n });
      ring.writtenStart = bounds.windowStart;
      ring.writtenEnd = bounds.windowEnd;
      written.set(key, cells);
      continue;
    }
    if (old === cells) continue;
    changes.push(old === undefined ? { key, cells, n } : { key, oldCells: old, cells, n });
    written.set(key, cells);
  }
  engine.touched = names;
  return {
    points: grouped.points,
    accepted: grouped.accepted,
    refused: 0,
    count: engine.count,
    line: undefined,
    keys: changes,
  };
}

/** `--window last:N`: adds the group's points in order, each retracting the row that leaves the window. */
function lastUpdate(
  engine: KeyedModelEngine,
  key: string,
  grouped: ReturnType<typeof groupRows>,
  g: number,
): void {
  const k = engine.core.spec.k;
  let ring = engine.rings.get(key);
  if (ring === undefined) engine.rings.set(key, ring = new RowRing(engine.last!, k));
  const { starts, run, row, runs } = grouped;
  const size = 2 * (starts[g + 1] - starts[g]);
  const xs = Array.from({ length: k }, () => new Float64Array(size));
  const y = new Float64Array(size);
  const w = new Float64Array(size);
  const one = new Float64Array(k + 1);
  let m = 0;
  for (let p = starts[g]; p < starts[g + 1]; p++) {
    const chunk = runs[run[p]].chunk;
    const i = row[p];
    const columns = chunk.xs ?? [chunk.x];
    for (let c = 0; c < k; c++) one[c] = xs[c][m] = columns[c][i];
    one[k] = y[m] = chunk.y[i];
    w[m++] = 1;
    if (ring.push(one)) {
      for (let c = 0; c < k; c++) xs[c][m] = ring.left[c];
      y[m] = ring.left[k];
      w[m++] = -1;
    }
  }
  engine.core.update(xs.map((column) => column.subarray(0, m)), y.subarray(0, m), w.subarray(0, m));
}
