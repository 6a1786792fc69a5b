import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../../test/harness.ts";
import { RegressionCore } from "../../core/regression_core.ts";
import { ChunkBuilder } from "../../sources/chunk_builder.ts";
import type { PointChunk } from "../../model/source.ts";
import { MAX_MAGNITUDE, MIN_MAGNITUDE, PointValidator } from "./point_validator.ts";

function chunk(x: number[], y: number[], diff = x.map(() => 1)): PointChunk {
  return {
    x: Float64Array.from(x),
    y: Float64Array.from(y),
    diff: Float64Array.from(diff),
    where: (i) => `t record ${i}`,
  };
}

test("PointValidator's range is the core's", async () => {
  const bytes = await readFile(new URL("../../../build/streamreg.wasm", import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const e = instance.exports as { min_magnitude(): number; max_magnitude(): number };
  assert.equal(MIN_MAGNITUDE, e.min_magnitude());
  assert.equal(MAX_MAGNITUDE, e.max_magnitude());
});

test("PointValidator rejects NaN, ±Infinity, out-of-range values and bad weights, with details", () => {
  const v = new PointValidator({ source: "t" });
  const found = v.check(chunk(
    [1, NaN, 2, 3, 2 ** 441, 2 ** -441, 0, -0, 4, 5, MAX_MAGNITUDE, -MIN_MAGNITUDE],
    [1, 1, Infinity, 1, 1, 1, 2 ** -1074, 1, 1, 1, 1, 1],
    [1, 1, 1, -Infinity, 1, 1, 1, 1, 2, 0, 1, 1],
  ))!;
  assert.deepEqual([...found.mask], [0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
  assert.equal(found.end, 12);
  assert.deepEqual(found.rejected.map(({ index, rejection: r }) => [index, r.reason, r.detail, r.raw]), [
    [1, "nan", "x is NaN", "NaN,1,1"],
    [2, "infinite", "y is Infinity", "2,Infinity,1"],
    [3, "bad_diff", "diff is -Infinity: it must be 1 (add the point) or -1 (retract it)", "3,1,-Infinity"],
    [
      4,
      "out_of_range",
      `x is ${2 ** 441}: outside [2^-440, 2^440], the magnitudes the core sums exactly`,
      `${2 ** 441},1,1`,
    ],
    [
      5,
      "out_of_range",
      `x is ${2 ** -441}: outside [2^-440, 2^440], the magnitudes the core sums exactly`,
      `${2 ** -441},1,1`,
    ],
    [
      6,
      "out_of_range",
      "y is 5e-324: outside [2^-440, 2^440], the magnitudes the core sums exactly",
      "0,5e-324,1",
    ],
    [8, "bad_diff", "diff is 2: it must be 1 (add the point) or -1 (retract it)", "4,1,2"],
    [9, "bad_diff", "diff is 0: it must be 1 (add the point) or -1 (retract it)", "5,1,0"],
  ]);
  assert.deepEqual(found.rejected[0].rejection.origin, { source: "t", location: "t record 1" });
  assert.equal(v.check(chunk([1, 2], [3, 4])), undefined, "all good: nothing to report");
});

test("PointValidator rejects retractions of points not added, in stream order, bit for bit", () => {
  const v = new PointValidator();
  const reasons = (c: PointChunk) =>
    v.check(c)?.rejected.map((r) => `${r.index}:${r.rejection.reason}`) ?? [];
  // Add then retract within one chunk is fine; a second retraction is not.
  assert.deepEqual(reasons(chunk([1, 1, 1], [2, 2, 2], [1, -1, -1])), ["2:unknown_retraction"]);
  // Retract before add: rejected, then the add counts.
  assert.deepEqual(reasons(chunk([3, 3], [4, 4], [-1, 1])), ["0:unknown_retraction"]);
  assert.deepEqual(reasons(chunk([3], [4], [-1])), []);
  // 0 and -0 are different points.
  assert.deepEqual(reasons(chunk([0, -0, 0], [1, 1, 1], [1, -1, -1])), ["1:unknown_retraction"]);
  // Rejected records do not count: a NaN add cannot be retracted, a rejected retraction removes nothing.
  v.check(chunk([5, 5], [6, 6], [1, 1]));
  assert.deepEqual(reasons(chunk([5, 5, 5], [6, 6, 6], [-1, -1, -1])), ["2:unknown_retraction"]);
  assert.equal(v.distinctPoints, 0);
  const detail = v.check(chunk([7], [0.1], [-1]))!.rejected[0].rejection.detail;
  assert.equal(detail, "retracts (x, y) = (7, 0.1), which is not among the points added");
});

test("PointValidator passes on the source's own rejections, with its raw content, in index order", () => {
  const b = new ChunkBuilder();
  b.push(1, 1, 1, 10);
  b.reject(11, { reason: "bad_json", detail: "expected an object", raw: "[1,2]" });
  b.push(NaN, 1, 1, 12);
  b.reject(13, { reason: "not_a_number", detail: 'x is "a", not a number' });
  const { x, y, diff, origin, rejects } = b.take();
  assert.equal(rejects!.size, 2);
  const c: PointChunk = {
    x,
    y,
    diff,
    rejects,
    where: (i) => `offset ${origin[i]}`,
    origin: (i) => ({ source: "kafka", location: `offset ${origin[i]}`, offset: String(origin[i]) }),
    raw: (i) => `message ${origin[i]}`,
  };
  const found = new PointValidator().check(c)!;
  assert.deepEqual(found.rejected.map(({ index, rejection }) => ({ index, ...rejection })), [
    {
      index: 1,
      origin: { source: "kafka", location: "offset 11", offset: "11" },
      reason: "bad_json",
      detail: "expected an object",
      raw: "[1,2]",
    },
    {
      index: 2,
      origin: { source: "kafka", location: "offset 12", offset: "12" },
      reason: "nan",
      detail: "x is NaN",
      raw: "message 12",
    },
    {
      index: 3,
      origin: { source: "kafka", location: "offset 13", offset: "13" },
      reason: "not_a_number",
      detail: 'x is "a", not a number',
      raw: "message 13",
    },
  ]);
});

test("PointValidator with stopAtFirst stops after the first bad record and counts nothing after it", () => {
  const v = new PointValidator();
  const found = v.check(chunk([1, 2, NaN, 4], [1, 2, 3, 4]), { stopAtFirst: true })!;
  assert.equal(found.end, 3);
  assert.equal(found.rejected.length, 1);
  assert.equal(v.distinctPoints, 2);
});

test("PointValidator: everything it passes, the core accepts", async () => {
  const core = await RegressionCore.load(
    await readFile(new URL("../../../build/streamreg.wasm", import.meta.url)),
  );
  const specials = [
    0,
    -0,
    MIN_MAGNITUDE,
    -MIN_MAGNITUDE,
    MAX_MAGNITUDE,
    -MAX_MAGNITUDE,
    MIN_MAGNITUDE / 2,
    MAX_MAGNITUDE * 2,
    NaN,
    Infinity,
    -Infinity,
    5e-324,
    1.7976931348623157e308,
    1,
    -1,
    0.5,
  ];
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  for (const x of specials) {
    for (const y of specials) {
      for (const w of [1, -1, 0, 2, NaN]) {
        xs.push(x);
        ys.push(y);
        ws.push(w);
      }
    }
  }
  const c = chunk(xs, ys, ws);
  const found = new PointValidator().check(c)!;
  for (let i = 0; i < xs.length; i++) {
    const one = (a: Float64Array) => a.subarray(i, i + 1);
    const took = core.update(one(c.x), one(c.y), one(c.diff.map((w) => (w === -1 ? 1 : w)))); // the core's verdict on values
    if (took === 1) core.update(one(c.x), one(c.y), new Float64Array([-1]));
    const valueOk = took === 1;
    const rejectedForValue = found.mask[i] === 1 &&
      found.rejected.find((r) => r.index === i)!.rejection.reason !== "unknown_retraction";
    assert.equal(!rejectedForValue, valueOk, `(${xs[i]}, ${ys[i]}, ${ws[i]})`);
  }
});
