import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { exactDecimal, parseNumber, parseNumberField, plainNumbers } from "./numbers.ts";

test("numbers: parseNumberField: numbers, and the reason when a field is not one", () => {
  assert.equal(parseNumberField(" 2.5 ", "x"), 2.5);
  assert.equal(parseNumberField("-0", "x"), -0);
  assert.ok(Object.is(parseNumberField("-0", "x"), -0));
  assert.equal(parseNumberField("0x10", "x"), 16);
  assert.equal(parseNumberField("0e-999", "x"), 0);
  assert.equal(parseNumberField("5e-324", "x"), 5e-324, "subnormal: the pipeline rejects it as out_of_range");
  assert.ok(Number.isNaN(parseNumberField("NaN", "x") as number));
  assert.equal(parseNumberField(" -Infinity", "y"), -Infinity);
  assert.deepEqual(parseNumberField("", "x"), {
    reason: "empty_field",
    detail: "x is empty: every point needs a number",
  });
  assert.deepEqual(parseNumberField("  ", "y"), {
    reason: "empty_field",
    detail: "y is empty: every point needs a number",
  });
  assert.deepEqual(parseNumberField("abc", "y"), {
    reason: "not_a_number",
    detail: 'y is "abc", not a number',
  });
  assert.deepEqual(parseNumberField("nan", "y"), {
    reason: "not_a_number",
    detail: 'y is "nan", not a number',
  });
  assert.deepEqual(parseNumberField("inf", "y"), {
    reason: "not_a_number",
    detail: 'y is "inf", not a number',
  });
  assert.deepEqual(parseNumberField("1,5", "y"), {
    reason: "not_a_number",
    detail: 'y is "1,5", not a number',
  });
  assert.deepEqual(parseNumberField("-1e400", "x"), {
    reason: "overflow",
    detail: 'x is "-1e400": too large for a double (it would read as -Infinity)',
  });
  assert.deepEqual(parseNumberField("0x" + "f".repeat(300), "x").valueOf(), {
    reason: "overflow",
    detail: `x is "0x${"f".repeat(38)}…": too large for a double (it would read as Infinity)`,
  });
  assert.deepEqual(parseNumberField("0.0001e-400", "x"), {
    reason: "out_of_range",
    detail: 'x is "0.0001e-400": too small for a double (it would read as 0)',
  });
});

test("numbers: exactDecimal agrees with Number bit for bit whenever it answers", () => {
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

test("numbers: parseNumber is Number() but undefined for a blank field or text that is no number", () => {
  assert.equal(parseNumber(" 2.5 "), 2.5);
  assert.equal(parseNumber(""), undefined);
  assert.equal(parseNumber("  "), undefined);
  assert.equal(parseNumber("1,5"), undefined);
  assert.equal(parseNumber("abc"), undefined);
  assert.ok(Number.isNaN(parseNumber(" NaN ")!));
  // Where parseNumberField gives a reason (overflow, out_of_range), parseNumber reads as Number() does.
  const rng = new PythonRandom(7);
  const forms = [
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "0x" + "f".repeat(300),
    "0e-999",
    "-0",
    "0x10",
    " -Infinity",
  ];
  for (let i = 0; i < 2000; i++) {
    forms.push(String((rng.random() - 0.5) * 10 ** Math.floor(rng.random() * 40 - 20)));
  }
  for (const field of forms) {
    assert.ok(Object.is(parseNumber(field), Number(field)), field);
  }
});

test("plainNumbers reads every field of a plain record as exactDecimal does, or says -1", () => {
  const out = new Float64Array(8);
  assert.equal(plainNumbers("1.5,-2,3e2", 0, 10, out), 3);
  assert.deepEqual([...out.subarray(0, 3)], [1.5, -2, 300]);
  assert.equal(plainNumbers("x=1,2", 2, 5, out), 2); // a range inside a longer text
  assert.deepEqual([...out.subarray(0, 2)], [1, 2]);
  assert.equal(plainNumbers("-0,.5,5.,007", 0, 12, out), 4);
  assert.ok(Object.is(out[0], -0) && out[1] === 0.5 && out[2] === 5 && out[3] === 7);
  for (
    const bad of [
      "1,abc",
      "1,",
      ",1",
      "1,,2",
      "1 ,2",
      "+1,2",
      "0.06888437030500963,1",
      "1e-400,1",
      "1e,2",
      "-,1",
      "1,2,3,4,5,6,7,8,9",
    ]
  ) {
    assert.equal(plainNumbers(bad, 0, bad.length, out), -1, bad);
  }
  // Random records of random decimals: the same doubles as exactDecimal field by field.
  let seed = 7;
  const r = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const field = () => {
    const digits = 1 + Math.floor(r() * 17);
    let t = r() < 0.3 ? "-" : "";
    const point = Math.floor(r() * (digits + 1));
    for (let i = 0; i < digits; i++) t += (i === point ? "." : "") + Math.floor(r() * 10);
    if (r() < 0.2) t += `e${r() < 0.5 ? "-" : ""}${Math.floor(r() * 30)}`;
    return t;
  };
  for (let n = 0; n < 20000; n++) {
    const fields = Array.from({ length: 1 + Math.floor(r() * 6) }, field);
    const line = fields.join(",");
    const got = plainNumbers(line, 0, line.length, out);
    const want = fields.map((f) => exactDecimal(f, 0, f.length));
    if (want.some((v) => Number.isNaN(v))) {
      assert.equal(got, -1, line);
    } else {
      assert.equal(got, fields.length, line);
      want.forEach((v, i) =>
        assert.ok(Object.is(out[i], v) && v === Number(fields[i]), `${line}: field ${i}`)
      );
    }
  }
});
