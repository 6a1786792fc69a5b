// What the pipeline relies on from ModelCore: values within 1e-13 relative of NIST's certified ones (every
// bit against the exact reference is checked in test/model_core_exact_test.ts), aliasing of a duplicated
// column, the state round trip and its refusal for another model, refused values, n = 0.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { checkValue, ModelCore, type ModelSpec, ModelStateError } from "./model_core.ts";

const wasm = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const load = (spec: ModelSpec) => ModelCore.load(wasm, spec);

async function fixture(name: string): Promise<number[][]> {
  const text = await readFile(new URL(`../../test/fixtures/nist/${name}`, import.meta.url), "utf8");
  return text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
}

const ones = (n: number) => new Float64Array(n).fill(1);
const column = (rows: number[][], c: number) => Float64Array.from(rows, (r) => r[c]);

function close(got: number, want: number, what: string, rel = 1e-13): void {
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: ${got}, certified ${want}`);
}

// NIST Longley, certified values (test/fixtures/nist/README.md).
const LONGLEY = {
  b: [
    -3482258.63459582,
    15.0618722713733,
    -0.358191792925910E-01,
    -2.02022980381683,
    -1.03322686717359,
    -0.511041056535807E-01,
    1829.15146461355,
  ],
  se: [
    890420.383607373,
    84.9149257747669,
    0.334910077722432E-01,
    0.488399681651699,
    0.214274163161675,
    0.226073200069370,
    455.478499142212,
  ],
  sigma: 304.854073561965,
  r2: 0.995479004577296,
};

test("ModelCore: NIST Longley (6 x columns) within 1e-13 of the certified values", async () => {
  const rows = await fixture("longley.csv");
  const core = await load({ k: 6, degree: 1, intercept: true });
  assert.equal(core.columns, 7);
  const xs = [0, 1, 2, 3, 4, 5].map((c) => column(rows, c));
  assert.equal(core.update(xs, column(rows, 6), ones(rows.length)), 16);
  const fit = core.fit();
  assert.equal(fit.n, 16);
  assert.equal(fit.rank, 7);
  assert.deepEqual(fit.aliased, new Array(7).fill(false));
  LONGLEY.b.forEach((b, i) => close(fit.coefficients[i], b, `B${i}`));
  LONGLEY.se.forEach((se, i) => close(fit.se[i], se, `se B${i}`));
  close(fit.sigma, LONGLEY.sigma, "sigma");
  close(fit.r2, LONGLEY.r2, "r2");
});

test("ModelCore: NIST Pontius (degree 2) within 1e-13; adding and retracting points leaves the fit", async () => {
  const rows = await fixture("pontius.csv");
  const core = await load({ k: 1, degree: 2, intercept: true });
  const x = column(rows, 0), y = column(rows, 1);
  core.update([x], y, ones(x.length));
  const extra = [Float64Array.of(2e5, 3.5e5, 7e5)];
  core.update(extra, Float64Array.of(0.5, 0.25, 2), ones(3));
  core.update(extra, Float64Array.of(0.5, 0.25, 2), ones(3).fill(-1));
  const fit = core.fit();
  assert.equal(fit.n, 40);
  close(fit.coefficients[0], 0.673565789473684E-03, "B0");
  close(fit.coefficients[1], 0.732059160401003E-06, "B1");
  close(fit.coefficients[2], -0.316081871345029E-14, "B2");
  close(fit.sigma, 0.205177424076185E-03, "sigma");
  close(fit.r2, 0.999999900178537, "r2");
});

test("ModelCore: an exactly duplicated column is aliased (NaN), the others are the fit without it", async () => {
  const x1 = Float64Array.of(1, 2, 3, 4, 5, 6);
  const x3 = Float64Array.of(2, 5, 1, 7, 3, 3);
  const y = Float64Array.of(3, 5, 8, 9, 12, 11);
  const core = await load({ k: 3, degree: 1, intercept: true });
  core.update([x1, x1, x3], y, ones(6));
  const without = await load({ k: 2, degree: 1, intercept: true });
  without.update([x1, x3], y, ones(6));
  const fit = core.fit(), reference = without.fit();
  assert.deepEqual(fit.aliased, [false, false, true, false]);
  assert.equal(fit.rank, 3);
  assert.ok(Number.isNaN(fit.coefficients[2]) && Number.isNaN(fit.se[2]));
  for (const [i, j] of [[0, 0], [1, 1], [3, 2]]) {
    close(fit.coefficients[i], reference.coefficients[j], `coefficient ${i}`, 1e-9);
    close(fit.se[i], reference.se[j], `se ${i}`, 1e-9);
  }
  close(fit.sigma, reference.sigma, "sigma", 1e-9);
});

test("ModelCore: n = 0 gives NaN everywhere; refused values are counted, not added", async () => {
  const core = await load({ k: 2, degree: 1, intercept: false });
  assert.equal(core.columns, 2);
  let fit = core.fit();
  assert.equal(fit.n, 0);
  assert.equal(fit.rank, 0);
  assert.ok([...fit.coefficients, ...fit.se, fit.r2, fit.sigma].every(Number.isNaN));
  const took = core.update(
    [Float64Array.of(1, NaN, 1, 2, 1e300), Float64Array.of(1, 1, Infinity, 3, 1)],
    Float64Array.of(2, 1, 1, 5, 1),
    Float64Array.of(1, 1, 1, 1, 1),
  );
  assert.equal(took, 2);
  assert.equal(core.refused(), 3);
  assert.equal(core.count(), 2);
  fit = core.fit();
  assert.equal(fit.n, 2);
  assert.deepEqual(fit.aliased, [false, false]);
  close(fit.coefficients[0], 1, "b_x1", 1e-9);
  close(fit.coefficients[1], 1, "b_x2", 1e-9);
  core.reset();
  assert.equal(core.count(), 0);
  assert.equal(checkValue(NaN), "nan");
  assert.equal(checkValue(-Infinity), "infinite");
  assert.equal(checkValue(2 ** 441), "out_of_range");
  assert.equal(checkValue(-0), undefined);
});

test("ModelCore: saveState / loadState continue exactly; another model's state is refused", async () => {
  const rows = await fixture("longley.csv");
  const spec = { k: 6, degree: 1, intercept: true };
  const xs = [0, 1, 2, 3, 4, 5].map((c) => column(rows, c));
  const whole = await load(spec);
  whole.update(xs, column(rows, 6), ones(16));
  const first = await load(spec);
  first.update(xs.map((x) => x.subarray(0, 9)), column(rows, 6).subarray(0, 9), ones(9));
  const second = await load(spec);
  second.loadState(first.saveState());
  second.update(xs.map((x) => x.subarray(9)), column(rows, 6).subarray(9), ones(7));
  assert.equal(second.count(), 16);
  assert.deepEqual(second.fit(), whole.fit());
  for (const other of [{ k: 5, degree: 1, intercept: true }, { k: 6, degree: 1, intercept: false }]) {
    const core = await load(other);
    assert.throws(() => core.loadState(whole.saveState()), ModelStateError);
  }
  const poly = await load({ k: 1, degree: 3, intercept: true });
  assert.throws(() => poly.loadState(new TextEncoder().encode("not a state")));
  await assert.rejects(load({ k: 2, degree: 2, intercept: true }));
  await assert.rejects(load({ k: 21, degree: 1, intercept: true }));
});
