import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { checkValue, ModelCore, type ModelFit, type ModelSpec, ModelStateError } from "./model_core.ts";
import { RegressionCore } from "./regression_core.ts";
import { seededRandom } from "../../test/model_hard_cases.ts";

const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const debug = await readFile(new URL("../../build/streamreg.debug.wasm", import.meta.url));
const f64 = (v: number[]) => new Float64Array(v);
const ones = (n: number) => new Float64Array(n).fill(1);

/** Every number of a fit as bits, so comparisons are bit for bit (NaN included). */
function bits(fit: ModelFit): string {
  const b = (v: number) => {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v);
    return d.getBigUint64(0).toString(16);
  };
  return JSON.stringify({
    n: fit.n,
    rank: fit.rank,
    aliased: fit.aliased,
    c: [...fit.coefficients].map(b),
    se: [...fit.se].map(b),
    r2: b(fit.r2),
    sigma: b(fit.sigma),
  });
}

/** Uniform [0, 1) doubles with all 53 bits random (two 32-bit draws), so sums of them round. */
function uniform53(seed: number): () => number {
  const r = seededRandom(seed);
  return () => r() + r() * 2 ** -32;
}

function randomColumns(k: number, n: number, seed: number, scale = 1): Float64Array[] {
  const r = uniform53(seed);
  return Array.from(
    { length: k },
    (_, c) => Float64Array.from({ length: n }, () => (r() - 0.5) * scale * (c + 1)),
  );
}

function linear(xs: Float64Array[], seed: number): Float64Array {
  const r = seededRandom(seed);
  return Float64Array.from({ length: xs[0].length }, (_, i) => {
    let v = 3 + r() * 0.01;
    xs.forEach((col, c) => (v += (c + 1.5) * col[i]));
    return v;
  });
}

const slice = (cols: Float64Array[], a: number, b: number) => cols.map((c) => c.slice(a, b));

test("model core: an exact plane comes out exactly, with sigma 0 and r2 1", async () => {
  const core = await ModelCore.load(release, { k: 2, degree: 1, intercept: true });
  const x1 = f64([0, 1, 0, 1, 2]), x2 = f64([0, 0, 1, 1, 5]);
  const y = x1.map((v, i) => 1 + 2 * v + 3 * x2[i]);
  assert.equal(core.update([x1, x2], y, ones(5)), 5);
  const fit = core.fit();
  assert.deepEqual([...fit.coefficients], [1, 2, 3]);
  assert.deepEqual(fit.aliased, [false, false, false]);
  assert.equal(fit.sigma, 0);
  assert.equal(fit.r2, 1);
  assert.deepEqual([...fit.se], [0, 0, 0]);
  assert.equal(fit.rank, 3);
  assert.equal(fit.n, 5);
});

test("model core: one x at degree 1 gives the line core's a and b, bit for bit", async () => {
  const line = await RegressionCore.load(release);
  const model = await ModelCore.load(release, { k: 1, degree: 1, intercept: true });
  for (const [seed, offset] of [[1, 0], [2, 1e9], [3, 1e12], [4, -3e-7]] as const) {
    const [x] = randomColumns(1, 500, seed, 1e3);
    const xs = x.map((v) => v + offset);
    const y = linear([x], seed + 10);
    line.reset();
    model.reset();
    line.add(xs, y);
    model.update([xs], y, ones(xs.length));
    const l = line.fit(), m = model.fit();
    assert.equal(m.coefficients[0], l.a);
    assert.equal(m.coefficients[1], l.b);
  }
});

test("model core: the tutorial's rule stays for one x (fewer than two distinct x gives a = b = 0)", async () => {
  const core = await ModelCore.load(release, { k: 1, degree: 1, intercept: true });
  core.update([f64([2, 2, 2])], f64([1, 5, 6]), ones(3));
  const fit = core.fit();
  assert.deepEqual([...fit.coefficients], [0, 0]);
  assert.deepEqual(fit.aliased, [false, false]);
  assert.ok(Number.isNaN(fit.sigma) && Number.isNaN(fit.r2));
  core.reset();
  assert.deepEqual([...core.fit().coefficients], [0, 0]); // no points at all
});

test("model core: identical bits whatever the batch boundaries and the order", async () => {
  for (
    const spec of [{ k: 5, degree: 1, intercept: true }, { k: 1, degree: 4, intercept: true }, {
      k: 3,
      degree: 1,
      intercept: false,
    }] as ModelSpec[]
  ) {
    const n = 3000;
    const xs = randomColumns(spec.k, n, 7, 1e4);
    const y = linear(xs, 8);
    const whole = await ModelCore.load(release, spec);
    whole.update(xs, y, ones(n));
    const expected = bits(whole.fit());
    const pieces = await ModelCore.load(release, spec);
    const r = seededRandom(9);
    let at = 0;
    while (at < n) {
      const len = Math.min(n - at, 1 + Math.floor(r() * 700));
      pieces.update(slice(xs, at, at + len), y.slice(at, at + len), ones(len));
      at += len;
    }
    assert.equal(bits(pieces.fit()), expected);
    const order = Array.from({ length: n }, (_, i) => n - 1 - i);
    const reversed = await ModelCore.load(release, spec);
    reversed.update(
      xs.map((c) => Float64Array.from(order, (i) => c[i])),
      Float64Array.from(order, (i) => y[i]),
      ones(n),
    );
    assert.equal(bits(reversed.fit()), expected);
  }
});

