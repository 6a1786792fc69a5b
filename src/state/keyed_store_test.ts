import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeName, test } from "../../test/harness.ts";
import { random } from "../../test/cli_helpers.ts";
import { CHILD_STORE_OPTIONS, expectedState } from "../../test/keyed_store_child.ts";
import { nodeSqlite } from "../runtime/sqlite.ts";
import { StateError } from "./checkpoint.ts";
import { decodeRun, encodeRun, RunFormatError } from "./key_runs.ts";
import { KEYED_STATE_FILE, KeyedStore, partitionOf } from "./keyed_store.ts";

const sqlite = nodeSqlite();

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-keyed-"));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function stateOf(store: KeyedStore): Map<string, Uint8Array> {
  const state = new Map<string, Uint8Array>();
  for (const [key, value] of store.entries()) {
    assert.ok(!state.has(key), `entries() gave ${JSON.stringify(key)} twice`);
    state.set(key, value);
  }
  return state;
}

function assertSameState(actual: Map<string, Uint8Array>, expected: Map<string, Uint8Array>, what: string) {
  assert.equal(actual.size, expected.size, `${what}: number of keys`);
  for (const [key, value] of expected) {
    const got = actual.get(key);
    assert.ok(got !== undefined, `${what}: key ${JSON.stringify(key)} is missing`);
    assert.deepEqual([...got], [...value], `${what}: the bytes of ${JSON.stringify(key)}`);
  }
}

const bytes = (...values: number[]) => new Uint8Array(values);

const ODD_KEYS = [
  "",
  "plain",
  "a,b,c",
  'say "hi"',
  "line\nbreak\r\n",
  "nul\u0000inside",
  "\u0000",
  "clé, 日本語, 🙂",
  "lone \ud800 surrogate",
  "\udfff",
  "x".repeat(10_000),
  "ÿ\u0100",
];

test("key runs: entries come back in order, keys exactly, deletions as null", () => {
  const entries: [string, Uint8Array | null][] = ODD_KEYS.map((
    key,
    i,
  ) => [key, i % 3 === 0 ? null : bytes(i, 255)]);
  entries.push(["empty value", new Uint8Array(0)], ["big", new Uint8Array(300_000).fill(7)]);
  const run = encodeRun(entries);
  const back: [string, Uint8Array | null][] = [];
  assert.equal(
    decodeRun(run, (key, value) => back.push([key, value === null ? null : value.slice()])),
    entries.length,
  );
  assert.deepEqual(back, entries);
  assert.deepEqual([...encodeRun([])], [0]);
  assert.deepEqual([...encodeRun([["a", bytes(7)]])], [1, 2, 97, 2, 7]);
});

test("key runs: a cut, overlong or padded run is refused with RunFormatError", () => {
  const run = encodeRun([["key", bytes(1, 2, 3)], ["other", null]]);
  for (let cut = 0; cut < run.length; cut++) {
    assert.throws(() => decodeRun(run.subarray(0, cut), () => {}), RunFormatError, `cut at ${cut}`);
  }
  const padded = new Uint8Array(run.length + 1);
  padded.set(run);
  assert.throws(() => decodeRun(padded, () => {}), /1 bytes after its 2 entries/);
  assert.throws(() => decodeRun(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80), () => {}), /more than 5 bytes/);
});

test("partitionOf: FNV-1a of the UTF-16 code units, stable", () => {
  assert.equal(partitionOf("", 1 << 30), 0x811c9dc5 % (1 << 30));
  assert.equal(partitionOf("a", 2 ** 32 - 1), Math.imul(0x811c9dc5 ^ 97, 0x01000193) >>> 0);
  for (const key of ODD_KEYS) {
    const p = partitionOf(key, 128);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 128);
  }
});

test("keyed store: a new store is empty; keys of any kind and bytes round-trip, also after reopening", async () => {
  await withDir(async (dir) => {
    const path = join(dir, KEYED_STATE_FILE);
    let store = await KeyedStore.open(sqlite, path);
    assert.equal(store.meta(), undefined);
    assert.equal(store.generation, 0);
    assert.equal(store.count(), 0);
    assert.deepEqual([...store.entries()], []);

    const expected = new Map<string, Uint8Array>(ODD_KEYS.map((key, i) => [key, bytes(i, i * 3, 255)]));
    expected.set("empty", new Uint8Array(0));
    expected.set("a megabyte", Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 255));
    const meta = {
      batch: 1,
      source: { offset: 1234, key: 'a,"b"\u0000' },
      outputs: [{ length: 56 }],
      x: null,
    };
    const stats = store.commit({ meta, changes: expected });
    assert.equal(stats.keys, expected.size);
    assert.equal(stats.generation, 1);
    assert.deepEqual(store.meta(), meta);
    assertSameState(stateOf(store), expected, "before reopening");
    assert.equal(store.count(), expected.size);
    store.close();
    store.close(); // closing twice does nothing
    assert.throws(() => store.meta(), /closed/);

    store = await KeyedStore.open(sqlite, path);
    assert.equal(store.generation, 1);
    assert.deepEqual(store.meta(), meta);
    assertSameState(stateOf(store), expected, "after reopening");
    assert.equal(store.count(), expected.size);
    store.close();
  });
});

