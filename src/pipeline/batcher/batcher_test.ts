import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import type { PointChunk } from "../../model/source.ts";
import { Batcher } from "./batcher.ts";

function chunk(n: number, label = "c"): PointChunk {
  const x = Float64Array.from({ length: n }, (_, i) => i);
  return { x, y: x.slice(), diff: new Float64Array(n).fill(1), where: (i) => `${label}[${i}]` };
}

const ranges = (spans: { start: number; end: number }[] | undefined) => spans?.map((s) => [s.start, s.end]);

test("Batcher closes a batch at commitRows, splitting chunks exactly", () => {
  const batcher = new Batcher({ commitMs: 1000, commitRows: 4, start: 0 });
  const a = chunk(3);
  const b = chunk(6);
  assert.equal(batcher.add(a, 0), 3);
  assert.equal(batcher.full, false);
  assert.equal(batcher.add(b, 0), 1);
  assert.equal(batcher.full, true);
  assert.equal(batcher.add(b, 1), 1, "a full batch takes nothing");
  const first = batcher.close()!;
  assert.deepEqual(first.map((s) => s.chunk), [a, b]);
  assert.deepEqual(ranges(first), [[0, 3], [0, 1]]);
  assert.equal(batcher.add(b, 1), 5);
  assert.deepEqual(ranges(batcher.close()), [[1, 5]]);
  assert.equal(batcher.add(b, 5), 6);
  assert.deepEqual(ranges(batcher.close()), [[5, 6]]);
  assert.equal(batcher.close(), undefined, "an empty batch closes to nothing");
});

test("Batcher with commitRows 0 has no row limit and merges adjacent ranges of a chunk", () => {
  const batcher = new Batcher({ commitMs: 1000, commitRows: 0, start: 0 });
  const a = chunk(1_000_000);
  assert.equal(batcher.add(a, 0), 1_000_000);
  assert.equal(batcher.full, false);
  assert.equal(batcher.rows, 1_000_000);
  assert.deepEqual(ranges(batcher.close()), [[0, 1_000_000]]);
});

test("Batcher windows: a batch closes at the end of its commitMs window; points join the window they arrive in", () => {
  const batcher = new Batcher({ commitMs: 1000, commitRows: 0, start: 5000 });
  assert.equal(batcher.deadline, Infinity, "no deadline while empty");
  assert.equal(batcher.arrive(5000), false);
  batcher.add(chunk(1), 0);
  assert.equal(batcher.deadline, 6000);
  assert.equal(batcher.arrive(5999.9), false);
  assert.equal(batcher.arrive(6000), true, "the window [5000, 6000) has ended");
  assert.equal(batcher.close()!.length, 1);
  // Nothing arrives for a while: empty windows close nothing, the grid stays aligned to the start.
  assert.equal(batcher.arrive(9500), false);
  batcher.add(chunk(2), 0);
  assert.equal(batcher.deadline, 10000);
  assert.equal(batcher.arrive(10000.5), true);
  batcher.close();
  assert.equal(batcher.arrive(10001), false);
  batcher.add(chunk(1), 0);
  assert.equal(batcher.deadline, 11000);
});

test("Batcher: a row-closed batch leaves the window running", () => {
  const batcher = new Batcher({ commitMs: 100, commitRows: 2, start: 0 });
  batcher.arrive(10);
  batcher.add(chunk(3), 0);
  assert.equal(batcher.full, true);
  batcher.close();
  batcher.add(chunk(3), 2);
  assert.equal(batcher.deadline, 100);
});

test("Batcher refuses bad settings", () => {
  assert.throws(
    () => new Batcher({ commitMs: 0, commitRows: 1, start: 0 }),
    /commitMs must be a finite number > 0/,
  );
  assert.throws(
    () => new Batcher({ commitMs: 10, commitRows: -1, start: 0 }),
    /commitRows must be an integer ≥ 0/,
  );
  assert.throws(
    () => new Batcher({ commitMs: 10, commitRows: 1.5, start: 0 }),
    /commitRows must be an integer/,
  );
});
