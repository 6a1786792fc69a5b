import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { KeyTable } from "../pipeline/keyed/key_table.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { fastFitSums, lineFilterCounts } from "./line_filter.ts";
import { RegressionCore } from "./regression_core.ts";

const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));

/** A key's sums as the core takes them (through a KeyTable: adds and retractions, inline and wide). */
function sumsOf(table: KeyTable, slot: number): Float64Array {
  let out = new Float64Array(0);
  table.loadInto(slot, { loadSums: (_count, sums) => void (out = sums.slice()) });
  return out;
}

type Shape = (random: PythonRandom, i: number) => [number, number];

/** Shapes of data, ordinary and adversarial. */
const SHAPES: Record<string, Shape> = {
  epoch: (r) => {
    const x = (1_700_000_000_000 + Math.floor(r.random() * 1e9)) / 1000;
    return [x, 0.5 * x + (r.random() - 0.5) * 100];
  },
  "epoch, y rounded to 12 digits": (r) => {
    const x = (1_700_000_000_000 + Math.floor(r.random() * 4e4)) / 1000;
    return [x, Number((0.5 * x + (r.random() - 0.5) * 100).toPrecision(12))];
  },
  "exact line": (r) => {
    const x = Math.floor(r.random() * 1000) - 500;
    return [x, 3 * x + 7];
  },
  "exact line through 0, power-of-two slope": (r) => {
    const x = (Math.floor(r.random() * 1000) - 500) / 8;
    return [x, 4 * x];
  },
  "constant y": (r) => [r.random() * 10, 2.5],
  "near-singular x": (r, i) => [1e9 + (i % 7 === 0 ? 2 ** -22 : 0), r.random()],
  "near-singular x, huge offset": (r, i) => [2 ** 200 * (1 + (i % 5 === 0 ? 2 ** -52 : 0)), r.random() - 0.5],
  "wide range": (r) => [
    (r.random() - 0.5) * 2 ** Math.floor(r.random() * 400 - 200),
    (r.random() - 0.5) * 2 ** Math.floor(r.random() * 400 - 200),
  ],
  "moderately wide": (r) => [
    (r.random() - 0.5) * 2 ** Math.floor(r.random() * 60 - 30),
    (r.random() - 0.5) * 2 ** Math.floor(r.random() * 60 - 30),
  ],
  "near the core's limits": (r) => [r.random() * 2 ** -430 + 2 ** -439, (r.random() + 1) * 2 ** 430],
  "small integers with duplicates": (r) => [Math.floor(r.random() * 3), Math.floor(r.random() * 3)],
  "one distinct x": () => [5, 1],
  "tiny": (r) => [(r.random() + 1) * 2 ** -250, (r.random() - 0.5) * 2 ** -240],
  "huge": (r) => [(r.random() + 1) * 2 ** 250, (r.random() - 0.5) * 2 ** 280],
  "negative epoch": (r) => {
    const x = -(1_700_000_000 + r.random() * 1e4);
    return [x, -0.25 * x + r.random()];
  },
};

function same(got: { a: number; b: number; degenerate: boolean; count: number }, want: typeof got): boolean {
  return Object.is(got.a, want.a) && Object.is(got.b, want.b) && got.degenerate === want.degenerate &&
    got.count === want.count;
}

