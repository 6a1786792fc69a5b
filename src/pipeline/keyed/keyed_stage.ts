/**
 * Stage 3 for a keyed run (`--key`): one exact line per key. A closed batch's points go to their keys'
 * exact sums ({@linkcode KeyTable}); then each key the batch touched is fitted once, in the core, from
 * its sums, and the keys whose line changed are reported (old line, new line), so the result log writes
 * lines only for them. Work per batch: its points, plus one fit per key it touched.
 *
 * A key whose points are all retracted is forgotten (its line retracted); the validator has already
 * rejected every point the core would refuse, every retraction of a point its key does not hold, and
 * every new key beyond `--max-keys`.
 *
 * @example
 * ```ts
 * import { KeyedEngine, applyKeyedBatch } from "./keyed_stage.ts";
 * const engine = new KeyedEngine(core);
 * const { keys } = applyKeyedBatch(engine, spans, {});
 * ```
 * @module
 */

import type { Fit, RegressionCore } from "../../core/regression_core.ts";
import type { KeyChange, Line, PointRun } from "../../model/sink.ts";
import type { BatchSpan, PointChunk } from "../../model/source.ts";
import { type ApplyOptions, type CoreResult, forEachRun } from "../core_stage.ts";
import { KeyTable } from "./key_table.ts";

/**
 * The per-key state of a keyed run, with the core that fits each key.
 *
 * @example
 * ```ts
 * const engine = new KeyedEngine(await RegressionCore.load(bytes));
 * ```
 */
export class KeyedEngine {
  /** Marks the engine for `isKeyedEngine`. */
  readonly keyed = true;
  /** Every key's exact sums and last line. */
  readonly table: KeyTable;
  readonly #core: Pick<RegressionCore, "fitSums">;
  /** The number of batches applied (marks which slots a batch touched). */
  batch = 0;
  #marks = new Uint32Array(0);

