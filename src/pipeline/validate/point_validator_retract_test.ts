import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import type { PointChunk } from "../../model/source.ts";
import { PointValidator } from "./point_validator.ts";

function chunkOf(rows: [string, number, number, number, number][], times: boolean): PointChunk {
  return {
    keys: rows.map((r) => r[0]),
    x: Float64Array.from(rows, (r) => r[1]),
    y: Float64Array.from(rows, (r) => r[2]),
    diff: Float64Array.from(rows, (r) => r[3]),
    ...(times ? { times: Float64Array.from(rows, (r) => r[4]) } : {}),
    where: (i) => `row ${i}`,
  };
}

test("PointValidator: keys of many points (indexed retractions) accept and refuse retractions as a plain multiset does", () => {
  for (const times of [false, true]) {
    let seed = times ? 11 : 5;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const validator = new PointValidator(times ? { window: { hop: 1e15 } } : {});
    /** The reference: each key's rows as strings (Object.is-exact: -0 is its own value). */
    const held = new Map<string, string[]>();
    const id = (x: number, y: number, t: number) =>
      [x, y, times ? t : 0].map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",");
    for (let c = 0; c < 40; c++) {
      const rows: [string, number, number, number, number][] = [];
      const expectBad: boolean[] = [];
      for (let i = 0; i < 500; i++) {
        const key = `k${Math.floor(random() * 4)}`;
        const list = held.get(key) ?? [];
        const u = random();
        if (u < 0.35 && list.length > 0) {
          // Retract a held row (many share x and y: few distinct values, ±0, and times).
          const [x, y, t] = list[Math.floor(random() * list.length)].split(",").map(Number);
          const row: [number, number, number] = [x, y, t];
          const s = id(...row);
          list.splice(list.indexOf(s), 1);
          rows.push([key, row[0], row[1], -1, row[2]]);
          expectBad.push(false);
        } else if (u < 0.45) {
          // A retraction of a row not held (another key's values, or -0 for 0, or another time).
          const x = random() < 0.5 ? -0 : 1000 + Math.floor(random() * 3);
          const y = Math.floor(random() * 3);
          const t = 7;
          const bad = !list.includes(id(x, y, t));
          if (!bad) list.splice(list.indexOf(id(x, y, t)), 1);
          rows.push([key, x, y, -1, t]);
          expectBad.push(bad);
        } else {
          const x = random() < 0.1 ? 0 : Math.floor(random() * 5);
          const y = Math.floor(random() * 3);
          const t = Math.floor(random() * 2);
          list.push(id(x, y, t));
          held.set(key, list);
          rows.push([key, x, y, 1, t]);
          expectBad.push(false);
        }
        if (list.length === 0) held.delete(key);
        else held.set(key, list);
      }
      const found = validator.check(chunkOf(rows, times));
      const bad = rows.map((_, i) => found?.mask[i] === 1);
      assert.deepEqual(bad, expectBad, `chunk ${c}${times ? ", with times" : ""}`);
      for (const [key, list] of held) assert.equal(validator.keyCount(key), list.length);
    }
    assert.ok([...held.values()].some((list) => list.length > 100), "keys of more than 32 points");
  }
});
