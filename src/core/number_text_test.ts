import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { formatNumber } from "../model/format_number.ts";
import { NUMBER_TEXT_BYTES, NumberText, sharedNumberText, shareNumberText } from "./number_text.ts";
import { RegressionCore } from "./regression_core.ts";
import { ModelCore } from "./model_core.ts";

const builds = {
  release: await readFile(new URL("../../build/streamreg.wasm", import.meta.url)),
  debug: await readFile(new URL("../../build/streamreg.debug.wasm", import.meta.url)),
};

const bits = new DataView(new ArrayBuffer(8));
/** The double with the bits hi·2^32 + lo. */
function fromBits(hi: number, lo: number): number {
  bits.setUint32(0, hi >>> 0);
  bits.setUint32(4, lo >>> 0);
  return bits.getFloat64(0);
}
/** The next double up (towards +Infinity) or down, through the bits. */
function next(x: number, up: boolean): number {
  if (Number.isNaN(x) || x === (up ? Infinity : -Infinity)) return x;
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  bits.setFloat64(0, x);
  let v = bits.getBigUint64(0);
  v = (x > 0) === up ? v + 1n : v - 1n;
  bits.setBigUint64(0, v);
  return bits.getFloat64(0);
}

/** A small generator (mulberry32) of 32-bit integers, seeded per run (the seed is in failures). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0; // 32 random bits
  };
}
const seed = (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;

/**
 * Writes every value (and its negative) with `NumberText.write`, separated by commas, into one buffer,
 * and compares the text with formatNumber's; on a difference, names the first value that differs.
 */
function check(numbers: NumberText, values: ArrayLike<number>, what: string): void {
  const bytes = new Uint8Array(values.length * 2 * (NUMBER_TEXT_BYTES + 1));
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    at = numbers.write(values[i], bytes, at);
    bytes[at++] = 0x2c;
    at = numbers.write(-values[i], bytes, at);
    bytes[at++] = 0x2c;
  }
  const got = new TextDecoder().decode(bytes.subarray(0, at));
  for (const cell of got.split(",")) {
    assert.ok(cell.length <= NUMBER_TEXT_BYTES, `${what}: "${cell}" is too long`);
  }
  const want: string[] = [];
  for (let i = 0; i < values.length; i++) want.push(formatNumber(values[i]), formatNumber(-values[i]));
  const expected = `${want.join(",")},`;
  if (got === expected) return;
  const cells = got.split(",");
  for (let i = 0; i < values.length; i++) {
    for (const [k, v] of [[2 * i, values[i]], [2 * i + 1, -values[i]]]) {
      if (cells[k] !== formatNumber(v)) {
        bits.setFloat64(0, v);
        assert.fail(
          `${what} (seed ${seed}): bits 0x${bits.getBigUint64(0).toString(16)} gave "${cells[k]}", ` +
            `String gives "${formatNumber(v)}"`,
        );
      }
    }
  }
  assert.fail(`${what}: the texts differ in length (${got.length}, String's ${expected.length})`);
}

/** Every value with its 3 neighbours on either side. */
function withNeighbours(values: number[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    let up = v, down = v;
    out.push(v);
    for (let k = 0; k < 3; k++) {
      up = next(up, true);
      down = next(down, false);
      out.push(up, down);
    }
  }
  return out;
}

