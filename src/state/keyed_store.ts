/**
 * The keyed state of `--state DIR` (one model per key, up to millions of keys): an embedded SQLite
 * database (`DIR/keys.sqlite`) to which each batch's checkpoint writes only the keys it changed, in one
 * transaction with the batch's checkpoint record (`meta`), so that a restart restores every key exactly
 * as the last committed batch left it.
 *
 * **Why SQLite.** Deno and Bun both have it built in (`node:sqlite`; `./sqlite.ts` is the interface the
 * runtime gives), so it adds no dependency; it is crash-safe by design (a transaction is all or nothing
 * at whatever moment the process or the machine stops, and a restart recovers by itself); in WAL mode a
 * commit appends only the pages it changed, and one file holds everything.
 *
 * **Durability.** WAL mode with `synchronous = FULL` (the default): the WAL is fsynced at every commit,
 * so a commit that returned survives a SIGKILL *and* a power loss, as the other `--state` files do (they
 * are fsynced before a batch is reported done to the source). `synchronous: "normal"` skips that fsync:
 * a commit still survives the process's crash (its pages are in the OS's cache), but a power loss may
 * take back the last commits (never leaving half of one). The database is opened in exclusive locking
 * mode: a second process that opens it is refused with a message instead of writing alongside.
 *
 * **Layout: runs, a log and a base, in partitions.** Keys are spread over `partitions` partitions by a
 * hash of the key. A commit packs each partition's changes into one run (`./key_runs.ts`) and appends
 * it to the log: one row per partition touched, whatever the number of keys. Rewriting keys in place,
 * one row each, would touch most pages of a 10⁶-key table for 10⁴ random keys (and call SQLite once per
 * key); here a commit writes about the bytes it changed. Then the commit *folds* whole partitions,
 * round robin, while the log outweighs half of the base (and {@linkcode KeyedStoreOptions.minLogBytes}):
 * a fold merges a partition's base run with its log runs into a new base run and deletes those log
 * rows. So the file stays within about 1.5 times the live state, and each commit folds on average
 * about 1.5 times the bytes it wrote. A restore reads, per partition, the base run and the log runs.
 *
 * ```text
 * store(id = 0, partitions, gen, cursor, base_bytes, log_bytes, meta)   one row; meta is JSON
 * base(part PRIMARY KEY, keys, run)                                      one run per partition
 * log(part, gen, entries, run, PRIMARY KEY (part, gen))                  one run per partition per commit
 * ```
 *
 * Keys are any string (kept as UTF-16 code units, so every string comes back exactly, NULs and lone
 * surrogates included); values are bytes (empty allowed).
 *
 * @example
 * ```ts
 * import { KeyedStore } from "./keyed_store.ts";
 * const store = await KeyedStore.open(host.sqlite!, "state/keys.sqlite");
 * const restored = new Map(store.entries()); // after a restart: every key, exactly
 * store.commit({ meta: { batch: 1, offset: 1234 }, changes: [["user-17", bytes], ["user-9", null]] });
 * store.close();
 * ```
 * @module
 */

import { StateError } from "./checkpoint.ts";
import { decodeRun, encodeRun, type RunEntry, RunFormatError } from "./key_runs.ts";
import type { SqlDatabase, Sqlite, SqlStatement } from "./sqlite.ts";

/**
 * The name of the keyed-state database in the state directory.
 *
 * @example
 * ```ts
 * `${dir}/${KEYED_STATE_FILE}`; // "state/keys.sqlite"
 * ```
 */
export const KEYED_STATE_FILE = "keys.sqlite";

/**
 * The SQLite `application_id` of a keyed-state database ("srks" in ASCII): a file with another one is
 * not opened as a store.
 *
 * @example
 * ```ts
 * db.prepare("PRAGMA application_id").get(); // { application_id: 1936878451 }
 * ```
 */
export const KEYED_STORE_APPLICATION_ID = 0x73726b73;

