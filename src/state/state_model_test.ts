// Checkpoints of a model other than the plain line: the last fit round trips exactly (NaN, -0 included),
// a plain-line checkpoint has no model key, and the multiset of rows survives journal and snapshots.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "../../test/harness.ts";
import { nodeStateFiles } from "../runtime/state_files.ts";
import { RowCounts } from "../model/row_counts.ts";
import type { PointRun } from "../model/sink.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, StateError } from "./checkpoint.ts";
import { type BatchState, StateStore } from "./state_store.ts";

const totals = { points: 3, refused: 0, rejected: 0, batches: 1, changes: 1, count: 3 };
const model = {
  n: 3,
  rank: 2,
  r2: NaN,
  sigma: 0.1 + 0.2,
  coefficients: Float64Array.of(-0, NaN, 1e-300),
  aliased: [false, true, false],
  se: Float64Array.of(NaN, NaN, 5),
};
const base: Checkpoint = {
  settings: { source: "csv", "--x": "x1,x2", "--stats": true },
  complete: false,
  time: 1_700_000_000_000,
  line: undefined,
  totals,
  core: Uint8Array.of(1, 2, 3),
  source: undefined,
  outputs: [],
  points: undefined,
};

test("checkpoint: a model's last fit round trips exactly; the plain line's has no model key", async () => {
  const withModel = { ...base, model };
  const again = await decodeCheckpoint(await encodeCheckpoint(withModel), "c");
  assert.deepEqual(again, withModel);
  assert.ok(Object.is(again.model!.coefficients[0], -0));
  const plain = await encodeCheckpoint({ ...base, line: { a: 1, b: 2 } });
  assert.ok(!new TextDecoder().decode(plain).includes('"model"'));
  assert.deepEqual(await decodeCheckpoint(plain, "c"), { ...base, line: { a: 1, b: 2 } });
  const broken = new TextDecoder().decode(await encodeCheckpoint(withModel))
    .split("\n")[1].replace('"aliased":[false,true,false]', '"aliased":[false,true]');
  const body = new TextEncoder().encode(broken);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const bytes = new TextEncoder().encode(
    `streamreg-checkpoint 1 bytes=${body.length} sha256=${hex}\n${broken}`,
  );
  await assert.rejects(decodeCheckpoint(bytes, "c"), (e: unknown) => {
    assert.ok(e instanceof StateError);
    assert.match(e.message, /model\.aliased, model\.coefficients and model\.se do not match/);
    return true;
  });
});

test("StateStore: the multiset of rows (several x) survives through journal and snapshots", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-state-model-"));
  const stateDir = join(dir, "s");
  const files = nodeStateFiles();
  const store = await StateStore.open(files, stateDir, {});
  const counts = new RowCounts(3);
  const run = (rows: number[][]): PointRun => {
    const xs = [Float64Array.from(rows, (r) => r[0]), Float64Array.from(rows, (r) => r[1])];
    const out = {
      x: xs[0],
      xs,
      y: Float64Array.from(rows, (r) => r[2]),
      diff: Float64Array.from(rows, (r) => r[3]),
    };
    for (const r of rows) {
      if (r[3] === 1) counts.add(r.slice(0, 3));
      else assert.ok(counts.retract(r.slice(0, 3)));
    }
    return out;
  };
  const state = (runs: PointRun[]): BatchState => ({
    time: 1,
    line: undefined,
    model,
    totals,
    core: new Uint8Array(0),
    source: undefined,
    outputs: [],
    points: { counts, runs },
  });
  await store.save(state([run([[1, 2, 3, 1], [-0, 2, 3, 1], [1, 2, 3, 1]])]));
  await store.save(state([run([[1, 2, 3, -1]])]));
  const reopen = async () => {
    const s = await StateStore.open(files, stateDir, {});
    return { store: s, rows: (await s.loadRows(3))! };
  };
  let current = await reopen();
  assert.deepEqual(current.store.resumed!.model, model);
  assert.equal(current.rows.count(Float64Array.of(1, 2, 3)), 1);
  assert.equal(current.rows.count(Float64Array.of(-0, 2, 3)), 1);
  assert.equal(current.rows.count(Float64Array.of(0, 2, 3)), 0);
  const n = 20_000;
  for (let round = 0; round < 3; round++) {
    const rows = Array.from({ length: n }, (_, i) => [round * n + i, i / 7, -i, 1]);
    await current.store.save(state([run(rows)]));
  }
  assert.ok((await readdir(stateDir)).some((name) => /^points-[1-9]\d*\.snap$/.test(name)));
  current = await reopen();
  assert.equal(current.rows.size, 3 * n + 2);
  assert.equal(current.rows.count(Float64Array.of(2 * n + 5, 5 / 7, -5)), 1);
  await rm(dir, { recursive: true });
});
