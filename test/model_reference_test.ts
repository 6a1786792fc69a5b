/**
 * The exact model reference (test/model_reference.ts) against NIST's certified values and the exact
 * answers for the fixtures' doubles, its rounding functions against IEEE 754 arithmetic and a decimal
 * bracket, and its rules: aliasing, retraction, too few points, the tutorial rule, n = 0.
 */
import assert from "node:assert/strict";
import { test } from "./harness.ts";
import { exactFit } from "./exact_reference.ts";
import {
  bitLength,
  cubicAtEpoch,
  exactModelFit,
  hardCases,
  isqrt,
  longleyShifted,
  ModelAccumulator,
  modelColumns,
  type ModelPoint,
  NIST_CERTIFIED,
  NIST_NAMES,
  outlierRetracted,
  parseNist,
  type ReferenceFit,
  roundRational,
  seededRandom,
  sqrtRational,
  toDyadic,
} from "./model_reference.ts";

/** |actual − expected| ≤ tol·|expected| (or ≤ tol when expected is 0). */
function assertClose(actual: number, expected: number, tol: number, what: string): void {
  const err = Math.abs(actual - expected);
  const bound = expected === 0 ? tol : tol * Math.abs(expected);
  assert.ok(err <= bound, `${what}: ${actual} vs ${expected} (difference ${err}, allowed ${bound})`);
}

/** Two fits are the same, bit for bit (NaN equal to NaN, +0 not -0). */
function assertSameFit(actual: ReferenceFit, expected: ReferenceFit, what: string): void {
  const show = (f: ReferenceFit) => JSON.stringify(f, (_k, v) => (Object.is(v, -0) ? "-0" : v));
  const same = (a: number, b: number) => Object.is(a, b);
  const ok = actual.n === expected.n && actual.rank === expected.rank && same(actual.r2, expected.r2) &&
    same(actual.sigma, expected.sigma) &&
    actual.coefficients.every((v, i) => same(v, expected.coefficients[i])) &&
    actual.se.every((v, i) => same(v, expected.se[i])) &&
    actual.aliased.every((v, i) => v === expected.aliased[i]) &&
    actual.coefficients.length === expected.coefficients.length;
  assert.ok(ok, `${what}:\n${show(actual)}\n${show(expected)}`);
}

/** The exact value of a double as num/den with den a positive power of two. */
function rational(d: number): [bigint, bigint] {
  const { m, e } = toDyadic(d);
  return e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)];
}

// ---- NIST ----

test("parseNist reads every fixture whole", () => {
  const sizes = {
    norris: [1, 36],
    pontius: [1, 40],
    longley: [6, 16],
    filip: [1, 82],
    wampler1: [1, 21],
    wampler2: [1, 21],
  };
  for (const name of NIST_NAMES) {
    const { columns, points } = parseNist(name);
    assert.deepEqual([columns.length, points.length], sizes[name], name);
    assert.ok(points.every((p) => p.xs.length === columns.length), name);
  }
  assert.deepEqual(parseNist("longley").points[0], { xs: [83, 234289, 2356, 1590, 107608, 1947], y: 60323 });
});

// NIST certifies 15 digits for the decimals as written; the fixtures' doubles differ from those decimals by
// up to half an ulp, which moves the exact answer by up to ~6e-14 relative (Wampler2's B3; most by ~1e-14).
const REL = 1e-13;

