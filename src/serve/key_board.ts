/**
 * The keys of a keyed or windowed run (`--key`, `--window`) as the live page and `/metrics` see them:
 * each key's current line (for windows: the line of its most recent window, with the window's bounds),
 * its points, and how active it is — the points it got in the last few seconds. It ranks the keys by
 * activity for the page's table, and keeps a bounded sample of recent points for a few keys only (the
 * keys a page shows and the most active ones).
 *
 * Memory: a few numbers per key in typed columns (no object per key) plus the key's entry in a map (the
 * key's string is the engine's), and at most `sampledKeys` × `sampleSize` sampled points. Work per point:
 * one map lookup (skipped while consecutive points share a key) and a few array updates.
 *
 * Activity is counted in whole seconds of the monotonic clock: the points of the current second and the
 * `recentSeconds − 1` before it.
 *
 * @example
 * ```ts
 * import { KeyBoard } from "./key_board.ts";
 * const board = new KeyBoard({ windows: undefined });
 * board.count({ x, y, diff, keys }, performance.now()); // in the sink's write
 * board.apply(update.keys!, update.time, performance.now()); // once the batch is committed
 * board.top(50, performance.now()); // the 50 most active keys
 * ```
 * @module
 */

import { formatNumber } from "../model/format_number.ts";
import { keyCells, splitKey } from "../model/keys.ts";
import type { KeyChange, Line, PointRun } from "../model/sink.ts";
import { formatTime, type TimeFormat } from "../model/windows.ts";
import { PointSample, type SampledPoints } from "./point_sample.ts";

/**
 * One key's row, as the page's table and `/metrics` show it.
 *
 * @example
 * ```ts
 * const row: KeyRow = { key: "s1", label: "s1", fields: ["s1"], window: null, cells: ["0.5", "2"],
 *   line: { a: 0.5, b: 2 }, n: 10, points: 10, recent: 3, time: 1764669600000 };
 * ```
 */
export interface KeyRow {
  /** The key (several key columns: the fields joined by U+0000, as `joinKey` does). */
  readonly key: string;
  /** The key as the change logs write its columns: the fields as CSV fields, joined by commas. */
  readonly label: string;
  /** The key's fields, one per key column. */
  readonly fields: readonly string[];
  /** With `--window`: the shown line's `window_start`, `window_end`, as the result change log writes them. */
  readonly window: readonly [string, string] | null;
  /** `a` and `b` as the result change log writes them; null while the key has no line. */
  readonly cells: readonly [string, string] | null;
  /** The line; null while the key has none. */
  readonly line: Line | null;
  /** The net points the line is fitted to (the key's, or its window's); null without a line. */
  readonly n: number | null;
  /** Points accepted for the key by this process (added and retracted). */
  readonly points: number;
  /** Points accepted for the key in the last few seconds (see `recentSeconds`). */
  readonly recent: number;
  /** The commit time (epoch ms) of the batch that gave the line; null without one. */
  readonly time: number | null;
}

/**
 * Options of {@linkcode KeyBoard}.
 *
 * @example
 * ```ts
 * const options: KeyBoardOptions = { windows: { format: "iso" }, sampledKeys: 8, sampleSize: 500 };
 * ```
 */
export interface KeyBoardOptions {
  /**
   * With `--window`: how the result change log writes window bounds (`format` for tumbling and sliding
   * windows, as `--time-format`; none for `last:N`, whose bounds are point numbers). Undefined: no windows.
   */
  windows: { readonly format?: TimeFormat } | undefined;
  /** The most keys with a sample of points at once. Default 8. */
  sampledKeys?: number;
  /** The most points in one key's sample. Default 500. */
  sampleSize?: number;
  /** The most points of one key's sample taken in one publishing window. Default 100. */
  perWindow?: number;
  /** Activity counts the points of this many seconds (the current one included). Default 5. */
  recentSeconds?: number;
  /** The most keys for `/metrics` (the first keys to get a line). Default 100. */
  metricsKeys?: number;
}

const NONE = -1;

/**
 * The keys of a run (see the module documentation).
 *
 * @example
 * ```ts
 * const board = new KeyBoard({ windows: { format: "ms" } });
 * ```
 */
