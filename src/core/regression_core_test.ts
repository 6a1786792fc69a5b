import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { exactFit } from "../../test/exact_reference.ts";
import { RegressionCore } from "./regression_core.ts";

const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const debug = await readFile(new URL("../../build/streamreg.debug.wasm", import.meta.url));
const load = (bytes: Uint8Array = release) => RegressionCore.load(bytes);
const f64 = (v: number[]) => new Float64Array(v);

async function readCsv(name: string): Promise<number[][]> {
  const text = await readFile(new URL(`../../test/fixtures/${name}`, import.meta.url), "utf8");
  return text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
}

/** A small deterministic generator (xorshift64*), so failures reproduce. */
function rng(seed: bigint): () => number {
  let s = seed;
  return () => {
    s ^= s >> 12n;
    s ^= (s << 25n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 27n;
    const v = (s * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn;
    return Number(v >> 11n) / 2 ** 53;
  };
}

function naiveFit(x: Float64Array, y: Float64Array) {
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < x.length; i++) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const n = x.length, d = n * sxx - sx * sx;
  return { a: (sy * sxx - sx * sxy) / d, b: (n * sxy - sx * sy) / d };
}

for (const [label, bytes] of [["release", release], ["debug", debug]] as const) {
  test(`core (${label}): every prefix of the tutorial's points equals the exact answer`, async () => {
    const points = await readCsv("seed_points.csv");
    const expected = await readCsv("seed_expected_exact.csv");
    const core = await load(bytes);
    for (let i = 0; i < points.length; i++) {
      assert.equal(core.add(f64([points[i][0]]), f64([points[i][1]])), 1);
      const fit = core.fit();
      const [n, a, b] = expected[i];
      assert.equal(fit.count, n);
      assert.equal(fit.a, a, `a after ${n} points`);
      assert.equal(fit.b, b, `b after ${n} points`);
      assert.equal(fit.degenerate, n === 1);
    }
  });

  test(`core (${label}): fast-math guard, compensated sum of [1e16, 1, -1e16] is 1`, async () => {
    const core = await load(bytes);
    core.add(f64([1e16, 1, -1e16]), f64([0, 0, 0]));
    assert.equal(core.sum("x"), 1);
    assert.equal(core.sum("n"), 3);
  });

  test(`core (${label}): fast-math guard, Dekker products keep their low parts`, async () => {
    // D = n·Σx² − (Σx)² = 2^-60 exactly; it vanishes if x² loses its low part 2^-60.
    const core = await load(bytes);
    const t = 1 + 2 ** -30;
    core.add(f64([1, t]), f64([1, t]));
    assert.deepEqual(core.fit(), { a: 0, b: 1, degenerate: false, count: 2 });
  });
}

test("core: release and debug builds give identical bits on ill-conditioned data", async () => {
  const r = rng(7n);
  const x = new Float64Array(20_000), y = new Float64Array(20_000);
  for (let i = 0; i < x.length; i++) {
    x[i] = 1.7e9 + r() * 1e-3;
    y[i] = 2 - 3e-4 * x[i] + r();
  }
  const [a, b] = [await load(release), await load(debug)];
  a.add(x, y);
  b.add(x, y);
  assert.deepEqual(a.fit(), b.fit());
  for (const s of ["x", "y", "xx", "xy", "yy"] as const) assert.equal(a.sum(s), b.sum(s));
});

test("core: NIST Norris gives the exact least-squares answer and matches the certified values", async () => {
  const rows = await readCsv("norris.csv");
  const core = await load();
  core.add(f64(rows.map((r) => r[0])), f64(rows.map((r) => r[1])));
  const fit = core.fit();
  assert.equal(fit.a, -0.26232307377402675);
  assert.equal(fit.b, 1.0021168180204545);
  assert.ok(Math.abs(fit.a / -0.262323073774029 - 1) < 1e-12);
  assert.ok(Math.abs(fit.b / 1.00211681802045 - 1) < 1e-12);
});

for (const shift of [1e6, 1e9, 1.7e9, 1e12]) {
  test(`core: Norris with x shifted by ${shift} equals the exact answer (naive sums do not)`, async () => {
    const rows = await readCsv("norris.csv");
    const x = f64(rows.map((r) => r[0] + shift));
    const y = f64(rows.map((r) => r[1]));
    const core = await load();
    core.add(x, y);
    const fit = core.fit();
    const exact = exactFit(x, y);
    assert.equal(fit.a, exact.a);
    assert.equal(fit.b, exact.b);
    // The slope barely moves with the shift (x + shift is rounded, so not exactly).
    assert.ok(Math.abs(fit.b / 1.0021168180204545 - 1) < 1e-6);
    if (shift >= 1e9) {
      assert.ok(Math.abs(naiveFit(x, y).b / exact.b - 1) > 1e-6, "naive sums should fail here");
    }
  });
}

test("core: epoch-like x, narrow spreads and offsets up to 1e9 match the exact answer bit for bit", async () => {
  const r = rng(42n);
  for (
    const [offset, spread, n] of [[1e6, 1, 5000], [1e9, 1e-3, 5000], [1.7e9, 3600, 20000], [-1e9, 1e-4, 3000]]
  ) {
    const x = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = offset + r() * spread;
      y[i] = 0.25 + 1e-3 * (x[i] - offset) / spread + 1e-6 * (r() - 0.5);
    }
    const core = await load();
    core.add(x, y);
    const fit = core.fit();
    const exact = exactFit(x, y);
    assert.equal(fit.a, exact.a, `a at offset ${offset}`);
    assert.equal(fit.b, exact.b, `b at offset ${offset}`);
  }
});