/**
 * The layout's version (SQLite `user_version`): a store with another one is refused with a message.
 *
 * @example
 * ```ts
 * db.prepare("PRAGMA user_version").get(); // { user_version: 1 }
 * ```
 */
export const KEYED_STORE_VERSION = 1;

/**
 * Options of {@linkcode KeyedStore.open}.
 *
 * @example
 * ```ts
 * const options: KeyedStoreOptions = { synchronous: "full", partitions: 64 };
 * ```
 */
export interface KeyedStoreOptions {
  /**
   * `"full"` (default): the WAL is fsynced at every commit, which then survives a power loss.
   * `"normal"`: no fsync at commit; a commit survives the process's crash (SIGKILL), but a power loss
   * may take back the last ones (the database stays consistent).
   */
  readonly synchronous?: "full" | "normal";
  /**
   * The number of partitions of a new store, 1 to 65 536 (default 128); an existing store keeps the
   * number it was created with. A fold handles one partition: more partitions make folds smaller (each
   * about `keys / partitions` keys) and more frequent, and a commit writes one log row per partition
   * it touches.
   */
  readonly partitions?: number;
  /** The log may grow to this many bytes (or half the base, if more) before commits fold it. Default 4 MiB. */
  readonly minLogBytes?: number;
}

/**
 * One checkpoint: the caller's record of the batch, and the keys it changed.
 *
 * @example
 * ```ts
 * const batch: KeyedCommit = {
 *   meta: { batch: 8, source: { offset: 1234 }, outputs: [{ path: "out.csv", length: 5678 }] },
 *   changes: [["user-17", new Uint8Array([1, 2, 3])], ["user-9", null]],
 * };
 * ```
 */
export interface KeyedCommit {
  /** Any value `JSON.stringify` writes (not undefined); `meta()` gives it back, parsed. */
  readonly meta: unknown;
  /**
   * Each changed key with its new bytes, or null to delete it. A key given twice keeps the last one
   * (both are written: give each changed key once). Read once, before anything is written; the bytes
   * are copied into the store.
   */
  readonly changes: Iterable<readonly [key: string, value: Uint8Array | null]>;
}

/**
 * What a commit wrote, for figures and tests.
 *
 * @example
 * ```ts
 * const { keys, folded } = store.commit(batch); // e.g. { keys: 10000, bytes: 1.7e6, folded: 1, generation: 9 }
 * ```
 */
export interface CommitStats {
  /** The changes written (puts and deletions; a key given twice counts twice). */
  readonly keys: number;
  /** The bytes of the runs appended to the log. */
  readonly bytes: number;
  /** The partitions folded by this commit. */
  readonly folded: number;
  /** The store's generation after this commit (1 for the first). */
  readonly generation: number;
}

/**
 * How a store's bytes stand (see {@linkcode KeyedStore.layout}).
 *
 * @example
 * ```ts
 * const { baseBytes, logBytes } = store.layout; // the log is at most about half the base
 * ```
 */
export interface KeyedLayout {
  /** The number of partitions. */
  readonly partitions: number;
  /** The bytes of the base runs. */
  readonly baseBytes: number;
  /** The bytes of the log runs (every version of a key since its partition's last fold). */
  readonly logBytes: number;
}

const DEFAULT_PARTITIONS = 128;
const DEFAULT_MIN_LOG_BYTES = 4 << 20;
/** Commits fold while the log is larger than this share of the base. */
const LOG_SHARE = 0.5;

/**
 * The partition of a key: FNV-1a (32 bits) over its UTF-16 code units, modulo the number of
 * partitions. Part of the format: a store's keys are placed by it.
 *
 * @example
 * ```ts
 * partitionOf("user-17", 64); // a number in 0..63, the same forever
 * ```
 */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % partitions;
}

