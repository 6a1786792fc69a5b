import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { RowCounts } from "./row_counts.ts";

const row = (...v: number[]) => Float64Array.from(v);

test("RowCounts: adds, retracts bit for bit (0 and -0 differ), unknown rows change nothing", () => {
  const counts = new RowCounts(3);
  counts.add(row(1, 2, 3));
  counts.add(row(1, 2, 3));
  counts.add(row(0, 2, 3));
  assert.equal(counts.retract(row(-0, 2, 3)), false);
  assert.equal(counts.retract(row(1, 2, 4)), false);
  assert.equal(counts.count(row(1, 2, 3)), 2);
  assert.equal(counts.size, 2);
  assert.equal(counts.retract(row(0, 2, 3)), true);
  assert.equal(counts.retract(row(0, 2, 3)), false);
  assert.equal(counts.retract(row(1, 2, 3)), true);
  assert.equal(counts.count(row(1, 2, 3)), 1);
  counts.clear();
  assert.equal(counts.size, 0);
});

test("RowCounts: many rows through growth and deletions, and toTuples / addTuples in both modes", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 50;
  const counts = new RowCounts(4, { capacity: 4 });
  const reference = new Map<string, number>();
  const key = (r: Float64Array) => Array.from(r, (v) => (Object.is(v, -0) ? "-0" : String(v))).join(",");
  const rows: Float64Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = row(next(), next(), next() / 4, -next());
    rows.push(r);
    counts.add(r);
    reference.set(key(r), (reference.get(key(r)) ?? 0) + 1);
  }
  const logged = new RowCounts(4);
  logged.addTuples(counts.toTuples()); // still in log mode: every add with count 1
  const original = new Map(reference);
  for (let i = 0; i < 3000; i += 2) {
    const r = rows[i];
    assert.equal(counts.retract(r), true);
    const n = reference.get(key(r))! - 1;
    if (n === 0) reference.delete(key(r));
    else reference.set(key(r), n);
  }
  assert.equal(counts.size, reference.size);
  for (const [k, n] of reference) assert.equal(counts.count(Float64Array.from(k.split(","), Number)), n);
  const copy = new RowCounts(4);
  copy.addTuples(counts.toTuples());
  assert.equal(copy.size, reference.size);
  for (const [k, n] of reference) assert.equal(copy.count(Float64Array.from(k.split(","), Number)), n);
  assert.equal(logged.size, original.size);
  for (const [k, n] of original) assert.equal(logged.count(Float64Array.from(k.split(","), Number)), n);
  assert.throws(() => copy.addTuples(row(1, 2, 3, 4, 0)), RangeError);
  assert.throws(() => copy.addTuples(row(1, 2, 3)), RangeError);
  assert.throws(() => new RowCounts(1), RangeError);
});
