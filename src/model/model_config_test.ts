import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import {
  coefficientNames,
  inputColumns,
  isPlainLine,
  type ModelConfig,
  resultColumns,
} from "./model_config.ts";

const model = (over: Partial<ModelConfig>): ModelConfig => ({
  x: ["x"],
  y: "y",
  degree: 1,
  intercept: true,
  stats: false,
  ...over,
});

test("resultColumns: the documented, stable header names", () => {
  const header = (over: Partial<ModelConfig>) => [...resultColumns(model(over)), "time", "diff"].join(",");
  assert.equal(header({}), "a,b,time,diff");
  assert.equal(header({ stats: true }), "a,b,n,r2,sigma,se_a,se_b,time,diff");
  assert.equal(header({ intercept: false }), "b,time,diff");
  assert.equal(header({ x: ["x1", "x2", "x3"] }), "a,b_x1,b_x2,b_x3,time,diff");
  assert.equal(
    header({ x: ["x1", "x2"], stats: true }),
    "a,b_x1,b_x2,n,r2,sigma,se_a,se_b_x1,se_b_x2,time,diff",
  );
  assert.equal(header({ x: ["t"], degree: 3 }), "a,b_t,b_t^2,b_t^3,time,diff");
  assert.equal(
    header({ x: ["x"], degree: 2, intercept: false, stats: true }),
    "b_x,b_x^2,n,r2,sigma,se_b_x,se_b_x^2,time,diff",
  );
  assert.deepEqual(coefficientNames(model({ x: ["p", "q"], intercept: false })), ["b_p", "b_q"]);
});

test("isPlainLine and inputColumns: only one x, degree 1, intercept, no stats is the line", () => {
  assert.equal(isPlainLine(model({})), true);
  for (const over of [{ stats: true }, { intercept: false }, { degree: 2 }, { x: ["a", "b"] }]) {
    assert.equal(isPlainLine(model(over)), false, JSON.stringify(over));
  }
  assert.deepEqual(inputColumns(model({ x: ["time"], degree: 4 })), ["x", "y"]);
  assert.deepEqual(inputColumns(model({ x: ["a", "b"], y: "price" })), ["a", "b", "y"]);
});
