/**
 * Stage 3 for windows (`--window`, with or without `--key`): one exact line per key and window.
 *
 * Points go to the exact sums of their key's pane (a pane is one hop of time: [kH, (k+1)H); for tumbling
 * windows the pane is the window). A window is the exact sum of its panes, so after a batch each key's
 * windows that hold a touched pane are swept in order: the sums of the first are added up once, then each
 * next window adds the pane that enters and subtracts, exactly, the pane that leaves — never a fit from
 * scratch, and bit for bit the fit of the window's points. Windows whose line changed are reported.
 *
 * The watermark is the largest event time accepted minus the lateness: a window that ends at or before
 * it is final (its line is not changed again; the validator rejects later points for it as `late`), and
 * the panes no open window needs are dropped. A window left with no points retracts its line.
 *
 * @example
 * ```ts
 * import { applyWindowedBatch, WindowedEngine } from "./windowed_stage.ts";
 * const engine = new WindowedEngine(core, { window: { kind: "sliding", size: 3_600_000, hop: 60_000 }, lateness: 0 });
 * const { keys } = applyWindowedBatch(engine, spans);
 * ```
 * @module
 */

import type { RegressionCore } from "../../core/regression_core.ts";
import type { KeyChange, Line, PointRun } from "../../model/sink.ts";
import type { BatchSpan, PointChunk } from "../../model/source.ts";
import type { WindowSpec } from "../../model/windows.ts";
import { type ApplyOptions, type CoreResult, forEachRun } from "../core_stage.ts";
import { ExactSums, KeyTable } from "./key_table.ts";

const SEP = "\u0001";
/** Separates an entry's kind from its name in `changes` (see `WindowedEngine.changes`). */
const MARK = "\u0002";

function lineBytes(line: Line): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, line.a, true);
  view.setFloat64(8, line.b, true);
  return bytes;
}

/**
 * The panes, the lines written per window, and the watermark of a windowed run.
 *
 * @example
 * ```ts
 * const engine = new WindowedEngine(core, { window: { kind: "tumbling", size: 60_000, hop: 60_000 } });
 * ```
 */
export class WindowedEngine {
  /** Marks the engine for `isWindowedEngine`. */
  readonly windowed = true;
  /** The windows. */
  readonly window: WindowSpec;
  /** How far behind the largest event time a point may still come (ms). */
  readonly lateness: number;
  /** Each key's panes' exact sums: slot key `key + U+0001 + pane index`. */
  readonly panes: KeyTable = new KeyTable({ maxKeys: Infinity });
  /** The line written for each open window: `key + U+0001 + window index` → line. */
  readonly written: Map<string, Line> = new Map();
  /** The keys with a line in each open window, by window index. */
  readonly open: Map<number, Set<string>> = new Map();
  /** The keys with sums in each pane, by pane index. */
  readonly live: Map<number, Set<string>> = new Map();
  /** The largest event time accepted (ms), -Infinity before any. */
  maxTime: number = -Infinity;
  /** Net points over all panes. */
  count: number = 0;
  /**
   * What the last batch changed, for an incremental checkpoint: `p` + U+0002 + pane name → the pane's
   * state (`KeyTable.save`), `w` + U+0002 + window id → the window's line (two little-endian f64), null
   * for what is gone. See `restoreEntry`.
   */
  changes: Map<string, Uint8Array | null> = new Map();
  /** The keys the last batch touched. */
  touchedKeys: string[] = [];
  readonly #core: Pick<RegressionCore, "fitSums">;
  /** Scratch sums of one window at a time. */
  readonly sums: ExactSums = new ExactSums();

  /** `window`: the windows; `lateness`: in ms (default 0). */
  constructor(
    core: Pick<RegressionCore, "fitSums">,
    options: { window: WindowSpec; lateness?: number },
  ) {
    this.#core = core;
    this.window = options.window;
    this.lateness = options.lateness ?? 0;
  }

  /** The watermark: the largest event time accepted minus the lateness. */
  get watermark(): number {
    return this.maxTime - this.lateness;
  }

  /** Panes per window. */
  get panesPerWindow(): number {
    return Math.round(this.window.size / this.window.hop);
  }

  /**
   * Puts back one entry of a checkpoint (as `changes` gave it), on restart.
   *
   * @example
   * ```ts
   * for (const [name, bytes] of store.entries()) engine.restoreEntry(name, bytes);
   * ```
   */
  restoreEntry(name: string, bytes: Uint8Array): boolean {
    const kind = name.slice(0, 2);
    const rest = name.slice(2);
    if (kind === "p" + MARK) {
      this.panes.restore(rest, bytes);
      const cut = rest.lastIndexOf(SEP);
      const key = rest.slice(0, cut);
      const pane = Number(rest.slice(cut + 1));
      let set = this.live.get(pane);
      if (set === undefined) this.live.set(pane, set = new Set());
      set.add(key);
      return true;
    }
    if (kind === "w" + MARK) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      this.written.set(rest, { a: view.getFloat64(0, true), b: view.getFloat64(8, true) });
      const cut = rest.lastIndexOf(SEP);
      const w = Number(rest.slice(cut + 1));
      let set = this.open.get(w);
      if (set === undefined) this.open.set(w, set = new Set());
      set.add(rest.slice(0, cut));
      return true;
    }
    return false;
  }

  /** Fits `sums` in the core. */
  fit(sums: ExactSums): Line {
    const fit = sums.fit(this.#core);
    return { a: fit.a, b: fit.b };
  }
}