for (const name of NIST_NAMES) {
  test(`NIST ${name}: every coefficient, se, sigma and r2 within ${REL} of the certified values`, () => {
    const cert = NIST_CERTIFIED[name];
    const fit = exactModelFit(parseNist(name).points, cert.spec);
    const P = modelColumns(cert.spec);
    assert.equal(fit.rank, P, `${name}: no column aliased`);
    assert.deepEqual(fit.aliased, new Array(P).fill(false));
    assert.equal(fit.n, parseNist(name).points.length);
    for (let i = 0; i < P; i++) assertClose(fit.coefficients[i], cert.coefficients[i], REL, `${name} B${i}`);
    assertClose(fit.r2, cert.r2, REL, `${name} r2`);
    if (name === "wampler2") {
      // Certified 0 (an exact fit of the decimals). The doubles of 1.11111 etc. are not those decimals, so
      // the doubles' data lie off the polynomial by ~1e-16 and the exact sigma and SDs are ~1e-16 (0 to
      // 7e-16), not 0: compared absolutely, at 1e-14 (1e-13 relative to the scale of B0 and y, 1..6).
      assert.ok(fit.sigma > 0 && fit.sigma <= 1e-14, `wampler2 sigma ${fit.sigma}`);
      for (let i = 0; i < P; i++) {
        assert.ok(fit.se[i] > 0 && fit.se[i] <= 1e-14, `wampler2 se B${i} ${fit.se[i]}`);
      }
    } else {
      for (let i = 0; i < P; i++) assertClose(fit.se[i], cert.sd[i], REL, `${name} sd B${i}`);
      assertClose(fit.sigma, cert.residualSD, REL, `${name} sigma`);
    }
  });
}

test("NIST: the exact answers for the fixtures' doubles given in the READMEs, bit for bit", () => {
  for (const name of NIST_NAMES) {
    const cert = NIST_CERTIFIED[name];
    const fit = exactModelFit(parseNist(name).points, cert.spec);
    for (const [i, v] of Object.entries(cert.exactForDoubles.coefficients)) {
      assert.equal(fit.coefficients[Number(i)], v, `${name} B${i}`);
    }
    if (cert.exactForDoubles.residualSD !== undefined) {
      assert.equal(fit.sigma, cert.exactForDoubles.residualSD);
    }
    if (cert.exactForDoubles.r2 !== undefined) assert.equal(fit.r2, cert.exactForDoubles.r2);
  }
});

test("NIST Filip: degree 10 with an intercept keeps x^10 (R's lm drops it as collinear)", () => {
  const fit = exactModelFit(parseNist("filip").points, NIST_CERTIFIED.filip.spec);
  assert.equal(fit.aliased[10], false);
  assert.equal(fit.rank, 11);
  assert.equal(fit.coefficients[10], -4.029625250804014e-5);
});