const SCHEMA = `
CREATE TABLE store (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  partitions INTEGER NOT NULL,
  gen INTEGER NOT NULL,
  cursor INTEGER NOT NULL,
  base_bytes INTEGER NOT NULL,
  log_bytes INTEGER NOT NULL,
  meta TEXT
);
CREATE TABLE base (part INTEGER PRIMARY KEY, keys INTEGER NOT NULL, run BLOB NOT NULL);
CREATE TABLE log (
  part INTEGER NOT NULL,
  gen INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  run BLOB NOT NULL,
  PRIMARY KEY (part, gen)
);
PRAGMA application_id = ${KEYED_STORE_APPLICATION_ID};
PRAGMA user_version = ${KEYED_STORE_VERSION};
`;

interface StoreRow {
  gen: number;
  cursor: number;
  baseBytes: number;
  logBytes: number;
  meta: string | null;
}

const message = (error: unknown) => error instanceof Error ? error.message : String(error);

/**
 * The keyed state of a run: every key's bytes, and the meta of the last commit. Synchronous (SQLite's
 * bindings are): a commit blocks the caller while it runs (docs/benchmarks.md has figures). Commits
 * must not run while an {@linkcode KeyedStore.entries} iteration is under way.
 *
 * @example
 * ```ts
 * const store = await KeyedStore.open(host.sqlite!, "state/keys.sqlite");
 * if (store.meta() !== undefined) for (const [key, bytes] of store.entries()) restore(key, bytes);
 * store.commit({ meta: checkpoint, changes: changedKeys });
 * ```
 */
export class KeyedStore {
  /** The database file's path, as given to {@linkcode KeyedStore.open}. */
  readonly path: string;
  readonly #db: SqlDatabase;
  readonly #partitions: number;
  readonly #minLogBytes: number;
  #row: StoreRow;
  #closed = false;
  readonly #putLog: SqlStatement;
  readonly #getBase: SqlStatement;
  readonly #getLog: SqlStatement;
  readonly #putBase: SqlStatement;
  readonly #dropBase: SqlStatement;
  readonly #dropLog: SqlStatement;
  readonly #saveRow: SqlStatement;

