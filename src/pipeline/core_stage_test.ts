import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { RegressionCore } from "../core/regression_core.ts";
import type { PointChunk } from "../model/source.ts";
import { applyBatch } from "./core_stage.ts";

const loadCore = async () =>
  RegressionCore.load(await readFile(new URL("../../build/streamreg.wasm", import.meta.url)));

function chunk(x: number[], y: number[], diff = x.map(() => 1)): PointChunk {
  return {
    x: Float64Array.from(x),
    y: Float64Array.from(y),
    diff: Float64Array.from(diff),
    where: (i) => `row ${i}`,
  };
}

test("applyBatch feeds the spans to the core and returns the line and the accepted points", async () => {
  const core = await loadCore();
  const c = chunk([9, 0, 1, 2, 9], [9, 1, 3, 5, 9]);
  const result = applyBatch(core, [{ chunk: c, start: 1, end: 4 }]);
  assert.deepEqual(result.line, { a: 1, b: 2 });
  assert.equal(result.accepted, 3);
  assert.equal(result.refused, 0);
  assert.equal(result.count, 3);
  assert.deepEqual(result.points.map((r) => [...r.x]), [[0, 1, 2]]);
});

test("applyBatch: one point gives the degenerate line a = b = 0; no points left gives no line", async () => {
  const core = await loadCore();
  const c = chunk([3, 3], [4, 4], [1, -1]);
  assert.deepEqual(applyBatch(core, [{ chunk: c, start: 0, end: 1 }]).line, { a: 0, b: 0 });
  const after = applyBatch(core, [{ chunk: c, start: 1, end: 2 }]);
  assert.equal(after.line, undefined);
  assert.equal(after.count, 0);
});

test("applyBatch skips refused points exactly, reports where and why, and keeps the others", async () => {
  const core = await loadCore();
  const reference = await loadCore();
  const x = [0, 1, NaN, 2, 3, 1e300, 4, 5, Infinity, 6];
  const y = [0, 2.5, 1, 3.75, 6, 1, 8.125, 9, 1, -Infinity];
  const diff = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  diff[7] = 0.5;
  const c = chunk(x, y, diff);
  const refusals: string[] = [];
  const result = applyBatch(core, [{ chunk: c, start: 0, end: 10 }], {
    onRefused: (ch, i, reason) => refusals.push(`${ch.where(i)}: ${reason}`),
  });
  assert.equal(result.accepted, 5);
  assert.equal(result.refused, 5);
  assert.deepEqual(refusals, [
    "row 2: x is NaN",
    "row 5: (x, y) = (1e+300, 1) is outside the range of magnitudes the core sums exactly",
    "row 7: its weight is 0.5, not 1 or -1",
    "row 8: x is Infinity",
    "row 9: y is -Infinity",
  ]);
  assert.deepEqual(result.points.map((r) => [...r.x]), [[0, 1], [2, 3], [4]]);
  reference.add(Float64Array.from([0, 1, 2, 3, 4]), Float64Array.from([0, 2.5, 3.75, 6, 8.125]));
  const expected = reference.fit();
  assert.deepEqual(result.line, { a: expected.a, b: expected.b });
  assert.equal(result.count, 5);
  // Later batches continue from the exact state.
  const more = applyBatch(core, [{ chunk: chunk([10], [20]), start: 0, end: 1 }]);
  reference.add(Float64Array.from([10]), Float64Array.from([20]));
  assert.deepEqual(more.line, { a: reference.fit().a, b: reference.fit().b });
});

test("applyBatch: batch boundaries do not change the line (exact core)", async () => {
  const text = await readFile(new URL("../../test/fixtures/seed_points.csv", import.meta.url), "utf8");
  const rows = text.trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
  const c = chunk(rows.map((r) => r[0]), rows.map((r) => r[1]));
  const whole = applyBatch(await loadCore(), [{ chunk: c, start: 0, end: 10 }]);
  const core = await loadCore();
  let last;
  for (const [start, end] of [[0, 3], [3, 4], [4, 10]]) last = applyBatch(core, [{ chunk: c, start, end }]);
  assert.deepEqual(whole.line, { a: 0.025649728471302445, b: 0.9958341214647296 });
  assert.deepEqual(last!.line, whole.line);
});
