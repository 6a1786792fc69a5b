import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PointCounts } from "./point_counts.ts";

test("PointCounts counts exact (x, y) bit patterns: 0 and -0 differ", () => {
  const counts = new PointCounts();
  assert.equal(counts.add(0, 1), true);
  assert.equal(counts.count(0, 1), 1);
  assert.equal(counts.count(-0, 1), 0);
  assert.equal(counts.retract(-0, 1), false);
  assert.equal(counts.retract(0, 1), true);
  assert.equal(counts.retract(0, 1), false, "no copy left");
  assert.equal(counts.size, 0);
  counts.add(1, 2);
  counts.add(1, 2);
  assert.equal(counts.count(1, 2), 2);
  assert.equal(counts.count(2, 1), 0);
  assert.equal(counts.size, 1);
  counts.clear();
  assert.equal(counts.count(1, 2), 0);
});

test("PointCounts agrees with a Map over a long random mix of adds and retractions (growth, deletions)", () => {
  let seed = 42;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const values = [0, -0, 1, -1, 0.1, 2 ** -440, 2 ** 440, 1e300, -5e-324, 7, 1 / 3];
  const pick =
    () => (random() < 0.3 ? values[Math.floor(random() * values.length)] : Math.floor(random() * 300));
  const counts = new PointCounts({ capacity: 4 });
  const reference = new Map<string, number>();
  const key = (x: number, y: number) => `${Object.is(x, -0) ? "-0" : x},${Object.is(y, -0) ? "-0" : y}`;
  for (let step = 0; step < 50_000; step++) {
    const x = pick();
    const y = pick();
    const k = key(x, y);
    const have = reference.get(k) ?? 0;
    if (random() < 0.55) {
      counts.add(x, y);
      reference.set(k, have + 1);
    } else {
      assert.equal(counts.retract(x, y), have > 0);
      if (have > 1) reference.set(k, have - 1);
      else reference.delete(k);
    }
    if (step % 997 === 0) {
      assert.equal(counts.size, reference.size);
      for (const [k2, n] of reference) {
        const [a, b] = k2.split(",").map(Number);
        const [sa, sb] = k2.split(",");
        assert.equal(counts.count(sa === "-0" ? -0 : a, sb === "-0" ? -0 : b), n, k2);
      }
    }
  }
  // Empty it completely: everything must still be found while entries move back.
  for (const [k, n] of [...reference]) {
    const [sa, sb] = k.split(",");
    const x = sa === "-0" ? -0 : Number(sa);
    const y = sb === "-0" ? -0 : Number(sb);
    for (let i = 0; i < n; i++) assert.equal(counts.retract(x, y), true, k);
    assert.equal(counts.retract(x, y), false);
  }
  assert.equal(counts.size, 0);
});

test("PointCounts: a long run of adds (logged, then moved into the table at the first retraction)", () => {
  const counts = new PointCounts();
  const n = 150_000; // more than two blocks of the add log
  for (let i = 0; i < n; i++) counts.add(i % 100_000, -i % 7);
  assert.equal(counts.retract(5, -5), true);
  assert.equal(counts.retract(5, -5), false, "(5, -5) was added once");
  assert.equal(counts.count(100_001, -100_001 % 7), 0);
  assert.equal(counts.count(3, -3), 1);
  assert.equal(counts.count(100_003, -100_003 % 7), 0);
  let present = 0;
  for (let i = 0; i < n; i++) if (counts.retract(i % 100_000, -i % 7)) present++;
  assert.equal(present, n - 1);
  assert.equal(counts.size, 0);
  counts.add(1, 1);
  assert.equal(counts.count(1, 1), 1, "after the table is built, adds go straight to it");
});
