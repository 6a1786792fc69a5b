// deno-lint-ignore-file no-control-regex -- the tests match ANSI escapes on purpose
import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import type { PipelineStats } from "../pipeline/pipeline.ts";
import { Progress, statusText } from "./progress.ts";

const stats = (points: number, elapsedMs: number): PipelineStats => ({
  points,
  refused: 0,
  rejected: 0,
  batches: points,
  changes: points,
  count: points,
  line: { a: 0.025649728471302445, b: 0.9958341214647296 },
  elapsedMs,
  ended: "running",
});

test("statusText shows points, batches, points per second, a and b; colour only when asked", () => {
  const plain = statusText(stats(10, 9000), false);
  assert.equal(
    plain,
    "10 points · 10 batches · 1.1 points/s · a = 0.025649728471302445 · b = 0.9958341214647296",
  );
  const colored = statusText(stats(10, 9000), true);
  assert.match(colored, /\x1b\[1m10\x1b\[22m points/);
  assert.equal(colored.replace(/\x1b\[\d+m/g, ""), plain);
  assert.match(
    statusText({ ...stats(0, 0), line: undefined }, false),
    /0 points · 0 batches · 0\.0 points\/s · no line yet/,
  );
  assert.match(statusText({ ...stats(5, 1), refused: 2 }, false), /5000 points\/s · 2 refused/);
});

test("Progress on a terminal redraws one status line, at most 10 times a second", () => {
  let now = 0;
  const out: string[] = [];
  const progress = new Progress((s) => out.push(s), {
    terminal: true,
    verbose: false,
    color: false,
    now: () => now,
  });
  progress.update(stats(1, 10));
  now = 50;
  progress.update(stats(2, 50)); // throttled
  now = 120;
  progress.update(stats(3, 120));
  progress.message("streamreg: skipped x line 2: y is NaN");
  progress.finish(stats(4, 130));
  assert.deepEqual(out.map((s) => s.replace(/ · a = .*/, "")), [
    "\r\x1b[2Kstreamreg: 1 point · 1 batch · 100 points/s",
    "\r\x1b[2Kstreamreg: 3 points · 3 batches · 25 points/s",
    "\r\x1b[2K",
    "streamreg: skipped x line 2: y is NaN\n",
    "\r\x1b[2Kstreamreg: 4 points · 4 batches · 31 points/s",
    "\n",
  ]);
});

test("Progress off a terminal: silent, unless verbose (plain lines, once a second); messages always", () => {
  const quiet: string[] = [];
  const off = new Progress((s) => quiet.push(s), { terminal: false, verbose: false, color: true });
  off.update(stats(1, 1));
  off.info("streamreg: starting");
  off.finish(stats(1, 1));
  off.message("streamreg: skipped");
  assert.deepEqual(quiet, ["streamreg: skipped\n"]);
  assert.equal(off.enabled, false);

  let now = 0;
  const loud: string[] = [];
  const verbose = new Progress((s) => loud.push(s), {
    terminal: false,
    verbose: true,
    color: true,
    now: () => now,
  });
  verbose.info("streamreg: starting");
  verbose.update(stats(1, 1));
  now = 500;
  verbose.update(stats(2, 500));
  now = 1000;
  verbose.update(stats(3, 1000));
  verbose.finish(stats(3, 1000));
  assert.equal(loud.length, 4);
  assert.ok(
    loud.every((line) => line.endsWith("\n") && !line.includes("\x1b")),
    "no colour, no redraw off a terminal",
  );
});