export class KeyBoard {
  readonly #windows: { readonly format?: TimeFormat } | undefined;
  readonly #recentSeconds: number;
  readonly #sampledKeys: number;
  readonly #sampleSize: number;
  readonly #perWindow: number;
  readonly #metricsCap: number;
  /** key → slot. */
  readonly #slots = new Map<string, number>();
  /** slot → key (undefined: free). */
  #keys: (string | undefined)[] = [];
  readonly #free: number[] = [];
  #capacity = 0;
  #has = new Uint8Array(0);
  #a = new Float64Array(0);
  #b = new Float64Array(0);
  #n = new Float64Array(0);
  #time = new Float64Array(0);
  #points = new Float64Array(0);
  #start = new Float64Array(0);
  #end = new Float64Array(0);
  /** Per slot, `recentSeconds` counters: the points of second s are at `s mod recentSeconds`. */
  #recent = new Uint32Array(0);
  /** Per slot, the last second counted. */
  #second = new Float64Array(0);
  /** Per slot, its sample's index in `#samples`, or -1. */
  #sampleOf = new Int16Array(0);
  /** The sampled keys' samples. */
  #samples: { key: string; sample: PointSample }[] = [];
  /** The keys `/metrics` shows, in the order they got their first line. */
  readonly #metricKeys = new Set<string>();

  /** An empty board. */
  constructor(options: KeyBoardOptions) {
    this.#windows = options.windows;
    this.#recentSeconds = options.recentSeconds ?? 5;
    this.#sampledKeys = options.sampledKeys ?? 8;
    this.#sampleSize = options.sampleSize ?? 500;
    this.#perWindow = options.perWindow ?? 100;
    this.#metricsCap = options.metricsKeys ?? 100;
  }

  /** Seconds of activity counted. */
  get recentSeconds(): number {
    return this.#recentSeconds;
  }

  /** Keys on the board (keys with points or a line). */
  get size(): number {
    return this.#slots.size;
  }

  /** The keys with a sample of points now. */
  get sampled(): string[] {
    return this.#samples.map((s) => s.key);
  }

