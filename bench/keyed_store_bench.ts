/**
 * Benchmark: checkpoints of keyed state (`src/state/keyed_store.ts`), side by side under Deno and Bun
 * (`node:sqlite` in both). In a temporary directory, for each runtime in its own process:
 *
 * - fill: N keys (default 10^6) of V random bytes each (default 150), committed 10^5 keys at a time;
 * - commits: R checkpoints (default 30) that each change C random keys of the N (default 10^4), with
 *   new random bytes; median, 90th percentile and max of their wall times and of their CPU times (user
 *   + system: what other jobs on a busy machine do not inflate), the bytes they appended to the log and
 *   the partitions they folded;
 * - restore: close, reopen (a restart) and read every key with `entries()`; `count()`;
 * - the file's size after close, and bytes per key.
 *
 * With `--baseline`, the same commits also go to a plain table updated in place
 * (`kv(key PRIMARY KEY, value) WITHOUT ROWID`, same pragmas), for comparison with the store's
 * log-and-fold layout.
 *
 * Run: `./node_modules/deno/deno run -A bench/keyed_store_bench.ts [--keys N] [--changed C] [--commits R]
 *      [--bytes V] [--synchronous full|normal] [--partitions P] [--baseline]`
 *  or  `node_modules/.bin/bun run bench/keyed_store_bench.ts [same flags]`
 *
 * Either command measures both runtimes, each as its own subprocess.
 * @module
 */

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { type KeyedLayout, KeyedStore } from "../src/state/keyed_store.ts";
import { nodeSqlite } from "../src/runtime/sqlite.ts";
import { runProcess, streamregRuntimes } from "./processes.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    keys: { type: "string", default: "1000000" },
    changed: { type: "string", default: "10000" },
    commits: { type: "string", default: "30" },
    bytes: { type: "string", default: "150" },
    synchronous: { type: "string", default: "full" },
    partitions: { type: "string" }, // default: the store's
    baseline: { type: "boolean", default: false },
    child: { type: "boolean", default: false },
  },
});
const n = Number(values.keys);
const changed = Number(values.changed);
const commits = Number(values.commits);
const bytes = Number(values.bytes);
const partitions = values.partitions === undefined ? undefined : Number(values.partitions);
const synchronous = values.synchronous as "full" | "normal";
if (
  ![n, changed, commits, bytes, partitions ?? 1].every((v) => Number.isSafeInteger(v) && v >= 1) ||
  changed > n ||
  !["full", "normal"].includes(synchronous)
) {
  console.error(
    "keyed_store_bench: --keys, --changed (≤ keys), --commits, --bytes, --partitions must be integers ≥ 1, " +
      "--synchronous full or normal",
  );
  process.exit(2);
}

/** What a child measures. */
interface Figures {
  fillMs: number;
  commitMs: number[];
  /** The CPU time (user + system) of each commit, which other jobs on the machine do not inflate. */
  commitCpuMs: number[];
  folded: number[];
  openMs: number;
  restoreMs: number;
  countMs: number;
  fileBytes: number;
  layout: KeyedLayout;
  logBytes: number[];
  baselineMs?: number[];
}

/** A small seeded generator (xorshift32), so that every run writes the same keys and bytes. */
function generator(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    index: (below: number) => next() % below,
    bytes(length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 4) {
        const r = next();
        out[i] = r;
        out[i + 1] = r >>> 8;
        out[i + 2] = r >>> 16;
        out[i + 3] = r >>> 24;
      }
      return out;
    },
  };
}

const keyOf = (i: number) => `sensor-${i}`;

/** C distinct random keys of the N, each with new bytes. */
function batch(random: ReturnType<typeof generator>): [string, Uint8Array][] {
  const picked = new Set<number>();
  while (picked.size < changed) picked.add(random.index(n));
  return [...picked].map((i) => [keyOf(i), random.bytes(bytes)]);
}