test("model core: adding then retracting points (a 1e12 outlier among 5 variables) leaves identical bits", async () => {
  const spec = { k: 5, degree: 1, intercept: true };
  const xs = randomColumns(5, 400, 21, 100);
  const y = linear(xs, 22);
  const base = await ModelCore.load(release, spec);
  base.update(xs, y, ones(400));
  const expected = bits(base.fit());
  const core = await ModelCore.load(release, spec);
  core.update(xs, y, ones(400));
  const extra = randomColumns(5, 50, 23, 1e6);
  extra[2][17] = 1e12;
  const ey = linear(extra, 24);
  ey[3] = -1e12;
  core.update(extra, ey, ones(50));
  assert.notEqual(bits(core.fit()), expected);
  core.update(extra, ey, new Float64Array(50).fill(-1));
  assert.equal(bits(core.fit()), expected);
  // and back to zero points: every coefficient aliased, no statistics
  core.update(xs, y, new Float64Array(400).fill(-1));
  const empty = core.fit();
  assert.equal(empty.n, 0);
  assert.equal(empty.rank, 0);
  assert.ok([...empty.coefficients].every(Number.isNaN));
  assert.ok(Number.isNaN(empty.r2) && Number.isNaN(empty.sigma));
});

test("model core: collinear, duplicated and constant-0 columns are aliased exactly, as R's lm does", async () => {
  const [x1, x2] = randomColumns(2, 60, 31, 8);
  const y = linear([x1, x2], 32);
  // Dyadic values with few bits, so 4·x1 + 2·x2 is exact in doubles: an exact linear combination.
  const x1q = x1.map((v) => Math.round(v * 1024) / 1024);
  const x2q = x2.map((v) => Math.round(v * 1024) / 1024);
  const comb = x1q.map((v, i) => 4 * v + 2 * x2q[i]);
  const core = await ModelCore.load(release, { k: 5, degree: 1, intercept: true });
  core.update([x1q, x2q, comb, x1q.slice(), new Float64Array(60)], y, ones(60));
  const fit = core.fit();
  assert.deepEqual(fit.aliased, [false, false, false, true, true, true]);
  assert.equal(fit.rank, 3);
  assert.ok(Number.isNaN(fit.coefficients[3]) && Number.isNaN(fit.se[5]));
  // The others are the fit without the aliased columns, bit for bit.
  const small = await ModelCore.load(release, { k: 2, degree: 1, intercept: true });
  small.update([x1q, x2q], y, ones(60));
  const s = small.fit();
  assert.deepEqual([...fit.coefficients.slice(0, 3)], [...s.coefficients]);
  assert.deepEqual([...fit.se.slice(0, 3)], [...s.se]);
  assert.equal(fit.sigma, s.sigma);
  assert.equal(fit.r2, s.r2);
  // fl(x1 + 2·x2) on full-precision doubles is rounded, so it is not an exact combination: no tolerance
  // decides it, and it keeps its coefficient.
  const x3 = x1.map((v, i) => v + 2 * x2[i]);
  const near = await ModelCore.load(release, { k: 3, degree: 1, intercept: true });
  near.update([x1, x2, x3], y, ones(60));
  assert.deepEqual(near.fit().aliased, [false, false, false, false]);
});

test("model core: fewer points than coefficients alias the columns the points cannot tell apart", async () => {
  const core = await ModelCore.load(release, { k: 4, degree: 1, intercept: true });
  core.update([f64([1, 2]), f64([3, 5]), f64([0, 7]), f64([1, 1])], f64([1, 2]), ones(2));
  const fit = core.fit();
  assert.equal(fit.rank, 2);
  assert.deepEqual(fit.aliased, [false, false, true, true, true]);
  assert.ok(Number.isNaN(fit.sigma)); // n − rank = 0
  assert.ok([...fit.se].every(Number.isNaN));
  assert.deepEqual([...fit.coefficients.slice(0, 2)], [0, 1]);
});

test("model core: refuses NaN, ±Infinity, out-of-range values and weights other than ±1, changing nothing", async () => {
  assert.equal(checkValue(NaN), "nan");
  assert.equal(checkValue(-Infinity), "infinite");
  assert.equal(checkValue(1e-200), "out_of_range");
  assert.equal(checkValue(2 ** 441), "out_of_range");
  assert.equal(checkValue(0), undefined);
  assert.equal(checkValue(2 ** -440), undefined);
  const core = await ModelCore.load(release, { k: 2, degree: 1, intercept: true });
  const good = [f64([1, 2, 3]), f64([2, 0, 1])];
  core.update(good, f64([1, 2, 4]), ones(3));
  const before = bits(core.fit());
  const accepted = core.update(
    [f64([NaN, 1, 1e-200, 1, 1]), f64([1, Infinity, 1, 1, 2 ** 441])],
    f64([1, 1, 1, 1, 1]),
    f64([1, 1, 1, 0.5, 1]),
  );
  assert.equal(accepted, 0);
  assert.equal(core.refused(), 5);
  assert.equal(bits(core.fit()), before);
});

