/**
 * The pipeline's check of every record, for every source alike, before the batcher: a record is
 * rejected if its source rejected it ({@linkcode PointChunk.rejects}), or if x or y is NaN (`nan`),
 * ±Infinity (`infinite`) or non-zero with a magnitude outside the core's exact range [2^-440, 2^440]
 * (`out_of_range`), if its weight is not ±1 (`bad_diff`), or if it retracts a point (same x and y, bit
 * for bit) that is not currently added (`unknown_retraction`). Records are checked in stream order and
 * the multiset of added points follows the accepted ones, so a chunk may add a point and then retract it.
 *
 * Everything the core would refuse is rejected here first, so the core never sees a bad point.
 *
 * With several x columns (chunks with `xs`), every x column is checked as x is, in order (then y, then
 * the weight: the first problem is the one reported, naming the column), and a retraction must match an
 * added row bit for bit in every column ({@linkcode RowCounts}).
 *
 * @example
 * ```ts
 * import { PointValidator } from "./point_validator.ts";
 * const validator = new PointValidator({ source: "data.csv" });
 * const found = validator.check(chunk); // undefined when every record is good
 * for (const { index, rejection } of found?.rejected ?? []) console.error(index, rejection.reason);
 * ```
 * @module
 */

import { formatNumber } from "../../model/format_number.ts";
import type { RecordOrigin, Rejection, RejectReason } from "../../model/rejection.ts";
import type { PointChunk } from "../../model/source.ts";
import { PointCounts } from "../../model/point_counts.ts";
import { RowCounts } from "../../model/row_counts.ts";

/**
 * Smallest non-zero magnitude of x and y the core sums exactly: 2^-440 (its `min_magnitude()`).
 *
 * @example
 * ```ts
 * MIN_MAGNITUDE === 2 ** -440; // true
 * ```
 */
export const MIN_MAGNITUDE = 2 ** -440;
/**
 * Largest magnitude of x and y the core sums exactly: 2^440 (its `max_magnitude()`).
 *
 * @example
 * ```ts
 * MAX_MAGNITUDE === 2 ** 440; // true
 * ```
 */
export const MAX_MAGNITUDE = 2 ** 440;

/**
 * A rejected record of a chunk.
 *
 * @example
 * ```ts
 * const { index, rejection }: RejectedRecord = found.rejected[0];
 * ```
 */
export interface RejectedRecord {
  /** Its index in the chunk. */
  readonly index: number;
  /** What and where. */
  readonly rejection: Rejection;
}

/**
 * The outcome of checking a chunk that holds bad records.
 *
 * @example
 * ```ts
 * const found: ChunkCheck | undefined = validator.check(chunk);
 * if (found?.mask[3]) console.log("record 3 is rejected");
 * ```
 */
export interface ChunkCheck {
  /** 1 for each rejected index of the chunk (as checked: up to `end`). */
  readonly mask: Uint8Array;
  /** The rejected records in index order. */
  readonly rejected: readonly RejectedRecord[];
  /** Index after the last record checked: the chunk's length, or with `stopAtFirst` the first rejected index + 1. */
  readonly end: number;
}

/**
 * Checks chunks in stream order and keeps the multiset of added points.
 *
 * @example
 * ```ts
 * const validator = new PointValidator({ source: source.name });
 * ```
 */
export class PointValidator {
  readonly #source: string;
  readonly #counts: PointCounts;
  /** The multiset of rows with several x columns (made at the first such chunk when tracking). */
  #rows: RowCounts | undefined;
  /** The column names for messages with several x columns. */
  readonly #names: { readonly x: readonly string[]; readonly y: string } | undefined;
  /** One row (x columns, then y) with several x columns. */
  #row = new Float64Array(0);
  readonly #track: boolean | (() => boolean);
  #tracking: boolean | undefined;
  /** With keys: each key held (what `--max-keys` counts) and its id, an index of `#held` and `#keyPoints`. */
  readonly #live = new Map<string, number>();
  /** Net points per key id. */
  #held = new Float64Array(1024);
  /** Ids of keys no longer held, to reuse. */
  readonly #freeIds: number[] = [];
  /** Ids handed out so far (the next new one). */
  #ids = 0;
  /** With keys (or windows) and retractions: each key's added points, rows of (x, y) or (x, y, time), by id. */
  readonly #keyPoints: (KeyPoints | undefined)[] = [];
  /** Per chunk with keys: each accepted point's key id (see `keyIds`). */
  readonly #chunkIds = new WeakMap<PointChunk, Int32Array>();
  readonly #maxKeys: number;
  /** Why retractions are refused (`--window last:N`), if they are. */
  readonly #additionsOnly: string | undefined;
  /** With `--window`: the pane length, the lateness, and the largest event time accepted. */
  readonly #hop: number | undefined;
  readonly #lateness: number;
  #maxTime = -Infinity;

