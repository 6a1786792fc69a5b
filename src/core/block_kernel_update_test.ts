/**
 * The block kernel (assembly/split_block.ts) checked bit for bit against the BigInt reference, continued
 * (see `./block_kernel_test.ts`): retractions, weights, long runs of calls, and the fast-math guard.
 * @module
 */
import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { exactFit, exactSums } from "../../test/exact_reference.ts";
import { RegressionCore } from "./regression_core.ts";
import {
  BLOCK,
  build,
  BUILDS,
  CALL,
  concat,
  f64,
  mixture,
  neighbour,
  type Points,
  release,
  Rng,
  select,
  SHAPE_NAMES,
  shapes,
  slice,
  STATISTICS,
  Twin,
  weights,
  withoutRefused,
} from "../../test/block_kernel_helpers.ts";

for (const [label, bytes] of BUILDS) {
  test(`block kernel (${label}): retract() of a subset leaves exactly the state of the rest`, async () => {
    const r = new Rng(10n);
    for (const data of [mixture(r, 6000), shapes.epoch(r, 6000), shapes.fullMantissa(r, 6000)]) {
      const n = data.x.length;
      const gone: number[] = [], kept: number[] = [];
      for (let i = 0; i < n; i++) (r.next() < 0.4 ? gone : kept).push(i);
      r.shuffle(gone);
      const all = await Twin.load(bytes);
      all.add(data);
      const retracted = select(data, gone);
      for (let at = 0; at < gone.length;) {
        const len = 1 + r.int(2000);
        all.retract(slice(retracted, at, at + len));
        at += len;
      }
      all.check("all added, a shuffled subset retracted in slices");
      const rest = await RegressionCore.load(bytes);
      rest.add(select(data, kept).x, select(data, kept).y);
      assert.deepEqual(
        withoutRefused(all.core.snapshot()),
        withoutRefused(rest.snapshot()),
        "the state of the rest",
      );
      // The same in one update(): all with weight +1, the subset with -1, interleaved.
      const order = r.shuffle([...Array(n).keys(), ...gone.map((i) => n + i)]);
      const both = concat(data, data);
      const viaUpdate = await Twin.load(bytes);
      viaUpdate.update(select(both, order), f64(order.map((i) => (i < n ? 1 : -1))));
      viaUpdate.check("update() adding all and retracting the subset");
      assert.deepEqual(
        withoutRefused(viaUpdate.core.snapshot()),
        withoutRefused(rest.snapshot()),
        "update(): the state of the rest",
      );
      // Retracting everything leaves the empty state.
      all.retract(select(data, kept));
      all.check("everything retracted");
      assert.deepEqual(
        withoutRefused(all.core.snapshot()),
        withoutRefused((await RegressionCore.load(bytes)).snapshot()),
      );
      assert.deepEqual(all.core.fit(), { a: 0, b: 0, degenerate: true, count: 0 });
    }
  });

  test(`block kernel (${label}): update() with ±1 weights and invalid ones (0, 0.5, 2, NaN) in fast blocks`, async () => {
    const r = new Rng(11n);
    for (const name of ["epoch", "prices", "wide", "anchoredX", "integers", "fullMantissa"]) {
      const data = shapes[name](r, 5000);
      const w = weights(r, data.x.length);
      // Invalid weights at known even and odd positions of anchored and plain blocks too.
      [0, 0.5, 2, NaN, -0, 1 + 2 ** -52].forEach((bad, k) => {
        w[2 * k] = bad;
        w[BLOCK + 2 * k + 1] = bad;
      });
      const t = await Twin.load(bytes);
      t.update(data, w);
      t.check(`${name}: update()`);
      assert.deepEqual(
        t.core.fit(),
        { ...exactFit(data.x, data.y, w.map((wi) => (wi === 1 || wi === -1 ? wi : 0))), count: t.core.count },
        `${name}: the weighted least-squares line`,
      );
      t.add(data);
      t.check(`${name}: then add()`);
      t.update(data, w.map((wi) => -wi));
      t.check(`${name}: then update() with the weights negated`);
    }
  });

  test(
    `block kernel (${label}): seeded fuzz, 300 calls of mixed shapes and ops, checked after each`,
    async () => {
      const r = new Rng(12n);
      const t = await Twin.load(bytes);
      const added: Points[] = [];
      const lengths =
        () => [1, 2, 3, 1 + r.int(20), 1 + r.int(200), BLOCK - 1, BLOCK, BLOCK + 1, 1 + r.int(1100)];
      let total = 0;
      for (let call = 0; call < 300; call++) {
        // Up to 90 000 points in all (the BigInt reference is slow), then short calls only.
        let len = r.next() < 0.04 ? CALL + 1 + r.int(2000) : r.pick(lengths());
        if (total > 90_000) len = 1 + r.int(50);
        const op = r.pick(["add", "add", "retract", "update", "update"]);
        let data: Points;
        if (op === "retract" && added.length > 0 && r.next() < 0.7) {
          const from = r.pick(added);
          const at = r.int(from.x.length);
          data = slice(from, at, at + len);
        } else data = r.next() < 0.5 ? mixture(r, len) : shapes[r.pick(SHAPE_NAMES)](r, len);
        total += data.x.length;
        if (op === "add") {
          t.add(data);
          added.push(data);
        } else if (op === "retract") t.retract(data);
        else t.update(data, weights(r, data.x.length, r.pick([0, 0.01, 0.2])));
        t.check(`fuzz call ${call}: ${op}() of ${data.x.length} points`);
        if (call % 50 === 49) {
          // Carry on in a fresh core restored from the snapshot.
          const fresh = await RegressionCore.load(bytes);
          fresh.restore(t.core.snapshot());
          t.core = fresh;
          t.check(`fuzz call ${call}: after restore()`);
        }
      }
    },
    { timeoutMs: 60_000 },
  );

  test(`block kernel (${label}): 1.2 million calls of one pair with no fold between them stay exact`, async () => {
    // Each call is one block of one pair, taken by the cut, whose ~30 sums go straight into the fixed-point
    // digits with their carries deferred: far more than the 2^24 such terms after which the kernel settles
    // them, and no sum(), fit() or snapshot() in between to fold them earlier.
    const calls = 1_200_000;
    const pairs = [
      build(2, (i) => 1.7e9 + [0.123456789, 1234.5678912345][i], (i) => 8.5e8 + [Math.PI, -Math.E][i]), // anchored
      build(2, (i) => [-1.2345678901234567, 987.6543210987654][i], (i) => [Math.PI, -Math.E * 1e-3][i]), // plain
    ];
    const t = await Twin.load(bytes);
    for (const p of pairs) {
      for (let k = 0; k < calls; k++) t.core.add(p.x, p.y);
      t.ref.add(p.x[0], p.y[0], calls).add(p.x[1], p.y[1], calls);
      t.check(`${calls} calls of the pair (${p.x[0]}, ${p.y[0]}), (${p.x[1]}, ${p.y[1]})`);
    }
  });
}