test("model core: a polynomial is exact on x = 1.7e9 + t with millisecond fractions (degree 3)", async () => {
  const core = await ModelCore.load(release, { k: 1, degree: 3, intercept: true });
  const n = 200;
  const t = Float64Array.from({ length: n }, (_, i) => 1.7e9 + i * 3.001 + (i % 7) * 0.125);
  // y is an exact cubic in (x − 1.7e9)/1024 with dyadic coefficients, so the exact fit is representable.
  const y = t.map((x) => {
    const u = (x - 1.7e9) / 1024;
    return 0.5 + 0.25 * u + 0.125 * u * u + u * u * u;
  });
  core.update([t], y, ones(n));
  const fit = core.fit();
  assert.equal(fit.rank, 4);
  assert.ok(fit.r2 > 0.999999);
  // y as a polynomial in x has huge, cancelling coefficients; the fit reproduces y closely where a
  // double-precision solve of the normal equations at x ≈ 1.7e9 loses every digit.
  const c = fit.coefficients;
  const at = (x: number) => c[0] + x * (c[1] + x * (c[2] + x * c[3]));
  assert.ok(Math.abs(at(t[100]) - y[100]) < 1e-3 * Math.abs(c[0]));
});

test("model core: state round-trips bit for bit and another model's state is refused", async () => {
  const spec = { k: 3, degree: 1, intercept: true };
  const xs = randomColumns(3, 300, 41, 50);
  const y = linear(xs, 42);
  const a = await ModelCore.load(release, spec);
  a.update(xs, y, ones(300));
  const state = a.saveState();
  const b = await ModelCore.load(release, spec);
  b.loadState(state);
  assert.equal(bits(b.fit()), bits(a.fit()));
  const more = randomColumns(3, 20, 43, 50);
  a.update(more, linear(more, 44), ones(20));
  b.update(more, linear(more, 44), ones(20));
  assert.equal(bits(b.fit()), bits(a.fit()));
  const other = await ModelCore.load(release, { k: 3, degree: 1, intercept: false });
  assert.throws(() => other.loadState(state), (e) => e instanceof ModelStateError && e.code === 6);
  const cubic = await ModelCore.load(release, { k: 1, degree: 3, intercept: true });
  assert.throws(() => cubic.loadState(state), /another model/);
  const damaged = state.slice();
  damaged[60] ^= 1;
  assert.throws(() => b.loadState(damaged), /checksum/);
});

test("model core: the release build (Binaryen fast-math) and the debug build agree bit for bit", async () => {
  for (
    const spec of [{ k: 6, degree: 1, intercept: true }, { k: 1, degree: 10, intercept: true }] as ModelSpec[]
  ) {
    const xs = randomColumns(spec.k, 500, 51, 9);
    const y = linear(xs, 52);
    const r = await ModelCore.load(release, spec);
    const d = await ModelCore.load(debug, spec);
    r.update(xs, y, ones(500));
    d.update(xs, y, ones(500));
    assert.equal(bits(r.fit()), bits(d.fit()));
  }
});

test("model core: a spec the core does not take is a RangeError that names the problem", async () => {
  await assert.rejects(ModelCore.load(release, { k: 0, degree: 1, intercept: true }), /k must be/);
  await assert.rejects(ModelCore.load(release, { k: 21, degree: 1, intercept: true }), /k must be/);
  await assert.rejects(ModelCore.load(release, { k: 2, degree: 3, intercept: true }), /takes one x/);
  await assert.rejects(ModelCore.load(release, { k: 1, degree: 13, intercept: true }), /degree must be/);
});

test("model core: fit({ stats: false }) gives the same coefficients and leaves the statistics NaN", async () => {
  const spec = { k: 8, degree: 1, intercept: true };
  const xs = randomColumns(8, 300, 61, 30);
  const y = linear(xs, 62);
  const core = await ModelCore.load(release, spec);
  core.update(xs, y, ones(300));
  const full = core.fit();
  const quick = core.fit({ stats: false });
  assert.deepEqual([...quick.coefficients], [...full.coefficients]);
  assert.deepEqual(quick.aliased, full.aliased);
  assert.ok([...quick.se].every(Number.isNaN) && Number.isNaN(quick.r2) && Number.isNaN(quick.sigma));
  assert.ok(![...full.se].some(Number.isNaN) && full.r2 > 0.99);
});

test("model core: load(…, { stats: false }) makes fit() skip the statistics unless asked", async () => {
  const xs = randomColumns(3, 100, 71, 30);
  const y = linear(xs, 72);
  const core = await ModelCore.load(release, { k: 3, degree: 1, intercept: true }, { stats: false });
  core.update(xs, y, ones(100));
  assert.ok(Number.isNaN(core.fit().sigma));
  assert.ok(!Number.isNaN(core.fit({ stats: true }).sigma));
});
