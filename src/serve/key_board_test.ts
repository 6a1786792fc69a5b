import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { joinKey } from "../model/keys.ts";
import type { KeyChange, PointRun } from "../model/sink.ts";
import { KeyBoard } from "./key_board.ts";

/** A run of points y = 2x, one per key given (x = 0, 1, 2, …). */
function points(keys: string[], diff = 1): PointRun {
  const x = Float64Array.from(keys, (_, i) => i);
  return { x, y: x.map((v) => 2 * v), diff: new Float64Array(keys.length).fill(diff), keys };
}

const repeat = (key: string, n: number) => Array.from({ length: n }, () => key);

test("KeyBoard: keys ranked by points in the last seconds, then by points in all; lines as the change log writes them", () => {
  const board = new KeyBoard({ windows: undefined, recentSeconds: 5 });
  // At second 0: "old" gets 20 points; at second 10: "busy" 7, "calm" 2, "tie-b" and "tie-a" 3 each.
  board.count(points(repeat("old", 20)), 0);
  board.count(points([...repeat("busy", 7), ...repeat("calm", 2), ...repeat("tie-b", 3)]), 10_000);
  board.count(points(repeat("tie-a", 3)), 10_500);
  const changes: KeyChange[] = [
    { key: "busy", line: { a: 0.1 + 0.2, b: -0 }, n: 7 },
    { key: "calm", line: { a: 1, b: 2 }, n: 2 },
  ];
  board.apply(changes, 1_700_000_000_000, 10_500);
  const top = board.top(10, 11_000);
  assert.deepEqual(top.map((r) => [r.key, r.recent, r.points]), [
    ["busy", 7, 7],
    ["tie-a", 3, 3],
    ["tie-b", 3, 3],
    ["calm", 2, 2],
    ["old", 0, 20],
  ]);
  // Which of two equally active keys makes a shorter list: the one seen first.
  assert.deepEqual(board.top(2, 11_000).map((r) => r.key), ["busy", "tie-b"]);
  assert.deepEqual(top[0].cells, ["0.30000000000000004", "-0"], "as the change log writes them");
  assert.equal(top[0].n, 7);
  assert.equal(top[0].time, 1_700_000_000_000);
  assert.equal(top[1].cells, null, "no line yet");
  // Five seconds later the recent points have gone; the totals stay.
  assert.deepEqual(board.top(3, 15_000).map((r) => [r.key, r.recent]), [
    ["old", 0],
    ["busy", 0],
    ["tie-b", 0],
  ]);
  // A key left without points is forgotten.
  board.apply([{ key: "calm", old: { a: 1, b: 2 } }], 1_700_000_001_000, 15_000);
  assert.equal(board.row("calm", 15_000), undefined);
  assert.equal(board.size, 4);
});

test("KeyBoard: several key columns are labelled as the change log writes them", () => {
  const board = new KeyBoard({ windows: undefined });
  const key = joinKey(["eu", "a,b"]);
  board.apply([{ key, line: { a: 1, b: 2 }, n: 3 }], 5, 0);
  const row = board.row(key, 0)!;
  assert.equal(row.label, 'eu,"a,b"');
  assert.deepEqual(row.fields, ["eu", "a,b"]);
});

test("KeyBoard: with windows, each key shows the line of its latest window, bounds as the change log writes them", () => {
  const board = new KeyBoard({ windows: { format: "s" } });
  const w = (start: number, a: number): KeyChange => ({
    key: "s1",
    windowStart: start * 1000,
    windowEnd: (start + 60) * 1000,
    line: { a, b: 1 },
    n: 4,
  });
  board.apply([w(0, 1), w(60, 2)], 10, 0);
  assert.deepEqual(board.row("s1", 0)!.window, ["60", "120"]);
  assert.deepEqual(board.row("s1", 0)!.cells, ["2", "1"]);
  board.apply([w(0, 5)], 11, 0); // a late point changed the older window: the latest stays
  assert.deepEqual(board.row("s1", 0)!.cells, ["2", "1"]);
  board.apply([{ key: "s1", windowStart: 60_000, windowEnd: 120_000, old: { a: 2, b: 1 } }], 12, 0);
  assert.equal(board.row("s1", 0)!.cells, null, "the latest window emptied");
  // last:N: the bounds number points.
  const last = new KeyBoard({ windows: {} });
  last.apply([{ key: "k", windowStart: 1, windowEnd: 3, line: { a: 0, b: 0 }, n: 3 }], 1, 0);
  last.apply(
    [
      { key: "k", windowStart: 1, windowEnd: 3, old: { a: 0, b: 0 } },
      { key: "k", windowStart: 2, windowEnd: 4, line: { a: 1, b: 0 }, n: 3 },
    ],
    2,
    0,
  );
  assert.deepEqual(last.row("k", 0)!.window, ["2", "4"]);
  assert.deepEqual(last.row("k", 0)!.cells, ["1", "0"]);
});

test("KeyBoard: samples only for the chosen keys, at most sampledKeys of them, each bounded", () => {
  const board = new KeyBoard({ windows: undefined, sampledKeys: 2, sampleSize: 50, perWindow: 20 });
  const keys = Array.from({ length: 1000 }, (_, i) => `k${i % 10}`);
  board.count(points(keys), 0);
  assert.deepEqual(board.sampled, ["k0", "k1"], "the first keys take the free samples");
  assert.equal(board.sample("k1").y.length, 20);
  board.resample(["k1"]);
  assert.deepEqual(board.sampled, ["k1", "k0"], "then the keys sampled already");
  board.resample(["k3", "nope", "k3", "k5", "k7"]);
  assert.deepEqual(board.sampled, ["k3", "k5"]);
  for (let round = 0; round < 5; round++) {
    board.count(points(keys), 0);
    board.closeWindow();
  }
  assert.equal(board.sample("k3").y.length, 50, "the sample's capacity");
  assert.ok(board.sample("k3").xs[0].every((x) => x % 10 === 3), "only k3's points");
  assert.equal(board.sample("k7").y.length, 0);
  board.resample(["k5", "k7"]);
  assert.equal(board.sample("k5").y.length, 50, "a key that stays keeps its sample");
  assert.equal(board.sample("k3").y.length, 0);
  board.count(points(keys, -1), 0);
  board.closeWindow();
  assert.equal(board.sample("k7").y.length, 0, "retractions are not drawn");
});

test("KeyBoard: /metrics shows the first metricsKeys keys to get a line; a forgotten key makes room", () => {
  const board = new KeyBoard({ windows: undefined, metricsKeys: 2 });
  const line = { a: 1, b: 1 };
  board.apply([{ key: "a", line, n: 1 }, { key: "b", line, n: 1 }, { key: "c", line, n: 1 }], 1, 0);
  assert.deepEqual(board.metricRows(0).map((r) => r.key), ["a", "b"]);
  board.apply([{ key: "a", old: line }, { key: "c", line: { a: 2, b: 2 }, n: 2 }], 2, 0);
  assert.deepEqual(board.metricRows(0).map((r) => [r.key, r.line]), [["b", line], ["c", { a: 2, b: 2 }]]);
});