for (const [build, bytes] of Object.entries(builds)) {
  const numbers = await NumberText.load(bytes);

  test(`NumberText (${build}): special values as formatNumber writes them`, () => {
    const values = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 2 ** -1022, 1, 0.1];
    check(numbers, withNeighbours(values), "special values");
    assert.equal(numbers.text(-0), "-0");
    assert.equal(numbers.text(0), "0");
    assert.equal(numbers.text(NaN), "NaN");
    assert.equal(numbers.text(-Infinity), "-Infinity");
    assert.equal(numbers.text(0.1 + 0.2), String(0.1 + 0.2));
    // the longest texts: 17 digits after "-0.00000", after "-" and before "e-308", and 21 integer digits
    for (const x of [-1.2345678901234567e-6, -1.2345678901234567e-308, -1.2345678901234567e20]) {
      assert.equal(numbers.text(x), formatNumber(x));
    }
    assert.equal(numbers.text(-1.2345678901234567e-6).length, NUMBER_TEXT_BYTES);
    assert.ok(numbers.text(-1.2345678901234567e-308).length < NUMBER_TEXT_BYTES);
    assert.ok(numbers.text(-1.2345678901234567e20).length < NUMBER_TEXT_BYTES);
  });

  test(`NumberText (${build}): 10^6 random bit patterns and 10^5 random subnormals`, () => {
    const next32 = rng(seed);
    const values = new Float64Array(1_000_000);
    for (let i = 0; i < values.length; i++) values[i] = fromBits(next32(), next32());
    check(numbers, values, "random bits");
    const subnormals = new Float64Array(100_000);
    for (let i = 0; i < subnormals.length; i++) subnormals[i] = fromBits(next32() & 0x000f_ffff, next32());
    check(numbers, subnormals, "random subnormals");
  }, { timeoutMs: 90_000 });

  test(`NumberText (${build}): every power of 2 and of 10, with neighbours`, () => {
    const powers: number[] = [];
    for (let e = -1074; e <= 1023; e++) powers.push(2 ** e);
    for (let e = -323; e <= 308; e++) powers.push(Number(`1e${e}`));
    check(numbers, withNeighbours(powers), "powers");
  });

  test(`NumberText (${build}): the format boundaries 1e21 and 1e-7, integers near 2^53 and 2^64`, () => {
    const values = withNeighbours([1e21, 1e-7, 1e-6, 1e20, 999999999999999900000, 1.5e-7, 9.99999e-7]);
    for (let k = -2000; k <= 2000; k++) values.push(2 ** 53 + k, 2 ** 53 + 2 * k, 2 ** 64 + 4096 * k);
    for (let e = 0; e <= 22; e++) values.push(...withNeighbours([10 ** e - 1, 10 ** e + 1, 1.234 * 10 ** e]));
    check(numbers, values, "boundaries");
  });

  test(`NumberText (${build}): doubles of the shapes of data and fits, and exact decimal ties`, () => {
    const next32 = rng(seed + 1);
    const unit = () => (next32() * 2 ** 21 + (next32() >>> 11)) / 2 ** 53; // [0, 1), 53 bits
    const values = new Float64Array(400_000);
    for (let i = 0; i < 100_000; i++) {
      values[i] = 1.7e9 + unit() * 1e8; // times with fractions
      values[100_000 + i] = (unit() * 2 - 1) * 10 ** ((next32() % 40) - 20); // any scale
      values[200_000 + i] = (unit() * 1e6 - 5e5) / (unit() * 1e3 + 1e-3); // a/b, as a fit's slope
      // x = j / 2^k, j odd at full precision: at k = 2, 1.2…4.25 lies halfway between …4.2 and …4.3, the
      // shortest in its interval; String takes the even one
      const k = 1 + (i % 12);
      values[300_000 + i] = (2 ** 52 + 2 * (next32() * 2 ** 19 + (next32() >>> 13)) + 1) / 2 ** k;
    }
    check(numbers, values, "shapes");
    // the ties named above, and that they are ties (the text ends in the even neighbour)
    for (let i = 0; i < 1000; i++) {
      const x = (2 ** 52 + 2 * (next32() * 2 ** 19 + (next32() >>> 13)) + 1) / 4; // in [2^50, 2^51), .25 or .75
      const text = numbers.text(x);
      assert.equal(text, formatNumber(x));
      assert.match(text, /\.[28]$/, `${text} for ${x}`);
    }
  });

  test(`NumberText (${build}): write returns the offset after the text, and refuses no room`, () => {
    const bytes = new Uint8Array(8);
    assert.equal(numbers.write(12.5, bytes, 2), 6);
    assert.equal(new TextDecoder().decode(bytes.subarray(2, 6)), "12.5");
    assert.throws(() => numbers.write(0.1, bytes, 6), RangeError);
  });
}

test("shareNumberText shares one instance", async () => {
  const before = sharedNumberText();
  const numbers = await NumberText.load(builds.release);
  shareNumberText(numbers);
  assert.equal(sharedNumberText(), numbers);
  shareNumberText(before);
});

test("a core's numberText writes through its instance and leaves its state alone", async () => {
  const line = await RegressionCore.load(builds.release);
  line.add(new Float64Array([1, 2, 3.5]), new Float64Array([0.1, 0.7, 1.9]));
  const model = await ModelCore.load(builds.release, { k: 1, degree: 2, intercept: true });
  model.update(
    [new Float64Array([1, 2, 3.5, 4])],
    new Float64Array([0.1, 0.7, 1.9, 2.5]),
    new Float64Array(4).fill(1),
  );
  const fitBefore = line.fit(), modelBefore = model.fit(), state = line.snapshot();
  const next32 = rng(seed + 2);
  const values = new Float64Array(100_000);
  for (let i = 0; i < values.length; i++) values[i] = fromBits(next32(), next32());
  check(line.numberText(), values, "RegressionCore.numberText");
  check(model.numberText(), values, "ModelCore.numberText");
  assert.equal(line.numberText(), line.numberText());
  assert.deepEqual(line.fit(), fitBefore);
  assert.deepEqual(model.fit(), modelBefore);
  assert.deepEqual(line.snapshot(), state);
});
