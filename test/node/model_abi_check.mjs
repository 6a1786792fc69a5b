// The model ABI (the model_* exports of build/streamreg.wasm) from plain JavaScript under Node: no wrapper,
// no glue, no imports. NIST Filip (y on x, x², …, x¹⁰ and an intercept; R's lm drops x¹⁰ as collinear) is
// fitted through the ABI alone, and every output must equal, bit for bit, the exact answer for the file's
// doubles, computed here with BigInt: the doubles as integers over a common power of two, fraction-free
// Gauss-Jordan elimination (every division checked exact), one rounding per output.
// Run: node --test test/node/model_abi_check.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const csv = (name) =>
  readFileSync(new URL(`test/fixtures/${name}`, root), "utf8").trim().split("\n").slice(1)
    .map((line) => line.split(",").map(Number));

// ---- Exact arithmetic ----

const bitLength = (v) => (v === 0n ? 0 : (v < 0n ? -v : v).toString(2).length);

/** A finite double as m·2^e with m a BigInt. */
function dyadic(d) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) m |= 1n << 52n;
  if (hi >>> 31) m = -m;
  return { m, e: (biased === 0 ? 1 : biased) - 1075 };
}

/** q·2^k for an integer q with |q| ≤ 2^53, exact while the result is a normal double. */
function ldexp(q, k) {
  let v = Number(q);
  for (; k > 1000; k -= 1000) v *= 2 ** 1000;
  for (; k < -1000; k += 1000) v *= 2 ** -1000;
  return v * 2 ** k;
}

/** The double nearest to (num/den)·2^shift, ties to even (normal range). */
function roundRatio(num, den, shift = 0) {
  if (num === 0n) return 0;
  const negative = (num < 0n) !== (den < 0n);
  if (num < 0n) num = -num;
  if (den < 0n) den = -den;
  // q = ⌊num·2^s/den⌋ with 53 bits, then the remainder against half of den decides.
  let s = 53 - (bitLength(num) - bitLength(den));
  let q, r;
  for (;;) {
    const a = s >= 0 ? num << BigInt(s) : num, b = s >= 0 ? den : den << BigInt(-s);
    q = a / b;
    r = a - q * b;
    if (bitLength(q) > 53) s--;
    else if (bitLength(q) < 53) s++;
    else {
      if (2n * r > b || (2n * r === b && (q & 1n) === 1n)) q++;
      break;
    }
  }
  const v = ldexp(q, shift - s);
  return negative ? -v : v;
}

/** ⌊√n⌋ for a BigInt n ≥ 0 (Newton from above). */
function isqrt(n) {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** The double nearest to √((num/den)·2^shift), ties to even (num/den ≥ 0, normal range). */
function sqrtRatio(num, den, shift = 0) {
  if (num === 0n) return 0;
  if (den < 0n) [num, den] = [-num, -den];
  if (shift % 2 !== 0) [num, shift] = [num << 1n, shift - 1];
  // s = ⌊√(num/den)·2^m⌋ with 53 bits (⌊√⌊z⌋⌋ = ⌊√z⌋); round up when above the midpoint s + 1/2.
  let m = 53 - Math.trunc((bitLength(num) - bitLength(den)) / 2);
  for (;;) {
    const a = m >= 0 ? num << BigInt(2 * m) : num, b = m >= 0 ? den : den << BigInt(-2 * m);
    let s = isqrt(a / b);
    if (bitLength(s) > 53) m--;
    else if (bitLength(s) < 53) m++;
    else {
      const mid = (2n * s + 1n) ** 2n * b, scaled = 4n * a; // compares a/b with (s + 1/2)²
      if (scaled > mid || (scaled === mid && (s & 1n) === 1n)) s++;
      return ldexp(s, shift / 2 - m);
    }
  }
}

/** Exact division, asserted. */
function divExact(a, b) {
  const q = a / b;
  assert.equal(q * b, a, "a division of the fraction-free elimination was not exact");
  return q;
}

/**
 * The exact least-squares fit of y on 1, x, …, x^degree for doubles, each output rounded once.
 * With X = x·2^E and Y = y·2^F integers, the normal equations in X and Y are solved by fraction-free
 * Gauss-Jordan on [A | b | I]; at the end the left block is det·I, column b holds det·β' and the right
 * block det·A⁻¹, where β_j = β'_j·2^(jE − F).
 */
function exactPolynomialFit(points, degree) {
  const p = degree + 1, n = points.length;
  const xs = points.map(([x]) => dyadic(x)), ys = points.map(([, y]) => dyadic(y));
  const E = Math.max(0, ...xs.map((d) => -d.e)), F = Math.max(0, ...ys.map((d) => -d.e));
  const X = xs.map((d) => d.m << BigInt(d.e + E)), Y = ys.map((d) => d.m << BigInt(d.e + F));
  const S = Array.from({ length: 2 * degree + 1 }, (_, k) => X.reduce((s, x) => s + x ** BigInt(k), 0n));
  const T = Array.from({ length: p }, (_, k) => X.reduce((s, x, i) => s + x ** BigInt(k) * Y[i], 0n));
  const yy = Y.reduce((s, y) => s + y * y, 0n), sy = Y.reduce((s, y) => s + y, 0n);
  const a = Array.from({ length: p }, (_, r) => [
    ...Array.from({ length: p }, (_, c) => S[r + c]),
    T[r],
    ...Array.from({ length: p }, (_, c) => (c === r ? 1n : 0n)),
  ]);
  let prev = 1n;
  for (let k = 0; k < p; k++) {
    const pivot = a[k][k];
    assert.notEqual(pivot, 0n, `column ${k} is aliased in the exact solve`);
    for (let r = 0; r < p; r++) {
      if (r === k) continue;
      const ark = a[r][k];
      a[r] = a[r].map((v, c) => divExact(pivot * v - ark * a[k][c], prev));
    }
    prev = pivot;
  }
  const det = prev;
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < p; c++) assert.equal(a[r][c], r === c ? det : 0n, "the left block is not det·I");
  }
  const g = a.map((row) => row[p]); // det·β'
  const R = det * yy - T.reduce((s, t, j) => s + t * g[j], 0n); // det·RSS' (RSS' in Y units)
  const dof = BigInt(n - p);
  const tss = BigInt(n) * yy - sy * sy; // n·TSS'
  return {
    coefficients: g.map((v, j) => roundRatio(v, det, j * E - F)),
    se: a.map((row, j) => sqrtRatio(R * row[p + 1 + j], det * det * dof, 2 * j * E - 2 * F)),
    sigma: sqrtRatio(R, det * dof, -2 * F),
    r2: roundRatio(det * tss - BigInt(n) * R, det * tss),
  };
}

