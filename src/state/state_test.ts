import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "../../test/harness.ts";
import { nodeStateFiles } from "../runtime/state_files.ts";
import { PointCounts } from "../model/point_counts.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, StateError } from "./checkpoint.ts";
import { crc32 } from "./crc32.ts";
import { type BatchState, CHECKPOINT_FILE, StateStore } from "./state_store.ts";

const files = nodeStateFiles();
const totals = { points: 3, refused: 0, rejected: 1, batches: 2, changes: 2, count: 3 };

const checkpoint: Checkpoint = {
  settings: { source: "csv", "--x": "x", "--output": "/tmp/o.csv", "--dead-letter": null },
  complete: false,
  time: 1_700_000_000_123,
  line: { a: -0, b: 0.1 + 0.2 },
  totals,
  core: Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255),
  source: { offset: 123, line: 7, header: "x,y,diff", lf: true },
  outputs: [{ flag: "--output", path: "o.csv", length: 42 }],
  points: undefined,
};

test("crc32 matches the standard check value, incrementally", () => {
  const bytes = new TextEncoder().encode("123456789");
  assert.equal(crc32(bytes), 0xcbf43926);
  assert.equal(crc32(bytes.subarray(4), crc32(bytes.subarray(0, 4))), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test("checkpoint: encodes and decodes exactly (-0, undefined fields); every kind of damage is named", async () => {
  const bytes = await encodeCheckpoint(checkpoint);
  const again = await decodeCheckpoint(bytes, "s/checkpoint.json");
  assert.deepEqual(again, checkpoint);
  assert.ok(Object.is(again.line!.a, -0));
  const bare = { ...checkpoint, time: undefined, line: undefined, source: undefined };
  assert.deepEqual(await decodeCheckpoint(await encodeCheckpoint(bare), "c"), bare);
  assert.match(
    new TextDecoder().decode(bytes),
    /^streamreg-checkpoint 1 bytes=\d+ sha256=[0-9a-f]{64}\n\{"settings":/,
  );

  const rejects = (b: Uint8Array, pattern: RegExp) =>
    assert.rejects(decodeCheckpoint(b, "s/checkpoint.json"), (e: unknown) => {
      assert.ok(e instanceof StateError);
      assert.match(e.message, pattern);
      return true;
    });
  for (let i = 0; i < bytes.length; i += 97) {
    const flipped = bytes.slice();
    flipped[i] ^= 0x20;
    await rejects(
      flipped,
      /^(checkpoint s\/checkpoint\.json is (corrupt|truncated)|s\/checkpoint\.json is not a streamreg checkpoint|checkpoint s\/checkpoint\.json has format version)/,
    );
  }
  const body = bytes.indexOf(0x0a) + 1;
  const flipped = bytes.slice();
  flipped[body + 20] ^= 1;
  await rejects(
    flipped,
    /^checkpoint s\/checkpoint\.json is corrupt \(its checksum does not match its content\): restore it from a backup, or delete the state directory to start over/,
  );
  await rejects(bytes.subarray(0, bytes.length - 1), /is truncated \(its content has \d+ of \d+ bytes\)/);
  await rejects(bytes.subarray(0, body - 5), /is truncated \(its header line is incomplete\)/);
  await rejects(bytes.subarray(0, 5), /is truncated/);
  await rejects(new Uint8Array(0), /is empty \(truncated\)/);
  await rejects(Uint8Array.of(...bytes, 0x20), /is corrupt/);
  await rejects(new TextEncoder().encode("{}\n"), /is not a streamreg checkpoint/);
  const v2 = new TextEncoder().encode(
    new TextDecoder().decode(bytes).replace("checkpoint 1 ", "checkpoint 2 "),
  );
  await rejects(v2, /has format version 2; this streamreg reads version 1/);
  // A valid checksum over content of the wrong shape.
  const sha = await crypto.subtle.digest("SHA-256", new TextEncoder().encode('{"settings":1}'));
  const hex = Array.from(new Uint8Array(sha), (b) => b.toString(16).padStart(2, "0")).join("");
  await rejects(
    new TextEncoder().encode(`streamreg-checkpoint 1 bytes=14 sha256=${hex}\n{"settings":1}`),
    /is not a valid checkpoint: settings is not an object/,
  );
});

function state(overrides: Partial<BatchState> = {}): BatchState {
  return {
    time: 5,
    line: { a: 1, b: 2 },
    totals,
    core: Uint8Array.of(1, 2, 3),
    source: { next: 10 },
    outputs: [],
    ...overrides,
  };
}

const run = (x: number[], y: number[], diff: number[]) => ({
  x: Float64Array.from(x),
  y: Float64Array.from(y),
  diff: Float64Array.from(diff),
});

test("StateStore: a fresh directory, then the saved state back; other settings are refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-state-"));
  const stateDir = join(dir, "deep/state");
  const settings = { source: "demo", "--output": "/x/o.csv" };
  const store = await StateStore.open(files, stateDir, settings);
  assert.equal(store.resumed, undefined);
  assert.deepEqual(await store.loadPoints(), undefined);
  await store.save(state());
  const again = await StateStore.open(files, stateDir, settings);
  assert.deepEqual(again.resumed, {
    settings,
    complete: false,
    time: 5,
    line: { a: 1, b: 2 },
    totals,
    core: Uint8Array.of(1, 2, 3),
    source: { next: 10 },
    outputs: [],
    points: undefined,
  });
  await again.complete([]);
  assert.equal((await StateStore.open(files, stateDir, settings)).resumed!.complete, true);
  await assert.rejects(
    StateStore.open(files, stateDir, { ...settings, "--output": "/y/o.csv" }),
    new StateError(
      `the state in ${stateDir} belongs to a run with --output "/x/o.csv", but this run has --output ` +
        `"/y/o.csv": restart with the same settings, or use another --state directory to start a new run`,
    ),
  );
  await assert.rejects(
    StateStore.open(files, stateDir, { ...settings, "--input-log": "/i.csv" }),
    /belongs to a run with --input-log \(none\), but this run has --input-log "\/i\.csv"/,
  );
  await rm(dir, { recursive: true });
});

test("StateStore: outputs longer than recorded are cut back, unless complete; shorter or missing ones are errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-state-"));
  const out = join(dir, "out.csv");
  const empty = join(dir, "empty.csv");
  await writeFile(out, "a,b\n1,2\n");
  await writeFile(empty, "");
  const outputs = [{ flag: "--output", path: out, length: 8 }, {
    flag: "--input-log",
    path: empty,
    length: 0,
  }];
  const store = await StateStore.open(files, join(dir, "s"), {});
  await store.save(state({ outputs }));
  await appendFile(out, "3,4\n5,");
  const notes: string[] = [];
  const resumed = await StateStore.open(files, join(dir, "s"), {}, (line) => notes.push(line));
  await resumed.prepareOutputs();
  assert.equal(await readFile(out, "utf8"), "a,b\n1,2\n");
  assert.deepEqual(notes, [
    `streamreg: --output ${out}: cut back from 14 to 8 bytes (the batch written after the last checkpoint is written again)`,
  ]);

  await writeFile(out, "a,b\n1");
  await assert.rejects(
    (await StateStore.open(files, join(dir, "s"), {})).prepareOutputs(),
    /^StateError: --output .*out\.csv has 5 bytes, fewer than the 8 that the checkpoint .*checkpoint\.json recorded: it was changed or replaced since; restore it, or delete the state directory .* to start over$/,
  );
  await rm(out);
  await assert.rejects(
    (await StateStore.open(files, join(dir, "s"), {})).prepareOutputs(),
    /--output .*out\.csv is missing, but the checkpoint .* says it has 8 bytes/,
  );

  await writeFile(out, "a,b\n1,2\n");
  await resumed.complete(outputs);
  await appendFile(out, "x");
  await assert.rejects(
    (await StateStore.open(files, join(dir, "s"), {})).prepareOutputs(),
    /has 9 bytes, more than the 8 that the run left when it completed .* a complete output is never cut back/,
  );
  assert.equal(await readFile(out, "utf8"), "a,b\n1,2\nx");
  await rm(dir, { recursive: true });
});

