import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { CommitClock } from "./commit_clock.ts";

test("CommitClock follows the clock and never repeats or goes back", () => {
  const readings = [100, 100, 100, 99, 150.7, 151, 90, 400];
  let i = 0;
  const clock = new CommitClock({ now: () => readings[i++] });
  const times = readings.map(() => clock.next());
  assert.deepEqual(times, [100, 101, 102, 103, 150, 151, 152, 400]);
  assert.equal(clock.last, 400);
});

test("CommitClock defaults to Date.now", () => {
  const before = Date.now();
  const time = new CommitClock().next();
  assert.ok(time >= before && time <= Date.now());
});