  /** One mark per slot (`capacity` slots at least), for the batch being applied. */
  marks(capacity: number): Uint32Array {
    if (this.#marks.length < capacity) {
      const bigger = new Uint32Array(Math.max(capacity, 2 * this.#marks.length));
      bigger.set(this.#marks);
      this.#marks = bigger;
    }
    return this.#marks;
  }

  /** Per validator key id (`ApplyOptions.keyIds`): the table slot + 1 it named last, 0 for none. */
  #slotOfId = new Int32Array(0);

  /**
   * The slot of point `i`'s key, whose validator key id is `id`: the slot that id named last if it
   * still holds that key (one array read and a string comparison), else looked up (and remembered).
   */
  slotFor(key: string, id: number): number {
    let map = this.#slotOfId;
    if (id >= map.length) {
      const bigger = new Int32Array(Math.max(1024, 2 * map.length, id + 1));
      bigger.set(map);
      this.#slotOfId = map = bigger;
    }
    const hint = map[id] - 1;
    if (hint >= 0 && this.table.key(hint) === key && key !== "") return hint; // (a removed slot's key is "")
    const slot = this.table.slot(key);
    map[id] = slot + 1;
    return slot;
  }

  /** The keys the last batch touched (their state changed; a key may since have been forgotten). */
  touched: string[] = [];
  /** Net points over all keys. */
  count = 0;

  /** With `--window last:N`: N, else undefined. */
  readonly last: number | undefined;
  /** With `last`: each key's last points (a ring), its point count, and the window last written. */
  readonly rings: Map<number, LastRing> = new Map();

  /**
   * `core` fits each key's line; the validator admits keys (`--max-keys`), so the table takes any.
   * `last`: each key's line is over its last `last` points only (`--window last:N`).
   */
  constructor(core: Pick<RegressionCore, "fitSums">, options: { last?: number } = {}) {
    this.#core = core;
    this.table = new KeyTable({ maxKeys: Infinity }); // (the validator admits keys: --max-keys)
    this.last = options.last;
  }

  /**
   * Fits a slot's line from its exact sums.
   *
   * @example
   * ```ts
   * engine.fit(engine.table.find("sensor-1"));
   * ```
   */
  fit(slot: number): Fit {
    return this.table.fit(slot, this.#core);
  }
}

/**
 * Whether the engine of a run is a {@linkcode KeyedEngine}.
 *
 * @example
 * ```ts
 * if (isKeyedEngine(engine)) applyKeyedBatch(engine, spans);
 * ```
 */
export function isKeyedEngine(engine: unknown): engine is KeyedEngine {
  return (engine as KeyedEngine | undefined)?.keyed === true;
}

/**
 * Applies the spans' points to their keys, fits every key touched, and returns the accepted points and
 * the keys whose line changed.
 *
 * @example
 * ```ts
 * const { accepted, keys } = applyKeyedBatch(engine, [{ chunk, start: 0, end: chunk.x.length }]);
 * ```
 */
export function applyKeyedBatch(
  engine: KeyedEngine,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const table = engine.table;
  const points: PointRun[] = [];
  const touched: number[] = [];
  let seen = engine.marks(table.capacity);
  const mark = ++engine.batch;
  let accepted = 0;
  const apply = (chunk: PointChunk, start: number, end: number) => {
    const keys = chunk.keys;
    if (keys === undefined && engine.last === undefined) {
      throw new Error(`${chunk.where(start)}: a keyed run got points without keys: please report this`);
    }
    const { x, y, diff } = chunk;
    const last = engine.last;
    const ids = keys === undefined ? undefined : options.keyIds?.(chunk);
    for (let i = start; i < end; i++) {
      const slot = ids !== undefined
        ? engine.slotFor(keys![i], ids[i])
        : table.slot(keys === undefined ? "" : keys[i]);
      if (slot < 0) {
        throw new Error(
          `${chunk.where(i)}: more keys than --max-keys got past the validator: please report this`,
        );
      }
      table.add(slot, x[i], y[i], diff[i]);
      if (last !== undefined) {
        let ring = engine.rings.get(slot);
        if (ring === undefined) engine.rings.set(slot, ring = new LastRing(last));
        if (ring.push(x[i], y[i])) {
          table.add(slot, ring.leftX, ring.leftY, -1); // the oldest point leaves the window, exactly
          engine.count--;
        }
      }
      if (slot >= seen.length) seen = engine.marks(table.capacity); // (the table grew)
      if (seen[slot] !== mark) {
        seen[slot] = mark;
        touched.push(slot);
      }
    }
    accepted += end - start;
    engine.count += sumOf(diff, start, end);
    points.push({
      x: x.subarray(start, end),
      y: y.subarray(start, end),
      diff: diff.subarray(start, end),
      ...(keys !== undefined ? { keys: keys.slice(start, end) } : {}),
      chunk, // (e.g. a Kafka chunk's partition and offsets, for many readers)
    });
  };
  forEachRun(spans, options.skip, apply);
  const changes: KeyChange[] = [];
  engine.touched = touched.map((slot) => table.key(slot));
  for (const slot of touched) {
    const key = table.key(slot);
    const old = table.written(slot);
    const ring = engine.rings.get(slot);
    if (ring !== undefined) {
      // --window last:N: the window numbers the key's points from 1.
      const fit = engine.fit(slot);
      const line: Line = { a: fit.a, b: fit.b };
      const bounds = { windowStart: ring.seen - table.count(slot) + 1, windowEnd: ring.seen };
      if (old !== undefined) {
        changes.push({ key, windowStart: ring.writtenStart, windowEnd: ring.writtenEnd, old });
      }
      changes.push({ key, ...bounds, line, n: table.count(slot) });
      ring.writtenStart = bounds.windowStart;
      ring.writtenEnd = bounds.windowEnd;
      table.write(slot, line);
      continue;
    }
    if (table.count(slot) === 0) {
      // No points left: the key's line is retracted and the key forgotten.
      if (old !== undefined) changes.push({ key, old });
      table.remove(slot);
      continue;
    }
    const fit = engine.fit(slot);
    const line: Line = { a: fit.a, b: fit.b };
    if (old !== undefined && Object.is(old.a, line.a) && Object.is(old.b, line.b)) continue;
    const n = table.count(slot);
    changes.push(old === undefined ? { key, line, n } : { key, old, line, n });
    table.write(slot, line);
  }
  return { points, accepted, refused: 0, count: engine.count, line: undefined, keys: changes };
}

function sumOf(values: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i];
  return s;
}

/**
 * A key's last N points (`--window last:N`): a ring of x and y that grows up to N, and how many points
 * the key has had.
 *
 * @example
 * ```ts
 * const ring = new LastRing(2);
 * ring.push(1, 1);
 * ring.push(2, 2);
 * ring.push(3, 3); // true: (ring.leftX, ring.leftY) = (1, 1) left the window
 * ```
 */
export class LastRing {
  /** Points the key has had. */
  seen = 0;
  /** The point that left the window at the last `push` that returned true. */
  leftX = 0;
  /** (See `leftX`.) */
  leftY = 0;
  /** The window last written for the key (point numbers, from 1). */
  writtenStart = 0;
  /** (See `writtenStart`.) */
  writtenEnd = 0;
  readonly #n: number;
  #xy: Float64Array;

  /** A ring for windows of `n` points. */
  constructor(n: number) {
    this.#n = n;
    this.#xy = new Float64Array(2 * Math.min(n, 4));
  }

  /** The window length N. */
  get size(): number {
    return this.#n;
  }

  /**
   * The ring as bytes, for a checkpoint (see {@linkcode LastRing.restore}). Little endian: f64 N, f64
   * seen, f64 writtenStart, f64 writtenEnd, then the min(seen, N) points held (x, y), in ring order.
   *
   * @example
   * ```ts
   * const again = LastRing.restore(ring.save(), 2); // the same window, the same next `push`
   * ```
   */
  save(): Uint8Array {
    const held = Math.min(this.seen, this.#n);
    const bytes = new Uint8Array(32 + 16 * held);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.#n, true);
    view.setFloat64(8, this.seen, true);
    view.setFloat64(16, this.writtenStart, true);
    view.setFloat64(24, this.writtenEnd, true);
    for (let i = 0; i < 2 * held; i++) view.setFloat64(32 + 8 * i, this.#xy[i], true);
    return bytes;
  }

  /**
   * A ring from {@linkcode LastRing.save}'s bytes, for windows of `n` points; throws a RangeError if the
   * bytes are not such a ring, or one of another N (the run was restarted with another `--window last:N`).
   *
   * @example
   * ```ts
   * const ring = LastRing.restore(bytes, 100);
   * ```
   */
  static restore(bytes: Uint8Array, n: number): LastRing {
    if (bytes.length < 32 || bytes.length % 16 !== 0) {
      throw new RangeError(`not the last points of a key: ${bytes.length} bytes`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const size = view.getFloat64(0, true);
    if (size !== n) {
      throw new RangeError(`the state holds windows of the last ${size} points, not ${n} (--window last:N)`);
    }
    const ring = new LastRing(n);
    ring.seen = view.getFloat64(8, true);
    const held = (bytes.length - 32) / 16;
    if (!Number.isSafeInteger(ring.seen) || held !== Math.min(ring.seen, n)) {
      throw new RangeError(`not the last points of a key: ${held} points for ${ring.seen} seen`);
    }
    ring.writtenStart = view.getFloat64(16, true);
    ring.writtenEnd = view.getFloat64(24, true);
    if (2 * held > ring.#xy.length) ring.#xy = new Float64Array(2 * held);
    for (let i = 0; i < 2 * held; i++) ring.#xy[i] = view.getFloat64(32 + 8 * i, true);
    return ring;
  }

  /** Adds a point; true when the window was full, so that the oldest point left (`leftX`, `leftY`). */
  push(x: number, y: number): boolean {
    const n = this.#n;
    const held = Math.min(this.seen, n);
    if (held < n && 2 * held >= this.#xy.length) {
      const bigger = new Float64Array(Math.min(2 * n, 2 * this.#xy.length));
      bigger.set(this.#xy);
      this.#xy = bigger;
    }
    const at = 2 * (this.seen % n);
    const full = this.seen >= n;
    if (full) {
      this.leftX = this.#xy[at];
      this.leftY = this.#xy[at + 1];
    }
    this.#xy[at] = x;
    this.#xy[at + 1] = y;
    this.seen++;
    return full;
  }
}
