// The .wasm from plain JavaScript under Node: no wrapper, no glue, no imports, only the documented ABI.
// Run: node --test test/node/wasm_abi_check.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const csv = (name) =>
  readFileSync(new URL(`test/fixtures/${name}`, root), "utf8").trim().split("\n").slice(1)
    .map((line) => line.split(",").map(Number));

test("streamreg.wasm loads with WebAssembly.instantiate(bytes, {}) and fits the seed table", async () => {
  const bytes = readFileSync(new URL("build/streamreg.wasm", root));
  const { instance, module } = await WebAssembly.instantiate(bytes, {});
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const e = instance.exports;
  const cap = e.input_capacity();
  const x = new Float64Array(e.memory.buffer, e.input_ptr(), cap);
  const y = new Float64Array(e.memory.buffer, e.input_ptr() + 8 * cap, cap);
  const points = csv("seed_points.csv");
  const expected = csv("seed_expected_exact.csv");
  points.forEach(([px, py], i) => {
    x[i] = px;
    y[i] = py;
  });
  assert.equal(e.add(points.length), points.length);
  assert.equal(e.fit(), 0);
  const [n, a, b] = expected.at(-1);
  assert.equal(e.count(), n);
  assert.equal(e.intercept(), a);
  assert.equal(e.slope(), b);
  assert.equal(e.refused(), 0);
  // Retract the last point through the weight array: back to the 9-point answer.
  const w = new Float64Array(e.memory.buffer, e.input_ptr() + 16 * cap, cap);
  x[0] = points.at(-1)[0];
  y[0] = points.at(-1)[1];
  w[0] = -1;
  assert.equal(e.update(1), 1);
  assert.equal(e.fit(), 0);
  assert.equal(e.intercept(), expected.at(-2)[1]);
  assert.equal(e.slope(), expected.at(-2)[2]);
});
