import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../../test/harness.ts";
import { RegressionCore } from "../../core/regression_core.ts";
import type { PointChunk } from "../../model/source.ts";
import { PointValidator } from "../validate/point_validator.ts";
import { applyKeyedBatch, KeyedEngine } from "./keyed_stage.ts";

const wasm = await readFile(new URL("../../../build/streamreg.wasm", import.meta.url));

function chunkOf(rows: [string, number, number, number][]): PointChunk {
  return {
    keys: rows.map((r) => r[0]),
    x: Float64Array.from(rows, (r) => r[1]),
    y: Float64Array.from(rows, (r) => r[2]),
    diff: Float64Array.from(rows, (r) => r[3]),
    where: (i) => `row ${i}`,
  };
}

test("applyKeyedBatch: with the validator's key ids, the same changes as looking every key up, as keys come and go", async () => {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  // Keys whose points are all retracted within a chunk free their ids, which new keys then reuse.
  const held = new Map<string, [number, number][]>();
  const chunks: PointChunk[] = [];
  let fresh = 0;
  for (let c = 0; c < 30; c++) {
    const rows: [string, number, number, number][] = [];
    for (let i = 0; i < 200; i++) {
      const keys = [...held.keys()];
      if (keys.length > 0 && random() < 0.45) {
        const key = keys[Math.floor(random() * keys.length)];
        const list = held.get(key)!;
        const [x, y] = list.splice(Math.floor(random() * list.length), 1)[0];
        if (list.length === 0) held.delete(key);
        rows.push([key, x, y, -1]);
      } else {
        const key = random() < 0.3 || keys.length === 0
          ? `k${fresh++}`
          : keys[Math.floor(random() * keys.length)];
        const point: [number, number] = [Math.floor(random() * 50) / 4, random()];
        held.set(key, [...(held.get(key) ?? []), point]);
        rows.push([key, point[0], point[1], 1]);
      }
    }
    chunks.push(chunkOf(rows));
  }
  const run = async (withIds: boolean) => {
    const engine = new KeyedEngine(await RegressionCore.load(wasm));
    const validator = new PointValidator();
    const out: unknown[] = [];
    for (const chunk of chunks) {
      assert.equal(validator.check(chunk), undefined);
      const spans = [{ chunk, start: 0, end: 100 }, { chunk, start: 100, end: chunk.x.length }];
      for (const span of spans) {
        const result = applyKeyedBatch(engine, [span], withIds ? { keyIds: (c) => validator.keyIds(c) } : {});
        out.push(result.keys, result.count);
      }
    }
    assert.equal(engine.table.size, held.size);
    assert.equal(validator.keys, held.size);
    return out;
  };
  const expected = await run(false);
  assert.deepEqual(await run(true), expected);
});