/**
 * Whether the engine of a run is a {@linkcode WindowedEngine}.
 *
 * @example
 * ```ts
 * if (isWindowedEngine(engine)) applyWindowedBatch(engine, spans);
 * ```
 */
export function isWindowedEngine(engine: unknown): engine is WindowedEngine {
  return (engine as WindowedEngine | undefined)?.windowed === true;
}

/**
 * Applies the spans' points to their keys' panes, fits every window that holds a touched pane, retires
 * the windows and panes the watermark closes, and returns the accepted points and the changed windows.
 *
 * @example
 * ```ts
 * const { keys } = applyWindowedBatch(engine, [{ chunk, start: 0, end: chunk.x.length }]);
 * ```
 */
export function applyWindowedBatch(
  engine: WindowedEngine,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const { panes, window } = engine;
  const hop = window.hop;
  const changed = engine.changes = new Map();
  const touchedPanes = new Set<string>();
  const points: PointRun[] = [];
  /** Per key touched: the lowest and highest pane touched. */
  const touched = new Map<string, [number, number]>();
  let accepted = 0;
  const apply = (chunk: PointChunk, start: number, end: number) => {
    const times = chunk.times;
    if (times === undefined) {
      throw new Error(`${chunk.where(start)}: a windowed run got points without times: please report this`);
    }
    const keys = chunk.keys;
    const { x, y, diff } = chunk;
    for (let i = start; i < end; i++) {
      const key = keys === undefined ? "" : keys[i];
      const t = times[i];
      const pane = Math.floor(t / hop);
      const name = key + SEP + pane;
      let slot = panes.find(name);
      if (slot < 0) {
        slot = panes.slot(name);
        let set = engine.live.get(pane);
        if (set === undefined) engine.live.set(pane, set = new Set());
        set.add(key);
      }
      panes.add(slot, x[i], y[i], diff[i]);
      touchedPanes.add(name);
      engine.count += diff[i];
      if (t > engine.maxTime) engine.maxTime = t;
      const range = touched.get(key);
      if (range === undefined) touched.set(key, [pane, pane]);
      else {
        if (pane < range[0]) range[0] = pane;
        if (pane > range[1]) range[1] = pane;
      }
    }
    accepted += end - start;
    points.push({
      x: x.subarray(start, end),
      y: y.subarray(start, end),
      diff: diff.subarray(start, end),
      ...(keys !== undefined ? { keys: keys.slice(start, end) } : {}),
      times: times.subarray(start, end),
    });
  };
  forEachRun(spans, options.skip, apply);

  const changes: KeyChange[] = [];
  const m = engine.panesPerWindow;
  const sums = engine.sums;
  for (const [key, [low, high]] of touched) {
    // Windows w = first..last hold a touched pane (window w: panes w … w + m - 1).
    const first = low - m + 1;
    sums.clear();
    for (let p = first; p < first + m; p++) addPane(engine, key, p, sums, 1);
    for (let w = first; w <= high; w++) {
      if (w > first) {
        addPane(engine, key, w - 1, sums, -1);
        addPane(engine, key, w + m - 1, sums, 1);
      }
      const id = key + SEP + w;
      const old = engine.written.get(id);
      const bounds = { windowStart: w * hop, windowEnd: w * hop + window.size };
      if (sums.count === 0) {
        if (old !== undefined) {
          changes.push({ key, ...bounds, old });
          engine.written.delete(id);
          engine.open.get(w)?.delete(key);
          changed.set("w" + MARK + id, null);
        }
        continue;
      }
      const line = engine.fit(sums);
      if (old !== undefined && Object.is(old.a, line.a) && Object.is(old.b, line.b)) continue;
      const n = sums.count;
      changes.push(old === undefined ? { key, ...bounds, line, n } : { key, ...bounds, old, line, n });
      engine.written.set(id, line);
      changed.set("w" + MARK + id, lineBytes(line));
      let set = engine.open.get(w);
      if (set === undefined) engine.open.set(w, set = new Set());
      set.add(key);
    }
  }
  for (const name of touchedPanes) {
    const slot = panes.find(name);
    changed.set("p" + MARK + name, slot < 0 ? null : panes.save(slot));
  }
  engine.touchedKeys = [...touched.keys()];
  retire(engine);
  return { points, accepted, refused: 0, count: engine.count, line: undefined, keys: changes };
}

function addPane(engine: WindowedEngine, key: string, pane: number, sums: ExactSums, sign: number): void {
  const slot = engine.panes.find(key + SEP + pane);
  if (slot >= 0) engine.panes.addTo(slot, sums, sign);
}

/** Forgets the windows the watermark made final and the panes no open window needs. */
function retire(engine: WindowedEngine): void {
  const { hop, size } = engine.window;
  const watermark = engine.watermark;
  for (const [w, keys] of engine.open) {
    if (w * hop + size > watermark) continue;
    for (const key of keys) {
      engine.written.delete(key + SEP + w);
      engine.changes.set("w" + MARK + key + SEP + w, null);
    }
    engine.open.delete(w);
  }
  for (const [pane, keys] of engine.live) {
    // The last window holding the pane is the one it starts: it ends at pane·hop + size.
    if (pane * hop + size > watermark) continue;
    for (const key of keys) {
      const slot = engine.panes.find(key + SEP + pane);
      if (slot >= 0) engine.panes.remove(slot);
      engine.changes.set("p" + MARK + key + SEP + pane, null);
    }
    engine.live.delete(pane);
  }
}