  private constructor(
    db: SqlDatabase,
    init: { path: string; partitions: number; row: StoreRow; minLogBytes: number },
  ) {
    this.#db = db;
    this.path = init.path;
    this.#partitions = init.partitions;
    this.#row = init.row;
    this.#minLogBytes = init.minLogBytes;
    this.#putLog = db.prepare("INSERT INTO log (part, gen, entries, run) VALUES (?, ?, ?, ?)");
    this.#getBase = db.prepare("SELECT keys, run FROM base WHERE part = ?");
    this.#getLog = db.prepare("SELECT gen, run FROM log WHERE part = ? ORDER BY gen");
    this.#putBase = db.prepare("INSERT OR REPLACE INTO base (part, keys, run) VALUES (?, ?, ?)");
    this.#dropBase = db.prepare("DELETE FROM base WHERE part = ?");
    this.#dropLog = db.prepare("DELETE FROM log WHERE part = ?");
    this.#saveRow = db.prepare(
      "UPDATE store SET gen = ?, cursor = ?, base_bytes = ?, log_bytes = ?, meta = ? WHERE id = 0",
    );
  }

  /**
   * Opens the store at `path` (its directory must exist), creating an empty one if the file does not
   * exist. Throws a {@linkcode StateError} naming the file when it is not a keyed-state store, has
   * another layout version, is in use by another process, or cannot be opened.
   *
   * @example
   * ```ts
   * const store = await KeyedStore.open(host.sqlite!, `${dir}/${KEYED_STATE_FILE}`);
   * ```
   */
  static async open(sqlite: Sqlite, path: string, options: KeyedStoreOptions = {}): Promise<KeyedStore> {
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const minLogBytes = options.minLogBytes ?? DEFAULT_MIN_LOG_BYTES;
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 65_536) {
      throw new RangeError(`partitions must be an integer from 1 to 65536, not ${partitions}`);
    }
    if (!Number.isSafeInteger(minLogBytes) || minLogBytes < 0) {
      throw new RangeError(`minLogBytes must be an integer ≥ 0, not ${minLogBytes}`);
    }
    let db: SqlDatabase;
    try {
      db = await sqlite.open(path);
    } catch (error) {
      throw new StateError(
        `cannot open the keyed state ${path}: ${message(error)}; check that the state directory exists ` +
          "and can be written",
      );
    }
    try {
      // Exclusive before WAL: the WAL index then lives in the process's memory (no -shm file), and the
      // lock taken at the first read keeps other processes out until close.
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode;
      if (mode !== "wal" && path !== ":memory:") throw new Error(`the database refused WAL mode (${mode})`);
      db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      // After a large commit, the WAL file is cut back to 64 MiB at the next checkpoint.
      db.exec("PRAGMA journal_size_limit = 67108864");
      const [parts, row] = KeyedStore.#init(db, path, partitions);
      return new KeyedStore(db, { path, partitions: parts, row, minLogBytes });
    } catch (error) {
      try {
        db.close();
      } catch {
        // The first error says what went wrong.
      }
      if (error instanceof StateError) throw error;
      const text = message(error);
      if (/database is locked|busy/i.test(text)) {
        throw new StateError(
          `the keyed state ${path} is in use by another process: stop it, or use another --state directory`,
        );
      }
      if (/not a database|malformed|corrupt/i.test(text)) {
        throw new StateError(
          `${path} is not a readable keyed-state database (${text}): restore it from a copy, or move it ` +
            "away and start with a new --state directory",
        );
      }
      throw new StateError(`cannot open the keyed state ${path}: ${text}`);
    }
  }

  /** Reads the store row, creating the schema in a new (empty) database. */
  static #init(db: SqlDatabase, path: string, partitions: number): [number, StoreRow] {
    db.exec("BEGIN IMMEDIATE");
    try {
      const appId = Number(db.prepare("PRAGMA application_id").get()?.application_id);
      const version = Number(db.prepare("PRAGMA user_version").get()?.user_version);
      const objects = Number(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n);
      if (appId === 0 && version === 0 && objects === 0) {
        db.exec(SCHEMA);
        db.prepare(
          "INSERT INTO store (id, partitions, gen, cursor, base_bytes, log_bytes, meta) " +
            "VALUES (0, ?, 0, 0, 0, 0, NULL)",
        ).run(partitions);
      } else if (appId !== KEYED_STORE_APPLICATION_ID) {
        throw new StateError(
          `${path} is a SQLite database but not streamreg's keyed state: move it away, or use another ` +
            "--state directory",
        );
      } else if (version !== KEYED_STORE_VERSION) {
        throw new StateError(
          `${path} is keyed state of layout version ${version}, and this streamreg reads version ` +
            `${KEYED_STORE_VERSION}: resume with the streamreg that wrote it, or start a new --state directory`,
        );
      }
      const r = db.prepare(
        "SELECT partitions, gen, cursor, base_bytes, log_bytes, meta FROM store WHERE id = 0",
      ).get();
      if (r === undefined) throw new StateError(`${path} has lost its store record: it is corrupt`);
      db.exec("COMMIT");
      return [Number(r.partitions), {
        gen: Number(r.gen),
        cursor: Number(r.cursor),
        baseBytes: Number(r.base_bytes),
        logBytes: Number(r.log_bytes),
        meta: r.meta === null ? null : String(r.meta),
      }];
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * The number of commits so far (0 for a new store). A caller that keeps other state beside the store
   * can record it there and compare on restart.
   *
   * @example
   * ```ts
   * if (store.generation !== checkpoint.keyedGeneration) throw new Error("state files disagree");
   * ```
   */
  get generation(): number {
    return this.#row.gen;
  }

  /**
   * The number of partitions and the bytes of the base and of the log, as the last commit left them.
   *
   * @example
   * ```ts
   * store.layout; // { partitions: 128, baseBytes: 139000000, logBytes: 68000000 }
   * ```
   */
  get layout(): KeyedLayout {
    return { partitions: this.#partitions, baseBytes: this.#row.baseBytes, logBytes: this.#row.logBytes };
  }

  /**
   * The meta of the last commit, parsed from its JSON; undefined for a store never committed to.
   *
   * @example
   * ```ts
   * const resumeAt = (store.meta() as { offset: number } | undefined)?.offset ?? 0;
   * ```
   */
  meta(): unknown {
    this.#open();
    return this.#row.meta === null ? undefined : JSON.parse(this.#row.meta);
  }

  /**
   * Writes one checkpoint in one transaction: the changed keys (null deletes a key; keys not given keep
   * their bytes) and `meta`, which replaces the previous one. A process killed at any moment leaves
   * either this commit whole or the previous one; when it returns, the commit is durable (see
   * {@linkcode KeyedStoreOptions.synchronous}). Throws a TypeError for a key that is not a string, a
   * value that is neither bytes nor null, or a meta JSON cannot write (nothing is written then), and a
   * {@linkcode StateError} when SQLite fails or a stored run is corrupt (the commit is rolled back).
   *
   * @example
   * ```ts
   * store.commit({ meta: { batch: 8 }, changes: [["user-17", bytes], ["gone", null]] });
   * ```
   */
  commit(batch: KeyedCommit): CommitStats {
    this.#open();
    const meta = JSON.stringify(batch.meta);
    if (typeof meta !== "string") {
      throw new TypeError("keyed state: meta must be a JSON value, not undefined");
    }
    // Bucketed by partition, in the order given: a key given twice is logged twice, and the later
    // entry wins when the run is read (no map of the batch's keys is built).
    const buckets: RunEntry[][] = Array.from({ length: this.#partitions }, () => []);
    let keys = 0;
    for (const change of batch.changes) {
      const key = change[0];
      const value = change[1];
      if (typeof key !== "string") {
        throw new TypeError(`keyed state: a key must be a string, not ${typeof key}`);
      }
      if (value !== null && !(value instanceof Uint8Array)) {
        throw new TypeError(
          `keyed state: the value of key ${JSON.stringify(key)} must be a Uint8Array or null`,
        );
      }
      buckets[partitionOf(key, this.#partitions)].push(change);
      keys++;
    }

    const gen = this.#row.gen + 1;
    let { cursor, baseBytes, logBytes } = this.#row;
    let bytes = 0;
    let folded = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (let part = 0; part < this.#partitions; part++) {
        const bucket = buckets[part];
        if (bucket.length === 0) continue;
        const run = encodeRun(bucket);
        this.#putLog.run(part, gen, bucket.length, run);
        bytes += run.length;
      }
      logBytes += bytes;
      const limit = Math.max(this.#minLogBytes, baseBytes * LOG_SHARE);
      for (; folded < this.#partitions && logBytes > limit; folded++) {
        const part = cursor;
        cursor = (cursor + 1) % this.#partitions;
        const change = this.#fold(part);
        baseBytes += change.baseBytes;
        logBytes -= change.logBytes;
      }
      this.#saveRow.run(gen, cursor, baseBytes, logBytes, meta);
      this.#db.exec("COMMIT");
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // SQLite may have rolled back already (e.g. on a full disk); the first error says why.
      }
      if (error instanceof StateError) throw error;
      throw new StateError(`cannot write the keyed state ${this.path}: ${message(error)}`);
    }
    this.#row = { gen, cursor, baseBytes, logBytes, meta };
    return { keys, bytes, folded, generation: gen };
  }

  /**
   * A partition's keys as the last commit left them: the latest log entry of each key logged since the
   * last fold (commit order), and the base's entries of the others. The values are views into the runs
   * read. Also returns the bytes of those runs.
   */
  #partition(part: number): { live: [string, Uint8Array][]; baseBytes: number; logBytes: number } {
    const logged = new Map<string, Uint8Array | null>();
    let logBytes = 0;
    for (const row of this.#getLog.all(part)) {
      const run = row.run as Uint8Array;
      logBytes += run.length;
      this.#decode(
        run,
        `partition ${part}'s log of commit ${row.gen}`,
        (key, value) => logged.set(key, value),
      );
    }
    const live: [string, Uint8Array][] = [];
    const base = this.#getBase.get(part);
    let baseBytes = 0;
    if (base !== undefined) {
      const run = base.run as Uint8Array;
      baseBytes = run.length;
      this.#decode(run, `partition ${part}'s base`, (key, value) => {
        if (value === null) throw new RunFormatError(`a deletion of ${JSON.stringify(key)} in a base run`);
        if (!logged.has(key)) live.push([key, value]);
      });
    }
    for (const [key, value] of logged) if (value !== null) live.push([key, value]);
    return { live, baseBytes, logBytes };
  }

  #decode(run: Uint8Array, what: string, visit: (key: string, value: Uint8Array | null) => void): void {
    try {
      decodeRun(run, visit);
    } catch (error) {
      if (!(error instanceof RunFormatError)) throw error;
      throw new StateError(
        `${this.path} is corrupt: ${what}: ${error.message}; restore the state directory from a copy, or ` +
          "start a new one",
      );
    }
  }

  /** Merges a partition's log into its base; returns how the bytes of both changed. */
  #fold(part: number): { baseBytes: number; logBytes: number } {
    const { live, baseBytes, logBytes } = this.#partition(part);
    let newBase = 0;
    if (live.length > 0) {
      const run = encodeRun(live);
      this.#putBase.run(part, live.length, run);
      newBase = run.length;
    } else if (baseBytes > 0) {
      this.#dropBase.run(part);
    }
    this.#dropLog.run(part);
    return { baseBytes: newBase - baseBytes, logBytes };
  }

  /**
   * Every key with its bytes, as the last commit left them, partition by partition (in no particular
   * order). The values are copies: those of one partition are views into one buffer of their own (so
   * a value's `.buffer` is shared with its partition's other values, and nothing else). Only one
   * partition is read at a time. Throws a {@linkcode StateError} when a stored run is corrupt.
   *
   * @example
   * ```ts
   * const models = new Map<string, Uint8Array>();
   * for (const [key, bytes] of store.entries()) models.set(key, bytes);
   * ```
   */
  *entries(): IterableIterator<[string, Uint8Array]> {
    this.#open();
    for (let part = 0; part < this.#partitions; part++) {
      const { live } = this.#partition(part);
      // One fresh buffer per partition for its values: no view keeps a whole run (old versions
      // included) alive, and one allocation instead of one per key.
      let total = 0;
      for (const entry of live) total += entry[1].length;
      const copy = new Uint8Array(total);
      let at = 0;
      for (const [key, value] of live) {
        copy.set(value, at);
        yield [key, copy.subarray(at, at += value.length)];
      }
    }
  }

  /**
   * The number of keys the store holds. Reads every partition that has a log (about as long as
   * {@linkcode KeyedStore.entries} without the copies).
   *
   * @example
   * ```ts
   * store.count(); // 1000000
   * ```
   */
  count(): number {
    this.#open();
    const logged = new Set(
      this.#db.prepare("SELECT DISTINCT part FROM log").all().map((row) => Number(row.part)),
    );
    let n = 0;
    for (const row of this.#db.prepare("SELECT part, keys FROM base").all()) {
      if (!logged.has(Number(row.part))) n += Number(row.keys);
    }
    for (const part of logged) n += this.#partition(part).live.length;
    return n;
  }

  /**
   * Closes the database; the store cannot be used afterwards. Closing twice does nothing.
   *
   * @example
   * ```ts
   * store.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #open(): void {
    if (this.#closed) throw new Error(`keyed state ${this.path}: the store is closed`);
  }
}
