import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { PointParser } from "./messages.ts";
import { type CsvLayout, csvLayout } from "../../model/csv.ts";

const columns = { x: "x", y: "y" };
const layout = (header: string, names = columns) => csvLayout(header, names) as CsvLayout;

test("kafka messages: CSV rows become points, or say why not with a reason code", () => {
  const parser = new PointParser(columns);
  const twoFields = layout("x,y");
  assert.equal(parser.csv("0,0.06888437030500963", twoFields), true);
  assert.deepEqual([parser.x, parser.y], [0, 0.06888437030500963]);
  assert.equal(parser.csv('"3"," 4.5 "\n', twoFields), true);
  assert.deepEqual([parser.x, parser.y], [3, 4.5]);
  assert.equal(parser.csv("a,3,1", layout("note,y,x")), true);
  assert.deepEqual([parser.x, parser.y], [1, 3]);
  assert.equal(parser.csv("NaN,1", twoFields), true, "NaN is a number here; the pipeline rejects it");
  assert.ok(Number.isNaN(parser.x));

  const rejected = (text: string, l = twoFields) => {
    assert.equal(parser.csv(text, l), false, text);
    return parser.rejected;
  };
  assert.deepEqual(rejected("x,y"), { reason: "not_a_number", detail: 'x is "x", not a number' });
  assert.deepEqual(rejected("1,abc"), { reason: "not_a_number", detail: 'y is "abc", not a number' });
  assert.equal(rejected("1,").reason, "empty_field");
  assert.equal(rejected("1e400,1").reason, "overflow");
  assert.equal(rejected("1,1e-400").reason, "out_of_range");
  assert.deepEqual(rejected("1"), { reason: "missing_column", detail: "1 field where the header has 2" });
  assert.deepEqual(rejected("1,2,3"), { reason: "extra_fields", detail: "3 fields where the header has 2" });
  assert.equal(rejected('"1,2').reason, "bad_csv");
});

test("kafka messages: ranges of one string give the same points and reasons as csv", () => {
  const parser = new PointParser(columns);
  const text = "#12,-0.5e-3#7,abc#";
  assert.equal(parser.ranges(text, 1, 3, 4, 11), true);
  assert.deepEqual([parser.x, parser.y], [12, -0.0005]);
  assert.equal(parser.ranges(text, 12, 13, 14, 17), false);
  assert.deepEqual(parser.rejected, { reason: "not_a_number", detail: 'y is "abc", not a number' });
  // After a miss, the slow path is taken until retryExact; the results are the same.
  assert.equal(parser.ranges("1.5,2", 0, 3, 4, 5), true);
  parser.retryExact();
  assert.equal(parser.ranges("0.06888437030500963,1", 0, 19, 20, 21), true);
  assert.equal(parser.x, 0.06888437030500963);
});

test("kafka messages: JSON objects with numeric fields", () => {
  const parser = new PointParser({ x: "t", y: "v" });
  assert.equal(parser.json('{"t": 1, "v": 0.06888437030500963, "id": "a"}'), true);
  assert.deepEqual([parser.x, parser.y], [1, 0.06888437030500963]);
  const rejected = (text: string) => {
    assert.equal(parser.json(text), false, text);
    assert.equal(parser.rejected.reason, "bad_json");
    return parser.rejected.detail;
  };
  assert.equal(rejected('{"t": 1}'), 'no field "v"');
  assert.equal(rejected('{"t": "1", "v": 2}'), 't is the string "1", not a number');
  assert.equal(rejected('{"t": null, "v": 2}'), "t is null, not a number");
  assert.equal(rejected('{"t": 1, "v": [1, 2]}'), "v is [1,2], not a number");
  assert.match(rejected("[1, 2]"), /^not a JSON object/);
  assert.match(rejected("t,v"), /^not JSON/);
});

test("kafka messages: bytes that are not UTF-8 are told apart from a U+FFFD that is there", async () => {
  const { messageText } = await import("./messages.ts");
  const bytes = (...b: number[]) => Uint8Array.from(b);
  assert.equal(messageText(new TextEncoder().encode("1,2")), "1,2");
  assert.equal(messageText(null), "");
  assert.equal(messageText(new TextEncoder().encode("1,\uFFFD")), "1,\uFFFD", "a real U+FFFD is UTF-8");
  assert.equal(messageText(bytes(0x31, 0x2c, 0x80)), undefined);
  assert.equal(messageText(bytes(0x31, 0x2c, 0xed, 0xa0, 0x80)), undefined, "a surrogate");
  assert.equal(messageText(bytes(0xc3)), undefined, "a cut sequence");
  const parser = new PointParser(columns);
  assert.equal(parser.notUtf8(), false);
  assert.equal(parser.rejected.reason, "invalid_utf8");
});

test("kafka messages: JSON literals that do not fit a double are overflow / out_of_range, as in CSV", () => {
  const parser = new PointParser(columns);
  const reason = (text: string) => (parser.json(text) ? [parser.x, parser.y] : parser.rejected.reason);
  assert.equal(reason('{"x": 1e400, "y": 1}'), "overflow");
  assert.equal(reason('{"x": 1, "y": -1e400}'), "overflow");
  assert.equal(reason('{"x": 1e-400, "y": 1}'), "out_of_range");
  assert.deepEqual(reason('{"x": 0, "y": -0.0e5, "note": 1e-400}'), [0, -0]);
  assert.deepEqual(
    reason('{"x": 1e-200, "y": 2}'),
    [1e-200, 2],
    "(the validator rejects it: out of the core's range)",
  );
  assert.equal(reason("[1, 2]"), "bad_json");
  assert.equal(reason('{"x": "1", "y": 2}'), "bad_json");
  assert.equal(reason('{"x": 1}'), "bad_json");
  assert.equal(reason("NaN"), "bad_json");
});
