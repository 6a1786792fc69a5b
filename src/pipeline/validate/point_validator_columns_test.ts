// The validator with several x columns: each column is checked as x is, and a retraction must match an
// added row in every column, bit for bit.
import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import type { PointChunk } from "../../model/source.ts";
import { RowCounts } from "../../model/row_counts.ts";
import { PointValidator } from "./point_validator.ts";

function chunk(rows: number[][]): PointChunk {
  const k = rows[0].length - 2;
  const xs = Array.from({ length: k }, (_, c) => Float64Array.from(rows, (r) => r[c]));
  return {
    x: xs[0],
    xs,
    y: Float64Array.from(rows, (r) => r[k]),
    diff: Float64Array.from(rows, (r) => r[k + 1]),
    where: (i) => `row ${i}`,
  };
}

const found = (validator: PointValidator, c: PointChunk) =>
  (validator.check(c)?.rejected ?? []).map(({ index, rejection }) =>
    `${index} ${rejection.reason}: ${rejection.detail} [${rejection.raw}]`
  );

test("PointValidator, several x: every column is checked, and named", () => {
  const validator = new PointValidator({ columns: { x: ["p", "q", "r"], y: "v" } });
  const rejected = found(
    validator,
    chunk([
      [1, 2, 3, 4, 1],
      [1, NaN, 3, 4, 1],
      [1, 2, Infinity, 4, 1],
      [1, 2, 3, 2 ** 441, 1],
      [2 ** -441, 2, 3, 4, 1],
      [1, 2, 3, 4, 0.5],
      [1, 2, 3, 4, -1],
      [1, 2, 3, 4, -1],
      [1, -0, 3, 4, 1],
      [1, 0, 3, 4, -1],
    ]),
  );
  assert.deepEqual(rejected, [
    "1 nan: q is NaN [1,NaN,3,4,1]",
    "2 infinite: r is Infinity [1,2,Infinity,4,1]",
    "3 out_of_range: v is 5.678427533559429e+132: outside [2^-440, 2^440], the magnitudes the core sums exactly " +
    "[1,2,3,5.678427533559429e+132,1]",
    "4 out_of_range: p is 1.761050914342067e-133: outside [2^-440, 2^440], the magnitudes the core sums exactly " +
    "[1.761050914342067e-133,2,3,4,1]",
    "5 bad_diff: diff is 0.5: it must be 1 (add the point) or -1 (retract it) [1,2,3,4,0.5]",
    "7 unknown_retraction: retracts (p, q, r, v) = (1, 2, 3, 4), which is not among the points added [1,2,3,4,-1]",
    "9 unknown_retraction: retracts (p, q, r, v) = (1, 0, 3, 4), which is not among the points added [1,0,3,4,-1]",
  ]);
  assert.equal(validator.distinctPoints, 1); // (1, -0, 3, 4) is left
  assert.ok(validator.multiset instanceof RowCounts);
  assert.equal((validator.multiset as RowCounts).count(Float64Array.of(1, -0, 3, 4)), 1);
});

test("PointValidator, several x: a resumed multiset of rows; a source that never retracts keeps none", () => {
  const counts = new RowCounts(3);
  counts.add(Float64Array.of(5, 6, 7));
  const resumed = new PointValidator({ counts });
  assert.deepEqual(found(resumed, chunk([[5, 6, 7, -1], [5, 6, 7, -1]])), [
    "1 unknown_retraction: retracts (x1, x2, y) = (5, 6, 7), which is not among the points added [5,6,7,-1]",
  ]);
  const addOnly = new PointValidator({ retractions: false });
  assert.deepEqual(found(addOnly, chunk([[1, 2, 3, 1], [NaN, 2, 3, 1]])), ["1 nan: x1 is NaN [NaN,2,3,1]"]);
  assert.equal(addOnly.tracking, false);
  assert.equal(addOnly.distinctPoints, 0);
});

test("PointValidator, several x with keys and times: retractions match per key, in every column and the time", () => {
  const validator = new PointValidator({
    columns: { x: ["p", "q"], y: "v" },
    window: { hop: 1000 },
    maxKeys: 2,
  });
  const c = {
    ...chunk([
      [1, 2, 3, 1],
      [1, 2, 3, -1], // key b never added it
      [1, 2, 3, -1], // key a: the time differs
      [1, NaN, 3, 1],
      [5, 6, 7, 1], // a third key
      [1, 2, 3, -1],
      [8, 9, 10, 1],
    ]),
    keys: ["a", "b", "a", "a", "c", "a", "b"],
    times: Float64Array.of(5000, 5000, 5999, 5000, 5000, 5500, 5000),
  };
  assert.deepEqual(found(validator, c), [
    "1 unknown_retraction: retracts (p, q, v) = (1, 2, 3), which is not among the points added for its key [1,2,3,-1]",
    "2 unknown_retraction: retracts (p, q, v) = (1, 2, 3), which is not among the points added for its key [1,2,3,-1]",
    "3 nan: q is NaN [1,NaN,3,1]",
    "5 unknown_retraction: retracts (p, q, v) = (1, 2, 3), which is not among the points added for its key [1,2,3,-1]",
    "6 too_many_keys: a new key while 2 keys are held, the most --max-keys allows [8,9,10,1]",
  ]);
  // (row 5's time 5500 differs from the added 5000 too; keys a and c hold points, b none)
  assert.equal(validator.keyCount("a"), 1);
  assert.equal(validator.keyCount("c"), 1);
  assert.equal(validator.keys, 2);
  // The added points of a key: rows of p, q, v and the time, as a checkpoint stores them.
  const bytes = validator.keyPointBytes("a")!;
  assert.deepEqual(Array.from(new Float64Array(bytes.buffer.slice(0))), [1, 2, 3, 5000]);
  const resumed = new PointValidator({ columns: { x: ["p", "q"], y: "v" }, window: { hop: 1000 } });
  resumed.restoreKey("a", 1);
  resumed.restoreKeyPoints("a", bytes, 4);
  const retract = { ...chunk([[1, 2, 3, -1]]), keys: ["a"], times: Float64Array.of(5000) };
  assert.deepEqual(found(resumed, retract), []);
  assert.equal(resumed.keyCount("a"), 0);
});
