import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { GcPacer } from "./gc_pacer.ts";

const MB = 1024 * 1024;

/** A fake heap and clock: `grow` adds garbage, a collection leaves `live` and takes `gcMs`. */
function fake(live: number, gcMs: number) {
  const s = { heap: live, live, now: 0, gcMs };
  const pacer = new GcPacer({
    measure: () => s.heap,
    collect: () => {
      s.heap = s.live;
      s.now += s.gcMs;
    },
    now: () => s.now,
    growthBytes: 32 * MB,
    growthFactor: 0.5,
    maxShare: 0.1,
  });
  return { s, pacer };
}

test("gc pacer: collects once the heap has grown by growthBytes, not before", () => {
  const { s, pacer } = fake(40 * MB, 10);
  s.heap += 31 * MB;
  assert.equal(pacer.tick(), false);
  s.heap += 2 * MB;
  assert.equal(pacer.tick(), true);
  assert.equal(s.heap, 40 * MB);
  assert.equal(pacer.collections, 1);
  assert.equal(pacer.collectMs, 10);
});

test("gc pacer: a large live heap needs growthFactor times itself", () => {
  const { s, pacer } = fake(400 * MB, 10);
  s.heap += 100 * MB; // more than 32 MB, less than half of 400 MB
  assert.equal(pacer.tick(), false);
  s.heap += 101 * MB;
  assert.equal(pacer.tick(), true);
});

test("gc pacer: keeps its collections within maxShare of the time", () => {
  const { s, pacer } = fake(40 * MB, 50); // a collection of 50 ms, at most 10 %: then 500 ms without
  s.heap += 64 * MB;
  assert.equal(pacer.tick(), true);
  s.heap += 64 * MB;
  s.now += 499;
  assert.equal(pacer.tick(), false);
  s.now += 1;
  assert.equal(pacer.tick(), true);
  assert.equal(pacer.collections, 2);
});
