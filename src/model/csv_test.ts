import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { csvLayout, headerColumns, splitCsvRecord } from "./csv.ts";

const columns = { x: "x", y: "y" };

test("csv: splitCsvRecord handles plain fields, RFC 4180 quotes and a trailing line break", () => {
  assert.deepEqual(splitCsvRecord("1,2"), ["1", "2"]);
  assert.deepEqual(splitCsvRecord("1,2\n"), ["1", "2"]);
  assert.deepEqual(splitCsvRecord("1,2\r\n"), ["1", "2"]);
  assert.deepEqual(splitCsvRecord(""), [""]);
  assert.deepEqual(splitCsvRecord('"1","2,5",x'), ["1", "2,5", "x"]);
  assert.deepEqual(splitCsvRecord('a,"say ""hi""",'), ["a", 'say "hi"', ""]);
  assert.equal(splitCsvRecord('"open,1'), undefined);
  assert.equal(splitCsvRecord('"a"b,1'), undefined);
  assert.equal(splitCsvRecord('a"b,1'), undefined);
});

test("csv: a CSV header names x and y in any order; other columns are ignored", () => {
  assert.deepEqual(csvLayout("x,y", columns), { x: 0, y: 1, width: 2 });
  assert.deepEqual(csvLayout(" y , note, x\r\n", columns), { x: 2, y: 0, width: 3 });
  assert.deepEqual(csvLayout("\uFEFFx,y", columns), { x: 0, y: 1, width: 2 });
  assert.deepEqual(csvLayout("t,price", { x: "t", y: "price" }), { x: 0, y: 1, width: 2 });
  assert.equal(csvLayout("0,0.06888437030500963", columns), 'no column "x"');
  assert.equal(csvLayout("x,z", columns), 'no column "y"');
  assert.equal(csvLayout("x,y", { x: "x", y: "x" }), 'x and y are the same column "x"');
  assert.equal(csvLayout('"x,y', columns), "unbalanced quotes");
});

test("csv: headerColumns finds each named column among the trimmed fields, -1 if absent", () => {
  assert.deepEqual(headerColumns([" y ", "x", "note"], ["x", "y", "diff"]), [1, 0, -1]);
  assert.deepEqual(headerColumns(["x", "x"], ["x"]), [0], "the first of two equal names");
  assert.deepEqual(headerColumns([], ["x"]), [-1]);
});
