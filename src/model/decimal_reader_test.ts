import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { DecimalReader } from "./decimal_reader.ts";
import { formatNumber } from "./format_number.ts";

const reader = new DecimalReader();
const valuesOnly = new DecimalReader({ canonical: false });
const encoder = new TextEncoder();

/**
 * `readBytes` of `text` inside a line of other bytes and `read` of it, with and without the canonical
 * check: the same value (NaN included) and the same `canonical` (always false without the check).
 */
function checkBytes(text: string, value: number, canonical: boolean): void {
  const bytes = encoder.encode(`7,${text}\n`);
  const end = bytes.length - 1;
  const got = reader.readBytes(bytes, 2, end);
  if (value === value || got !== got) {
    assert.ok(Object.is(got, value), `${text}: readBytes gives ${got}, read ${value}`);
  } else assert.ok(Object.is(got, Number(text)), `${text}: readBytes gives ${got}, Number ${Number(text)}`);
  if (reader.canonical) assert.equal(formatNumber(got), text, `${text}: said canonical by readBytes`);
  else if (canonical) assert.fail(`${text}: canonical, readBytes says not`);
  // Without the check: the same value, or one where `read` gives none (16-17 digits below 2^53), Number's.
  const same = (v: number) => Object.is(v, value) || (value !== value && Object.is(v, Number(text)));
  const plain = valuesOnly.readBytes(bytes, 2, end);
  assert.ok(same(plain), `${text}: readBytes without the check gives ${plain}, read ${value}`);
  assert.equal(valuesOnly.canonical, false);
  assert.ok(same(valuesOnly.read(text, 0, text.length)));
  assert.equal(valuesOnly.canonical, false);
}

/** Reads `text` whole; checks the value against `Number` and `canonical` against `formatNumber`. */
function check(text: string): { value: number; canonical: boolean } {
  const value = reader.read(text, 0, text.length);
  const canonical = reader.canonical;
  checkBytes(text, value, canonical);
  if (value === value) {
    assert.ok(Object.is(value, Number(text)), `${text}: read ${value}, Number gives ${Number(text)}`);
    if (canonical) assert.equal(formatNumber(value), text, `${text} is said canonical`);
  } else {
    assert.equal(canonical, false, `${text}: no value, so not canonical`);
  }
  return { value, canonical };
}

test("decimal reader: a field inside a line, and the texts String writes", () => {
  assert.equal(reader.read("x=-12.5e1,", 2, 9), -125);
  assert.equal(reader.canonical, false);
  for (
    const text of ["0", "-0", "1", "-1", "0.5", "1700000000", "1700000000.123", "0.000001", "123456789012345"]
  ) {
    assert.equal(check(text).canonical, true, text);
  }
  for (
    const text of ["850000001.3153778", "0.30000000000000004", "1712345678.1234567", "-3.141592653589793"]
  ) {
    const { value, canonical } = check(text);
    assert.equal(value, Number(text));
    assert.equal(canonical, true, text);
  }
});

test("decimal reader: texts that read as a number but are not as formatNumber writes them", () => {
  for (
    const text of [
      "1.50",
      "01.5",
      "+1.5",
      ".5",
      "5.",
      "1e3",
      "1E-3",
      "0.0000001",
      "0.0",
      "-0.0",
      "00",
      "0.10000000000000001", // 17 digits, but "0.1" reads as the same double
      "1700000000.1230000",
    ]
  ) {
    const { value, canonical } = check(text);
    assert.equal(canonical, false, text);
    assert.ok(value !== value || Object.is(value, Number(text)), text);
  }
  for (
    const text of ["", "-", ".", "1e", "1e+", "abc", " 1", "1 ", "NaN", "Infinity", "0x10", "1.2.3", "--1"]
  ) {
    assert.ok(Number.isNaN(reader.read(text, 0, text.length)), JSON.stringify(text));
    assert.equal(reader.canonical, false);
  }
});

test("decimal reader: halfway and near-halfway 16- and 17-digit decimals", () => {
  // Doubles in [2^52, 2^53) are the integers: x.5 lies exactly halfway (ties to even).
  for (
    const text of ["4503599627370496.5", "4503599627370497.5", "9007199254740991.5", "4503599627370496.4"]
  ) {
    check(text);
  }
  // The decimals one unit of the 17th digit around the midpoints of neighbouring doubles.
  const random = new PythonRandom(7);
  for (let t = 0; t < 20_000; t++) {
    const v = (1 + random.random()) * 2 ** Math.floor(random.random() * 80 - 20);
    const mid = v + v * 2 ** -53; // near the midpoint to the next double
    const digits = mid.toPrecision(17);
    if (digits.includes("e")) continue;
    const base = BigInt(digits.replace(".", ""));
    const point = digits.includes(".") ? digits.length - digits.indexOf(".") - 1 : 0;
    for (const d of [-2n, -1n, 0n, 1n, 2n]) {
      const s = (base + d).toString().padStart(point + 1, "0");
      check(point > 0 ? `${s.slice(0, -point)}.${s.slice(-point)}` : s);
    }
  }
});