test("keyed store: a commit writes only the keys it changed; deletes and puts follow the last commit", async () => {
  await withDir(async (dir) => {
    const path = join(dir, KEYED_STATE_FILE);
    // A large minLogBytes: nothing is folded, so the log shows exactly what each commit wrote.
    let store = await KeyedStore.open(sqlite, path, { partitions: 4, minLogBytes: 1 << 30 });
    const first = new Map<string, Uint8Array>();
    for (let i = 0; i < 1000; i++) first.set(`k${i}`, bytes(1, i & 255));
    store.commit({ meta: { batch: 1 }, changes: first });
    const changes: [string, Uint8Array | null][] = [
      ["k1", bytes(2)],
      ["k2", null],
      ["k3", bytes(2, 3)],
      ["k3", null], // given twice: the last one counts
      ["k4", null],
      ["k4", bytes(2, 4)],
      ["never there", null],
      ["new", bytes(2, 9)],
    ];
    const stats = store.commit({ meta: { batch: 2 }, changes });
    assert.deepEqual(stats, { keys: 8, bytes: stats.bytes, folded: 0, generation: 2 });
    const expected = new Map(first);
    for (const [key, value] of changes) value === null ? expected.delete(key) : expected.set(key, value);
    assertSameState(stateOf(store), expected, "after the second commit");
    assert.equal(store.count(), expected.size);
    store.close();

    // The log rows of commit 2 hold exactly its changes (eight, for six keys), one run per partition
    // touched; read in order, the last change of each key wins.
    const db = await sqlite.open(path);
    const logged = new Map<string, Uint8Array | null>();
    let rows = 0;
    let entries = 0;
    for (const row of db.prepare("SELECT part, entries, run FROM log WHERE gen = 2").all()) {
      rows++;
      const n = decodeRun(row.run as Uint8Array, (key, value) => {
        assert.equal(partitionOf(key, 4), row.part);
        logged.set(key, value === null ? null : value.slice());
      });
      assert.equal(n, row.entries);
      entries += n;
    }
    db.close();
    assert.ok(rows <= 4);
    assert.equal(entries, 8);
    assert.deepEqual(
      [...logged].sort(),
      [["k1", bytes(2)], ["k2", null], ["k3", null], ["k4", bytes(2, 4)], ["never there", null], [
        "new",
        bytes(2, 9),
      ]]
        .sort(),
    );

    store = await KeyedStore.open(sqlite, path);
    assertSameState(stateOf(store), expected, "after reopening");
    store.close();
  });
});

test("keyed store: 300 random commits with folds, checked against a Map, reopened every 50", async () => {
  await withDir(async (dir) => {
    const path = join(dir, KEYED_STATE_FILE);
    const options = { partitions: 5, minLogBytes: 1024 };
    let store = await KeyedStore.open(sqlite, path, options);
    const next = random(99);
    const expected = new Map<string, Uint8Array>();
    let folds = 0;
    for (let batch = 1; batch <= 300; batch++) {
      const changes: [string, Uint8Array | null][] = [];
      const n = Math.floor(next() * 60);
      for (let c = 0; c < n; c++) {
        const key = `key ${Math.floor(next() * 400)}${next() < 0.1 ? "\u0000é" : ""}`;
        const value = next() < 0.2
          ? null
          : Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256));
        changes.push([key, value]);
        value === null ? expected.delete(key) : expected.set(key, value);
      }
      folds += store.commit({ meta: { batch }, changes }).folded;
      if (batch % 50 === 0) {
        store.close();
        store = await KeyedStore.open(sqlite, path, { ...options, partitions: 99 }); // it keeps its own
        assert.equal(store.layout.partitions, 5);
      }
      if (batch % 10 === 0) {
        assertSameState(stateOf(store), expected, `after batch ${batch}`);
        assert.equal(store.count(), expected.size, `count after batch ${batch}`);
        assert.deepEqual(store.meta(), { batch });
      }
    }
    assert.ok(folds > 60, `${folds} partitions folded`);
    const { baseBytes, logBytes } = store.layout;
    assert.ok(logBytes <= Math.max(1024, baseBytes / 2), `log ${logBytes} bytes, base ${baseBytes}`);
    store.close();
  });
});

