/**
 * The state directory of `--state DIR`: one checkpoint after every batch, so that a run killed at any
 * moment (SIGKILL, power loss) goes on from its last batch when restarted, and its outputs end up
 * exactly as an uninterrupted run's (commit times aside).
 *
 * **Files.** `checkpoint.json` (see `./checkpoint.ts`), replaced atomically (temporary file, fsync,
 * rename, fsync of the directory). When the source may retract points, the multiset of added points
 * (which catches retractions of points that are not there) is kept next to it as `points-G.snap`, a
 * snapshot of (x, y, count) triples, and `points-G.log`, an append-only journal of the (x, y, diff)
 * points accepted since, all little-endian doubles; the checkpoint holds their lengths and CRC-32s.
 * With several x columns, each point is its row (x₁, …, x_k, y) instead of (x, y): `k + 2` doubles per
 * snapshot or journal entry (the width comes from the model, which the settings bind).
 * Once the journal outgrows twice the snapshot (and 1 MiB), the next batch writes a new snapshot
 * (generation G + 1) instead of appending, then deletes the old pair: the cost per point stays
 * constant and the disk use follows the points held.
 *
 * **Per batch** ({@linkcode StateStore.save}): the outputs were written and flushed; they are fsynced,
 * the points are journaled (fsynced), and the checkpoint is replaced. Only then is the batch reported
 * to the source (Kafka offsets are committed).
 *
 * **On start** ({@linkcode StateStore.open}): no checkpoint → a fresh run. A checkpoint → it is checked
 * (format, checksum, settings), each output is cut back to its recorded length if it is longer (a
 * batch written after the last checkpoint) — unless the checkpoint says the run completed, in which
 * case any difference is an error — and a missing or shorter output is an error. Every problem throws a
 * {@linkcode StateError} naming the file and what to do; nothing is ever reset silently.
 *
 * @example
 * ```ts
 * import { StateStore } from "./state_store.ts";
 * const store = await StateStore.open(host.files!, "state", settings);
 * if (store.resumed) await store.prepareOutputs();
 * await store.save({ ...batchState });
 * ```
 * @module
 */

import type { StateFiles } from "./files.ts";
import type { Line, ModelResult, PointRun } from "../model/sink.ts";
import { PointCounts } from "../model/point_counts.ts";
import { RowCounts } from "../model/row_counts.ts";
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  type OutputLength,
  type PointsRef,
  type Settings,
  StateError,
  type StateFileRef,
  type Totals,
} from "./checkpoint.ts";
import { crc32 } from "./crc32.ts";

/**
 * The name of the checkpoint file in the state directory.
 *
 * @example
 * ```ts
 * `${dir}/${CHECKPOINT_FILE}`; // "state/checkpoint.json"
 * ```
 */
export const CHECKPOINT_FILE = "checkpoint.json";

/** The journal is folded into a new snapshot once it exceeds this and twice the snapshot. */
const JOURNAL_MIN = 1 << 20;

const POINTS_FILE = /^points-(\d+)\.(snap|log)$/;

/**
 * What is persisted after a batch.
 *
 * @example
 * ```ts
 * await store.save({ time, line, totals, core: core.snapshot(), source: position, outputs });
 * ```
 */
export interface BatchState {
  /** The batch's commit time. */
  readonly time: number | undefined;
  /** The line after the batch. */
  readonly line: Line | undefined;
  /** A model other than the line: its fit after the batch. */
  readonly model?: ModelResult | undefined;
  /** The running totals after the batch. */
  readonly totals: Totals;
  /** `RegressionCore.snapshot()` (a model: `ModelCore.saveState()`) after the batch. */
  readonly core: Uint8Array;
  /** The source's position after the batch (undefined: the start). */
  readonly source: unknown;
  /** Every output file and its length after the batch. */
  readonly outputs: readonly OutputLength[];
  /**
   * When the multiset of added points is kept: the multiset after the batch and the batch's accepted
   * points (what changed it).
   */
  readonly points?: { readonly counts: PointCounts | RowCounts; readonly runs: readonly PointRun[] };
}

const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

function doublesOf(bytes: Uint8Array): Float64Array {
  if (!LITTLE_ENDIAN) throw new StateError("--state needs a little-endian machine");
  return new Float64Array(bytes.slice().buffer);
}

function bytesOf(doubles: Float64Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new StateError("--state needs a little-endian machine");
  return new Uint8Array(doubles.buffer, doubles.byteOffset, doubles.byteLength);
}

function describeValue(value: unknown): string {
  return value === undefined || value === null ? "(none)" : JSON.stringify(value);
}

