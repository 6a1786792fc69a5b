/**
 * The child of the keyed-state SIGKILL test (`src/state/keyed_store_test.ts`): run as a script, it opens
 * the store at its first argument and commits batch after batch until it is killed, printing
 * "committed N" after each. Batch N's changes are a pure function of (seed, N) ({@linkcode batchChanges}),
 * so whoever reads the store after a kill can replay batches 1..N and compare every key.
 *
 * Run: `deno run -A test/keyed_store_child.ts STORE SEED` or `bun run test/keyed_store_child.ts STORE SEED`
 *
 * @example
 * ```ts
 * import { batchChanges, expectedState } from "./keyed_store_child.ts";
 * const state = expectedState(7, 12); // the keys after batches 1..12 of seed 7
 * ```
 * @module
 */

import process from "node:process";
import { nodeSqlite } from "../src/runtime/sqlite.ts";
import { KeyedStore } from "../src/state/keyed_store.ts";
import { random } from "./cli_helpers.ts";

/** The store's options in the test: small, so that commits fold partitions often. */
export const CHILD_STORE_OPTIONS = { partitions: 8, minLogBytes: 32 * 1024 } as const;

/** The keys the batches draw from: some with commas, quotes, NULs, non-ASCII, a lone surrogate. */
export function childKey(i: number): string {
  switch (i % 7) {
    case 0:
      return `k${i}`;
    case 1:
      return `user,${i},"quoted"`;
    case 2:
      return `nul\u0000${i}`;
    case 3:
      return `clé-日本-${i}-🙂`;
    case 4:
      return `lone-\ud800-${i}`;
    case 5:
      return "";
    default:
      return `window:${i % 50}:${i}`;
  }
}

/**
 * Batch `n`'s changes for `seed`: 50 to 1 500 of 3 000 keys, about one in eight deleted, the others set
 * to bytes that start with `n` (4 bytes, little-endian) and go on for 0 to 200 bytes.
 */
export function batchChanges(seed: number, n: number): [string, Uint8Array | null][] {
  const next = random(seed * 1_000_003 + n);
  const count = 50 + Math.floor(next() * 1_450);
  const changes: [string, Uint8Array | null][] = [];
  for (let c = 0; c < count; c++) {
    const key = childKey(Math.floor(next() * 3_000));
    if (next() < 0.125) {
      changes.push([key, null]);
      continue;
    }
    const value = new Uint8Array(4 + Math.floor(next() * 201));
    new DataView(value.buffer).setUint32(0, n, true);
    for (let i = 4; i < value.length; i++) value[i] = Math.floor(next() * 256);
    changes.push([key, value]);
  }
  return changes;
}

/** The keys after batches 1..n of `seed`, replayed in memory. */
export function expectedState(seed: number, n: number): Map<string, Uint8Array> {
  const state = new Map<string, Uint8Array>();
  for (let b = 1; b <= n; b++) {
    for (const [key, value] of batchChanges(seed, b)) {
      value === null ? state.delete(key) : state.set(key, value);
    }
  }
  return state;
}

if (import.meta.main) {
  const [path, seedText] = process.argv.slice(2);
  const seed = Number(seedText);
  const store = await KeyedStore.open(nodeSqlite(), path, CHILD_STORE_OPTIONS);
  for (;;) {
    const n = store.generation + 1;
    store.commit({ meta: { batch: n, seed }, changes: batchChanges(seed, n) });
    process.stdout.write(`committed ${n}\n`);
    // Let the event loop run now and then, so that stdout reaches the parent.
    if (n % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
