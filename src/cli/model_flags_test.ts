import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { parseCli } from "./args.ts";
import { UsageError } from "./flags.ts";
import { SOURCES } from "./source_specs.ts";

const parse = (...args: string[]) => parseCli(args, SOURCES);
const csv = ["--source", "csv", "--input", "a.csv"];

function usage(args: string[], message: RegExp): void {
  assert.throws(() => parseCli(args, SOURCES), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

test("model flags: the model of a run, for every source", () => {
  assert.deepEqual(parse().model, { x: ["x"], y: "y", degree: 1, intercept: true, stats: false });
  assert.deepEqual(parse("--degree", "3", "--stats", "--no-intercept").model, {
    x: ["x"],
    y: "y",
    degree: 3,
    intercept: false,
    stats: true,
  });
  assert.deepEqual(parse(...csv, "--x", "x1, x2,x3", "--y", "v").model, {
    x: ["x1", "x2", "x3"],
    y: "v",
    degree: 1,
    intercept: true,
    stats: false,
  });
  assert.deepEqual(parse("--source", "kafka", "--x", "a,b", "--format", "json").model?.x, ["a", "b"]);
  assert.deepEqual(parse(...csv, "--x", "time", "--y", "price", "--degree", "12").model?.degree, 12);
  const twenty = Array.from({ length: 20 }, (_, i) => `c${i}`).join(",");
  assert.equal(parse(...csv, "--x", twenty, "--no-input-log").model?.x.length, 20);
});

test("model flags: usage errors say what is wrong", () => {
  usage([...csv, "--x", "a,b,a"], /^--x names the column "a" twice: name each x column once$/);
  usage([...csv, "--x", "a,,b"], /^--x: expected a column name, or names separated by commas/);
  usage([...csv, "--x", "a,y"], /^the column "y" is both y \(--y\) and an x column \(--x\)/);
  usage(
    [...csv, "--x", "a,b", "--degree", "2"],
    /^--degree 2 fits a polynomial in one x column, but --x names 2 \(a,b\)/,
  );
  usage(["--degree", "13"], /^--degree: expected an integer from 1 to 12, got "13"$/);
  usage(["--degree", "0"], /^--degree: expected an integer ≥ 1, got "0"$/);
  usage(["--degree", "2.5"], /^--degree: expected an integer/);
  const many = Array.from({ length: 21 }, (_, i) => `c${i}`).join(",");
  usage([...csv, "--x", many], /^--x names 21 columns: at most 20 are supported$/);
  usage([...csv, "--x", "a,time"], /^--x: the x column "time" would be named twice in the input change log/);
  usage([...csv, "--x", "a,diff", "--no-input-log"], /^--diff: the column "diff" is also an x column/);
  usage(["--source", "kafka", "--x", "a,b", "--csv-header", "a,y"], /--csv-header "a,y": no column "b"/);
  usage(["--x", "a"], /^--x applies to --source csv and kafka only \(the source is demo\)$/);
  assert.equal(parse(...csv, "--x", "a,time", "--no-input-log").model?.x[1], "time");
  assert.deepEqual(parse(...csv, "--x", "y").model?.x, ["y"], "one x column may be y, as before");
});
