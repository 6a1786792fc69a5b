import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { toDyadic } from "../../test/exact_rational.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { addProduct, addTerm, compress } from "./expansion.ts";

const SHIFT = 2200; // every value here is a multiple of 2^-2200

/** A double as an integer count of 2^-SHIFT. */
function scaled(d: number): bigint {
  const { m, e } = toDyadic(d);
  return m << BigInt(e + SHIFT);
}

function exact(e: Float64Array, at: number, n: number): bigint {
  let s = 0n;
  for (let i = at; i < at + n; i++) s += scaled(e[i]);
  return s;
}

/** Checks the expansion invariants: no zero, increasing magnitude, no overlap. */
function checkShape(e: Float64Array, at: number, n: number): void {
  for (let i = at; i < at + n; i++) {
    assert.notEqual(e[i], 0);
    if (i > at) {
      const lower = toDyadic(e[i - 1]);
      const upper = toDyadic(e[i]);
      // no overlap: the lower one's highest bit is below the upper one's lowest bit
      const highOfLower = lower.e + (lower.m < 0n ? -lower.m : lower.m).toString(2).length - 1;
      assert.ok(highOfLower < upper.e, `components ${e[i - 1]} and ${e[i]} overlap`);
    }
  }
}

test("expansion: sums of doubles and products are exact, in any order, and retracting undoes adding", () => {
  const random = new PythonRandom(5);
  for (let trial = 0; trial < 200; trial++) {
    const e = new Float64Array(64);
    let n = 0;
    let want = 0n;
    const terms: [number, number][] = [];
    const spread = Math.floor(random.random() * 200);
    for (let k = 0; k < 60; k++) {
      const a = (random.random() - 0.5) * 2 ** Math.floor(random.random() * spread - spread / 2);
      const b = random.random() < 0.5
        ? 1
        : (random.random() - 0.3) * 2 ** Math.floor(random.random() * 40 - 20);
      terms.push([a, b]);
      if (b === 1) {
        n = addTerm(e, 3, n, a);
        want += scaled(a);
      } else {
        n = addProduct(e, 3, n, a, b, 1);
        want += scaled(a) * scaled(b) >> BigInt(SHIFT);
      }
      if (n > 40) n = compress(e, 3, n);
      assert.equal(exact(e, 3, n), want);
    }
    n = compress(e, 3, n);
    checkShape(e, 3, n);
    assert.equal(exact(e, 3, n), want);
    // Retract every term, in another order: exactly zero, no component left.
    for (const [a, b] of terms.reverse()) {
      n = b === 1 ? addTerm(e, 3, n, -a) : addProduct(e, 3, n, a, b, -1);
      if (n > 40) n = compress(e, 3, n);
    }
    assert.equal(compress(e, 3, n), 0);
  }
});

test("expansion: 200 000 epoch-like products stay short after compress", () => {
  const e = new Float64Array(16);
  let n = 0;
  let want = 0n;
  for (let i = 0; i < 200_000; i++) {
    const x = (1_700_000_000_000 + 37 * i) / 1000;
    n = addProduct(e, 0, n, x, x, 1);
    if (n > 8) n = compress(e, 0, n);
    if (i % 50_000 === 0) want = exact(e, 0, n); // (the exact check at the end is the BigInt sum below)
  }
  let sum = 0n;
  for (let i = 0; i < 200_000; i++) {
    const x = scaled((1_700_000_000_000 + 37 * i) / 1000);
    sum += x * x;
  }
  n = compress(e, 0, n);
  assert.equal(exact(e, 0, n), sum >> BigInt(SHIFT));
  assert.ok(n <= 3, `${n} components`);
  assert.ok(want !== 0n);
});
