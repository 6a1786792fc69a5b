// The change logs of a model other than the plain line: the result log's header and rows (empty cells for
// undefined values, -1/+1 pairs, a resumed run retracting the checkpoint's row) and the input log's columns.
import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import type { ModelConfig } from "../model/model_config.ts";
import type { BatchUpdate, ModelResult, PointRun } from "../model/sink.ts";
import { InputLog } from "./input_log.ts";
import { modelCells, ResultLog } from "./result_log.ts";

function memory(): { stream: WritableStream<Uint8Array>; text: () => string } {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void writes.push(decoder.decode(chunk)),
  });
  return { stream, text: () => writes.join("") };
}

const config: ModelConfig = { x: ["x1", "x2", "x3"], y: "y", degree: 1, intercept: true, stats: true };

const fit = (coefficients: number[], se: number[], over: Partial<ModelResult> = {}): ModelResult => ({
  n: 5,
  coefficients: Float64Array.from(coefficients),
  aliased: coefficients.map(Number.isNaN),
  se: Float64Array.from(se),
  r2: 0.5,
  sigma: 2,
  rank: coefficients.filter((c) => !Number.isNaN(c)).length,
  ...over,
});

const update = (time: number, model: ModelResult | undefined, points: PointRun[] = []): BatchUpdate => ({
  time,
  points,
  accepted: points.reduce((n, r) => n + r.x.length, 0),
  refused: 0,
  count: model?.n ?? 0,
  line: undefined,
  model,
});

test("ResultLog with a model: header, empty cells for aliased and undefined values, -1/+1 rows", async () => {
  const out = memory();
  const log = new ResultLog(out.stream, { model: { config } });
  const first = fit([1.5, 0.1 + 0.2, NaN, -0], [0.25, 1e-300, NaN, 3]);
  await log.write(update(10, first));
  await log.write(update(11, first)); // unchanged: nothing
  const second = fit([2, 3, 4, 5], [NaN, NaN, NaN, NaN], { n: 4, r2: NaN, sigma: NaN });
  await log.write(update(12, second));
  await log.write(update(13, undefined)); // every point retracted
  await log.close();
  assert.equal(
    out.text(),
    [
      "a,b_x1,b_x2,b_x3,n,r2,sigma,se_a,se_b_x1,se_b_x2,se_b_x3,time,diff",
      "1.5,0.30000000000000004,,-0,5,0.5,2,0.25,1e-300,,3,10,1",
      "1.5,0.30000000000000004,,-0,5,0.5,2,0.25,1e-300,,3,12,-1",
      "2,3,4,5,4,,,,,,,12,1",
      "2,3,4,5,4,,,,,,,13,-1",
      "",
    ].join("\n"),
  );
});

test("ResultLog with a model: without --stats only the coefficients; a resumed run retracts the last row", async () => {
  const plainStats = { ...config, stats: false };
  const out = memory();
  const last = fit([1, 2, NaN, 4], [0, 0, NaN, 0]);
  const log = new ResultLog(out.stream, { append: true, model: { config: plainStats, last } });
  await log.write(update(20, fit([1, 2, NaN, 4], [9, 9, NaN, 9], { n: 7 }))); // same coefficients: no row
  await log.write(update(21, fit([1, 2, 3, 4], [0, 0, 0, 0])));
  await log.close();
  assert.equal(out.text(), ["1,2,,4,21,-1", "1,2,3,4,21,1", ""].join("\n"));
  const poly: ModelConfig = { x: ["t"], y: "v", degree: 2, intercept: false, stats: false };
  assert.equal(modelCells(poly, fit([0.5, -1], [1, 1])), "0.5,-1");
});

test("InputLog with several x columns writes each, by name; one x as before", async () => {
  const out = memory();
  const log = new InputLog(out.stream, { columns: ["p", "q", "y"] });
  const xs = [Float64Array.of(1, -0), Float64Array.of(0.1, 2e-300)];
  await log.write(
    update(5, undefined, [{ x: xs[0], xs, y: Float64Array.of(3, 4), diff: Float64Array.of(1, -1) }]),
  );
  await log.close();
  assert.equal(out.text(), "p,q,y,time,diff\n1,0.1,3,5,1\n-0,2e-300,4,5,-1\n");
  const one = memory();
  const plain = new InputLog(one.stream);
  await plain.write(
    update(6, undefined, [{ x: Float64Array.of(1), y: Float64Array.of(2), diff: Float64Array.of(1) }]),
  );
  await plain.close();
  assert.equal(one.text(), "x,y,time,diff\n1,2,6,1\n");
});
