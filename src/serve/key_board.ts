/**
 * The keys of a keyed or windowed run (`--key`, `--window`) as the live page and `/metrics` see them:
 * each key's current line (for windows: the line of its most recent window, with the window's bounds),
 * its points, and how active it is — the points it got in the last few seconds. It ranks the keys by
 * activity for the page's table, and keeps a bounded sample of recent points for a few keys only (the
 * keys a page shows and the most active ones).
 *
 * Memory: a few numbers per key in typed arrays (no object per key; about 90 bytes per key in all,
 * measured with 10⁶ keys) plus the key's entry in a map (the key's string is the engine's), and at most
 * `sampledKeys` × `sampleSize` sampled points. Work per point: one map lookup (skipped while consecutive
 * points share a key) and a few array updates; per key a batch changed: a few array updates (its slot is
 * found among the keys the batch's points touched, in the same order, without a map lookup). The ranking
 * scans every key, at most once a second (`rankMs`); in between, the ranked keys' rows are re-read and
 * re-sorted.
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
  /** Least time between two rankings of every key, ms. Default 1000. */
  rankMs?: number;
}

const NONE = -1;
/** The fields of a slot in `#hot`: its points, the last second counted, its sample, its last batch. */
const POINTS = 0;
const SECOND = 1;
const SAMPLE = 2;
const STAMP = 3;
const HOT = 4;
/** The fields of a slot in `#lines`: a (NaN: no line), b, n, the commit time, the window's bounds. */
const A = 0;
const B = 1;
const N = 2;
const TIME = 3;
const START = 4;
const END = 5;
/** How far ahead `apply` looks among the batch's keys for a change's key before asking the map. */
const LOOKAHEAD = 8;

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
  readonly #rankMs: number;
  /** Fields per slot in `#lines`: 4, with windows 6. */
  readonly #lineWidth: number;
  /** key → slot. */
  readonly #slots = new Map<string, number>();
  /** slot → key (undefined: free). */
  #keys: (string | undefined)[] = [];
  readonly #free: number[] = [];
  #capacity = 0;
  /** Per slot, what each point updates (`HOT` fields). */
  #hot = new Float64Array(0);
  /** Per slot, its line (`#lineWidth` fields). */
  #lines = new Float64Array(0);
  /** Per slot, `recentSeconds` counters: the points of second s are at `s mod recentSeconds`. */
  #recent = new Uint32Array(0);
  /** The slots the current batch's points touched, in the order first touched, and the batch's stamp. */
  #touched: number[] = [];
  #batch = 1;
  /** The sampled keys' samples. */
  #samples: { key: string; sample: PointSample }[] = [];
  /** The keys `/metrics` shows, in the order they got their first line. */
  readonly #metricKeys = new Set<string>();
  /** The last ranking: its keys, when (monotonic ms) and how many were asked for. */
  #ranked: string[] = [];
  #rankedAt = -Infinity;
  #rankedCount = 0;
  /** How long the last ranking took, ms: the next waits at least 20 times as long (5 % of the time). */
  #rankTook = 0;
  /** Whether points or lines came since the last ranking. */
  #changed = false;

  /** An empty board. */
  constructor(options: KeyBoardOptions) {
    this.#windows = options.windows;
    this.#recentSeconds = options.recentSeconds ?? 5;
    this.#sampledKeys = options.sampledKeys ?? 8;
    this.#sampleSize = options.sampleSize ?? 500;
    this.#perWindow = options.perWindow ?? 100;
    this.#metricsCap = options.metricsKeys ?? 100;
    this.#rankMs = options.rankMs ?? 1000;
    this.#lineWidth = options.windows === undefined ? 4 : 6;
  }

  /** Seconds of activity counted. */
  get recentSeconds(): number {
    return this.#recentSeconds;
  }

  /**
   * Whether points or lines came since the last ranking of {@linkcode KeyBoard.top} (which may then be
   * up to a second behind: ask again later).
   */
  get rankStale(): boolean {
    return this.#changed;
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
    const hot = new Float64Array(capacity * HOT);
    hot.set(this.#hot);
    this.#hot = hot;
    const lines = new Float64Array(capacity * this.#lineWidth);
    lines.set(this.#lines);
    this.#lines = lines;
    const recent = new Uint32Array(capacity * this.#recentSeconds);
    recent.set(this.#recent);
    this.#recent = recent;
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
    const hot = slot * HOT;
    this.#hot[hot + POINTS] = 0;
    this.#hot[hot + SECOND] = second;
    this.#hot[hot + SAMPLE] = NONE;
    this.#hot[hot + STAMP] = 0;
    this.#lines[slot * this.#lineWidth + A] = NaN;
    this.#recent.fill(0, slot * this.#recentSeconds, (slot + 1) * this.#recentSeconds);
    // A new key takes a free sample (a run of a few keys samples each from its first point).
    if (this.#samples.length < this.#sampledKeys) {
      this.#hot[hot + SAMPLE] = this.#samples.length;
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
    if (this.#hot[slot * HOT + SAMPLE] !== NONE) {
      this.#samples = this.#samples.filter((s) => s.key !== key);
      this.#samples.forEach((entry, i) => (this.#hot[this.#slots.get(entry.key)! * HOT + SAMPLE] = i));
    }
  }

  /**
   * Counts a run of accepted points for their keys (a run without keys: the key "", a windowed run
   * without `--key`) at monotonic time `now` (ms), and offers the sampled keys' added points to their
   * samples. Call it in the sink's `write`, before `apply` for the same batch: the run's arrays are
   * views that do not outlive it.
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
    if (y.length > 0) this.#changed = true;
    let last: string | undefined;
    let slot = NONE;
    let sample: PointSample | undefined;
    for (let i = 0; i < y.length; i++) {
      const key = keys === undefined ? "" : keys[i];
      if (key !== last) {
        last = key;
        slot = this.#slot(key, second);
        const h = slot * HOT;
        if (this.#hot[h + STAMP] !== this.#batch) {
          this.#hot[h + STAMP] = this.#batch;
          this.#touched.push(slot);
        }
        this.#advance(slot, second);
        const s = this.#hot[h + SAMPLE];
        sample = s === NONE ? undefined : this.#samples[s].sample;
      }
      this.#hot[slot * HOT + POINTS]++;
      this.#recent[slot * r + at]++;
      if (sample !== undefined && diff[i] > 0) sample.addPoint(x[i], y[i]);
    }
  }

  /** Moves a slot's activity counters on to `second`, clearing the seconds that passed. */
  #advance(slot: number, second: number): void {
    const previous = this.#hot[slot * HOT + SECOND];
    if (previous >= second) return;
    const r = this.#recentSeconds;
    for (let s = Math.max(previous + 1, second - r + 1); s <= second; s++) {
      this.#recent[slot * r + ((s % r) + r) % r] = 0;
    }
    this.#hot[slot * HOT + SECOND] = second;
  }

  /** The points of the slot in the last `recentSeconds` at `second`. */
  #recentOf(slot: number, second: number): number {
    const r = this.#recentSeconds;
    const last = this.#hot[slot * HOT + SECOND];
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
   * `now`: the monotonic time (ms), for keys new to the board. Ends the batch `count` counted.
   *
   * @example
   * ```ts
   * board.apply(update.keys ?? [], update.time, performance.now());
   * ```
   */
  apply(changes: readonly KeyChange[], time: number, now: number): void {
    const second = Math.floor(now / 1000);
    const windowed = this.#windows !== undefined;
    const width = this.#lineWidth;
    const touched = this.#touched;
    const keys = this.#keys;
    if (changes.length > 0) this.#changed = true;
    let cursor = 0;
    let last: string | undefined;
    let slot: number = NONE;
    for (const change of changes) {
      const key = change.key;
      if (key !== last || keys[slot] !== key) {
        // The engine reports keys in the order the batch's points first touched them: look there first.
        last = key;
        slot = NONE;
        for (let c = cursor; c < touched.length && c < cursor + LOOKAHEAD; c++) {
          if (keys[touched[c]] === key) {
            slot = touched[c];
            cursor = c + 1;
            break;
          }
        }
        if (slot === NONE) slot = this.#slots.get(key) ?? NONE;
      }
      const line = change.line;
      if (line === undefined) {
        if (slot === NONE) continue;
        const at = slot * width;
        if (!windowed) this.#remove(slot);
        else if (
          this.#lines[at + A] === this.#lines[at + A] && this.#lines[at + START] === change.windowStart
        ) {
          this.#lines[at + A] = NaN;
        }
        continue;
      }
      if (slot === NONE) slot = this.#slot(key, second);
      const at = slot * width;
      const lines = this.#lines;
      if (windowed && lines[at + A] === lines[at + A] && change.windowStart! < lines[at + START]) continue;
      lines[at + A] = line.a;
      lines[at + B] = line.b;
      lines[at + N] = change.n ?? NaN;
      lines[at + TIME] = time;
      if (windowed) {
        lines[at + START] = change.windowStart!;
        lines[at + END] = change.windowEnd!;
      }
      if (this.#metricKeys.size < this.#metricsCap) this.#metricKeys.add(key);
    }
    this.#touched = [];
    this.#batch++;
  }

  #row(slot: number, second: number): KeyRow {
    const key = this.#keys[slot]!;
    const at = slot * this.#lineWidth;
    const lines = this.#lines;
    const has = lines[at + A] === lines[at + A];
    const windows = this.#windows;
    const bound = (ms: number) => windows?.format === undefined ? String(ms) : formatTime(ms, windows.format);
    const time = lines[at + TIME];
    const n = lines[at + N];
    return {
      key,
      label: keyCells(key),
      fields: splitKey(key),
      window: windows !== undefined && has ? [bound(lines[at + START]), bound(lines[at + END])] : null,
      cells: has ? [formatNumber(lines[at + A]), formatNumber(lines[at + B])] : null,
      line: has ? { a: lines[at + A], b: lines[at + B] } : null,
      n: has && n === n ? n : null,
      points: this.#hot[slot * HOT + POINTS],
      recent: this.#recentOf(slot, second),
      time: has && time === time ? time : null,
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
   * The `count` most active keys: by points in the last `recentSeconds`, then by points in all (between
   * equals, the key seen first makes the list), sorted so and then by key. Every key is ranked at most once per `rankMs` (and with many keys, after at least 20 times as
   * long as the last ranking took); in between, the keys ranked last are re-read and re-sorted.
   *
   * @example
   * ```ts
   * board.top(50, performance.now()).map((row) => row.label);
   * ```
   */
  top(count: number, now: number): KeyRow[] {
    const second = Math.floor(now / 1000);
    if (count <= 0) return [];
    const wait = Math.max(this.#rankMs, 20 * this.#rankTook);
    const short = this.#ranked.length < Math.min(count, this.#slots.size);
    if (
      short || now - this.#rankedAt >= wait || count !== this.#rankedCount || this.#rankedAt > now
    ) {
      this.#changed = false;
      const started = performance.now();
      this.#ranked = this.#rank(count, second);
      this.#rankTook = performance.now() - started;
      this.#rankedAt = now;
      this.#rankedCount = count;
    }
    const rows: KeyRow[] = [];
    for (const key of this.#ranked) {
      const slot = this.#slots.get(key);
      if (slot !== undefined) rows.push(this.#row(slot, second));
    }
    return rows.sort((p, q) =>
      q.recent - p.recent || q.points - p.points || (p.key < q.key ? -1 : p.key > q.key ? 1 : 0)
    );
  }

  /** The keys of the `count` most active slots, by one pass over every slot. */
  #rank(count: number, second: number): string[] {
    // The best so far, worst first.
    const recent: number[] = [];
    const points: number[] = [];
    const slots: number[] = [];
    const keys = this.#keys;
    const hot = this.#hot;
    const r = this.#recentSeconds;
    const counters = this.#recent;
    const low = second - r + 1;
    // (Ties are broken by slot here, which is cheap; `top` sorts the rows it returns by key.)
    const worse = (rc: number, pts: number, slot: number, i: number) =>
      rc !== recent[i] ? rc < recent[i] : pts !== points[i] ? pts < points[i] : slot > slots[i];
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] === undefined) continue;
      const last = hot[slot * HOT + SECOND];
      let rc = 0;
      for (let s = Math.max(low, last - r + 1); s <= last && s <= second; s++) {
        rc += counters[slot * r + ((s % r) + r) % r];
      }
      const pts = hot[slot * HOT + POINTS];
      if (slots.length === count) {
        if (worse(rc, pts, slot, 0)) continue;
        recent.shift();
        points.shift();
        slots.shift();
      }
      let at = 0;
      while (at < slots.length && !worse(rc, pts, slot, at)) at++;
      recent.splice(at, 0, rc);
      points.splice(at, 0, pts);
      slots.splice(at, 0, slot);
    }
    return slots.reverse().map((slot) => keys[slot]!);
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
      if (slot !== undefined) this.#hot[slot * HOT + SAMPLE] = NONE;
    }
    this.#samples = chosen.map((key, i) => {
      this.#hot[this.#slots.get(key)! * HOT + SAMPLE] = i;
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
      if (
        slot !== undefined &&
        this.#lines[slot * this.#lineWidth + A] === this.#lines[slot * this.#lineWidth + A]
      ) {
        rows.push(this.#row(slot, second));
      }
    }
    return rows;
  }
}