test("decimal reader: String of random doubles reads back exactly, almost always as canonical", () => {
  const random = new PythonRandom(42);
  let canonical = 0;
  let read = 0;
  const trials = 100_000;
  for (let t = 0; t < trials; t++) {
    const v = (random.random() < 0.5 ? -1 : 1) * (1 + random.random()) *
      2 ** Math.floor(random.random() * 90 - 19);
    const text = String(v);
    const got = check(text);
    if (got.value === got.value) read++;
    if (got.canonical) canonical++;
  }
  // Every double from 2^-19 to 2^70 printed by String is plain or 16–17 digits: the fast paths take
  // nearly all (the rest are the integers of more than 15 digits and exponent forms).
  assert.ok(read > 0.75 * trials, `read ${read} of ${trials}`);
  assert.ok(canonical > 0.75 * trials, `canonical ${canonical} of ${trials}`);
});

test("decimal reader: random digit strings of 1 to 18 digits, any point, any exponent", () => {
  const random = new PythonRandom(3);
  for (let t = 0; t < 50_000; t++) {
    const n = 1 + Math.floor(random.random() * 18);
    let digits = "";
    for (let i = 0; i < n; i++) digits += String(Math.floor(random.random() * 10));
    const point = Math.floor(random.random() * (n + 1));
    let text = point === n ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
    if (random.random() < 0.2) text = `-${text}`;
    if (random.random() < 0.1) text += `e${Math.floor(random.random() * 50 - 25)}`;
    check(text);
  }
});

test("decimal reader: readBytes on hard cases agrees with Number, or gives NaN", () => {
  const hard = [
    // 17 and more significant digits
    "0.1234567890123456789",
    "12345678901234567890",
    "9007199254740993", // 2^53 + 1: halfway between two doubles
    "9007199254740995",
    "1.00000000000000011102230246251565404236316680908203125", // halfway above 1
    "1.0000000000000002",
    "0.30000000000000004",
    "850000001.3153778",
    "850000001.31537780",
    // subnormals, underflow, overflow
    "4.9e-324",
    "5e-324",
    "2.4703282292062327e-324", // halfway to the smallest subnormal
    "2.2250738585072011e-308",
    "2.2250738585072014e-308",
    "1e-400",
    "-1e-400",
    "1e400",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    // signs and exponents
    "-0",
    "+0",
    "-0.0",
    "+1.5",
    "-1.5e-5",
    "1e22",
    "1e23",
    "9.999999999999999e22",
    "123456789012345e7",
    "123456789012345e8",
    "1E-22",
    "1e-23",
    "1.5e+10",
    "1e",
    "1e+",
    "e5",
    "--1",
    "+-1",
    ".5",
    "5.",
    "-.5",
    "00.5",
    " 1",
    "1 ",
    "0x10",
    "NaN",
    "Infinity",
    "",
  ];
  for (const text of hard) {
    const value = reader.read(text, 0, text.length);
    const canonical = reader.canonical;
    checkBytes(text, value, canonical);
    if (value === value) {
      assert.ok(Object.is(value, Number(text)), `${text}: ${value} is not ${Number(text)}`);
    }
  }
  // Whatever readBytes gives a number for is Number's double; it gives one for all plain short decimals.
  assert.equal(reader.readBytes(encoder.encode("1700000000.064"), 0, 14), 1700000000.064);
  assert.equal(reader.canonical, true);
});

test("decimal reader: readBytes of random decimals of 1 to 25 digits, signs and exponents, is Number's", () => {
  const random = new PythonRandom(11);
  let read = 0;
  const trials = 50_000;
  for (let t = 0; t < trials; t++) {
    const n = 1 + Math.floor(random.random() * 25);
    let digits = "";
    for (let i = 0; i < n; i++) digits += String(Math.floor(random.random() * 10));
    const point = Math.floor(random.random() * (n + 1));
    let text = point === n ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
    const sign = random.random();
    if (sign < 0.2) text = `-${text}`;
    else if (sign < 0.25) text = `+${text}`;
    if (random.random() < 0.3) text += `e${Math.floor(random.random() * 700 - 350)}`;
    const bytes = encoder.encode(text);
    const value = valuesOnly.readBytes(bytes, 0, bytes.length);
    if (value === value) {
      read++;
      assert.ok(Object.is(value, Number(text)), `${text}: readBytes gives ${value}, Number ${Number(text)}`);
    }
    checkBytes(text, reader.read(text, 0, text.length), reader.canonical);
  }
  assert.ok(read > trials / 4, `read ${read} of ${trials}`);
});
