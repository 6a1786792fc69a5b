/**
 * The block kernel (assembly/split_block.ts) checked bit for bit against the BigInt reference
 * (test/exact_reference.ts), on data built to take each of its paths — anchored and plain cuts, the pair
 * fallback to the scalar path, whole scalar blocks — and to sit on each of their boundaries.
 *
 * Every check compares the five sums, the count, the refused count and the fit with the reference, and
 * also the exact sums held in the snapshot (decoded by the layout in assembly/index.ts), since a rounded
 * double can hide a small error.
 * @module
 */
import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { RegressionCore } from "./regression_core.ts";
import {
  BLOCK,
  blockWithTop,
  build,
  BUILDS,
  CALL,
  concat,
  exercise,
  LENGTHS,
  mixture,
  type Points,
  Rng,
  shapes,
  slice,
  spreadBlock,
  STATISTICS,
  TINY,
  Twin,
} from "../../test/block_kernel_helpers.ts";

for (const [label, bytes] of BUILDS) {
  test(`block kernel (${label}): anchored x and y (epoch seconds, -1e12, prices 100 ± 0.01) are exact`, async () => {
    const r = new Rng(1n);
    for (const name of ["epoch", "negative", "prices"]) await exercise(bytes, shapes[name](r, 5000), name);
  });

  test(`block kernel (${label}): mixed cuts, x anchored with y plain across 0 and x plain with y anchored`, async () => {
    const r = new Rng(2n);
    for (const name of ["anchoredX", "anchoredY"]) await exercise(bytes, shapes[name](r, 5000), name);
  });

  test(`block kernel (${label}): plain blocks (uniform, integers, full 53-bit significands) are exact`, async () => {
    const r = new Rng(3n);
    for (const name of ["wide", "integers", "fullMantissa", "fullRange"]) {
      await exercise(bytes, shapes[name](r, 5000), name);
    }
  });

  test(`block kernel (${label}): values far below the block max fall back by pair and stay exact`, async () => {
    const r = new Rng(4n);
    // 1e-9, 2^-440 and others among ~1e3 at even and at odd positions, in x, in y and in both.
    const data = shapes.wide(r, 3 * BLOCK);
    TINY.forEach((v, k) => {
      data.x[10 + 2 * k] = v; // even
      data.y[BLOCK + 11 + 2 * k] = v; // odd
      data.x[2 * BLOCK + 100 + 3 * k] = data.y[2 * BLOCK + 100 + 3 * k] = v; // both
    });
    await exercise(bytes, data, "tiny values among ~1e3");
    await exercise(bytes, shapes.tinyAmongLarge(r, 5000), "tiny values at random places");
    // Anchored blocks take every value; a value below the others makes the block plain, pairs fall back.
    const epoch = shapes.epoch(r, 2 * BLOCK);
    epoch.x[5] = 1e-9;
    epoch.y[BLOCK + 6] = 2 ** -440;
    await exercise(bytes, epoch, "a tiny value in an epoch block");
  });

  test(`block kernel (${label}): NaN, ±Inf and 1e200 are refused, their pair partner and block stay exact`, async () => {
    const r = new Rng(5n);
    const data = concat(
      shapes.epoch(r, BLOCK),
      shapes.wide(r, BLOCK),
      shapes.prices(r, BLOCK),
      shapes.wide(r, BLOCK),
    );
    data.x[10] = NaN; // anchored block, even position
    data.y[21] = NaN; // odd
    data.x[BLOCK + 100] = NaN; // plain block
    data.y[BLOCK + 301] = NaN;
    data.x[BLOCK + 500] = data.y[BLOCK + 500] = NaN;
    data.x[2 * BLOCK + 2] = Infinity; // the block's cut comes from a sample, clipped
    data.y[2 * BLOCK + 7] = -Infinity;
    data.x[3 * BLOCK + 8] = 1e200; // clipped too
    data.y[3 * BLOCK + 9] = -1e200;
    await exercise(bytes, data, "NaN, ±Inf and 1e200 at even and odd positions");
    await exercise(bytes, shapes.badValues(r, 6000), "bad values at random places");
    await exercise(bytes, shapes.anchoredNaN(r, 6000), "NaN in anchored blocks");
    // A block whose only values are NaN, one whose x are all NaN, one with a single finite point.
    const nan = () => NaN;
    const lone = build(BLOCK, nan, nan);
    lone.x[333] = 1.7e9 + 0.25;
    lone.y[333] = 3;
    const blocks = concat(build(BLOCK, nan, nan), build(BLOCK, nan, (i) => i), lone, shapes.epoch(r, BLOCK));
    await exercise(bytes, blocks, "blocks of NaN only");
  });

  test(`block kernel (${label}): outliers far above their block (clipped cut) and ±Inf are exact`, async () => {
    const r = new Rng(12n);
    // The kernel samples 16 values per block (every 64th of a full block) to spot an outlier; one on a
    // sampled position sets the cut from the block max instead, one elsewhere makes the cut clipped.
    for (const at of [7, 333, 0, 64, 1023]) {
      const data = shapes.centered(r, 2 * BLOCK);
      data.x[at] = 1e6;
      data.y[BLOCK + at] = -3e9;
      data.x[BLOCK + ((at + 5) % BLOCK)] = data.y[BLOCK + ((at + 5) % BLOCK)] = 2 ** 40;
      await exercise(bytes, data, `outliers near position ${at}`);
    }
    await exercise(bytes, shapes.outliers(r, 9000), "outliers at random places");
    // Values just under and over the clip limit: samples in [0.5, 1) (exponent -1) and the 2^40 outlier
    // make the cut clipped, with the limit the largest double below 2^(-1 + 1 + 2) = 4.
    const limit = 4 * (1 - 2 ** -53);
    const edges = build(BLOCK, () => 0.5 + r.next() * 0.5, () => 0.5 + r.next() * 0.5);
    [limit, -limit, 4, -4, 4 * (1 + 2 ** -52), 2 ** 40].forEach((v, k) => {
      edges.x[3 + 2 * k] = v;
      edges.y[200 + 2 * k + 1] = v;
    });
    await exercise(bytes, edges, "values at the clip limit");
    // ±Inf with accepted values near the top of the range: the limit never passes 2^440, so values
    // above it are refused, 2^440 itself is taken.
    const top = build(BLOCK, () => 2 ** 438 * (1 + r.next()), () => -(2 ** 437) * (1 + r.next()));
    top.x[5] = Infinity;
    top.y[6] = -Infinity;
    [2 ** 440, -(2 ** 440), 2 ** 440 * (1 + 2 ** -52), 1.5 * 2 ** 440, 1e300].forEach((v, k) => {
      top.x[101 + 2 * k] = v;
      top.y[300 + 2 * k] = v;
    });
    await exercise(bytes, top, "±Inf and values around 2^440");
    // ±Inf where every sampled value is 0: no cut can be chosen, the block goes scalar.
    const zeros = build(BLOCK, (i) => i % 64 === 0 ? 0 : (i % 7) - 3, () => r.next());
    zeros.x[9] = -Infinity;
    await exercise(bytes, zeros, "±Inf with zeros on the sampled positions");
  });

  test(`block kernel (${label}): boundaries, block max a power of two or one ulp below it`, async () => {
    const r = new Rng(6n);
    for (const k of [10, 0, -30, 200, 440, -376, -380]) {
      // Plain top t: 2^t just above the block max; a value is taken when a multiple of 2^(t-63).
      const power = 2 ** k, below = 2 ** k * (1 - 2 ** -53);
      const menu = (e: number) => [
        () => r.sign() * r.full(k - 1),
        () => r.sign() * r.full(e), // the lowest exponent whose full significands are taken
        () => r.sign() * r.full(e - 1), // falls back by pair
        () => r.sign() * 2 ** (k - 11), // few bits: taken
        () => r.sign() * below,
        () => 0,
        () => -0,
      ];
      const ofPower = menu(k - 10), ofBelow = menu(k - 11);
      const data = concat(
        { x: blockWithTop(r, power, ofPower), y: blockWithTop(r, below, ofBelow) },
        { x: blockWithTop(r, below, ofBelow), y: blockWithTop(r, power, ofPower) },
      );
      await exercise(bytes, data, `block max 2^${k} or one ulp below`);
    }
  });

  test(`block kernel (${label}): boundaries, constant x, 21-bit anchors, spreads near 2^-11, crossing 2^k`, async () => {
    const r = new Rng(7n);
    // Constant x (spread 0): degenerate alone, exact with a second constant block.
    const constant = build(BLOCK, () => 1.7e9 + 0.37, () => 8.5e8 + r.next());
    const t = await Twin.load(bytes);
    t.add(constant);
    t.check("one block of constant x");
    assert.equal(t.core.fit().degenerate, true);
    t.add(build(BLOCK + 1, () => 1.7e9 + 1.37, () => 8.5e8 - r.next()));
    t.check("two blocks of constant x");
    assert.equal(t.core.fit().degenerate, false);
    // Values equal to their 21-bit anchor, alone and in the middle of a symmetric spread.
    const v0 = 1234567 * 2 ** 8, w0 = -1234567 * 2 ** -30;
    await exercise(bytes, build(2 * BLOCK, () => v0, () => w0), "x and y equal to a 21-bit anchor");
    const d = [-(2 ** -10), 0, 2 ** -10];
    await exercise(
      bytes,
      build(2 * BLOCK, (i) => v0 + d[i % 3], (i) => w0 + d[(i + 1) % 3] * 2 ** -38),
      "±d around it",
    );
    // One or three ulps of spread.
    await exercise(
      bytes,
      build(BLOCK, (i) => 1.7e9 + (i % 4) * 2 ** -22, (i) => 1 + (i % 3) * 2 ** -52),
      "ulp spreads",
    );
    // Spreads of f·2^-11 relative around centres, some crossing a power of two or the lowest anchor 2^-300.
    const cx = [3, 1.7e9, -1e12, 2 ** 30, 2 ** -300, -(2 ** -300) * (1 + 2 ** -13)];
    const cy = [8.5e8, -1, 2 ** 20, 1e-9];
    const fs = [0.25, 0.49, 0.5, 0.51, 0.99, 1, 1.01, 2];
    const parts: Points[] = [];
    for (let j = 0; j < 24; j++) {
      parts.push({
        x: spreadBlock(r, cx[j % cx.length], fs[j % fs.length]),
        y: spreadBlock(r, cy[j % 4], fs[(j + 3) % 8]),
      });
    }
    const data = concat(...parts);
    for (let at = 0; at < data.x.length; at += CALL) {
      await exercise(bytes, slice(data, at, at + CALL), "spreads near 2^-11");
    }
    // Straddling a power of two, and all on one side of it.
    await exercise(
      bytes,
      build(BLOCK, () => 2 ** 30 + (r.next() - 0.5) * 100, () => -(2 ** 20) + (r.next() - 0.5) * 1e-3),
      "±2^k",
    );
    await exercise(
      bytes,
      build(BLOCK, () => 2 ** 30 + r.next() * 100, () => 2 ** 30 - r.next() * 100),
      "2^k, one side",
    );
  });

  test(`block kernel (${label}): boundaries, extremes near 2^440, anchors near 2^-300, values at 2^-440`, async () => {
    const r = new Rng(8n);
    await exercise(bytes, shapes.nearMax(r, 3000), "2^439·(1 + ε)");
    // 2^440 itself and the double below it are accepted (plain top 2^441); the double above is refused.
    const huge = [2 ** 440, -(2 ** 440), 2 ** 440 * (1 - 2 ** -53), 2 ** 439 * (1 + 2 ** -52), 1, 2 ** -440];
    const top = build(2 * BLOCK, () => r.pick(huge), () => r.sign() * r.full(400 + r.int(40)));
    await exercise(bytes, top, "±2^440 and below");
    top.x[BLOCK + 7] = 2 ** 440 * (1 + 2 ** -52);
    await exercise(bytes, top, "one value above 2^440 makes its block scalar");
    // Anchors at 2^-300, just below (plain) and crossing it.
    await exercise(bytes, shapes.nearMinAnchor(r, 3000), "at and below 2^-300");
    const cross = build(BLOCK, () => 2 ** -300 * (1 + (r.next() - 0.5) * 2 ** -14), () => 2 ** -300);
    await exercise(bytes, cross, "crossing 2^-300");
    // One-signed, tightly spread values too small to anchor (plain, top clamped at 2^-377): near 2^-420,
    // just above 2^-440 (accepted), and below it (refused, although a cut might take them).
    for (const c of [2 ** -420, -(2 ** -439), 2 ** -440, -(2 ** -441), 1e-200, -5e-324]) {
      const oneSigned = build(BLOCK, () => c * (1 + r.next() * 2 ** -20), () => r.next());
      await exercise(bytes, oneSigned, `one-signed values near ${c}`);
    }
    // Tiny plain blocks of mixed sign; values at exactly ±2^-440, or refused just below it.
    await exercise(bytes, shapes.tinyPlain(r, 3000), "tiny plain values");
    const least = [2 ** -440, -(2 ** -440), 2 ** -440 * (1 - 2 ** -53), 2 ** -441, 3 * 2 ** -440, 0];
    await exercise(bytes, build(2 * BLOCK, () => r.pick(least), () => r.pick(least)), "values at 2^-440");
    const mixed = [2 ** -440, -(2 ** -440), 2 ** 440, 1.5];
    await exercise(bytes, build(2 * BLOCK, () => r.pick(mixed), () => r.pick(mixed)), "2^-440 with 2^440");
  });

  test(`block kernel (${label}): lengths 1 to 10000, in one call, random slices or point by point, give one state`, async () => {
    const r = new Rng(9n);
    for (const n of LENGTHS) {
      for (const [name, data] of [["epoch", shapes.epoch(r, n)], ["mixture", mixture(r, n)]] as const) {
        const whole = await Twin.load(bytes);
        whole.add(data);
        whole.check(`${name} of ${n} points in one call`);
        const expected = whole.core.snapshot();
        const sliced = await RegressionCore.load(bytes);
        for (let at = 0; at < n;) {
          const len = 1 + r.int(r.pick([3, 100, 1500, 5000]));
          sliced.add(data.x.subarray(at, at + len), data.y.subarray(at, at + len));
          at += len;
        }
        assert.deepEqual(sliced.snapshot(), expected, `${name} of ${n} points in random slices`);
        assert.deepEqual(sliced.fit(), whole.core.fit());
        for (const s of STATISTICS) assert.equal(sliced.sum(s), whole.core.sum(s));
        // One point per call: each is the odd last point of its block, so the scalar path takes all.
        const single = await RegressionCore.load(bytes);
        for (let i = 0; i < n; i++) single.add(data.x.subarray(i, i + 1), data.y.subarray(i, i + 1));
        assert.deepEqual(single.snapshot(), expected, `${name} of ${n} points one by one`);
      }
    }
  });
}
