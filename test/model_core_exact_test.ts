// The WASM model core against the independent exact reference (BigInt rationals, test/model_reference.ts):
// every coefficient, se, sigma and r2 bit for bit, on the NIST sets and the hard cases, fed in batches of
// several sizes, and within 1e-13 relative of NIST's certified values.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "./harness.ts";
import { ModelCore, type ModelFit } from "../src/core/model_core.ts";
import {
  exactModelFit,
  hardCases,
  type ModelPoint,
  type ModelSpec,
  NIST_CERTIFIED,
  NIST_NAMES,
  parseNist,
  type ReferenceFit,
  seededRandom,
} from "./model_reference.ts";

const release = await readFile(new URL("../build/streamreg.wasm", import.meta.url));

const hex = (v: number) => {
  const d = new DataView(new ArrayBuffer(8));
  d.setFloat64(0, v);
  return Number.isNaN(v) ? "NaN" : d.getBigUint64(0).toString(16);
};

function assertSameBits(got: ModelFit, want: ReferenceFit, what: string): void {
  assert.equal(got.n, want.n, `${what}: n`);
  assert.equal(got.rank, want.rank, `${what}: rank`);
  assert.deepEqual(got.aliased, want.aliased, `${what}: aliased`);
  assert.deepEqual([...got.coefficients].map(hex), want.coefficients.map(hex), `${what}: coefficients`);
  assert.deepEqual([...got.se].map(hex), want.se.map(hex), `${what}: se`);
  assert.equal(hex(got.sigma), hex(want.sigma), `${what}: sigma`);
  assert.equal(hex(got.r2), hex(want.r2), `${what}: r2`);
}

/** Feeds the points to a new core in batches of `batch` points (weights included). */
async function coreFit(points: readonly ModelPoint[], spec: ModelSpec, batch: number): Promise<ModelFit> {
  const core = await ModelCore.load(release, spec);
  for (let at = 0; at < points.length; at += batch) {
    const part = points.slice(at, at + batch);
    const xs = Array.from({ length: spec.k }, (_, c) => Float64Array.from(part, (p) => p.xs[c]));
    core.update(xs, Float64Array.from(part, (p) => p.y), Float64Array.from(part, (p) => p.w ?? 1));
  }
  return core.fit();
}

for (const name of NIST_NAMES) {
  test(`model core = exact reference, bit for bit: NIST ${name}`, async () => {
    const cert = NIST_CERTIFIED[name];
    const { points } = parseNist(name);
    const want = exactModelFit(points, cert.spec);
    for (const batch of [points.length, 7, 1]) {
      assertSameBits(await coreFit(points, cert.spec, batch), want, `${name} in batches of ${batch}`);
    }
  });
}

test("model core: NIST certified values within 1e-13 relative (every coefficient, se, sigma, r2)", async () => {
  for (const name of NIST_NAMES) {
    const cert = NIST_CERTIFIED[name];
    const { points } = parseNist(name);
    const got = await coreFit(points, cert.spec, points.length);
    const close = (a: number, b: number, what: string) => {
      const ok = b === 0 ? Math.abs(a) < 1e-14 : Math.abs(a - b) <= 1e-13 * Math.abs(b);
      assert.ok(ok, `${name} ${what}: ${a} vs certified ${b}`);
    };
    cert.coefficients.forEach((b, i) => close(got.coefficients[i], b, `B${i}`));
    cert.sd.forEach((b, i) => close(got.se[i], b, `sd(B${i})`));
    close(got.sigma, cert.residualSD, "residual SD");
    close(got.r2, cert.r2, "R²");
  }
});

for (const c of hardCases()) {
  test(`model core = exact reference, bit for bit: ${c.name}`, async () => {
    const want = exactModelFit(c.points, c.spec);
    for (const batch of [c.points.length, 5, 1]) {
      assertSameBits(await coreFit(c.points, c.spec, batch), want, `${c.name} in batches of ${batch}`);
    }
    if (c.aliased) assert.deepEqual(want.aliased, c.aliased);
    if (c.equivalent) {
      assertSameBits(await coreFit(c.equivalent, c.spec, 3), want, `${c.name}: equivalent set`);
    }
  });
}

