import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../../test/harness.ts";
import { RegressionCore } from "../../core/regression_core.ts";
import { PythonRandom } from "../../sources/demo/python_random.ts";
import { KeyTable } from "./key_table.ts";

const release = await readFile(new URL("../../../build/streamreg.wasm", import.meta.url));
const debug = await readFile(new URL("../../../build/streamreg.debug.wasm", import.meta.url));

/** Points of several shapes: epoch-like, wide-ranging, tiny and huge, duplicates, zeros. */
function points(random: PythonRandom, kind: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const u = random.random();
    if (kind === 0) {
      const x = (1_700_000_000_000 + Math.floor(u * 1e9)) / 1000;
      out.push([x, 0.5 * x + (random.random() - 0.5) * 100]);
    } else if (kind === 1) {
      const scale = 2 ** Math.floor(random.random() * 400 - 200); // sums that outgrow the arena's record
      out.push([(u - 0.5) * scale, (random.random() - 0.5) * 2 ** Math.floor(random.random() * 400 - 200)]);
    } else if (kind === 2) out.push([Math.floor(u * 3), random.random() < 0.2 ? 0 : u]);
    else out.push([u * 2 ** -430 + 2 ** -439, (u + 1) * 2 ** 430]); // near the ends of the core's range
  }
  return out;
}

test("KeyTable: each key's fit is bit for bit the core's fit of the key's points, with retractions", async () => {
  for (const bytes of [release, debug]) {
    const core = await RegressionCore.load(bytes);
    const reference = await RegressionCore.load(bytes);
    const random = new PythonRandom(9);
    const table = new KeyTable();
    const keys = ["epoch", "wide", "small ints", "extremes", "single", ""];
    const held = new Map<string, [number, number][]>();
    for (let round = 0; round < 4; round++) {
      for (const [k, key] of keys.entries()) {
        const slot = table.slot(key);
        const add = key === "single" ? [[3, 4]] as [number, number][] : points(random, k % 4, 200);
        for (const [x, y] of add) table.add(slot, x, y, 1);
        const list = [...(held.get(key) ?? []), ...add];
        // retract a third of what the key holds, in another order
        for (let r = 0; r < list.length / 3; r++) {
          const [[x, y]] = list.splice(Math.floor(random.random() * list.length), 1);
          table.add(slot, x, y, -1);
        }
        held.set(key, list);
      }
      for (const key of keys) {
        const list = held.get(key)!;
        reference.reset();
        reference.add(Float64Array.from(list, (p) => p[0]), Float64Array.from(list, (p) => p[1]));
        const want = reference.fit();
        const got = table.fit(table.find(key), core);
        assert.ok(
          Object.is(got.a, want.a) && Object.is(got.b, want.b),
          `${key}: ${got.a},${got.b} ≠ ${want.a},${want.b}`,
        );
        assert.equal(got.count, want.count);
        assert.equal(got.degenerate, want.degenerate);
        table.loadInto(table.find(key), core);
        assert.deepEqual(core.fit(), got, `${key}: loadSums then fit`);
        for (let s = 1; s <= 5; s++) {
          assert.ok(
            Object.is(
              core.sum(["n", "x", "y", "xx", "xy", "yy"][s] as "x"),
              reference.sum(["n", "x", "y", "xx", "xy", "yy"][s] as "x"),
            ),
          );
        }
      }
    }
  }
});

test("KeyTable: keys come and go; max keys; an emptied key's slot is reused", async () => {
  const core = await RegressionCore.load(release);
  const table = new KeyTable({ maxKeys: 3 });
  const a = table.slot("a");
  const b = table.slot("b");
  assert.equal(table.slot("a"), a);
  assert.notEqual(a, b);
  assert.ok(table.slot("c") >= 0);
  assert.equal(table.slot("d"), -1, "a fourth key is refused");
  assert.equal(table.find("d"), -1);
  table.add(b, 1, 2, 1);
  table.add(b, 1, 2, -1);
  assert.equal(table.count(b), 0);
  assert.deepEqual(table.fit(b, core), { a: 0, b: 0, degenerate: true, count: 0 });
  table.write(b, { a: 1, b: 2 });
  assert.deepEqual(table.written(b), { a: 1, b: 2 });
  table.remove(b);
  assert.equal(table.size, 2);
  assert.equal(table.find("b"), -1);
  const d = table.slot("d");
  assert.equal(d, b, "the slot is reused");
  assert.equal(table.written(d), undefined);
  assert.equal(table.count(d), 0);
  assert.equal(table.key(d), "d");
});

test("KeyTable: save and restore give the same sums, count and line, inline and wide", async () => {
  const core = await RegressionCore.load(release);
  const random = new PythonRandom(3);
  const table = new KeyTable();
  for (const [k, key] of ["epoch", "wide"].entries()) {
    const slot = table.slot(key);
    for (const [x, y] of points(random, k, 300)) table.add(slot, x, y, 1);
    table.write(slot, { a: 1.5, b: -2 });
  }
  const other = new KeyTable();
  for (const key of ["epoch", "wide"]) {
    const slot = other.restore(key, table.save(table.find(key)));
    assert.deepEqual(other.fit(slot, core), table.fit(table.find(key), core));
    assert.deepEqual(other.written(slot), { a: 1.5, b: -2 });
    assert.equal(other.count(slot), 300);
    assert.deepEqual(other.save(slot), table.save(table.find(key)));
  }
  assert.throws(() => other.restore("x", new Uint8Array(3)), RangeError);
});
