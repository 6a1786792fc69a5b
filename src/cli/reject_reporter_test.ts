import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import type { Rejection } from "../model/rejection.ts";
import { RejectReporter } from "./reject_reporter.ts";

const rejection = (line: number, reason: Rejection["reason"] = "nan"): Rejection => ({
  origin: { source: "p.csv", location: `line ${line}`, line },
  reason,
  detail: reason === "nan" ? "y is NaN" : 'x is "\\x1B", not a number',
  raw: "",
});

test("RejectReporter: the first ten one by one, then a summary at most every interval, and a final one", () => {
  const lines: string[] = [];
  let now = 0;
  const reporter = new RejectReporter((l) => lines.push(l), {
    now: () => now,
    intervalMs: 1000,
    deadLetter: "bad.csv",
  });
  for (let i = 1; i <= 10; i++) reporter.reject(rejection(i));
  assert.equal(lines.length, 10);
  assert.equal(lines[0], "streamreg: rejected p.csv line 1: y is NaN [nan]");
  for (let i = 11; i <= 500; i++) {
    now += 10; // 5 seconds in all
    reporter.reject(rejection(i, i % 3 ? "nan" : "not_a_number"));
  }
  assert.equal(lines.length, 10 + 4, "one summary a second");
  assert.equal(lines[10], "streamreg: rejected 110 records (nan 77, not_a_number 33) so far");
  reporter.finish();
  assert.equal(
    lines.at(-1),
    "streamreg: rejected 500 records (nan 337, not_a_number 163) in all; the first 10 are shown above; every one is in bad.csv",
  );
  assert.equal(reporter.count, 500);
  assert.deepEqual(reporter.byReason, [["nan", 337], ["not_a_number", 163]]);
});

test("RejectReporter: a short final summary, and nothing at all without rejections", () => {
  const lines: string[] = [];
  const reporter = new RejectReporter((l) => lines.push(l));
  reporter.finish();
  assert.deepEqual(lines, []);
  reporter.reject(rejection(3, "not_a_number"));
  reporter.finish();
  assert.deepEqual(lines, [
    'streamreg: rejected p.csv line 3: x is "\\x1B", not a number [not_a_number]',
    "streamreg: rejected 1 record (not_a_number 1) in all",
  ]);
});
