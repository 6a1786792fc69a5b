import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { ModelCore, type ModelSpec } from "../core/model_core.ts";
import type { BatchUpdate, Sink } from "../model/sink.ts";
import type { PointChunk, Source } from "../model/source.ts";
import { applyModelBatch, isModelEngine } from "./model_stage.ts";
import { runPipeline } from "./pipeline.ts";
import { RegressionCore } from "../core/regression_core.ts";

const wasm = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const load = (spec: ModelSpec) => ModelCore.load(wasm, spec);

function chunk(xs: number[][], y: number[], diff = y.map(() => 1)): PointChunk {
  const columns = xs.map((c) => Float64Array.from(c));
  return {
    x: columns[0],
    ...(columns.length > 1 ? { xs: columns } : {}),
    y: Float64Array.from(y),
    diff: Float64Array.from(diff),
    where: (i) => `row ${i}`,
  };
}

test("applyModelBatch: every x column reaches the core; skipped records stay out; runs carry xs", async () => {
  const core = await load({ k: 2, degree: 1, intercept: true });
  assert.equal(isModelEngine(core), true);
  assert.equal(isModelEngine(await RegressionCore.load(wasm)), false);
  const c = chunk([[9, 0, 1, 0, 9, 1, 2], [9, 0, 0, 1, 9, 1, 1]], [9, 1, 3, 4, 9, 6, 8]);
  const skip = Uint8Array.of(1, 0, 0, 0, 1, 0, 0);
  const result = applyModelBatch(core, [{ chunk: c, start: 0, end: 7 }], { skip: () => skip });
  assert.equal(result.accepted, 5);
  assert.equal(result.count, 5);
  assert.equal(result.line, undefined);
  assert.deepEqual(result.points.map((r) => r.xs!.map((x) => [...x])), [[[0, 1, 0], [0, 0, 1]], [[1, 2], [
    1,
    1,
  ]]]);
  assert.equal(result.points[0].x, result.points[0].xs![0]);
  const fit = result.model!;
  assert.deepEqual([...fit.coefficients].map((v) => Math.round(v * 1e9) / 1e9 + 0), [1, 2, 3]);
  const gone = applyModelBatch(core, [{
    chunk: chunk([[0, 1, 0, 1, 2], [0, 0, 1, 1, 1]], [1, 3, 4, 6, 8], [-1, -1, -1, -1, -1]),
    start: 0,
    end: 5,
  }]);
  assert.equal(gone.count, 0);
  assert.equal(gone.model, undefined);
});

test("applyModelBatch: one x (a polynomial) takes chunks without xs; a point the core refuses is skipped", async () => {
  const core = await load({ k: 1, degree: 2, intercept: true });
  const refusals: string[] = [];
  const result = applyModelBatch(core, [{
    chunk: chunk([[0, 1, NaN, 2, 3]], [1, 2, 7, 5, 10]),
    start: 0,
    end: 5,
  }], {
    onRefused: (c, i, why) => refusals.push(`${c.where(i)}: ${why}`),
  });
  assert.deepEqual(refusals, ["row 2: x is NaN"]);
  assert.equal(result.accepted, 4);
  assert.deepEqual(result.points.map((r) => [...r.x]), [[0, 1], [2, 3]]);
  assert.equal(result.points[0].xs, undefined);
  assert.deepEqual([...result.model!.coefficients].map((v) => Math.round(v * 1e9) / 1e9 + 0), [1, 0, 1]);
});

test("runPipeline with a model core: updates carry the fit, stats the model, changes follow the coefficients", async () => {
  const core = await load({ k: 2, degree: 1, intercept: false });
  const source: Source = {
    name: "rows",
    async *chunks() {
      yield chunk([[1, 0], [0, 1]], [2, 3]);
      yield chunk([[1, 2], [1, 0]], [5, 6]);
    },
  };
  const updates: BatchUpdate[] = [];
  const sink: Sink = { write: (u) => (updates.push(u), Promise.resolve()), close: () => Promise.resolve() };
  const stats = await runPipeline(source, core, [sink], { commitRows: 2, commitMs: 1e9 });
  assert.equal(updates.length, 2);
  assert.equal(stats.points, 4);
  assert.equal(stats.line, undefined);
  assert.equal(stats.model?.n, 4);
  assert.equal(stats.changes, 2);
  assert.deepEqual([...updates[0].model!.coefficients].map((v) => Math.round(v * 1e9) / 1e9 + 0), [2, 3]);
  const [b1, b2] = updates[1].model!.coefficients;
  assert.ok(Math.abs(b1 - 30 / 11) < 1e-12 && Math.abs(b2 - 29 / 11) < 1e-12, `${b1} ${b2}`);
});
