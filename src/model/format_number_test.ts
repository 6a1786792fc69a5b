import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { formatNumber } from "./format_number.ts";

test("formatNumber reads back bit for bit, -0 included", () => {
  const rng = new PythonRandom(5);
  const values = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e21,
    1e-7,
    5e-324,
    Number.MAX_VALUE,
    -Number.MIN_VALUE,
    2 ** 53 + 2,
    Infinity,
  ];
  for (let i = 0; i < 10_000; i++) {
    values.push((rng.random() - 0.5) * 10 ** Math.floor(rng.random() * 40 - 20));
  }
  for (const v of values) assert.ok(Object.is(Number(formatNumber(v)), v), `${v}`);
  assert.equal(formatNumber(-0), "-0");
  assert.equal(formatNumber(0.30000000000000004), "0.30000000000000004");
  assert.equal(formatNumber(1795575950327), "1795575950327");
});

test("formatNumber is the shortest decimal: String(n) for every n but -0", () => {
  for (const v of [0.025649728471302445, 0.9958341214647296, 1 / 3, 123.456]) {
    assert.equal(formatNumber(v), String(v));
  }
});