test("fast-math guard (release): the block kernel's cuts keep their pieces", async () => {
  // If (v + C) - C were folded to v, the first piece would be the whole value, and its square or product
  // with the other coordinate would be rounded. Each point (x, y) comes with its neighbour (x⁺, y⁺), one
  // double up in each coordinate, retracted by update(): the exact Σx², Σxy, Σy² are then small next to
  // the products, so their rounding errors would show in the rounded sums too, not only in the state.
  const r = new Rng(13n);
  const withNeighbours = (fx: () => number, fy: () => number) => {
    const p = build(BLOCK, (i) => i % 2 === 0 ? fx() : NaN, (i) => i % 2 === 0 ? fy() : NaN);
    for (let i = 1; i < BLOCK; i += 2) [p.x[i], p.y[i]] = [neighbour(p.x[i - 1]), neighbour(p.y[i - 1])];
    return p;
  };
  const anchored = withNeighbours(() => 1 + r.next() * 2 ** -12, () => 1.7e9 + r.next() * 1000);
  const plain = withNeighbours(() => r.full(-1), () => r.sign() * r.full(30));
  const w = Float64Array.from({ length: BLOCK }, (_, i) => i % 2 === 0 ? 1 : -1);
  for (const [name, data] of [["anchored", anchored], ["plain", plain]] as const) {
    const t = await Twin.load(release);
    t.update(data, w);
    t.check(`${name}: full 53-bit values less their neighbours`);
    const want = exactSums(data.x, data.y, w);
    for (const s of STATISTICS) {
      assert.equal(t.core.sum(s), want[s], `${name}: sum("${s}") against exactSums`);
    }
    t.add(data);
    t.check(`${name}: the same values added`);
  }
});
