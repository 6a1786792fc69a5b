// What the pipeline relies on from ModelCore: aliasing of a duplicated column, the state round trip and its
// refusal for another model, refused values, n = 0. (NIST values, every bit against the exact reference
// and the certified values: test/model_core_exact_test.ts.)
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