  /**
   * `source` names the input in origins of chunks without their own `origin(i)`.
   *
   * `retractions` says whether the source may retract points (diff -1), default true; a function is
   * asked once, at the first chunk (a CSV source knows by then whether its header has a diff column).
   * Only then is the multiset of added points kept: a source that never retracts costs no memory per
   * point, and a diff of -1 from it is an error (thrown), not a rejection.
   *
   * `counts`: the multiset to start from (a run resumed from a checkpoint); default empty. With several
   * x columns it is a {@linkcode RowCounts} of rows (x₁, …, x_k, y).
   *
   * `columns`: the names of the x columns and y, for messages about chunks with several x columns
   * (default x1, x2, … and y); one-x messages say x and y, as always.
   *
   * `maxKeys` (chunks with keys, `--key`): a point of a new key while this many keys hold points is
   * rejected (`too_many_keys`). A key whose points are all retracted no longer counts.
   *
   * `window` (chunks with times, `--window`): a point whose pane (`[kH, (k+1)H)`, H the hop) ends at or
   * before the watermark — the largest event time accepted minus `lateness` (ms, default 0) — is
   * rejected as `late`: every window holding it is final.
   */
  constructor(
    options: {
      source?: string;
      retractions?: boolean | (() => boolean);
      counts?: PointCounts | RowCounts;
      columns?: { readonly x: readonly string[]; readonly y: string };
      maxKeys?: number;
      window?: { readonly hop: number };
      lateness?: number;
      additionsOnly?: string;
    } = {},
  ) {
    this.#additionsOnly = options.additionsOnly;
    this.#maxKeys = options.maxKeys ?? Infinity;
    this.#hop = options.window?.hop;
    this.#lateness = options.lateness ?? 0;
    this.#source = options.source ?? "input";
    const counts = options.counts;
    this.#counts = counts instanceof PointCounts ? counts : new PointCounts();
    this.#rows = counts instanceof RowCounts ? counts : undefined;
    this.#names = options.columns;
    this.#track = options.retractions ?? true;
  }

  /** Distinct points currently added (for tests and statistics; 0 when not tracking). */
  get distinctPoints(): number {
    return this.#rows?.size ?? this.#counts.size;
  }

  /**
   * Whether the multiset of added points is kept: undefined until the first chunk is checked, then
   * whether the source may retract points.
   */
  get tracking(): boolean | undefined {
    return this.#tracking;
  }

  /** The multiset of added (x, y) points (empty when not tracking, or with several x columns). */
  get counts(): PointCounts {
    return this.#counts;
  }

  /**
   * The multiset in use, e.g. to save it in a checkpoint: the rows with several x columns
   * ({@linkcode RowCounts}), else the (x, y) points.
   */
  get multiset(): PointCounts | RowCounts {
    return this.#rows ?? this.#counts;
  }