test("core: 10^7 points with |mean x| / sd(x) above 10^10 give the exact line", async () => {
  // x alternates between 2^40 and its successor, so sd(x) = 2^-13 and mean/sd ≈ 9e15; y = 5 + k lies
  // exactly on y = −(2^52 − 5) + 2^12·x.
  const n = 10_000_000;
  const chunk = 1_000_000;
  const x = new Float64Array(chunk), y = new Float64Array(chunk);
  for (let i = 0; i < chunk; i++) {
    const k = i & 1;
    x[i] = 2 ** 40 + k * 2 ** -12;
    y[i] = 5 + k;
  }
  const core = await load();
  for (let done = 0; done < n; done += chunk) core.add(x, y);
  const fit = core.fit();
  assert.equal(fit.count, n);
  assert.equal(fit.b, 4096);
  assert.equal(fit.a, -(2 ** 52) + 5);
});

test("core: 10^6 noisy points at mean/sd 1e10 agree with the exact rational answer", async () => {
  const r = rng(99n);
  const n = 1_000_000;
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 1e10 + Math.floor(r() * 4) * 2 ** -19; // sd ≈ 2e-6 around 1e10
    y[i] = 1 + r();
  }
  const core = await load();
  core.add(x, y);
  const fit = core.fit();
  const exact = exactFit(x, y);
  assert.equal(fit.a, exact.a);
  assert.equal(fit.b, exact.b);
});

test("core: results do not depend on batch boundaries or the order of points", async () => {
  const r = rng(3n);
  const n = 7777;
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4);
    y[i] = 3 * x[i] + (r() - 0.5) * 10 ** Math.floor(r() * 8 - 4);
  }
  const whole = await load();
  whole.add(x, y);
  const expected = whole.fit();
  const exact = exactFit(x, y);
  assert.equal(expected.a, exact.a);
  assert.equal(expected.b, exact.b);

  const pieces = await load();
  for (let i = 0; i < n;) {
    const len = 1 + Math.floor(r() * 900);
    pieces.add(x.subarray(i, i + len), y.subarray(i, i + len));
    i += len;
  }
  assert.deepEqual(pieces.fit(), expected);

  const order = Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5);
  const shuffled = await load();
  shuffled.add(f64(order.map((i) => x[i])), f64(order.map((i) => y[i])));
  assert.deepEqual(shuffled.fit(), expected);
  assert.deepEqual(shuffled.snapshot(), whole.snapshot());
});