test("keyed store: bad input is refused before anything is written", async () => {
  await withDir(async (dir) => {
    const store = await KeyedStore.open(sqlite, join(dir, KEYED_STATE_FILE));
    store.commit({ meta: 1, changes: [["a", bytes(1)]] });
    assert.throws(() => store.commit({ meta: undefined, changes: [] }), TypeError);
    assert.throws(
      () => store.commit({ meta: 2, changes: [["b", bytes(2)], ["c", [1, 2] as unknown as Uint8Array]] }),
      /the value of key "c" must be a Uint8Array or null/,
    );
    assert.throws(
      () => store.commit({ meta: 2, changes: [[7 as unknown as string, bytes(2)]] }),
      /a key must be a string, not number/,
    );
    assert.equal(store.generation, 1);
    assert.equal(store.meta(), 1);
    assertSameState(stateOf(store), new Map([["a", bytes(1)]]), "after refused commits");
    store.close();
  });
});

test("keyed store: another file, another layout version, a corrupt run or a second opener is refused", async () => {
  await withDir(async (dir) => {
    const notSqlite = join(dir, "garbage.sqlite");
    await writeFile(notSqlite, "this is not a database, not at all; ".repeat(200));
    await assert.rejects(
      KeyedStore.open(sqlite, notSqlite),
      (e) => e instanceof StateError && /garbage/.test(e.message),
    );

    const other = join(dir, "other.sqlite");
    const db = await sqlite.open(other);
    db.exec("CREATE TABLE t (x)");
    db.close();
    await assert.rejects(
      KeyedStore.open(sqlite, other),
      /other\.sqlite is a SQLite database but not streamreg's keyed state/,
    );

    await assert.rejects(KeyedStore.open(sqlite, join(dir, "no/such/dir/keys.sqlite")), StateError);

    const path = join(dir, KEYED_STATE_FILE);
    const store = await KeyedStore.open(sqlite, path, { partitions: 1, minLogBytes: 0 });
    store.commit({ meta: 1, changes: [["a", bytes(1, 2, 3)], ["b", bytes(4)]] }); // folded at once
    await assert.rejects(KeyedStore.open(sqlite, path), /in use by another process/);
    store.close();

    const raw = await sqlite.open(path);
    raw.exec("PRAGMA user_version = 2");
    raw.close();
    await assert.rejects(
      KeyedStore.open(sqlite, path),
      /layout version 2, and this streamreg reads version 1/,
    );
    const fix = await sqlite.open(path);
    fix.exec("PRAGMA user_version = 1");
    const run = fix.prepare("SELECT run FROM base WHERE part = 0").get()!.run as Uint8Array;
    fix.prepare("UPDATE base SET run = ? WHERE part = 0").run(run.subarray(0, run.length - 1));
    fix.close();
    const reopened = await KeyedStore.open(sqlite, path);
    assert.throws(() => [...reopened.entries()], /is corrupt: partition 0's base: run cut short/);
    reopened.close();
  });
});

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = join(ROOT, "test/keyed_store_child.ts");

/**
 * Starts the child that commits batch after batch, SIGKILLs it at a random moment after its first
 * commit (while it keeps committing), and resolves with the last batch it reported committed.
 */
function commitAndKill(path: string, seed: number, delayMs: number): Promise<number> {
  const [exe, args] = runtimeName === "deno"
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", CHILD]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", CHILD]];
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...args, path, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (timer === undefined && out.includes("committed")) {
        timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.stderr.on("data", (chunk) => err += chunk);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`the child ended with ${code ?? signal}: ${err}`));
      const reported = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
      resolve(reported.length === 0 ? 0 : reported[reported.length - 1]);
    });
  });
}

test(
  "keyed store: SIGKILLs of a child committing in a loop leave its last commit whole, meta and keys agreeing",
  async () => {
    await withDir(async (dir) => {
      const path = join(dir, KEYED_STATE_FILE);
      const seed = 5;
      const next = random(2024);
      let previous = 0;
      for (let kill = 0; kill < 8; kill++) {
        const reported = await commitAndKill(path, seed, Math.floor(next() * 400));
        const store = await KeyedStore.open(sqlite, path, CHILD_STORE_OPTIONS);
        const meta = store.meta() as { batch: number; seed: number };
        // Every commit the child reported is there (and perhaps later ones whose report was under way).
        assert.ok(meta.batch >= reported, `meta ${meta.batch}, reported ${reported}`);
        assert.ok(meta.batch > previous, `kill ${kill}: batch ${meta.batch} after ${previous}: no progress`);
        assert.equal(store.generation, meta.batch);
        assert.equal(meta.seed, seed);
        const expected = expectedState(seed, meta.batch);
        assertSameState(stateOf(store), expected, `after kill ${kill} (batch ${meta.batch})`);
        assert.equal(store.count(), expected.size);
        // Each key's bytes start with the batch that last wrote it, never after the meta's batch.
        for (const [, value] of store.entries()) {
          assert.ok(new DataView(value.buffer, value.byteOffset).getUint32(0, true) <= meta.batch);
        }
        previous = meta.batch;
        store.close();
      }
    });
  },
  { timeoutMs: 120_000 },
);