/**
 * A state directory, opened.
 *
 * @example
 * ```ts
 * const store = await StateStore.open(files, dir, settings, (line) => console.error(line));
 * ```
 */
export class StateStore {
  /** The directory. */
  readonly dir: string;
  #resumed: Checkpoint | undefined;
  readonly #files: StateFiles;
  readonly #settings: Settings;
  readonly #info: (line: string) => void;
  #points: PointsRef | undefined;
  #last: Checkpoint | undefined;

  private constructor(
    files: StateFiles,
    dir: string,
    settings: Settings,
    resumed: Checkpoint | undefined,
    info: (line: string) => void,
  ) {
    this.#files = files;
    this.dir = dir;
    this.#settings = settings;
    this.#resumed = resumed;
    this.#last = resumed;
    this.#points = resumed?.points;
    this.#info = info;
  }

  /** The checkpoint found on opening, if any: the run resumes from it. */
  get resumed(): Checkpoint | undefined {
    return this.#resumed;
  }

  /**
   * Replaces the checkpoint found on opening by a later one kept elsewhere: the keyed state's store
   * (`./keyed_store.ts`) commits each batch just before this directory's checkpoint file is written, so
   * after a crash between the two it is one batch ahead; its time, totals, source position and outputs
   * then win. Nothing happens on a fresh run.
   *
   * @example
   * ```ts
   * store.rollForward({ time, totals, source, outputs });
   * ```
   */
  rollForward(later: Pick<Checkpoint, "time" | "totals" | "source" | "outputs">): void {
    if (this.#resumed === undefined) return;
    this.#resumed = {
      ...this.#resumed,
      time: later.time,
      totals: later.totals,
      source: later.source,
      outputs: later.outputs,
      complete: false,
    };
    this.#last = this.#resumed;
  }

  /** The path of a file of the directory. */
  path(name: string): string {
    return this.dir.endsWith("/") ? `${this.dir}${name}` : `${this.dir}/${name}`;
  }

  /**
   * Opens (creating it if needed) the state directory and reads its checkpoint, if any. Throws a
   * {@linkcode StateError} if the checkpoint is unusable or was made with other settings. Deletes
   * leftovers of an interrupted write (temporary files, points files no checkpoint refers to).
   *
   * @example
   * ```ts
   * const store = await StateStore.open(files, "state", { source: "demo", "--output": "/tmp/out.csv" });
   * store.resumed; // undefined: a fresh run
   * ```
   */
  static async open(
    files: StateFiles,
    dir: string,
    settings: Settings,
    info: (line: string) => void = () => {},
  ): Promise<StateStore> {
    await files.makeDir(dir);
    const probe = new StateStore(files, dir, settings, undefined, info);
    const path = probe.path(CHECKPOINT_FILE);
    const bytes = await files.read(path);
    const resumed = bytes === undefined ? undefined : await decodeCheckpoint(bytes, path);
    if (resumed) checkSettings(resumed.settings, settings, dir);
    const store = new StateStore(files, dir, settings, resumed, info);
    await store.#cleanUp();
    return store;
  }

  async #cleanUp(): Promise<void> {
    const keep = new Set([this.#points?.snapshot?.file, this.#points?.journal.file]);
    for (const name of await this.#files.list(this.dir)) {
      const leftover = name === `${CHECKPOINT_FILE}.tmp` ||
        (POINTS_FILE.test(name) && !keep.has(name)) ||
        (name.endsWith(".tmp") && POINTS_FILE.test(name.slice(0, -4)));
      if (leftover) await this.#files.remove(this.path(name));
    }
  }

  /**
   * For a resumed run: checks every output against the checkpoint and cuts back those that are longer
   * (a batch written after the checkpoint). Throws a {@linkcode StateError} if one is missing or
   * shorter, or, when the checkpoint says the run completed, longer.
   *
   * @example
   * ```ts
   * if (store.resumed) await store.prepareOutputs();
   * ```
   */
  async prepareOutputs(): Promise<void> {
    const checkpoint = this.resumed;
    if (!checkpoint) return;
    const where = this.path(CHECKPOINT_FILE);
    const remedy = `restore it, or delete the state directory ${this.dir} to start over`;
    for (const { flag, path, length } of checkpoint.outputs) {
      const size = await this.#files.size(path);
      if (size === undefined) {
        if (length === 0) continue;
        throw new StateError(
          `${flag} ${path} is missing, but the checkpoint ${where} says it has ${length} bytes: ${remedy}`,
        );
      }
      if (size < length) {
        throw new StateError(
          `${flag} ${path} has ${size} bytes, fewer than the ${length} that the checkpoint ${where} ` +
            `recorded: it was changed or replaced since; ${remedy}`,
        );
      }
      if (size === length) continue;
      if (checkpoint.complete) {
        throw new StateError(
          `${flag} ${path} has ${size} bytes, more than the ${length} that the run left when it ` +
            `completed (checkpoint ${where}): it was written to since, and a complete output is ` +
            `never cut back; ${remedy}`,
        );
      }
      await this.#files.truncate(path, length);
      this.#info(
        `streamreg: ${flag} ${path}: cut back from ${size} to ${length} bytes (the batch written after ` +
          `the last checkpoint is written again)`,
      );
    }
  }

