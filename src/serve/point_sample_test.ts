import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PointSample } from "./point_sample.ts";

const run = (from: number, count: number, diff = 1) => {
  const x = Float64Array.from({ length: count }, (_, i) => from + i);
  return { x, y: x.map((v) => 2 * v), diff: new Float64Array(count).fill(diff) };
};

test("PointSample: at low rates every point is kept, oldest first, up to the capacity", () => {
  const sample = new PointSample({ columns: 1, capacity: 5, perWindow: 3 });
  for (let i = 0; i < 7; i++) {
    sample.add(run(i, 1));
    sample.closeWindow();
  }
  assert.deepEqual(sample.points(), { xs: [[2, 3, 4, 5, 6]], y: [4, 6, 8, 10, 12] });
});

test("PointSample: a large window keeps perWindow points drawn from all of it; retractions are not drawn", () => {
  const sample = new PointSample({ columns: 1, capacity: 1000, perWindow: 200 });
  sample.add(run(0, 50_000));
  sample.add(run(50_000, 50_000));
  sample.add(run(7, 1000, -1));
  const { xs: [x], y } = sample.points();
  assert.equal(x.length, 200);
  assert.ok(x.every((v, i) => Number.isInteger(v) && v >= 0 && v < 100_000 && y[i] === 2 * v));
  assert.equal(new Set(x).size, 200, "no point twice");
  // Uniform over the window: each half of the 100 000 points holds some of the 200 (binomial, p = 1/2).
  const low = x.filter((v) => v < 50_000).length;
  assert.ok(low > 50 && low < 150, `${low} of 200 from the first half`);
  sample.closeWindow();
  sample.add(run(200_000, 10));
  sample.closeWindow();
  const after = sample.points().xs[0];
  assert.equal(after.length, 210);
  assert.deepEqual(after.slice(200), Array.from({ length: 10 }, (_, i) => 200_000 + i), "the newest last");
});

test("PointSample: several x columns", () => {
  const sample = new PointSample({ columns: 2, capacity: 10 });
  const x1 = Float64Array.of(1, 2);
  const x2 = Float64Array.of(10, 20);
  sample.add({ x: x1, xs: [x1, x2], y: Float64Array.of(5, 6), diff: Float64Array.of(1, 1) });
  assert.deepEqual(sample.points(), { xs: [[1, 2], [10, 20]], y: [5, 6] });
});

test("PointSample: addPoint, one point at a time, keeps what add keeps for the same points", () => {
  const whole = new PointSample({ columns: 1, capacity: 1000, perWindow: 100 });
  const single = new PointSample({ columns: 1, capacity: 1000, perWindow: 100 });
  for (let round = 0; round < 3; round++) {
    const points = run(round * 20_000, 20_000);
    whole.add(points);
    for (let i = 0; i < points.x.length; i++) single.addPoint(points.x[i], points.y[i]);
    assert.deepEqual(single.points(), whole.points());
    whole.closeWindow();
    single.closeWindow();
  }
  assert.equal(single.points().y.length, 300);
});