test("StateStore: the multiset of points survives through journal and snapshots; damage is caught, a journal tail cut", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-state-"));
  const stateDir = join(dir, "s");
  const store = await StateStore.open(files, stateDir, {});
  const counts = new PointCounts();
  const apply = (r: ReturnType<typeof run>) => {
    for (let i = 0; i < r.x.length; i++) {
      if (r.diff[i] === 1) counts.add(r.x[i], r.y[i]);
      else assert.ok(counts.retract(r.x[i], r.y[i]));
    }
    return r;
  };
  const sorted = (c: PointCounts) => {
    const t = c.toTriples();
    const rows: string[] = [];
    for (let k = 0; k < t.length; k += 3) rows.push(`${Object.is(t[k], -0) ? "-0" : t[k]},${t[k + 1]}`);
    const total = new Map<string, number>();
    for (const [k, row] of rows.entries()) total.set(row, (total.get(row) ?? 0) + t[3 * k + 2]);
    return [...total].sort();
  };
  await store.save(state({ points: { counts, runs: [apply(run([1, -0, 1], [2, 3, 2], [1, 1, 1]))] } }));
  await store.save(state({ points: { counts, runs: [apply(run([1], [2], [-1]))] } }));
  const reopen = async () => {
    const s = await StateStore.open(files, stateDir, {});
    return { store: s, counts: await s.loadPoints() };
  };
  assert.deepEqual(sorted((await reopen()).counts!), [["-0,3", 1], ["1,2", 1]]);
  assert.deepEqual((await readdir(stateDir)).sort(), ["checkpoint.json", "points-0.log"]);

  // A batch appended after the checkpoint (then a crash) is cut from the journal.
  await appendFile(join(stateDir, "points-0.log"), new Uint8Array(24));
  assert.deepEqual(sorted((await reopen()).counts!), [["-0,3", 1], ["1,2", 1]]);
  assert.equal((await stat(join(stateDir, "points-0.log"))).size, 4 * 24);

  // Big batches fold the journal into snapshots; old generations are deleted.
  let current = await reopen();
  const n = 15_000;
  for (let round = 0; round < 4; round++) {
    const xs = Array.from({ length: n }, (_, i) => round * n + i);
    const r = apply(run(xs, xs.map((x) => x / 3), xs.map(() => 1)));
    current.counts!.addTriples(Float64Array.from(xs.flatMap((x) => [x, x / 3, 1])));
    await current.store.save(state({ points: { counts: current.counts!, runs: [r] } }));
  }
  const names = (await readdir(stateDir)).sort();
  assert.ok(names.some((name) => /^points-[1-9]\d*\.snap$/.test(name)), names.join(" "));
  assert.equal(names.filter((name) => name.startsWith("points-")).length <= 2, true, names.join(" "));
  current = await reopen();
  assert.deepEqual(sorted(current.counts!), sorted(counts));
  assert.equal(current.counts!.size, 4 * n + 2);

  // Damage in the points files is refused.
  const cp = (await current.store.resumed)!.points!;
  const snapshot = join(stateDir, cp.snapshot!.file);
  const good = await readFile(snapshot);
  const bad = Uint8Array.from(good);
  bad[100] ^= 1;
  await writeFile(snapshot, bad);
  await assert.rejects(
    reopen(),
    /points-\d+\.snap is corrupt \(checksum mismatch\): restore it from a backup, or delete the state directory/,
  );
  await writeFile(snapshot, good.subarray(0, 240));
  await assert.rejects(reopen(), /points-\d+\.snap is truncated \(240 of \d+ bytes\)/);
  await rm(snapshot);
  await assert.rejects(reopen(), /points-\d+\.snap is missing, but the checkpoint refers to it/);
  await writeFile(snapshot, good);

  // Leftovers of interrupted writes go; other files stay.
  await writeFile(join(stateDir, "checkpoint.json.tmp"), "x");
  await writeFile(join(stateDir, "points-99.snap"), "x");
  await writeFile(join(stateDir, "points-99.snap.tmp"), "x");
  await writeFile(join(stateDir, "notes.txt"), "mine");
  await reopen();
  assert.deepEqual(
    (await readdir(stateDir)).sort(),
    [CHECKPOINT_FILE, "notes.txt", cp.journal.file, cp.snapshot!.file].filter((f) =>
      f !== cp.journal.file || cp.journal.length > 0
    ).sort(),
  );
  await rm(dir, { recursive: true });
});

test("PointCounts: toTriples and addTriples copy the multiset, in log mode and in table mode", () => {
  for (const retract of [false, true]) {
    const counts = new PointCounts();
    for (let i = 0; i < 100; i++) counts.add(i % 7, -0);
    if (retract) counts.retract(3, -0);
    const copy = new PointCounts();
    copy.addTriples(counts.toTriples());
    for (let i = 0; i < 7; i++) assert.equal(copy.count(i, -0), counts.count(i, -0), `${i}`);
    assert.equal(copy.count(1, 0), 0, "-0 and 0 differ");
  }
  assert.throws(() => new PointCounts().addTriples(Float64Array.of(1, 2, 0)), /not a point with a count ≥ 1/);
  assert.throws(() => new PointCounts().addTriples(Float64Array.of(1, 2)), /not \(x, y, count\) triples/);
});