  /**
   * Checks the chunk's records `from` (default 0) to `to` (exclusive, default the chunk's length) in
   * order, counting the good ones in the multiset. Returns undefined if all are good. With
   * `stopAtFirst`, stops after the first bad record: records after it are neither checked nor counted.
   * `mask`: the chunk's mask from an earlier check of another range, to fill in (else a new one).
   *
   * @example
   * ```ts
   * const found = validator.check(chunk, { stopAtFirst: onError === "fail" });
   * ```
   */
  check(
    chunk: PointChunk,
    options: { stopAtFirst?: boolean; from?: number; to?: number; mask?: Uint8Array } = {},
  ): ChunkCheck | undefined {
    if (chunk.keys !== undefined || chunk.times !== undefined) {
      return this.#checkKeyed(chunk, chunk.keys, options);
    }
    if (chunk.xs !== undefined && chunk.xs.length > 1) return this.#checkRows(chunk, chunk.xs, options);
    const { x: xs, y: ys, diff: ds } = chunk;
    const n = Math.min(xs.length, options.to ?? xs.length);
    const sourceRejects = chunk.rejects !== undefined && chunk.rejects.size > 0 ? chunk.rejects : undefined;
    if (this.#tracking === undefined) {
      this.#tracking = typeof this.#track === "function" ? this.#track() : this.#track;
    }
    const counts = this.#tracking ? this.#counts : undefined;
    let mask: Uint8Array | undefined;
    let rejected: RejectedRecord[] | undefined;
    for (let i = options.from ?? 0; i < n; i++) {
      let bad: { reason: RejectReason; detail: string } | undefined;
      const from = sourceRejects?.get(i);
      if (from !== undefined) {
        bad = from;
      } else {
        const x = xs[i], y = ys[i], w = ds[i];
        const good = acceptable(x, y, w);
        if (good && w === -1 && this.#additionsOnly !== undefined) {
          bad = { reason: "bad_diff", detail: this.#additionsOnly };
        } else if (good) {
          if (w === 1) {
            counts?.add(x, y);
            continue;
          }
          if (counts === undefined) {
            throw neverRetracts(chunk, i);
          }
          if (counts.retract(x, y)) continue;
          bad = {
            reason: "unknown_retraction",
            detail: `retracts (x, y) = (${formatNumber(x)}, ${
              formatNumber(y)
            }), which is not among the points added`,
          };
        } else {
          bad = valueProblem("x", x) ?? valueProblem("y", y) ?? badDiff(w);
        }
      }
      mask ??= options.mask ?? new Uint8Array(xs.length);
      rejected ??= [];
      mask[i] = 1;
      rejected.push({ index: i, rejection: this.#rejection(chunk, i, bad.reason, bad.detail) });
      if (options.stopAtFirst) return { mask, rejected, end: i + 1 };
    }
    return mask && rejected && { mask, rejected, end: n };
  }

  /** `check` for a chunk with several x columns. */
  #checkRows(
    chunk: PointChunk,
    columns: readonly Float64Array[],
    options: { stopAtFirst?: boolean; from?: number; to?: number; mask?: Uint8Array },
  ): ChunkCheck | undefined {
    const { y: ys, diff: ds } = chunk;
    const k = columns.length;
    const n = Math.min(ys.length, options.to ?? ys.length);
    const sourceRejects = chunk.rejects !== undefined && chunk.rejects.size > 0 ? chunk.rejects : undefined;
    if (this.#tracking === undefined) {
      this.#tracking = typeof this.#track === "function" ? this.#track() : this.#track;
    }
    if (this.#tracking) {
      this.#rows ??= new RowCounts(k + 1);
      if (this.#rows.width !== k + 1) {
        throw new Error(
          `the multiset of points holds rows of ${this.#rows.width} values, but the chunk has ${k} x columns ` +
            `and y: please report this`,
        );
      }
    }
    const counts = this.#tracking ? this.#rows : undefined;
    if (this.#row.length !== k + 1) this.#row = new Float64Array(k + 1);
    const row = this.#row;
    const names = this.#names?.x.length === k
      ? this.#names.x
      : Array.from({ length: k }, (_, c) => `x${c + 1}`);
    const yName = this.#names?.y ?? "y";
    let mask: Uint8Array | undefined;
    let rejected: RejectedRecord[] | undefined;
    for (let i = options.from ?? 0; i < n; i++) {
      let bad: { reason: RejectReason; detail: string } | undefined = sourceRejects?.get(i);
      if (bad === undefined) {
        let good = true;
        for (let c = 0; c < k; c++) {
          const v = columns[c][i];
          const a = v < 0 ? -v : v;
          row[c] = v;
          if (!(a <= MAX_MAGNITUDE && (a >= MIN_MAGNITUDE || a === 0))) good = false;
        }
        const y = ys[i], w = ds[i];
        const ay = y < 0 ? -y : y;
        row[k] = y;
        good &&= ay <= MAX_MAGNITUDE && (ay >= MIN_MAGNITUDE || ay === 0) && (w === 1 || w === -1);
        if (good) {
          if (w === 1) {
            counts?.add(row);
            continue;
          }
          if (counts === undefined) {
            throw neverRetracts(chunk, i);
          }
          if (counts.retract(row)) continue;
          bad = {
            reason: "unknown_retraction",
            detail: `retracts (${[...names, yName].join(", ")}) = (${
              Array.from(row, formatNumber).join(", ")
            }), which is not among the points added`,
          };
        } else {
          for (let c = 0; c < k && bad === undefined; c++) bad = valueProblem(names[c], columns[c][i]);
          bad ??= valueProblem(yName, y) ?? badDiff(w);
        }
      }
      mask ??= options.mask ?? new Uint8Array(ys.length);
      rejected ??= [];
      mask[i] = 1;
      rejected.push({ index: i, rejection: this.#rejection(chunk, i, bad.reason, bad.detail) });
      if (options.stopAtFirst) return { mask, rejected, end: i + 1 };
    }
    return mask && rejected && { mask, rejected, end: n };
  }

  /**
   * A resumed keyed run: `key` holds `count` points (as the checkpoint's keyed state says).
   *
   * @example
   * ```ts
   * validator.restoreKey("sensor-1", 12);
   * ```
   */
  restoreKey(key: string, count: number): void {
    if (count > 0) this.#held[this.#id(key)] = count;
  }

  /** The id of `key`, made (holding no points) if it has none. */
  #id(key: string): number {
    let id = this.#live.get(key);
    if (id !== undefined) return id;
    id = this.#freeIds.pop();
    if (id === undefined) {
      id = this.#ids++;
      if (id >= this.#held.length) {
        const bigger = new Float64Array(2 * this.#held.length);
        bigger.set(this.#held);
        this.#held = bigger;
      }
    }
    this.#held[id] = 0;
    this.#live.set(key, id);
    return id;
  }

  /** Forgets a key that holds no points any more: its id is reused. */
  #drop(key: string, id: number): void {
    this.#live.delete(key);
    this.#keyPoints[id] = undefined;
    this.#freeIds.push(id);
  }

  /**
   * For a chunk with keys: each accepted point's key id (valid from its check until the next check of a
   * chunk; an id names one key while it holds points, and is reused after), so that a keyed engine need
   * not look each point's key up again (`ApplyOptions.keyIds`). Undefined for other chunks.
   *
   * @example
   * ```ts
   * const ids = validator.keyIds(chunk); // ids[i]: the key id of point i
   * ```
   */
  keyIds(chunk: PointChunk): Int32Array | undefined {
    return this.#chunkIds.get(chunk);
  }

  /**
   * The net points `key` holds (with keys), 0 if none.
   *
   * @example
   * ```ts
   * validator.keyCount("sensor-1"); // 12
   * ```
   */
  keyCount(key: string): number {
    const id = this.#live.get(key);
    return id === undefined ? 0 : this.#held[id];
  }

  /** The largest event time accepted (with `--window`), -Infinity before any. */
  get maxTime(): number {
    return this.#maxTime;
  }

  /**
   * A resumed windowed run: the largest event time accepted before the restart.
   *
   * @example
   * ```ts
   * validator.restoreTime(1764669600000);
   * ```
   */
  restoreTime(maxTime: number): void {
    this.#maxTime = maxTime;
  }

  /** Keys held (with `--key`): those with points. */
  get keys(): number {
    return this.#live.size;
  }

  /** `check` for a chunk with keys or times (one x column, or several). */
  #checkKeyed(
    chunk: PointChunk,
    keys: readonly string[] | undefined,
    options: { stopAtFirst?: boolean; from?: number; to?: number; mask?: Uint8Array },
  ): ChunkCheck | undefined {
    const { y: ys, diff: ds } = chunk;
    const columns = chunk.xs !== undefined && chunk.xs.length > 1 ? chunk.xs : [chunk.x];
    const k = columns.length;
    const n = Math.min(ys.length, options.to ?? ys.length);
    const sourceRejects = chunk.rejects !== undefined && chunk.rejects.size > 0 ? chunk.rejects : undefined;
    if (this.#tracking === undefined) {
      this.#tracking = typeof this.#track === "function" ? this.#track() : this.#track;
    }
    const times = chunk.times;
    // A key's added rows: the x columns, y and, with windows, the time.
    const width = k + 1 + (times === undefined ? 0 : 1);
    if (this.#row.length !== width) this.#row = new Float64Array(width);
    const row = this.#row;
    const names = k === 1
      ? ["x"]
      : this.#names?.x.length === k
      ? this.#names.x
      : Array.from({ length: k }, (_, c) => `x${c + 1}`);
    const yName = k === 1 ? "y" : this.#names?.y ?? "y";
    const tracking = this.#tracking;
    const points = this.#keyPoints;
    const hop = this.#hop;
    const live = this.#live;
    let ids = keys === undefined ? undefined : this.#chunkIds.get(chunk);
    if (keys !== undefined && ids === undefined) this.#chunkIds.set(chunk, ids = new Int32Array(ys.length));
    let mask: Uint8Array | undefined;
    let rejected: RejectedRecord[] | undefined;
    for (let i = options.from ?? 0; i < n; i++) {
      let bad: { reason: RejectReason; detail: string } | undefined = sourceRejects?.get(i);
      if (bad === undefined) {
        const y = ys[i], w = ds[i];
        let good = true;
        for (let c = 0; c < k; c++) {
          const v = columns[c][i];
          const a = v < 0 ? -v : v;
          row[c] = v;
          if (!(a <= MAX_MAGNITUDE && (a >= MIN_MAGNITUDE || a === 0))) good = false;
        }
        row[k] = y;
        const ay = y < 0 ? -y : y;
        good &&= ay <= MAX_MAGNITUDE && (ay >= MIN_MAGNITUDE || ay === 0) && (w === 1 || w === -1);
        if (good && times !== undefined && hop !== undefined) {
          const t = times[i];
          if ((Math.floor(t / hop) + 1) * hop <= this.#maxTime - this.#lateness) {
            bad = {
              reason: "late",
              detail: `its time ${t} ms is in windows that are final: the watermark is ${
                this.#maxTime - this.#lateness
              } ms (the largest time seen, ${this.#maxTime}, minus --lateness)`,
            };
          }
        }
        if (good && w === -1 && this.#additionsOnly !== undefined) {
          bad = { reason: "bad_diff", detail: this.#additionsOnly };
        }
        if (good && bad === undefined) {
          const key = keys === undefined ? "" : keys[i];
          let id = live.get(key);
          if (times !== undefined) row[k + 1] = times[i];
          if (w === 1) {
            if (id === undefined && live.size >= this.#maxKeys) {
              bad = {
                reason: "too_many_keys",
                detail: `a new key while ${live.size} keys are held, the most --max-keys allows`,
              };
            } else {
              if (id === undefined) id = this.#id(key);
              this.#held[id]++;
              if (ids !== undefined) ids[i] = id;
              if (tracking) {
                let list = points[id];
                if (list === undefined) points[id] = list = new KeyPoints(width);
                list.addRow(row);
              }
              if (times !== undefined && times[i] > this.#maxTime) this.#maxTime = times[i];
              continue;
            }
          } else {
            if (!tracking) throw neverRetracts(chunk, i);
            const list = id === undefined ? undefined : points[id];
            if (id !== undefined && list !== undefined && list.retractRow(row)) {
              if (ids !== undefined) ids[i] = id;
              if (--this.#held[id] === 0) this.#drop(key, id);
              if (times !== undefined && times[i] > this.#maxTime) this.#maxTime = times[i];
              continue;
            }
            bad = {
              reason: "unknown_retraction",
              detail: `retracts (${[...names, yName].join(", ")}) = (${
                Array.from(row.subarray(0, k + 1), formatNumber).join(", ")
              }), which is not among the points added for its key`,
            };
          }
        } else if (!good) {
          for (let c = 0; c < k && bad === undefined; c++) bad = valueProblem(names[c], columns[c][i]);
          bad ??= valueProblem(yName, y) ?? badDiff(w);
        }
      }
      mask ??= options.mask ?? new Uint8Array(ys.length);
      rejected ??= [];
      mask[i] = 1;
      rejected.push({ index: i, rejection: this.#rejection(chunk, i, bad!.reason, bad!.detail) });
      if (options.stopAtFirst) return { mask, rejected, end: i + 1 };
    }
    return mask && rejected && { mask, rejected, end: n };
  }

  /**
   * With keys and retractions: `key`'s added points as bytes (rows of little-endian f64: the x columns, y and, with
   * windows, the time), for a checkpoint; undefined if it holds none.
   *
   * @example
   * ```ts
   * const bytes = validator.keyPointBytes("sensor-1");
   * ```
   */
  keyPointBytes(key: string): Uint8Array | undefined {
    const id = this.#live.get(key);
    return id === undefined ? undefined : this.#keyPoints[id]?.bytes();
  }

  /**
   * A resumed keyed run with retractions: `key`'s added points (from `keyPointBytes`).
   *
   * @example
   * ```ts
   * validator.restoreKeyPoints("sensor-1", bytes, 2);
   * ```
   */
  restoreKeyPoints(key: string, bytes: Uint8Array, width: number): void {
    this.#keyPoints[this.#id(key)] = KeyPoints.fromBytes(bytes, width);
  }

  #rejection(chunk: PointChunk, i: number, reason: RejectReason, detail: string): Rejection {
    const origin: RecordOrigin = chunk.origin?.(i) ?? { source: this.#source, location: chunk.where(i) };
    const xs = chunk.xs ?? [chunk.x];
    const raw = chunk.rejects?.get(i)?.raw ?? chunk.raw?.(i) ??
      (chunk.rejects?.has(i)
        ? ""
        : `${xs.map((x) => formatNumber(x[i])).join(",")},${formatNumber(chunk.y[i])},${
          formatNumber(chunk.diff[i])
        }`);
    return { origin, reason, detail, raw };
  }
}

/** Whether the core takes the point: x and y 0 or of a magnitude in [2^-440, 2^440], the weight ±1. */
function acceptable(x: number, y: number, w: number): boolean {
  const ax = x < 0 ? -x : x;
  const ay = y < 0 ? -y : y;
  return ax <= MAX_MAGNITUDE && ay <= MAX_MAGNITUDE && (ax >= MIN_MAGNITUDE || ax === 0) &&
    (ay >= MIN_MAGNITUDE || ay === 0) && (w === 1 || w === -1);
}

function valueProblem(name: string, v: number): { reason: RejectReason; detail: string } | undefined {
  if (Number.isNaN(v)) return { reason: "nan", detail: `${name} is NaN` };
  if (v === Infinity || v === -Infinity) return { reason: "infinite", detail: `${name} is ${v}` };
  const a = Math.abs(v);
  if (a > MAX_MAGNITUDE || (a < MIN_MAGNITUDE && a !== 0)) {
    return {
      reason: "out_of_range",
      detail: `${name} is ${formatNumber(v)}: outside [2^-440, 2^440], the magnitudes the core sums exactly`,
    };
  }
  return undefined;
}

/** The rejection of a weight other than ±1. */
function badDiff(w: number): { reason: RejectReason; detail: string } {
  return {
    reason: "bad_diff",
    detail: `diff is ${formatNumber(w)}: it must be 1 (add the point) or -1 (retract it)`,
  };
}

/** A retraction from a source that said it never retracts: a bug, not bad input. */
function neverRetracts(chunk: PointChunk, i: number): Error {
  return new Error(
    `${chunk.where(i)}: diff -1 from a source that said it never retracts points ` +
      `(Source.retractions is false): please report this`,
  );
}

/** Above this many rows, a key's points are indexed by value for its retractions. */
const INDEX_ABOVE = 32;

/** The index key of a row: any function of x and y (rows that share it are told apart bit for bit). */
const rowHash = (x: number, y: number): number => x + 0.7071067811865476 * y;

/**
 * One key's added points (a multiset of rows), for the retractions of a keyed run: a growing array of
 * rows; a retraction finds its row (bit for bit) and moves the last row into its place. Up to
 * {@linkcode INDEX_ABOVE} rows the search is a scan from the newest; above, an index from a hash of (x, y)
 * to the rows' positions makes it O(1).
 */
class KeyPoints {
  #rows: Float64Array;
  #n = 0;
  readonly #width: number;
  /** Above INDEX_ABOVE rows: hash → positions of the rows with it; and each row's place in its list. */
  #index: Map<number, number[]> | undefined;
  #place = new Int32Array(0);

  constructor(width: number, rows?: Float64Array) {
    this.#width = width;
    this.#rows = rows ?? new Float64Array(4 * width);
    if (rows !== undefined) {
      this.#n = rows.length / width;
      if (this.#n > INDEX_ABOVE) this.#buildIndex();
    }
  }

  static fromBytes(bytes: Uint8Array, width: number): KeyPoints {
    if (bytes.length % (8 * width) !== 0) {
      throw new RangeError(`not rows of ${width} doubles: ${bytes.length} bytes`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const rows = new Float64Array(bytes.length / 8);
    for (let i = 0; i < rows.length; i++) rows[i] = view.getFloat64(8 * i, true);
    return new KeyPoints(width, rows);
  }

  #buildIndex(): void {
    this.#index = new Map();
    this.#place = new Int32Array(this.#rows.length / this.#width);
    for (let i = 0; i < this.#n; i++) this.#indexRow(i);
  }

  #indexRow(i: number): void {
    const at = i * this.#width;
    const h = rowHash(this.#rows[at], this.#rows[at + 1]);
    let list = this.#index!.get(h);
    if (list === undefined) this.#index!.set(h, list = []);
    this.#place[i] = list.length;
    list.push(i);
  }

  addRow(row: Float64Array): void {
    const w = this.#width;
    if ((this.#n + 1) * w > this.#rows.length) {
      const bigger = new Float64Array(2 * this.#rows.length);
      bigger.set(this.#rows);
      this.#rows = bigger;
      if (this.#index !== undefined) {
        const place = new Int32Array(bigger.length / w);
        place.set(this.#place);
        this.#place = place;
      }
    }
    const at = this.#n * w;
    for (let c = 0; c < w; c++) this.#rows[at + c] = row[c];
    this.#n++;
    if (this.#index !== undefined) this.#indexRow(this.#n - 1);
    else if (this.#n > INDEX_ABOVE) this.#buildIndex();
  }

  #matches(i: number, row: Float64Array): boolean {
    const w = this.#width;
    const at = i * w;
    const rows = this.#rows;
    for (let c = 0; c < w; c++) if (!Object.is(rows[at + c], row[c])) return false;
    return true;
  }

  retractRow(row: Float64Array): boolean {
    const w = this.#width;
    const rows = this.#rows;
    let i = -1;
    const index = this.#index;
    if (index !== undefined) {
      const h = rowHash(row[0], row[1]);
      const list = index.get(h);
      if (list === undefined) return false;
      let j = list.length - 1;
      while (j >= 0 && !this.#matches(list[j], row)) j--;
      if (j < 0) return false;
      i = list[j];
      const moved = list.pop()!; // (the list's last position takes the found one's place in the list)
      if (j < list.length) {
        list[j] = moved;
        this.#place[moved] = j;
      }
      if (list.length === 0) index.delete(h);
    } else {
      for (let k = this.#n - 1; k >= 0; k--) {
        if (this.#matches(k, row)) {
          i = k;
          break;
        }
      }
      if (i < 0) return false;
    }
    const last = this.#n - 1;
    if (i !== last) {
      const at = i * w;
      const from = last * w;
      for (let c = 0; c < w; c++) rows[at + c] = rows[from + c];
      if (index !== undefined) {
        // The last row is now at i: its entry in its list says so.
        index.get(rowHash(rows[at], rows[at + 1]))![this.#place[last]] = i;
        this.#place[i] = this.#place[last];
      }
    }
    this.#n--;
    return true;
  }

  bytes(): Uint8Array {
    const values = this.#n * this.#width;
    const bytes = new Uint8Array(8 * values);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values; i++) view.setFloat64(8 * i, this.#rows[i], true);
    return bytes;
  }
}
