/**
 * The embedded SQLite of the keyed-state store ({@linkcode Sqlite}) over `node:sqlite`'s `DatabaseSync`,
 * which Deno (2.9: SQLite 3.53) and Bun (1.4: SQLite 3.54, the same library as `bun:sqlite`) both have
 * built in: shared by `deno.ts` and `bun.ts` through `node_host.ts`. `node:sqlite` is imported on the
 * first `open`, so a run that never opens a store does not load it.
 *
 * @example
 * ```ts
 * import { nodeSqlite } from "./sqlite.ts";
 * const db = await nodeSqlite().open("state/keys.sqlite");
 * ```
 * @module
 */

import type { SqlDatabase, Sqlite } from "../state/sqlite.ts";

/**
 * The {@linkcode Sqlite} of a runtime with `node:sqlite` (Deno, Bun; Node 22.13+).
 *
 * @example
 * ```ts
 * const host: Host = { ...otherServices, sqlite: nodeSqlite() };
 * ```
 */
export function nodeSqlite(): Sqlite {
  return {
    name: "node:sqlite",
    async open(path): Promise<SqlDatabase> {
      const { DatabaseSync } = await import("node:sqlite");
      try {
        return new DatabaseSync(path);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new Error(`cannot open the database "${path}": ${why}`, { cause: error });
      }
    },
  };
}
