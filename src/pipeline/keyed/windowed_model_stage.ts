/**
 * Stage 3 for tumbling and sliding windows (`--window`, with or without `--key`) of a model other than the
 * plain line: one exact model per key and window, fitted by one {@linkcode ModelCore}.
 *
 * Points go to the exact sums of their key's pane (one hop of time, `[kH, (k+1)H)`), kept as sparse records
 * (`ModelCore.saveSparse`) in a {@linkcode RecordArena}. After a batch, each key's windows that hold a
 * touched pane are swept in order in the core: the first window's panes are added up once, then each next
 * window adds the pane that enters and subtracts, exactly, the pane that leaves (`ModelCore.addSparse`) —
 * bit for bit the fit of the window's points. Windows whose row changed are reported. The watermark and
 * the retiring of final windows and unneeded panes are as for the line (`./windowed_stage.ts`).
 *
 * @example
 * ```ts
 * import { applyWindowedModelBatch, WindowedModelEngine } from "./windowed_model_stage.ts";
 * const engine = new WindowedModelEngine(core, config, { window: { kind: "tumbling", size: 60_000, hop: 60_000 } });
 * const { keys } = applyWindowedModelBatch(engine, spans);
 * ```
 * @module
 */

import { modelCells } from "../../model/fit_cells.ts";
import type { ModelConfig } from "../../model/model_config.ts";
import type { KeyChange } from "../../model/sink.ts";
import type { BatchSpan } from "../../model/source.ts";
import type { WindowSpec } from "../../model/windows.ts";
import type { ApplyOptions, CoreResult } from "../core_stage.ts";
import type { SparseModel } from "./keyed_model_stage.ts";
import { groupRows, updateGroup } from "./model_rows.ts";
import { RecordArena } from "./record_arena.ts";

const SEP = "\u0001";
/** Separates an entry's kind from its name in `changes` (as `./windowed_stage.ts` does). */
const MARK = "\u0002";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The panes, the rows written per window, and the watermark of a windowed model run.
 *
 * @example
 * ```ts
 * const engine = new WindowedModelEngine(core, config, { window, lateness: 0 });
 * ```
 */
export class WindowedModelEngine {
  /** Marks the engine for `isWindowedModelEngine`. */
  readonly windowedModel = true;
  /** The core (it holds one pane's or window's sums at a time). */
  readonly core: SparseModel;
  /** The model, for the cells of each row. */
  readonly config: ModelConfig;
  /** The windows. */
  readonly window: WindowSpec;
  /** How far behind the largest event time a point may still come (ms). */
  readonly lateness: number;
  /** Each key's panes' sums: `key + U+0001 + pane index` → sparse record. */
  readonly panes: RecordArena = new RecordArena();
  /** The cells written for each open window: `key + U+0001 + window index` → cells. */
  readonly written: Map<string, string> = new Map();
  /** The keys with a row in each open window, by window index. */
  readonly open: Map<number, Set<string>> = new Map();
  /** The keys with sums in each pane, by pane index. */
  readonly live: Map<number, Set<string>> = new Map();
  /** The largest event time accepted (ms), -Infinity before any. */
  maxTime: number = -Infinity;
  /** Net points over all panes. */
  count: number = 0;
  /**
   * What the last batch changed, for an incremental checkpoint: `p` + U+0002 + pane name → the pane's
   * record, `w` + U+0002 + window id → the window's cells (UTF-8), null for what is gone.
   */
  changes: Map<string, Uint8Array | null> = new Map();
  /** The keys the last batch touched. */
  touchedKeys: string[] = [];