async function child(): Promise<Figures> {
  const sqlite = nodeSqlite();
  const dir = await mkdtemp(join(tmpdir(), "streamreg-keyed-bench-"));
  const path = join(dir, "keys.sqlite");
  const random = generator(7);
  const options = { synchronous, partitions };
  let store = await KeyedStore.open(sqlite, path, options);
  let t0 = performance.now();
  for (let start = 0; start < n; start += 100_000) {
    const changes: [string, Uint8Array][] = [];
    for (let i = start; i < Math.min(n, start + 100_000); i++) changes.push([keyOf(i), random.bytes(bytes)]);
    store.commit({ meta: { batch: store.generation + 1, filled: start + changes.length }, changes });
  }
  const fillMs = performance.now() - t0;

  const commitMs: number[] = [];
  const commitCpuMs: number[] = [];
  const folded: number[] = [];
  const logBytes: number[] = [];
  const batches: [string, Uint8Array][][] = [];
  for (let r = 0; r < commits; r++) {
    const changes = batch(random);
    batches.push(changes);
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    const stats = store.commit({ meta: { batch: store.generation + 1 }, changes });
    commitMs.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    commitCpuMs.push((cpu.user + cpu.system) / 1000);
    folded.push(stats.folded);
    logBytes.push(stats.bytes);
  }
  store.close();

  t0 = performance.now();
  store = await KeyedStore.open(sqlite, path, options);
  const openMs = performance.now() - t0;
  t0 = performance.now();
  let keys = 0;
  let total = 0;
  for (const [, value] of store.entries()) {
    keys++;
    total += value.length;
  }
  const restoreMs = performance.now() - t0;
  if (keys !== n || total !== n * bytes) {
    throw new Error(`restored ${keys} keys, ${total} bytes: expected ${n}`);
  }
  t0 = performance.now();
  const count = store.count();
  const countMs = performance.now() - t0;
  if (count !== n) throw new Error(`count() = ${count}, expected ${n}`);
  const layout = store.layout;
  store.close();
  const fileBytes = (await stat(path)).size;

  let baselineMs: number[] | undefined;
  if (values.baseline) baselineMs = await baseline(join(dir, "plain.sqlite"), batches);
  await rm(dir, { recursive: true });
  return {
    fillMs,
    commitMs,
    commitCpuMs,
    folded,
    logBytes,
    openMs,
    restoreMs,
    countMs,
    fileBytes,
    layout,
    baselineMs,
  };
}

/** The same commits, to a plain key → value table updated in place (same pragmas as the store's). */
async function baseline(path: string, batches: [string, Uint8Array][][]): Promise<number[]> {
  const db = await nodeSqlite().open(path);
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`);
  db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
  const put = db.prepare(
    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const random = generator(11);
  for (let start = 0; start < n; start += 100_000) {
    db.exec("BEGIN IMMEDIATE");
    for (let i = start; i < Math.min(n, start + 100_000); i++) put.run(keyOf(i), random.bytes(bytes));
    db.exec("COMMIT");
  }
  const ms: number[] = [];
  for (const changes of batches) {
    const t0 = performance.now();
    db.exec("BEGIN IMMEDIATE");
    for (const [key, value] of changes) put.run(key, value);
    db.exec("COMMIT");
    ms.push(performance.now() - t0);
  }
  db.close();
  return ms;
}

if (values.child) {
  console.log(JSON.stringify(await child()));
  process.exit(0);
}

const forward = process.argv.slice(2);
console.log(
  `keyed_store_bench: ${n} keys of ${bytes} random bytes, ${commits} commits of ${changed} changed keys ` +
    `each, synchronous = ${synchronous.toUpperCase()}, ${partitions ?? "the default number of"} partitions ` +
    "(node:sqlite)",
);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const summary = (xs: number[]) => {
  const s = sorted(xs);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, max ${
    s[s.length - 1].toFixed(1)
  } ms`;
};
const row = (label: string, text: string) => console.log(`  ${label.padEnd(40)} ${text}`);
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
for (const rt of await streamregRuntimes()) {
  const args = [...(rt.name === "Deno" ? ["run", "-A"] : ["run"]), new URL(import.meta.url).pathname];
  const { out } = await runProcess(rt.cli[0], [...args, ...forward, "--child"]);
  const f: Figures = JSON.parse(out.trim().split("\n").pop()!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`${rt.name} (${rt.version})`);
  row(`fill ${n} keys (commits of 10^5)`, `${(f.fillMs / 1000).toFixed(1)} s`);
  row(`commit of ${changed} changed keys`, summary(f.commitMs));
  row("  its CPU time (user + system)", summary(f.commitCpuMs));
  row(
    "  what a commit wrote",
    `${mb(mean(f.logBytes))} of log; ${mean(f.folded).toFixed(2)} partitions folded on average`,
  );
  if (f.baselineMs) row("same commits, a table updated in place", summary(f.baselineMs));
  row("reopen", `${f.openMs.toFixed(1)} ms`);
  row(
    "restore (entries(), every key)",
    `${f.restoreMs.toFixed(0)} ms (${(n / f.restoreMs / 1000).toFixed(2)} M keys/s)`,
  );
  row("count()", `${f.countMs.toFixed(0)} ms`);
  row(
    "file after close",
    `${mb(f.fileBytes)}, ${(f.fileBytes / n).toFixed(0)} bytes per key (base ${mb(f.layout.baseBytes)}, ` +
      `log ${mb(f.layout.logBytes)})`,
  );
}
