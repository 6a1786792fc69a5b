import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../../test/harness.ts";
import { PythonRandom } from "./python_random.ts";

const seedPoints = async () => {
  const text = await readFile(new URL("../../../test/fixtures/seed_points.csv", import.meta.url), "utf8");
  return text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
};

test("PythonRandom(0) gives the tutorial's noise: y = i + (2r - 1) / 10 matches seed_points.csv bit for bit", async () => {
  const rng = new PythonRandom(0);
  for (const [x, y] of await seedPoints()) {
    assert.equal(x + (2 * rng.random() - 1) / 10, y);
  }
});

test("PythonRandom is deterministic and stays in [0, 1)", () => {
  const a = new PythonRandom(12345);
  const b = new PythonRandom(12345);
  for (let i = 0; i < 5000; i++) {
    const r = a.random();
    assert.equal(r, b.random());
    assert.ok(r >= 0 && r < 1);
    assert.ok(Number.isInteger(r * 2 ** 53), "a 53-bit double");
  }
});

test("PythonRandom seeds: sign ignored as in Python, each 32-bit word of the seed matters", () => {
  const first = (seed: number | bigint) => new PythonRandom(seed).random();
  assert.equal(first(-7), first(7));
  assert.equal(first(7n), first(7));
  const distinct = new Set([0, 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52].map(first));
  assert.equal(distinct.size, 5);
  const rng = new PythonRandom(3);
  const r = rng.random();
  rng.seed(3);
  assert.equal(rng.random(), r);
});

test("PythonRandom refuses seeds that are not safe integers", () => {
  assert.throws(() => new PythonRandom(0.5), /seed must be an integer/);
  assert.throws(() => new PythonRandom(2 ** 60), /seed must be an integer/);
});
