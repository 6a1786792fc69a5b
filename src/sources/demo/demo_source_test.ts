import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../../test/harness.ts";
import { type DemoChunk, DemoSource, demoY } from "./demo_source.ts";
import { PythonRandom } from "./python_random.ts";

async function collect(source: DemoSource, signal = new AbortController().signal): Promise<DemoChunk[]> {
  const chunks: DemoChunk[] = [];
  for await (const chunk of source.chunks(signal)) chunks.push(chunk);
  return chunks;
}

const flat = (chunks: DemoChunk[], key: "x" | "y" | "diff") => chunks.flatMap((c) => [...c[key]]);

test("DemoSource defaults give exactly the tutorial's points (seed_points.csv)", async () => {
  const text = await readFile(new URL("../../../test/fixtures/seed_points.csv", import.meta.url), "utf8");
  const rows = text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
  const chunks = await collect(new DemoSource({ rate: 0 }));
  assert.deepEqual(flat(chunks, "x"), rows.map((r) => r[0]));
  assert.deepEqual(flat(chunks, "y"), rows.map((r) => r[1]));
  assert.deepEqual(flat(chunks, "diff"), rows.map(() => 1));
});

test("DemoSource formula: y = intercept + slope·i + (2r - 1) / (1 / noise) with Python's r", async () => {
  const line = { slope: -2.5, intercept: 3, noise: 0.3 };
  const chunks = await collect(new DemoSource({ ...line, seed: 99, rows: 1000, rate: 0, chunkSize: 64 }));
  const rng = new PythonRandom(99);
  const y = flat(chunks, "y");
  assert.equal(y.length, 1000);
  for (let i = 0; i < 1000; i++) {
    const expected = demoY(i, rng.random(), line);
    assert.equal(y[i], expected);
    assert.ok(Math.abs(y[i] - (3 - 2.5 * i)) <= 0.3 + 1e-9);
  }
  assert.ok(chunks.every((c) => c.x.length <= 64));
  assert.deepEqual(chunks.map((c) => c.first), chunks.map((_, k) => k * 64));
  assert.equal(chunks[1].where(3), "demo point 67");
});

test("DemoSource with noise 0 lies on the line", async () => {
  const chunks = await collect(new DemoSource({ rows: 5, rate: 0, noise: 0, slope: 2, intercept: 1 }));
  assert.deepEqual(flat(chunks, "y"), [1, 3, 5, 7, 9]);
});

test("DemoSource paces points at `rate` per second: point i is released at i/rate s", async () => {
  let now = 0;
  const sleeps: number[] = [];
  const source = new DemoSource({
    rows: 5,
    rate: 2,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  });
  const released: number[][] = [];
  for await (const chunk of source.chunks(new AbortController().signal)) released.push([now, ...chunk.x]);
  assert.deepEqual(released, [[0, 0], [500, 1], [1000, 2], [1500, 3], [2000, 4]]);
  assert.deepEqual(sleeps, [500, 500, 500, 500]);
});

test("DemoSource releases every due point at once when the consumer is late", async () => {
  let now = 0;
  const source = new DemoSource({ rows: 10, rate: 1000, now: () => now, sleep: () => Promise.resolve() });
  const sizes: number[] = [];
  for await (const chunk of source.chunks(new AbortController().signal)) {
    sizes.push(chunk.x.length);
    now += 3.5; // 3.5 ms pass while the pipeline works
  }
  assert.deepEqual(sizes, [1, 3, 4, 2]);
});

test("DemoSource with rows 0 is endless and stops when the signal aborts", async () => {
  const controller = new AbortController();
  let points = 0;
  for await (const chunk of new DemoSource({ rows: 0, rate: 0, chunkSize: 1000 }).chunks(controller.signal)) {
    points += chunk.x.length;
    if (points >= 50_000) controller.abort();
  }
  assert.equal(points, 50_000);
});

test("DemoSource aborts while waiting for the next point", async () => {
  const controller = new AbortController();
  const source = new DemoSource({ rows: 0, rate: 0.001 }); // one point every 1000 s
  const started = performance.now();
  const chunks: DemoChunk[] = [];
  setTimeout(() => controller.abort(), 50);
  for await (const chunk of source.chunks(controller.signal)) chunks.push(chunk);
  assert.equal(chunks.length, 1);
  assert.ok(performance.now() - started < 5000);
});

test("DemoSource refuses bad options with a message naming them", () => {
  assert.throws(() => new DemoSource({ rows: -1 }), /rows must be an integer ≥ 0/);
  assert.throws(() => new DemoSource({ rows: 1.5 }), /rows must be an integer/);
  assert.throws(() => new DemoSource({ rate: -2 }), /rate must be a finite number ≥ 0/);
  assert.throws(() => new DemoSource({ slope: Infinity }), /slope must be a finite number/);
  assert.throws(() => new DemoSource({ intercept: NaN }), /intercept must be a finite number/);
  assert.throws(() => new DemoSource({ noise: -0.1 }), /noise must be a finite number ≥ 0/);
  assert.throws(() => new DemoSource({ seed: 0.5 }), /seed must be an integer/);
});
