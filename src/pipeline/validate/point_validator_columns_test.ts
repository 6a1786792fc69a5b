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