  /**
   * For a resumed run: the multiset of added points as of the checkpoint (from its snapshot and
   * journal; a journal longer than recorded is cut back), or undefined if the checkpoint has none.
   *
   * @example
   * ```ts
   * const counts = await store.loadPoints();
   * ```
   */
  async loadPoints(): Promise<PointCounts | undefined> {
    const ref = this.resumed?.points;
    if (!ref) return undefined;
    const counts = new PointCounts();
    if (ref.snapshot) {
      const bytes = await this.#readRef(ref.snapshot, false, 3);
      try {
        counts.addTriples(doublesOf(bytes));
      } catch (error) {
        throw this.#corrupt(ref.snapshot.file, (error as Error).message);
      }
    }
    const journal = await this.#readRef(ref.journal, true, 3);
    const doubles = doublesOf(journal);
    for (let k = 0; k < doubles.length; k += 3) {
      const [x, y, w] = [doubles[k], doubles[k + 1], doubles[k + 2]];
      const ok = w === 1 ? counts.add(x, y) : w === -1 ? counts.retract(x, y) : false;
      if (!ok || Number.isNaN(x) || Number.isNaN(y)) {
        throw this.#corrupt(ref.journal.file, `entry ${k / 3} (${x}, ${y}, ${w}) does not apply`);
      }
    }
    return counts;
  }

  /**
   * {@linkcode StateStore.loadPoints} with several x columns: the multiset of rows (x₁, …, x_k, y) of
   * `width` = k + 1 doubles, or undefined if the checkpoint has none.
   *
   * @example
   * ```ts
   * const rows = await store.loadRows(3); // x1, x2, y
   * ```
   */
  async loadRows(width: number): Promise<RowCounts | undefined> {
    const ref = this.resumed?.points;
    if (!ref) return undefined;
    const counts = new RowCounts(width);
    if (ref.snapshot) {
      const bytes = await this.#readRef(ref.snapshot, false, width + 1);
      try {
        counts.addTuples(doublesOf(bytes));
      } catch (error) {
        throw this.#corrupt(ref.snapshot.file, (error as Error).message);
      }
    }
    const doubles = doublesOf(await this.#readRef(ref.journal, true, width + 1));
    for (let k = 0; k < doubles.length; k += width + 1) {
      const row = doubles.subarray(k, k + width);
      const w = doubles[k + width];
      const ok = !row.some(Number.isNaN) &&
        (w === 1 ? counts.add(row) : w === -1 ? counts.retract(row) : false);
      if (!ok) {
        throw this.#corrupt(
          ref.journal.file,
          `entry ${k / (width + 1)} (${row.join(", ")}, ${w}) does not apply`,
        );
      }
    }
    return counts;
  }