  #grow(): void {
    const capacity = Math.max(64, this.#capacity * 2);
    const f64 = (old: Float64Array, width = 1) => {
      const next = new Float64Array(capacity * width);
      next.set(old);
      return next;
    };
    this.#has = ((old) => {
      const next = new Uint8Array(capacity);
      next.set(old);
      return next;
    })(this.#has);
    this.#a = f64(this.#a);
    this.#b = f64(this.#b);
    this.#n = f64(this.#n);
    this.#time = f64(this.#time);
    this.#points = f64(this.#points);
    if (this.#windows !== undefined) {
      this.#start = f64(this.#start);
      this.#end = f64(this.#end);
    }
    const recent = new Uint32Array(capacity * this.#recentSeconds);
    recent.set(this.#recent);
    this.#recent = recent;
    this.#second = f64(this.#second);
    const sampleOf = new Int16Array(capacity);
    sampleOf.set(this.#sampleOf);
    this.#sampleOf = sampleOf;
    this.#capacity = capacity;
  }

  /** The slot of `key`, made if new. */
  #slot(key: string, second: number): number {
    const found = this.#slots.get(key);
    if (found !== undefined) return found;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#keys.length;
      if (slot === this.#capacity) this.#grow();
      this.#keys.push(key);
    } else this.#keys[slot] = key;
    this.#slots.set(key, slot);
    this.#has[slot] = 0;
    this.#points[slot] = 0;
    this.#recent.fill(0, slot * this.#recentSeconds, (slot + 1) * this.#recentSeconds);
    this.#second[slot] = second;
    this.#sampleOf[slot] = NONE;
    // A new key takes a free sample (a run of a few keys samples each from its first point).
    if (this.#samples.length < this.#sampledKeys) {
      this.#sampleOf[slot] = this.#samples.length;
      this.#samples.push({ key, sample: this.#newSample() });
    }
    return slot;
  }

  #remove(slot: number): void {
    const key = this.#keys[slot]!;
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
    this.#metricKeys.delete(key);
    const s = this.#sampleOf[slot];
    if (s !== NONE) {
      this.#samples.splice(s, 1);
      this.#samples.forEach((entry, i) => {
        const other = this.#slots.get(entry.key);
        if (other !== undefined) this.#sampleOf[other] = i;
      });
    }
  }

  /**
   * Counts a run of accepted points for their keys (a run without keys: the key "", a windowed run
   * without `--key`) at monotonic time `now` (ms), and offers the sampled keys' added points to their
   * samples. Call it in the sink's `write`: the run's arrays are views that do not outlive it.
   *
   * @example
   * ```ts
   * for (const run of update.points) board.count(run, performance.now());
   * ```
   */
  count(run: PointRun, now: number): void {
    const second = Math.floor(now / 1000);
    const r = this.#recentSeconds;
    const at = ((second % r) + r) % r;
    const keys = run.keys;
    const { x, y, diff } = run;
    let last: string | undefined;
    let slot = NONE;
    let sample: PointSample | undefined;
    for (let i = 0; i < y.length; i++) {
      const key = keys === undefined ? "" : keys[i];
      if (key !== last) {
        last = key;
        slot = this.#slot(key, second);
        this.#advance(slot, second);
        const s = this.#sampleOf[slot];
        sample = s === NONE ? undefined : this.#samples[s].sample;
      }
      this.#points[slot]++;
      this.#recent[slot * r + at]++;
      if (sample !== undefined && diff[i] > 0) sample.addPoint(x[i], y[i]);
    }
  }

  /** Moves a slot's activity counters on to `second`, clearing the seconds that passed. */
  #advance(slot: number, second: number): void {
    const previous = this.#second[slot];
    if (previous >= second) return;
    const r = this.#recentSeconds;
    for (let s = Math.max(previous + 1, second - r + 1); s <= second; s++) {
      this.#recent[slot * r + ((s % r) + r) % r] = 0;
    }
    this.#second[slot] = second;
  }

  /** The points of the slot in the last `recentSeconds` at `second`. */
  #recentOf(slot: number, second: number): number {
    const r = this.#recentSeconds;
    const last = this.#second[slot];
    let sum = 0;
    for (let s = Math.max(second - r + 1, last - r + 1); s <= Math.min(last, second); s++) {
      sum += this.#recent[slot * r + ((s % r) + r) % r];
    }
    return sum;
  }

  /**
   * Takes a committed batch's key changes (`BatchUpdate.keys`), at its commit `time`: each key's new
   * line; with windows, a line replaces the key's shown one if its window starts no earlier; a key left
   * without points is forgotten (with windows: its shown window, if emptied, leaves it without a line).
   * `now`: the monotonic time (ms), for keys new to the board.
   *
   * @example
   * ```ts
   * board.apply(update.keys ?? [], update.time, performance.now());
   * ```
   */
  apply(changes: readonly KeyChange[], time: number, now: number): void {
    const second = Math.floor(now / 1000);
    const windowed = this.#windows !== undefined;
    for (const change of changes) {
      const line = change.line;
      if (line === undefined) {
        const slot = this.#slots.get(change.key);
        if (slot === undefined) continue;
        if (!windowed) this.#remove(slot);
        else if (this.#has[slot] === 1 && this.#start[slot] === change.windowStart) this.#has[slot] = 0;
        continue;
      }
      const slot = this.#slot(change.key, second);
      if (windowed && this.#has[slot] === 1 && change.windowStart! < this.#start[slot]) continue;
      this.#has[slot] = 1;
      this.#a[slot] = line.a;
      this.#b[slot] = line.b;
      this.#n[slot] = change.n ?? NaN;
      this.#time[slot] = time;
      if (windowed) {
        this.#start[slot] = change.windowStart!;
        this.#end[slot] = change.windowEnd!;
      }
      if (this.#metricKeys.size < this.#metricsCap) this.#metricKeys.add(change.key);
    }
  }

  #row(slot: number, second: number): KeyRow {
    const key = this.#keys[slot]!;
    const has = this.#has[slot] === 1;
    const windows = this.#windows;
    const bound = (ms: number) => windows?.format === undefined ? String(ms) : formatTime(ms, windows.format);
    const time = this.#time[slot];
    return {
      key,
      label: keyCells(key),
      fields: splitKey(key),
      window: windows !== undefined && has ? [bound(this.#start[slot]), bound(this.#end[slot])] : null,
      cells: has ? [formatNumber(this.#a[slot]), formatNumber(this.#b[slot])] : null,
      line: has ? { a: this.#a[slot], b: this.#b[slot] } : null,
      n: has && !Number.isNaN(this.#n[slot]) ? this.#n[slot] : null,
      points: this.#points[slot],
      recent: this.#recentOf(slot, second),
      time: has && !Number.isNaN(time) ? time : null,
    };
  }

  /**
   * The row of `key`, or undefined if the board does not hold it.
   *
   * @example
   * ```ts
   * board.row("sensor-1", performance.now())?.cells; // ["0.5", "2"]
   * ```
   */
  row(key: string, now: number): KeyRow | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#row(slot, Math.floor(now / 1000));
  }

  /**
   * The `count` most active keys: by points in the last `recentSeconds`, then by points in all, then by
   * key. One pass over the keys, keeping the best `count`.
   *
   * @example
   * ```ts
   * board.top(50, performance.now()).map((row) => row.label);
   * ```
   */
  top(count: number, now: number): KeyRow[] {
    const second = Math.floor(now / 1000);
    if (count <= 0) return [];
    // The best so far, worst first: [recent, points, slot].
    const best: [number, number, number][] = [];
    const keys = this.#keys;
    const better = (p: [number, number, number], q: [number, number, number]) =>
      p[0] !== q[0] ? p[0] > q[0] : p[1] !== q[1] ? p[1] > q[1] : keys[p[2]]! < keys[q[2]]!;
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] === undefined) continue;
      const entry: [number, number, number] = [this.#recentOf(slot, second), this.#points[slot], slot];
      if (best.length === count && !better(entry, best[0])) continue;
      if (best.length === count) best.shift();
      let at = 0;
      while (at < best.length && better(entry, best[at])) at++;
      best.splice(at, 0, entry);
    }
    return best.reverse().map(([, , slot]) => this.#row(slot, second));
  }

  #newSample(): PointSample {
    return new PointSample({ columns: 1, capacity: this.#sampleSize, perWindow: this.#perWindow });
  }

  /**
   * Chooses the keys with a sample: those of `wanted` on the board, in order, up to `sampledKeys`, then
   * (while there is room) the keys sampled now. A key that stays keeps its sample; a key that leaves
   * loses it.
   *
   * @example
   * ```ts
   * board.resample([...watchedKeys, ...board.top(3, now).map((r) => r.key)]);
   * ```
   */
  resample(wanted: Iterable<string>): void {
    const chosen: string[] = [];
    for (const key of wanted) {
      if (chosen.length === this.#sampledKeys) break;
      if (this.#slots.has(key) && !chosen.includes(key)) chosen.push(key);
    }
    for (const { key } of this.#samples) {
      if (chosen.length === this.#sampledKeys) break;
      if (!chosen.includes(key)) chosen.push(key);
    }
    const kept = new Map(this.#samples.map((s) => [s.key, s.sample]));
    for (const { key } of this.#samples) {
      const slot = this.#slots.get(key);
      if (slot !== undefined) this.#sampleOf[slot] = NONE;
    }
    this.#samples = chosen.map((key, i) => {
      this.#sampleOf[this.#slots.get(key)!] = i;
      return { key, sample: kept.get(key) ?? this.#newSample() };
    });
  }

  /**
   * The sample of `key`'s recent points (empty if the key has none).
   *
   * @example
   * ```ts
   * board.sample("sensor-1").y.length <= 500; // true
   * ```
   */
  sample(key: string): SampledPoints {
    const found = this.#samples.find((s) => s.key === key);
    return found ? found.sample.points() : { xs: [[]], y: [] };
  }

  /** Ends the samples' current window (at each publication). */
  closeWindow(): void {
    for (const { sample } of this.#samples) sample.closeWindow();
  }

  /**
   * The keys `/metrics` shows with their lines: the first `metricsKeys` keys to get a line (a key that
   * is forgotten makes room for the next key whose line changes).
   *
   * @example
   * ```ts
   * for (const row of board.metricRows(performance.now())) gauge.set({ key: row.label }, row.line!.a);
   * ```
   */
  metricRows(now: number): KeyRow[] {
    const second = Math.floor(now / 1000);
    const rows: KeyRow[] = [];
    for (const key of this.#metricKeys) {
      const slot = this.#slots.get(key);
      if (slot !== undefined && this.#has[slot] === 1) rows.push(this.#row(slot, second));
    }
    return rows;
  }
}