  /** `window`: the windows; `lateness`: in ms (default 0). */
  constructor(
    core: SparseModel,
    config: ModelConfig,
    options: { window: WindowSpec; lateness?: number },
  ) {
    this.core = core;
    this.config = config;
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
   * Puts back one entry of a checkpoint (as `changes` gave it), on restart; false if it is not a pane or
   * a window.
   *
   * @example
   * ```ts
   * for (const [name, bytes] of store.entries()) engine.restoreEntry(name, bytes);
   * ```
   */
  restoreEntry(name: string, bytes: Uint8Array): boolean {
    const kind = name.slice(0, 2);
    const rest = name.slice(2);
    const cut = rest.lastIndexOf(SEP);
    if (kind === "p" + MARK) {
      this.core.loadSparse(bytes); // (checks it is a record of this model)
      this.panes.set(rest, bytes);
      const pane = Number(rest.slice(cut + 1));
      let set = this.live.get(pane);
      if (set === undefined) this.live.set(pane, set = new Set());
      set.add(rest.slice(0, cut));
      return true;
    }
    if (kind === "w" + MARK) {
      this.written.set(rest, decoder.decode(bytes));
      const w = Number(rest.slice(cut + 1));
      let set = this.open.get(w);
      if (set === undefined) this.open.set(w, set = new Set());
      set.add(rest.slice(0, cut));
      return true;
    }
    return false;
  }
}

/**
 * Whether the engine of a run is a {@linkcode WindowedModelEngine}.
 *
 * @example
 * ```ts
 * if (isWindowedModelEngine(engine)) applyWindowedModelBatch(engine, spans);
 * ```
 */
export function isWindowedModelEngine(engine: unknown): engine is WindowedModelEngine {
  return (engine as WindowedModelEngine | undefined)?.windowedModel === true;
}

/**
 * Applies the spans' points to their keys' panes, fits every window that holds a touched pane, retires
 * the windows and panes the watermark closes, and returns the accepted points and the changed windows.
 *
 * @example
 * ```ts
 * const { keys } = applyWindowedModelBatch(engine, [{ chunk, start: 0, end: chunk.y.length }]);
 * ```
 */
export function applyWindowedModelBatch(
  engine: WindowedModelEngine,
  spans: readonly BatchSpan[],
  options: ApplyOptions = {},
): CoreResult {
  const { core, panes, window, config } = engine;
  const hop = window.hop;
  const changed = engine.changes = new Map();
  /** Per key touched: the lowest and highest pane touched. */
  const touched = new Map<string, [number, number]>();
  const grouped = groupRows(spans, options.skip, (chunk, i) => {
    const times = chunk.times;
    if (times === undefined) {
      throw new Error(`${chunk.where(i)}: a windowed run got points without times: please report this`);
    }
    const key = chunk.keys?.[i] ?? "";
    const t = times[i];
    const pane = Math.floor(t / hop);
    engine.count += chunk.diff[i];
    if (t > engine.maxTime) engine.maxTime = t;
    const range = touched.get(key);
    if (range === undefined) touched.set(key, [pane, pane]);
    else {
      if (pane < range[0]) range[0] = pane;
      if (pane > range[1]) range[1] = pane;
    }
    return key + SEP + pane;
  });
  // The panes touched: each takes its points between a load and a save of its record.
  for (let g = 0; g < grouped.names.length; g++) {
    const name = grouped.names[g];
    const record = panes.get(name);
    if (record !== undefined) core.loadSparse(record);
    else {
      core.reset();
      const cut = name.lastIndexOf(SEP);
      const pane = Number(name.slice(cut + 1));
      let set = engine.live.get(pane);
      if (set === undefined) engine.live.set(pane, set = new Set());
      set.add(name.slice(0, cut));
    }
    updateGroup(core, grouped, g);
    if (core.count() === 0) {
      panes.delete(name); // (no points left in the pane: its sums are exactly 0)
      changed.set("p" + MARK + name, null);
    } else {
      const saved = core.saveSparse();
      panes.set(name, saved);
      changed.set("p" + MARK + name, saved);
    }
  }

  const changes: KeyChange[] = [];
  const m = engine.panesPerWindow;
  /** Adds a pane's record to the core's sums, if the pane has one; returns whether it had. */
  const add = (key: string, pane: number, sign: 1 | -1): boolean => {
    const record = panes.get(key + SEP + pane);
    if (record !== undefined) core.addSparse(record, sign);
    return record !== undefined;
  };
  for (const [key, [low, high]] of touched) {
    // Windows w = first..last hold a touched pane (window w: panes w … w + m - 1).
    const first = low - m + 1;
    core.reset();
    for (let p = first; p < first + m; p++) add(key, p, 1);
    /** The previous window's cells, while the sums have not changed since (no pane left or entered). */
    let same: string | undefined;
    for (let w = first; w <= high; w++) {
      if (w > first) {
        const left = add(key, w - 1, -1);
        const entered = add(key, w + m - 1, 1);
        if (left || entered) same = undefined;
      }
      const id = key + SEP + w;
      const old = engine.written.get(id);
      const bounds = { windowStart: w * hop, windowEnd: w * hop + window.size };
      const n = core.count();
      if (n === 0) {
        if (old !== undefined) {
          changes.push({ key, ...bounds, oldCells: old });
          engine.written.delete(id);
          engine.open.get(w)?.delete(key);
          changed.set("w" + MARK + id, null);
        }
        continue;
      }
      // The same sums give the same fit, bit for bit: a window holding the same panes as the one before
      // (say, panes that are empty in a sparse key's hour) reuses its cells instead of fitting again.
      const cells = same ?? modelCells(config, core.fit());
      same = cells;
      if (old === cells) continue;
      changes.push(
        old === undefined ? { key, ...bounds, cells, n } : { key, ...bounds, oldCells: old, cells, n },
      );
      engine.written.set(id, cells);
      changed.set("w" + MARK + id, encoder.encode(cells));
      let set = engine.open.get(w);
      if (set === undefined) engine.open.set(w, set = new Set());
      set.add(key);
    }
  }
  engine.touchedKeys = [...touched.keys()];
  retire(engine);
  return {
    points: grouped.points,
    accepted: grouped.accepted,
    refused: 0,
    count: engine.count,
    line: undefined,
    keys: changes,
  };
}

/** Forgets the windows the watermark made final and the panes no open window needs. */
function retire(engine: WindowedModelEngine): void {
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
      engine.panes.delete(key + SEP + pane);
      engine.changes.set("p" + MARK + key + SEP + pane, null);
    }
    engine.live.delete(pane);
  }
}