  #corrupt(file: string, why: string): StateError {
    return new StateError(
      `${this.path(file)} is corrupt (${why}): restore it from a backup, or delete the state directory ` +
        `${this.dir} to start over`,
    );
  }

  /**
   * Reads a referenced file, checking its length and CRC; a longer journal (`cut`) is cut back. Its
   * entries are `entry` doubles each.
   */
  async #readRef(ref: StateFileRef, cut: boolean, entry: number): Promise<Uint8Array> {
    const path = this.path(ref.file);
    const remedy = `restore it from a backup, or delete the state directory ${this.dir} to start over`;
    let bytes = await this.#files.read(path);
    if (bytes === undefined) {
      if (ref.length === 0) return new Uint8Array(0);
      throw new StateError(
        `${path} is missing, but the checkpoint refers to it (${ref.length} bytes): ${remedy}`,
      );
    }
    if (bytes.length < ref.length) {
      throw new StateError(`${path} is truncated (${bytes.length} of ${ref.length} bytes): ${remedy}`);
    }
    if (bytes.length > ref.length) {
      if (!cut) {
        throw this.#corrupt(ref.file, `${bytes.length} bytes where the checkpoint says ${ref.length}`);
      }
      await this.#files.truncate(path, ref.length);
      bytes = bytes.subarray(0, ref.length);
    }
    if (crc32(bytes) !== ref.crc32 || bytes.length % (8 * entry) !== 0) {
      throw this.#corrupt(ref.file, "checksum mismatch");
    }
    return bytes;
  }

  /**
   * Persists the state after a batch: fsyncs the outputs, journals the points (or writes a new
   * snapshot of them), then replaces the checkpoint atomically.
   *
   * @example
   * ```ts
   * await store.save({ time, line, totals, core: core.snapshot(), source: position, outputs });
   * ```
   */
  async save(state: BatchState): Promise<void> {
    for (const { path } of state.outputs) await this.#files.sync(path);
    let points: PointsRef | undefined;
    const obsolete: string[] = [];
    if (state.points) {
      const current: PointsRef = this.#points ??
        { generation: 0, snapshot: undefined, journal: { file: "points-0.log", length: 0, crc32: 0 } };
      const added = journalBytes(state.points.runs);
      const limit = Math.max(JOURNAL_MIN, 2 * (current.snapshot?.length ?? 0));
      if (current.journal.length + added.length > limit) {
        const generation = current.generation + 1;
        const counts = state.points.counts;
        const bytes = bytesOf(counts instanceof RowCounts ? counts.toTuples() : counts.toTriples());
        const snapshot = { file: `points-${generation}.snap`, length: bytes.length, crc32: crc32(bytes) };
        await this.#files.writeAtomic(this.path(snapshot.file), bytes);
        const journal = { file: `points-${generation}.log`, length: 0, crc32: 0 };
        await this.#files.remove(this.path(journal.file));
        points = { generation, snapshot, journal };
        if (current.snapshot) obsolete.push(current.snapshot.file);
        obsolete.push(current.journal.file);
      } else if (added.length > 0) {
        await this.#files.append(this.path(current.journal.file), added);
        const journal = {
          file: current.journal.file,
          length: current.journal.length + added.length,
          crc32: crc32(added, current.journal.crc32),
        };
        points = { ...current, journal };
      } else {
        points = current;
      }
    }
    await this.#write({
      settings: this.#settings,
      complete: false,
      time: state.time,
      line: state.line,
      ...(state.model ? { model: state.model } : {}),
      totals: state.totals,
      core: state.core,
      source: state.source,
      outputs: state.outputs,
      points,
    });
    this.#points = points;
    for (const name of obsolete) await this.#files.remove(this.path(name));
  }

  /**
   * Marks the last checkpoint complete (the run ended cleanly; its outputs, at these lengths, are final).
   *
   * @example
   * ```ts
   * await store.complete(outputs);
   * ```
   */
  async complete(outputs: readonly OutputLength[]): Promise<void> {
    const last = this.#last;
    if (!last) return;
    for (const { path } of outputs) await this.#files.sync(path);
    await this.#write({ ...last, complete: true, outputs });
  }

  async #write(checkpoint: Checkpoint): Promise<void> {
    await this.#files.writeAtomic(this.path(CHECKPOINT_FILE), await encodeCheckpoint(checkpoint));
    this.#last = checkpoint;
  }
}

/** The batch's points as (x, y, diff) little-endian doubles; several x columns: (x₁, …, x_k, y, diff). */
function journalBytes(runs: readonly PointRun[]): Uint8Array {
  let n = 0;
  for (const run of runs) n += run.x.length;
  const k = runs[0]?.xs?.length ?? 1;
  const out = new Float64Array((k + 2) * n);
  let o = 0;
  for (const { x, xs, y, diff } of runs) {
    if (xs !== undefined && xs.length > 1) {
      for (let i = 0; i < x.length; i++) {
        for (const column of xs) out[o++] = column[i];
        out[o++] = y[i];
        out[o++] = diff[i];
      }
      continue;
    }
    for (let i = 0; i < x.length; i++) {
      out[o++] = x[i];
      out[o++] = y[i];
      out[o++] = diff[i];
    }
  }
  return bytesOf(out);
}

/** Throws a {@linkcode StateError} naming the first setting that differs. */
function checkSettings(saved: Settings, now: Settings, dir: string): void {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
  for (const key of keys) {
    if (JSON.stringify(saved[key] ?? null) === JSON.stringify(now[key] ?? null)) continue;
    throw new StateError(
      `the state in ${dir} belongs to a run with ${key} ${describeValue(saved[key])}, but this run has ` +
        `${key} ${describeValue(now[key])}: restart with the same settings, or use another --state ` +
        `directory to start a new run`,
    );
  }
}