test("core: adding then retracting an outlier at 1e12 leaves the state as if it never came", async () => {
  const r = rng(5n);
  const x = new Float64Array(1000), y = new Float64Array(1000);
  for (let i = 0; i < x.length; i++) {
    x[i] = 100 + r();
    y[i] = 2 * x[i] + r() * 1e-3;
  }
  const core = await load();
  core.add(x, y);
  const before = core.fit();
  const state = core.snapshot();
  core.add(f64([1e12, 3]), f64([-7e11, 1e12]));
  assert.notDeepEqual(core.fit(), before);
  assert.equal(core.retract(f64([1e12, 3]), f64([-7e11, 1e12])), 2);
  assert.deepEqual(core.fit(), before);
  assert.deepEqual(core.snapshot(), state);
});

test("core: update() mixes additions and retractions by weight; other weights are refused", async () => {
  const core = await load();
  assert.equal(core.update(f64([1, 2, 3, 2]), f64([1, 2, 3, 2]), f64([1, 1, 1, -1])), 4);
  assert.deepEqual(core.fit(), { a: 0, b: 1, degenerate: false, count: 2 });
  assert.equal(core.update(f64([5, 6]), f64([0, 0]), f64([2, 0.5])), 0);
  assert.equal(core.refused, 2);
  assert.equal(core.count, 2);
});

test("core: degenerate fits give a = b = 0 and say so", async () => {
  const core = await load();
  assert.deepEqual(core.fit(), { a: 0, b: 0, degenerate: true, count: 0 });
  core.add(f64([3]), f64([4]));
  assert.deepEqual(core.fit(), { a: 0, b: 0, degenerate: true, count: 1 });
  core.add(f64([3, 3, 3]), f64([1, 2, 9]));
  assert.deepEqual(core.fit(), { a: 0, b: 0, degenerate: true, count: 4 });
  core.add(f64([4]), f64([0]));
  assert.equal(core.fit().degenerate, false);
});

test("core: NaN, ±Inf and out-of-range values never enter the state and are counted", async () => {
  const core = await load();
  core.add(f64([0, 1, 2]), f64([1, 3, 5]));
  const before = core.snapshot();
  const bad = [NaN, Infinity, -Infinity, 1e200, -1e-200];
  assert.equal(core.add(f64(bad), f64([1, 1, 1, 1, 1])), 0);
  assert.equal(core.add(f64([1, 1, 1, 1, 1]), f64(bad)), 0);
  assert.equal(core.refused, 10);
  assert.deepEqual(core.fit(), { a: 1, b: 2, degenerate: false, count: 3 });
  const after = core.snapshot();
  assert.deepEqual(after.subarray(24, -8), before.subarray(24, -8)); // all but the refused count and checksum
  // Zeros, tiny and huge accepted magnitudes are exact too.
  const x = f64([0, -0, 2 ** -440, 1e132, -3]);
  const y = f64([1, 2, 3, -1e132, 2 ** 440]);
  const core2 = await load();
  assert.equal(core2.add(x, y), 5);
  const exact = exactFit(x, y);
  assert.deepEqual(core2.fit(), { a: exact.a, b: exact.b, degenerate: false, count: 5 });
});

test("core: snapshot and restore carry the exact state; corrupt states are rejected", async () => {
  const core = await load();
  core.add(f64([1e9, 1e9 + 1, 1e9 + 3]), f64([1, 2, 4.5]));
  const saved = core.snapshot();
  const other = await load();
  other.restore(saved);
  assert.deepEqual(other.fit(), core.fit());
  const corrupt = saved.slice();
  corrupt[100] ^= 1;
  assert.throws(() => other.restore(corrupt), /corrupt/);
  assert.throws(() => other.restore(saved.subarray(0, 10)), /corrupt/);
  assert.deepEqual(other.fit(), core.fit(), "a rejected state changes nothing");
});

test("core: bad calls fail with clear errors", async () => {
  const core = await load();
  assert.throws(() => core.add(f64([1, 2]), f64([1])), /same length/);
  assert.throws(() => core.update(f64([1]), f64([1]), f64([1, 1])), /weights/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => core.sum("zz" as any), /unknown statistic/);
  await assert.rejects(() => RegressionCore.load(new Uint8Array([0, 1, 2, 3])));
});