test("the exact helpers round correctly (against IEEE ÷ and √, and at midpoints)", () => {
  for (const [u, v] of [[1, 3], [2, 3], [-7, 10], [1e300, 3e-5], [355, 113], [0.1, 0.7]]) {
    const du = dyadic(u), dv = dyadic(v);
    assert.equal(roundRatio(du.m, dv.m, du.e - dv.e), u / v);
  }
  for (const v of [2, 3, 0.1, 304.85, 1e-30, 7e40, 2 ** 52 + 1]) {
    const d = dyadic(v);
    assert.equal(sqrtRatio(d.m, 1n, d.e), Math.sqrt(v));
    // the midpoint between v and the next double, squared: ties go to the even one
    const mid = 2n * d.m + 1n; // (v + up)/2 = mid·2^(e-1)
    const even = (d.m & 1n) === 0n ? v : v + 2 ** d.e;
    assert.equal(sqrtRatio(mid * mid, 1n, 2 * d.e - 2), even);
    assert.equal(sqrtRatio(mid * mid + 1n, 1n, 2 * d.e - 2), v + 2 ** d.e);
    assert.equal(sqrtRatio(mid * mid - 1n, 1n, 2 * d.e - 2), v);
  }
});

// NIST's certified values for Filip (test/fixtures/nist/README.md), for the decimals as written.
const CERTIFIED = {
  coefficients: [
    -1467.48961422980,
    -2772.17959193342,
    -2316.37108160893,
    -1127.97394098372,
    -354.478233703349,
    -75.1242017393757,
    -10.8753180355343,
    -1.06221498588947,
    -0.670191154593408e-01,
    -0.246781078275479e-02,
    -0.402962525080404e-04,
  ],
  se: [
    298.084530995537,
    559.779865474950,
    466.477572127796,
    227.204274477751,
    71.6478660875927,
    15.2897178747400,
    2.23691159816033,
    0.221624321934227,
    0.142363763154724e-01,
    0.535617408889821e-03,
    0.896632837373868e-05,
  ],
  sigma: 0.334801051324544e-02,
  r2: 0.996727416185620,
};

test("NIST Filip at degree 10 through the model ABI alone: exact bit for bit, x^10 kept", async () => {
  const bytes = readFileSync(new URL("build/streamreg.wasm", root));
  const { instance, module } = await WebAssembly.instantiate(bytes, {});
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const e = instance.exports;
  assert.equal(e.model_configure(1, 10, 1), 0);
  const points = csv("nist/filip.csv");
  assert.ok(points.length <= e.model_input_capacity());
  // The view is made after instantiation: the module grows its memory when it starts.
  const rows = new Float64Array(e.memory.buffer, e.model_input_ptr(), 3 * points.length);
  points.forEach(([x, y], i) => rows.set([x, y, 1], 3 * i));
  assert.equal(e.model_update(points.length), 82);
  assert.equal(e.model_count(), 82);
  assert.equal(e.model_refused(), 0);

  assert.equal(e.model_fit(), 11);
  assert.equal(e.model_columns(), 11);
  const got = {
    coefficients: Array.from({ length: 11 }, (_, i) => e.model_coefficient(i)),
    se: Array.from({ length: 11 }, (_, i) => e.model_se(i)),
    sigma: e.model_sigma(),
    r2: e.model_r2(),
  };
  for (let i = 0; i < 11; i++) assert.equal(e.model_aliased(i), 0, `column ${i} aliased`);
  assert.ok(Number.isFinite(got.coefficients[10]) && got.coefficients[10] !== 0, "x^10 has a coefficient");

  const exact = exactPolynomialFit(points, 10);
  assert.deepEqual(got, exact); // Object.is on every number: bit for bit

  const near = (v, want, what) =>
    assert.ok(Math.abs(v / want - 1) <= 1e-13, `${what}: ${v} is not within 1e-13 of NIST's ${want}`);
  got.coefficients.forEach((v, i) => near(v, CERTIFIED.coefficients[i], `B${i}`));
  got.se.forEach((v, i) => near(v, CERTIFIED.se[i], `sd(B${i})`));
  near(got.sigma, CERTIFIED.sigma, "residual SD");
  near(got.r2, CERTIFIED.r2, "R²");
});
