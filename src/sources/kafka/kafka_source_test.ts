import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { PythonRandom } from "../demo/python_random.ts";
import { type CsvLayout, csvLayout, exactDecimal, PointParser, splitCsvRecord } from "./kafka_source.ts";

const columns = { x: "x", y: "y" };
const layout = (header: string, names = columns) => csvLayout(header, names) as CsvLayout;

test("kafka messages: splitCsvRecord handles plain fields, RFC 4180 quotes and a trailing line break", () => {
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

test("kafka messages: a CSV header names x and y in any order; other columns are ignored", () => {
  assert.deepEqual(csvLayout("x,y", columns), { x: 0, y: 1, width: 2 });
  assert.deepEqual(csvLayout(" y , note, x\r\n", columns), { x: 2, y: 0, width: 3 });
  assert.deepEqual(csvLayout("\uFEFFx,y", columns), { x: 0, y: 1, width: 2 });
  assert.deepEqual(csvLayout("t,price", { x: "t", y: "price" }), { x: 0, y: 1, width: 2 });
  assert.equal(csvLayout("0,0.06888437030500963", columns), 'no column "x"');
  assert.equal(csvLayout("x,z", columns), 'no column "y"');
  assert.equal(csvLayout("x,y", { x: "x", y: "x" }), 'x and y are the same column "x"');
  assert.equal(csvLayout('"x,y', columns), "unbalanced quotes");
});

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

test("kafka messages: exactDecimal agrees with Number bit for bit whenever it answers", () => {
  const rng = new PythonRandom(42);
  let answered = 0;
  for (let i = 0; i < 100_000; i++) {
    const r = rng.random();
    const v = (rng.random() - 0.5) * 10 ** Math.floor(r * 40 - 20);
    const forms = [
      String(v),
      v.toPrecision(1 + (i % 17)),
      v.toExponential(i % 16),
      v.toFixed(i % 12),
      String(Math.floor(v * 1000)),
    ];
    for (const s of forms) {
      const e = exactDecimal(`,${s},`, 1, s.length + 1);
      if (Number.isNaN(e)) continue;
      answered++;
      assert.ok(Object.is(e, Number(s)), `${s}: ${e} vs ${Number(s)}`);
    }
  }
  assert.ok(answered > 200_000, `the fast path answers most short numbers (${answered})`);
  for (const s of ["-0", "+5", "1.", "1.e5", ".5", "0001234", "1e22", "9e-22", "123456789012345"]) {
    assert.ok(Object.is(exactDecimal(s, 0, s.length), Number(s)), s);
  }
  for (
    const s of ["", "-", ".", "e5", ".e5", "5e", "5e+", " 1", "1 ", "0x10", "NaN", "1e23", "1e-23", "1_0"]
  ) {
    assert.ok(Number.isNaN(exactDecimal(s, 0, s.length)), `"${s}" is left to Number`);
  }
  assert.ok(Number.isNaN(exactDecimal("1234567890123456", 0, 16)), "16 significant digits");
  assert.equal(exactDecimal("0.000000000000001234567890123456", 0, 32), NaN);
});

test("kafka messages: bytes that are not UTF-8 are told apart from a U+FFFD that is there", async () => {
  const { messageText } = await import("./kafka_source.ts");
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