test("NIST Wampler1: an exact fit, sigma and every se exactly 0, r2 exactly 1", () => {
  const fit = exactModelFit(parseNist("wampler1").points, NIST_CERTIFIED.wampler1.spec);
  assert.deepEqual(fit.coefficients, [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(fit.se, [0, 0, 0, 0, 0, 0]);
  assert.equal(fit.sigma, 0);
  assert.equal(fit.r2, 1);
});

test("a polynomial is the several-x model of its powers (Wampler1: x ≤ 20, so x^j is exact in doubles)", () => {
  const points = parseNist("wampler1").points;
  const poly = exactModelFit(points, { k: 1, degree: 5, intercept: true });
  const columns = points.map((p) => ({ xs: [1, 2, 3, 4, 5].map((j) => p.xs[0] ** j), y: p.y + p.xs[0] / 8 }));
  const polyShifted = exactModelFit(points.map((p) => ({ xs: p.xs, y: p.y + p.xs[0] / 8 })), {
    k: 1,
    degree: 5,
    intercept: true,
  });
  assertSameFit(
    exactModelFit(columns, { k: 5, degree: 1, intercept: true }),
    polyShifted,
    "degree 5 vs 5 columns",
  );
  assert.equal(polyShifted.coefficients[1], 1.125);
  assert.equal(poly.rank, 6);
});

test("one x, degree 1: the same line as the one-x reference (test/exact_reference.ts)", () => {
  const r = seededRandom(11);
  const cases: (readonly ModelPoint[])[] = [parseNist("norris").points];
  cases.push(parseNist("norris").points.map((p) => ({ xs: [p.xs[0] + 1e9], y: p.y })));
  for (let c = 0; c < 20; c++) {
    const n = 2 + Math.floor(r() * 30);
    const scale = 10 ** Math.floor(r() * 20 - 10);
    cases.push(Array.from({ length: n }, () => ({ xs: [(r() - 0.5) * scale + 1e6 * r()], y: r() * scale })));
  }
  for (const points of cases) {
    const fit = exactModelFit(points, { k: 1, degree: 1, intercept: true });
    const line = exactFit(points.map((p) => p.xs[0]), points.map((p) => p.y));
    assert.deepEqual(fit.coefficients, [line.a, line.b]);
  }
});

// ---- rounding ----

test("roundRational: known values, ties to even, signs, subnormals, overflow", () => {
  assert.equal(roundRational(1n, 3n), 1 / 3);
  assert.equal(roundRational(2n, 3n), 2 / 3);
  assert.equal(roundRational(-2n, 3n), -2 / 3);
  assert.equal(roundRational(2n, -3n), -2 / 3);
  assert.equal(roundRational(1n, 10n), 0.1);
  assert.equal(roundRational(0n, 7n), 0);
  const t53 = 1n << 53n;
  assert.equal(roundRational(t53 + 1n, 1n), 2 ** 53); // tie: down to the even mantissa
  assert.equal(roundRational(t53 + 3n, 1n), 2 ** 53 + 4); // tie: up to the even mantissa
  assert.equal(roundRational(-(t53 + 3n), 1n), -(2 ** 53 + 4));
  assert.equal(roundRational(2n * t53 + 2n, 2n), 2 ** 53); // the same tie, not in lowest terms
  assert.equal(roundRational(t53 * 3n + 1n, 3n), 2 ** 53); // just above 2^53, far below the midpoint
  assert.equal(roundRational(t53 * 4n + 2n, 4n), 2 ** 53); // 2^53 + 1/2: below the midpoint
  assert.equal(roundRational(1n, 1n << 1074n), 5e-324);
  assert.equal(roundRational(1n, 1n << 1075n), 0); // half the least subnormal: a tie, to 0
  assert.equal(roundRational(3n, 1n << 1076n), 5e-324); // 0.75 of it
  assert.equal(roundRational(3n, 1n << 1075n), 1e-323); // 1.5 of it: a tie, to 2
  assert.ok(Object.is(roundRational(-1n, 1n << 1076n), -0));
  assert.equal(roundRational(1n, 1n << 1022n), 2 ** -1022);
  assert.equal(roundRational((1n << 52n) - 1n, 1n << 1074n), 2 ** -1022 - 2 ** -1074); // the largest subnormal
  // Halfway between the largest subnormal (odd) and the least normal (even): up to the normal.
  assert.equal(roundRational((1n << 53n) - 1n, 1n << 1075n), 2 ** -1022);
  assert.equal(roundRational((1n << 53n) - 3n, 1n << 1075n), 2 ** -1022 - 2 ** -1073); // tie to the even subnormal
  const max = ((1n << 53n) - 1n) << 971n;
  assert.equal(roundRational(max, 1n), Number.MAX_VALUE);
  assert.equal(roundRational(max + (1n << 969n), 1n), Number.MAX_VALUE);
  assert.equal(roundRational(max + (1n << 970n), 1n), Infinity); // the tie above MAX_VALUE rounds to 2^1024
  assert.equal(roundRational(-(1n << 1100n), 3n), -Infinity);
  assert.throws(() => roundRational(1n, 0n), RangeError);
});

test("sqrtRational: known values, exact squares, ties to even, subnormals", () => {
  assert.equal(sqrtRational(2n, 1n), Math.SQRT2);
  assert.equal(sqrtRational(1n, 2n), Math.SQRT1_2);
  assert.equal(sqrtRational(1n, 3n), Math.sqrt(1 / 3) /* happens to be correctly rounded */);
  assert.equal(sqrtRational(9n, 4n), 1.5);
  assert.equal(sqrtRational(0n, 5n), 0);
  assert.ok(Number.isNaN(sqrtRational(-1n, 5n)));
  assert.equal(sqrtRational(-1n, -4n), 0.5);
  // Midpoints between consecutive doubles, squared: (2^52 + 1/2)² rounds to 2^52 (even), (2^52 + 3/2)² to
  // 2^52 + 2 (even); a hair above the first goes up.
  const h1 = (1n << 53n) + 1n, h3 = (1n << 53n) + 3n;
  assert.equal(sqrtRational(h1 * h1, 4n), 2 ** 52);
  assert.equal(sqrtRational(h3 * h3, 4n), 2 ** 52 + 2);
  assert.equal(sqrtRational(h1 * h1 + 1n, 4n), 2 ** 52 + 1);
  assert.equal(sqrtRational(h3 * h3 - 1n, 4n), 2 ** 52 + 1);
  assert.equal(sqrtRational(1n, 1n << 2148n), 5e-324);
  assert.equal(sqrtRational(1n, 1n << 2150n), 0); // half the least subnormal: a tie, to 0
  assert.equal(sqrtRational(9n, 1n << 2152n), 5e-324); // 0.75 of it
  assert.equal(sqrtRational(1n << 2046n, 1n), 2 ** 1023);
  assert.equal(sqrtRational(1n << 2048n, 1n), Infinity);
  assert.equal(isqrt(10n ** 40n), 10n ** 20n);
  assert.equal(isqrt(10n ** 40n - 1n), 10n ** 20n - 1n);
  assert.equal(bitLength(1n << 200n), 201);
});

/** A random finite double from random bits: every exponent, subnormals included. */
function randomDouble(r: () => number): number {
  const view = new DataView(new ArrayBuffer(8));
  for (;;) {
    view.setUint32(0, Math.floor(r() * 2 ** 32));
    view.setUint32(4, Math.floor(r() * 2 ** 32));
    const d = view.getFloat64(0);
    if (Number.isFinite(d)) return d;
  }
}

/** A random double of moderate size: mantissa random, exponent in [-60, 60]. */
function moderateDouble(r: () => number): number {
  return (r() - 0.5) * 2 ** Math.floor(r() * 120 - 60);
}

test("roundRational and sqrtRational agree with IEEE 754 ÷, ×, + and √ (correctly rounded) on random doubles", () => {
  const r = seededRandom(2024);
  for (let i = 0; i < 4000; i++) {
    const gen = i % 2 === 0 ? randomDouble : moderateDouble;
    const x = gen(r), y = gen(r);
    const [xn, xd] = rational(x), [yn, yd] = rational(y);
    if (y !== 0) assert.ok(Object.is(roundRational(xn * yd, xd * yn), x / y), `${x} / ${y}`);
    assert.equal(roundRational(xn * yn, xd * yd), x * y, `${x} * ${y}`);
    assert.equal(roundRational(xn * yd + yn * xd, xd * yd), x + y, `${x} + ${y}`);
    const ax = Math.abs(x);
    assert.equal(sqrtRational(...rational(ax)), Math.sqrt(ax), `sqrt ${ax}`);
    // Ratios of 53-bit integers: IEEE division of two exact doubles.
    const a = Math.floor(r() * 2 ** 53), b = 1 + Math.floor(r() * 2 ** 53);
    assert.equal(roundRational(BigInt(a), BigInt(b)), a / b);
  }
});

/** floor(num/den · 10^s), num, den > 0. */
function floorPow10(num: bigint, den: bigint, s: number): bigint {
  return s >= 0 ? (num * 10n ** BigInt(s)) / den : num / (den * 10n ** BigInt(-s));
}

test("roundRational and sqrtRational on random big rationals agree with a 20-digit decimal bracket", () => {
  // The value lies in [q, q+1) · 10^-s with q of 20 digits; ECMAScript reads decimals of up to 20
  // significant digits correctly rounded, and rounding is monotonic, so when both ends read as the same
  // double, that double is the correctly rounded value. (The rare brackets that straddle a midpoint are
  // skipped and counted.)
  const r = seededRandom(99);
  const big = (bits: number) => {
    let v = 1n;
    while (bitLength(v) < bits) v = (v << 30n) | BigInt(Math.floor(r() * 2 ** 30));
    return v >> BigInt(bitLength(v) - bits);
  };
  const bracket = (value: (s: number) => bigint, estimate: number): [number, number] => {
    let s = 19 - Math.floor(estimate);
    while (value(s) >= 10n ** 20n) s--;
    while (value(s) < 10n ** 19n) s++;
    const q = value(s);
    return [Number(`${q}e${-s}`), Number(`${q + 1n}e${-s}`)];
  };
  let decided = 0, skipped = 0;
  for (let i = 0; i < 1500; i++) {
    const num = big(1 + Math.floor(r() * 700)), den = big(1 + Math.floor(r() * 700));
    const log10 = (bitLength(num) - bitLength(den)) * Math.log10(2);
    const [lo, hi] = bracket((s) => floorPow10(num, den, s), log10);
    if (lo === hi) {
      assert.equal(roundRational(num, den), lo, `${num}/${den}`);
      assert.equal(roundRational(-num, den), -lo);
      decided++;
    } else skipped++;
    // √(num/den) · 10^s in [isqrt(floor(num/den · 10^(2s))), +1).
    const [slo, shi] = bracket((s) => isqrt(floorPow10(num, den, 2 * s)), log10 / 2);
    if (slo === shi) {
      assert.equal(sqrtRational(num, den), slo, `sqrt ${num}/${den}`);
      decided++;
    } else skipped++;
  }
  assert.ok(skipped <= 10 && decided >= 2990, `${decided} decided, ${skipped} skipped`);
});

// ---- the model's rules ----

test("aliasing: collinear, duplicated and all-zero columns, too few points (hard cases)", () => {
  for (const c of hardCases()) {
    if (c.aliased === undefined) continue;
    const fit = exactModelFit(c.points, c.spec);
    assert.deepEqual(fit.aliased, c.aliased, c.name);
    assert.equal(fit.rank, c.aliased.filter((a) => !a).length, c.name);
    fit.aliased.forEach((a, i) => {
      assert.equal(Number.isNaN(fit.coefficients[i]), a, `${c.name} coefficient ${i}`);
      if (a) assert.ok(Number.isNaN(fit.se[i]), `${c.name} se ${i}`);
    });
  }
});

test("aliasing: the other columns are the fit without the aliased one, bit for bit", () => {
  for (const c of hardCases()) {
    if (c.aliased === undefined || c.spec.degree > 1) continue;
    const keep = c.aliased.slice(1).map((a) => !a); // the x columns (the cases all have an intercept)
    const reduced = c.points.map((p) => ({ xs: p.xs.filter((_, j) => keep[j]), y: p.y, w: p.w }));
    const spec = { k: keep.filter((k) => k).length, degree: 1, intercept: true };
    const full = exactModelFit(c.points, c.spec), small = exactModelFit(reduced, spec);
    const keptFit: ReferenceFit = {
      ...full,
      coefficients: full.coefficients.filter((_, i) => !c.aliased![i]),
      se: full.se.filter((_, i) => !c.aliased![i]),
      aliased: full.aliased.filter((a) => !a),
    };
    assertSameFit(keptFit, small, c.name);
  }
});

test("aliasing in column order: the later of two equal columns goes, and a constant column after the intercept", () => {
  const r = seededRandom(5);
  const points = Array.from({ length: 10 }, () => {
    const u = r();
    return { xs: [3, u, 2 * u], y: r() };
  });
  assert.deepEqual(exactModelFit(points, { k: 3, degree: 1, intercept: true }).aliased, [
    false,
    true,
    false,
    true,
  ]);
  // Without an intercept, the constant column is the first and stays; the rest as before.
  assert.deepEqual(exactModelFit(points, { k: 3, degree: 1, intercept: false }).aliased, [
    false,
    false,
    true,
  ]);
});

test("retraction: a 1e12 outlier added then retracted gives the fit of never adding it, bit for bit", () => {
  for (const seed of [1, 2, 3]) {
    const c = outlierRetracted(seed);
    assertSameFit(exactModelFit(c.points, c.spec), exactModelFit(c.equivalent!, c.spec), `seed ${seed}`);
  }
  // Streaming: after the retraction, every prefix fit matches the clean stream's.
  const c = outlierRetracted(4, 30);
  const acc = new ModelAccumulator(c.spec), clean = new ModelAccumulator(c.spec);
  let retracted = false;
  for (const p of c.points) {
    acc.add(p);
    if (p.w === -1) retracted = true;
    else if (p.w !== 1) clean.add(p);
    if (retracted && p.w !== -1) assertSameFit(acc.fit(), clean.fit(), "prefix");
  }
});

test("the fit does not depend on the order of the points (exponents lowered as finer values arrive)", () => {
  for (const c of [cubicAtEpoch(3, 60), longleyShifted(), outlierRetracted(5, 40)]) {
    const shuffled = [...c.points.filter((p) => p.w !== -1)].reverse();
    shuffled.push(...c.points.filter((p) => p.w === -1));
    assertSameFit(exactModelFit(shuffled, c.spec), exactModelFit(c.points, c.spec), c.name);
  }
});

test("fewer points than coefficients: exact fit of the first columns, sigma and se NaN, r2 1", () => {
  for (const c of hardCases().filter((h) => h.name === "fewer_points_than_coefficients")) {
    const fit = exactModelFit(c.points, c.spec);
    assert.equal(fit.rank, 4);
    assert.ok(Number.isNaN(fit.sigma));
    assert.ok(fit.se.every(Number.isNaN));
    assert.equal(fit.r2, 1); // RSS = 0, TSS > 0
  }
  // Two points, three coefficients, without an intercept: rank 2, n − rank = 0.
  const fit = exactModelFit([{ xs: [1, 0, 2], y: 3 }, { xs: [0, 1, 5], y: 4 }], {
    k: 3,
    degree: 1,
    intercept: false,
  });
  assert.deepEqual(fit.coefficients, [3, 4, NaN]);
  assert.deepEqual(fit.aliased, [false, false, true]);
  assert.ok(Number.isNaN(fit.sigma) && fit.se.every(Number.isNaN));
});

test("no intercept: TSS is Σy², values by hand", () => {
  // y ≈ βx through (1,2), (2,4), (3,7): β = 31/14, RSS = 5/14, r2 = 1 − (5/14)/69 = 961/966.
  const fit = exactModelFit([{ xs: [1], y: 2 }, { xs: [2], y: 4 }, { xs: [3], y: 7 }], {
    k: 1,
    degree: 1,
    intercept: false,
  });
  assert.deepEqual(fit.coefficients, [31 / 14]);
  assert.equal(fit.r2, 961 / 966);
  assert.equal(fit.sigma, sqrtRational(5n, 28n));
  assert.equal(fit.se[0], sqrtRational(5n, 392n));
  assert.equal(fit.rank, 1);
});

test("with an intercept, values by hand: the line through (0,1), (1,3), (2,4)", () => {
  // b = 3/2, a = 7/6, RSS = 1/6, TSS = 14/3, r2 = 27/28, sigma² = 1/6, se_b² = 1/12, se_a² = 5/36.
  const fit = exactModelFit([{ xs: [0], y: 1 }, { xs: [1], y: 3 }, { xs: [2], y: 4 }], {
    k: 1,
    degree: 1,
    intercept: true,
  });
  assert.deepEqual(fit.coefficients, [7 / 6, 1.5]);
  assert.equal(fit.r2, 27 / 28);
  assert.equal(fit.sigma, sqrtRational(1n, 6n));
  assert.deepEqual(fit.se, [sqrtRational(5n, 36n), sqrtRational(1n, 12n)]);
});

test("tutorial rule, one x degree 1 with intercept: x aliased gives a = b = 0, not aliased, stats NaN", () => {
  const spec = { k: 1, degree: 1, intercept: true };
  const expectTutorial = (fit: ReferenceFit, n: number, rank: number) => {
    assert.deepEqual(fit.coefficients, [0, 0]);
    assert.deepEqual(fit.aliased, [false, false]);
    assert.ok(fit.se.every(Number.isNaN) && Number.isNaN(fit.sigma) && Number.isNaN(fit.r2));
    assert.equal(fit.n, n);
    assert.equal(fit.rank, rank);
  };
  expectTutorial(exactModelFit([], spec), 0, 0);
  expectTutorial(exactModelFit([{ xs: [5], y: 7 }], spec), 1, 1);
  expectTutorial(exactModelFit([{ xs: [5], y: 7 }, { xs: [5], y: 9 }, { xs: [5], y: 1 }], spec), 3, 1);
  expectTutorial(
    exactModelFit([{ xs: [5], y: 7 }, { xs: [6], y: 9 }, { xs: [6], y: 9, w: -1 }], spec),
    2 - 1,
    1,
  );
  expectTutorial(exactModelFit([{ xs: [5], y: 7 }, { xs: [5], y: 7, w: -1 }], spec), 0, 0);
  // Two distinct x: the line, exactly; n − rank = 0 so sigma and se are NaN; r2 = 1.
  const two = exactModelFit([{ xs: [1], y: 1 }, { xs: [3], y: 2 }], spec);
  assert.deepEqual(two.coefficients, [0.5, 0.5]);
  assert.ok(Number.isNaN(two.sigma) && two.se.every(Number.isNaN));
  assert.equal(two.r2, 1);
  // The rule is for that model only: without an intercept, or at degree 2, the ordinary rules apply.
  assert.deepEqual(exactModelFit([{ xs: [5], y: 7 }], { k: 1, degree: 1, intercept: false }).coefficients, [
    1.4,
  ]);
  const quad = exactModelFit([{ xs: [5], y: 7 }], { k: 1, degree: 2, intercept: true });
  assert.deepEqual(quad.coefficients, [7, NaN, NaN]);
  assert.deepEqual(quad.aliased, [false, true, true]);
});

test("n = 0: every coefficient NaN and aliased, rank 0, stats NaN", () => {
  for (const spec of [{ k: 3, degree: 1, intercept: true }, { k: 1, degree: 4, intercept: false }]) {
    const P = modelColumns(spec);
    const p = { xs: new Array(spec.k).fill(2.5), y: 1 };
    for (const points of [[], [p, { ...p, w: -1 }]]) {
      const fit = exactModelFit(points, spec);
      assert.equal(fit.n, 0);
      assert.equal(fit.rank, 0);
      assert.ok(fit.coefficients.every(Number.isNaN) && fit.se.every(Number.isNaN));
      assert.deepEqual(fit.aliased, new Array(P).fill(true));
      assert.ok(Number.isNaN(fit.r2) && Number.isNaN(fit.sigma));
    }
  }
});

test("TSS = 0 gives r2 NaN; a constant y is fitted exactly", () => {
  const fit = exactModelFit([{ xs: [1, 2], y: 4 }, { xs: [2, 1], y: 4 }, { xs: [3, 5], y: 4 }, {
    xs: [0, 0],
    y: 4,
  }], {
    k: 2,
    degree: 1,
    intercept: true,
  });
  assert.deepEqual(fit.coefficients, [4, 0, 0]);
  assert.ok(Number.isNaN(fit.r2));
  assert.equal(fit.sigma, 0);
});

test("the hard cases are deterministic, and each fits", () => {
  const a = hardCases(8), b = hardCases(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(hardCases(9)[0].points, a[0].points);
  for (const c of a) {
    const fit = exactModelFit(c.points, c.spec);
    assert.equal(fit.coefficients.length, modelColumns(c.spec), c.name);
    assert.ok(fit.coefficients.some(Number.isFinite), c.name);
  }
  // Longley shifted: the slopes move little (the shift is not exact in doubles for x1 = 88.2 etc.).
  const shifted = exactModelFit(longleyShifted().points, NIST_CERTIFIED.longley.spec);
  for (let i = 1; i < 7; i++) {
    assertClose(shifted.coefficients[i], NIST_CERTIFIED.longley.coefficients[i], 1e-6, `B${i}`);
  }
  // The cubic at 1.7e9: the data's t³ coefficient.
  assertClose(exactModelFit(cubicAtEpoch().points, cubicAtEpoch().spec).coefficients[3], 1e-5, 1e-2, "b3");
});

test("refuses what is not a point or a model", () => {
  const spec = { k: 2, degree: 1, intercept: true };
  assert.throws(() => exactModelFit([{ xs: [1], y: 1 }], spec), /2 x values/);
  assert.throws(() => exactModelFit([{ xs: [1, NaN], y: 1 }], spec), /finite/);
  assert.throws(() => exactModelFit([{ xs: [1, 2], y: Infinity }], spec), /finite/);
  assert.throws(() => exactModelFit([{ xs: [1, 2], y: 1, w: 2 }], spec), /weight/);
  assert.throws(() => modelColumns({ k: 21, degree: 1, intercept: true }), RangeError);
  assert.throws(() => modelColumns({ k: 2, degree: 2, intercept: true }), RangeError);
  assert.throws(() => modelColumns({ k: 1, degree: 13, intercept: true }), RangeError);
  assert.equal(modelColumns({ k: 1, degree: 12, intercept: true }), 13);
});
