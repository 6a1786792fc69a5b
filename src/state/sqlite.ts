/**
 * What the keyed-state store (`./keyed_store.ts`) needs from an embedded SQLite, as an interface: each
 * runtime provides it (`nodeSqlite()` of `../runtime/sqlite.ts`, over `node:sqlite`, which Deno and Bun
 * both have built in), and the CLI's host hands it on as `host.sqlite`, as it does `host.files`.
 *
 * The interface is the synchronous subset of `node:sqlite`'s `DatabaseSync` that the store uses:
 * `exec` for schema and transactions (`BEGIN IMMEDIATE` … `COMMIT`), prepared statements with
 * positional parameters, rows as objects keyed by column name.
 *
 * @example
 * ```ts
 * import type { Sqlite } from "./sqlite.ts";
 * async function version(sqlite: Sqlite): Promise<string> {
 *   const db = await sqlite.open(":memory:");
 *   const row = db.prepare("SELECT sqlite_version() AS v").get();
 *   db.close();
 *   return String(row?.v);
 * }
 * ```
 * @module
 */

/**
 * A value bound to a statement's `?` parameter or read from a column: NULL, INTEGER or REAL (`number`,
 * or `bigint` for integers beyond 2^53), TEXT (`string`), BLOB (`Uint8Array`).
 *
 * @example
 * ```ts
 * const params: SqlValue[] = ["user-17", new Uint8Array([1, 2, 3]), 42, null];
 * ```
 */
export type SqlValue = null | number | bigint | string | Uint8Array;

/**
 * One result row: column name → value.
 *
 * @example
 * ```ts
 * const row: SqlRow = { key: "user-17", value: new Uint8Array([1, 2, 3]) };
 * ```
 */
export type SqlRow = Record<string, SqlValue>;

/**
 * A prepared statement: compiled once, run many times with positional parameters. Every method throws
 * (an `Error` with SQLite's message) when SQLite reports an error.
 *
 * @example
 * ```ts
 * const put = db.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
 * for (const [k, v] of pairs) put.run(k, v);
 * ```
 */
export interface SqlStatement {
  /** Runs the statement; `changes` is the number of rows it inserted, updated or deleted. */
  run(...params: SqlValue[]): { changes: number | bigint };
  /** The first row of the result, or undefined when there is none. */
  get(...params: SqlValue[]): SqlRow | undefined;
  /** Every row of the result, in one array. */
  all(...params: SqlValue[]): SqlRow[];
  /** The rows one at a time, without an array of them all. */
  iterate(...params: SqlValue[]): IterableIterator<SqlRow>;
}

/**
 * An open database connection.
 *
 * @example
 * ```ts
 * db.exec("BEGIN IMMEDIATE");
 * db.prepare("DELETE FROM kv WHERE k = ?").run("user-17");
 * db.exec("COMMIT");
 * db.close();
 * ```
 */
export interface SqlDatabase {
  /** Runs one or more SQL statements without parameters (schema, pragmas, `BEGIN`/`COMMIT`/`ROLLBACK`). */
  exec(sql: string): void;
  /** Compiles a statement with `?` parameters, to run as many times as needed. */
  prepare(sql: string): SqlStatement;
  /** Closes the connection (its prepared statements can no longer run). */
  close(): void;
}

/**
 * An embedded SQLite, as a runtime provides it.
 *
 * @example
 * ```ts
 * const db = await host.sqlite!.open("state/keys.sqlite"); // created if it does not exist
 * ```
 */
export interface Sqlite {
  /** What it is, for messages, e.g. "node:sqlite". */
  readonly name: string;
  /**
   * Opens the database file at `path` (":memory:" for one in memory), creating it if it does not
   * exist; its directory must exist. Rejects with a message naming the path when it cannot.
   */
  open(path: string): Promise<SqlDatabase>;
}
