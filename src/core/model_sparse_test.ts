import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { ModelCore, type ModelFit, type ModelSpec, ModelStateError } from "./model_core.ts";
import { seededRandom } from "../../test/model_hard_cases.ts";

// The release build: the one runs use (fast-math hazards are guarded on it).
const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));

function bits(fit: ModelFit): string {
  const b = (v: number) => {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v);
    return d.getBigUint64(0).toString(16);
  };
  return JSON.stringify({
    n: fit.n,
    rank: fit.rank,
    aliased: fit.aliased,
    c: [...fit.coefficients].map(b),
    se: [...fit.se].map(b),
    r2: b(fit.r2),
    sigma: b(fit.sigma),
  });
}

/** Points with values of both signs over many magnitudes (sums negative and positive, wide digits). */
function points(k: number, n: number, seed: number): { xs: Float64Array[]; y: Float64Array } {
  const r = seededRandom(seed);
  const value = () => (r() - 0.5) * 2 ** Math.floor(r() * 80 - 40);
  const xs = Array.from({ length: k }, () => Float64Array.from({ length: n }, value));
  const y = Float64Array.from({ length: n }, (_, i) => xs[0][i] * 3 - 2 + value());
  return { xs, y };
}

const SPECS: ModelSpec[] = [
  { k: 3, degree: 1, intercept: true },
  { k: 2, degree: 1, intercept: false },
  { k: 1, degree: 2, intercept: true },
  { k: 1, degree: 5, intercept: false },
];

test("ModelCore sparse records: save → load gives the same fit bit for bit, and the same record", async () => {
  for (const spec of SPECS) {
    const a = await ModelCore.load(release, spec);
    const b = await ModelCore.load(release, spec);
    for (const n of [0, 1, 7, 300]) {
      const { xs, y } = points(spec.k, n, 11 + n);
      a.reset();
      a.update(xs, y, new Float64Array(n).fill(1));
      const record = a.saveSparse();
      b.loadSparse(record);
      assert.equal(bits(b.fit()), bits(a.fit()), `${JSON.stringify(spec)} n=${n}`);
      assert.deepEqual(b.saveSparse(), record);
      assert.equal(b.count(), n);
      // A record holds only the digits in use: far below the dense state.
      if (n > 0) assert.ok(record.length < a.saveState().length / 3, `${record.length} bytes`);
    }
  }
});

test("ModelCore sparse records: load + update equals one core over all points; add and subtract panes", async () => {
  for (const spec of SPECS) {
    const whole = await ModelCore.load(release, spec);
    const keyed = await ModelCore.load(release, spec);
    const { xs, y } = points(spec.k, 400, 5);
    const w = new Float64Array(400).fill(1);
    // The points in four panes of 100, each saved as a record through one core.
    const panes: Uint8Array[] = [];
    for (let p = 0; p < 4; p++) {
      keyed.reset();
      const rows = Int32Array.from({ length: 100 }, (_, i) => 4 * i + p); // interleaved rows
      keyed.updateRows(xs, y, w, rows);
      panes.push(keyed.saveSparse());
    }
    // Window of panes 1..3 = panes 0..3 minus pane 0: exactly the fit of its points.
    keyed.loadSparse(panes[0]);
    for (let p = 1; p < 4; p++) keyed.addSparse(panes[p], 1);
    keyed.addSparse(panes[0], -1);
    const rows = Int32Array.from({ length: 400 }, (_, i) => i).filter((i) => i % 4 !== 0);
    whole.updateRows(xs, y, w, rows);
    assert.equal(bits(keyed.fit()), bits(whole.fit()), JSON.stringify(spec));
    assert.deepEqual(keyed.saveSparse(), whole.saveSparse());
    // Retracting every point by rows leaves the empty record.
    whole.updateRows(xs, y, w.map(() => -1), rows);
    const empty = await ModelCore.load(release, spec);
    assert.deepEqual(whole.saveSparse(), empty.saveSparse());
    // Load a record, then update more rows: as one core that took them all.
    keyed.loadSparse(panes[1]);
    keyed.updateRows(xs, y, w, Int32Array.from({ length: 100 }, (_, i) => 4 * i + 2));
    whole.reset();
    whole.updateRows(xs, y, w, Int32Array.from({ length: 200 }, (_, i) => 4 * (i >> 1) + 1 + (i & 1)));
    assert.equal(bits(keyed.fit()), bits(whole.fit()), JSON.stringify(spec));
  }
});

test("ModelCore sparse records: a record of another model or a damaged one is refused, nothing changed", async () => {
  const three = await ModelCore.load(release, { k: 3, degree: 1, intercept: true });
  const two = await ModelCore.load(release, { k: 2, degree: 1, intercept: true });
  const { xs, y } = points(3, 10, 3);
  three.update(xs, y, new Float64Array(10).fill(1));
  const record = three.saveSparse();
  two.update(xs.slice(0, 2), y, new Float64Array(10).fill(1));
  const before = bits(two.fit());
  assert.throws(() => two.loadSparse(record), (e) => e instanceof ModelStateError && e.code === 2);
  assert.throws(() => three.loadSparse(record.subarray(0, record.length - 1)), ModelStateError);
  assert.throws(() => three.addSparse(record.subarray(0, 20), 1), ModelStateError);
  assert.equal(bits(two.fit()), before);
});