test("fastFitSums: bit for bit the core's fitSums on every case it answers (random, adversarial, with retractions)", async () => {
  const core = await RegressionCore.load(release);
  const random = new PythonRandom(2026);
  let answered = 0;
  let cases = 0;
  const epochAnswered = { fast: 0, all: 0 };
  for (const [name, shape] of Object.entries(SHAPES)) {
    for (let round = 0; round < 150; round++) {
      const table = new KeyTable();
      const slot = table.slot("k");
      const n = 1 + Math.floor(random.random() * (round % 3 === 0 ? 4 : 40));
      const held: [number, number][] = [];
      for (let i = 0; i < n; i++) {
        const p = shape(random, i);
        held.push(p);
        table.add(slot, p[0], p[1], 1);
      }
      // Retractions: some rounds take most points back, down to 0, 1 or 2 left.
      const keep = round % 4 === 1 ? Math.min(held.length, round % 3) : Math.ceil(held.length * 0.6);
      while (held.length > keep) {
        const [[x, y]] = held.splice(Math.floor(random.random() * held.length), 1);
        table.add(slot, x, y, -1);
      }
      const sums = sumsOf(table, slot);
      const count = table.count(slot);
      const want = core.fitSums(count, sums);
      const got = fastFitSums(count, sums);
      cases++;
      if (name.startsWith("epoch")) epochAnswered.all++;
      if (got === undefined) continue;
      answered++;
      if (name.startsWith("epoch")) epochAnswered.fast++;
      assert.ok(
        same(got, want),
        `${name}, round ${round}: ${JSON.stringify(got)} ≠ core ${JSON.stringify(want)} for ${
          sums.join(",")
        }`,
      );
      // The same through the table (fast path or core), as the keyed engine fits.
      assert.ok(same(table.fit(slot, core), want));
    }
  }
  assert.ok(answered > cases / 2, `the fast path answered ${answered} of ${cases}`);
  assert.ok(
    epochAnswered.fast >= 0.95 * epochAnswered.all,
    `epoch-like data: ${epochAnswered.fast} of ${epochAnswered.all} answered fast`,
  );
});

test("fastFitSums: exact ties and results a hair from a tie go to the core; degenerate and zero cases as the core", async () => {
  const core = await RegressionCore.load(release);
  const check = (points: [number, number][], what: string) => {
    const table = new KeyTable();
    const slot = table.slot("k");
    for (const [x, y] of points) table.add(slot, x, y, 1);
    const sums = sumsOf(table, slot);
    const want = core.fitSums(table.count(slot), sums);
    const got = fastFitSums(table.count(slot), sums);
    if (got !== undefined) {
      assert.ok(same(got, want), `${what}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
    }
    return got;
  };
  // b = 1 + 2^-53 exactly: halfway between 1 and 1 + 2^-52 (ties to even: 1).
  assert.equal(
    check([[0, 0], [1, 1 + 2 ** -52], [0, 0], [1, 1]], "a tie"),
    undefined,
    "a tie is left to the core",
  );
  for (let k = 1; k < 40; k++) {
    // Slopes within 2^-(53 + k) of a tie, above and below it, on both sides of zero.
    for (const sign of [1, -1]) {
      const d = 2 ** -52;
      const e = 2 ** -(52 + k);
      check([[0, 0], [1, sign * (1 + d)], [0, 0], [1, sign * (1 + e)]], `near a tie, k ${k}`);
      check([[0, 0], [4, sign * (3 + d)], [0, sign * e], [4, sign * 3]], `near a tie at 3/4, k ${k}`);
    }
  }
  assert.ok(check([[2, 1], [2, 3]], "one distinct x")?.degenerate);
  assert.deepEqual(check([[2, 1]], "one point"), { a: 0, b: 0, degenerate: true, count: 1 });
  assert.deepEqual(check([], "no point"), { a: 0, b: 0, degenerate: true, count: 0 });
  const flat = check([[1, 2], [3, 2], [5, 2]], "constant y");
  if (flat !== undefined) assert.ok(Object.is(flat.b, 0), "b is +0 as the core's");
  // Sums the core refuses (a term not finite, a length beyond 64) are left to it (it throws).
  for (const bad of [Float64Array.of(1, 0, 0, 0, 0, Infinity), Float64Array.of(0, 0, 0, 0, 65)]) {
    assert.equal(fastFitSums(3, bad), undefined);
    assert.throws(() => core.fitSums(3, bad), RangeError);
  }
  assert.ok(lineFilterCounts.fast > 0 && lineFilterCounts.core > 0);
});