test("model core = exact reference after every batch of a stream that adds and retracts", async () => {
  const spec = { k: 3, degree: 1, intercept: true };
  const { points } = parseNist("longley");
  const core = await ModelCore.load(release, spec);
  const held: ModelPoint[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = { xs: points[i].xs.slice(0, 3), y: points[i].y };
    core.update(p.xs.map((v) => new Float64Array([v])), new Float64Array([p.y]), new Float64Array([1]));
    held.push(p);
    if (i % 3 === 2) {
      const gone = held.shift()!;
      core.update(
        gone.xs.map((v) => new Float64Array([v])),
        new Float64Array([gone.y]),
        new Float64Array([-1]),
      );
    }
    assertSameBits(core.fit(), exactModelFit(held, spec), `after point ${i}`);
  }
});

test("model core: a polynomial sums the exact powers, not fl(x^j) (NIST Filip: rounded powers move it by ~2e-8)", async () => {
  const { points } = parseNist("filip");
  const n = points.length;
  const x = Float64Array.from(points, (p) => p.xs[0]);
  const y = Float64Array.from(points, (p) => p.y);
  const poly = await ModelCore.load(release, { k: 1, degree: 10, intercept: true });
  poly.update([x], y, new Float64Array(n).fill(1));
  const rounded = await ModelCore.load(release, { k: 10, degree: 1, intercept: true });
  rounded.update(
    Array.from({ length: 10 }, (_, j) => x.map((v) => v ** (j + 1))),
    y,
    new Float64Array(n).fill(1),
  );
  const exact = poly.fit().coefficients, fl = rounded.fit().coefficients;
  for (let i = 0; i < exact.length; i++) {
    const rel = Math.abs(exact[i] - fl[i]) / Math.abs(exact[i]);
    assert.ok(rel > 1e-9 && rel < 1e-6, `coefficient ${i}: ${rel}`);
  }
});

test("model core: rows the block kernel takes and rows it leaves to the exact row path give the reference's bits", async () => {
  // Columns whose values span far more than 2^10 inside a block (the small ones leave the kernel), NaN,
  // out-of-range values and bad weights among them (refused), weights of both signs, and blocks of odd sizes.
  const r = seededRandom(77);
  const spec = { k: 4, degree: 1, intercept: true };
  const points: ModelPoint[] = [];
  const held: ModelPoint[] = [];
  for (let i = 0; i < 1500; i++) {
    const wide = () => (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
    const xs = [wide(), (r() - 0.5) * 1e3, 1.7e9 + r() * 1e4, r() < 0.1 ? 0 : wide()];
    const p = { xs, y: xs[0] * 3 - xs[1] + r() };
    points.push(p);
    held.push(p);
    if (i % 5 === 4) {
      const gone = held.splice(Math.floor(r() * held.length), 1)[0];
      points.push({ ...gone, w: -1 });
    }
  }
  const core = await ModelCore.load(release, spec);
  const bad: ModelPoint[] = [
    { xs: [NaN, 1, 1, 1], y: 1 },
    { xs: [1, 1e-200, 1, 1], y: 1 },
    { xs: [1, 1, 1, 1], y: 1, w: 0.5 },
    { xs: [1, 1, 1, Infinity], y: 1 },
  ];
  for (let at = 0, step = 1; at < points.length; at += step, step = (step * 7) % 301 + 1) {
    const part = points.slice(at, at + step);
    if (at % 3 === 0) part.splice(part.length >> 1, 0, ...bad);
    const xs = Array.from({ length: 4 }, (_, c) => Float64Array.from(part, (p) => p.xs[c]));
    core.update(xs, Float64Array.from(part, (p) => p.y), Float64Array.from(part, (p) => p.w ?? 1));
  }
  assertSameBits(core.fit(), exactModelFit(held, spec), "mixed stream");
  assertSameBits(await coreFit(held, spec, held.length), exactModelFit(held, spec), "held points at once");
});
