import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { LastRing } from "./keyed_stage.ts";

test("LastRing: save and restore at every fill level give the same window and the same next points", () => {
  for (const n of [1, 3, 4, 5, 17]) {
    for (let before = 0; before <= 3 * n + 2; before++) {
      const ring = new LastRing(n);
      for (let i = 0; i < before; i++) ring.push(i + 0.5, -i);
      ring.writtenStart = before - 2;
      ring.writtenEnd = before;
      const again = LastRing.restore(ring.save(), n);
      assert.equal(again.seen, ring.seen);
      assert.equal(again.writtenStart, ring.writtenStart);
      assert.equal(again.writtenEnd, ring.writtenEnd);
      for (let i = before; i < before + 2 * n + 1; i++) {
        const left = ring.push(i + 0.5, -i);
        assert.equal(again.push(i + 0.5, -i), left, `n ${n}, after ${before}`);
        if (left) assert.deepEqual([again.leftX, again.leftY], [ring.leftX, ring.leftY]);
      }
      assert.deepEqual(again.save(), ring.save());
    }
  }
});

test("LastRing: restore refuses another N and bytes that are not a ring", () => {
  const ring = new LastRing(4);
  ring.push(1, 2);
  assert.throws(() => LastRing.restore(ring.save(), 5), /last 4 points, not 5/);
  assert.throws(() => LastRing.restore(ring.save().subarray(0, 40), 4), /not the last points/);
  assert.throws(() => LastRing.restore(new Uint8Array(3), 4), /not the last points/);
});
