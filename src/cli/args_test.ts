import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { DEFAULT_INPUT_LOG, DEFAULT_OUTPUT, parseCli } from "./args.ts";
import { type FlagSpec, type FlagValues, UsageError } from "./flags.ts";
import { SOURCES, type SourceSpec } from "./source_specs.ts";

const parse = (...args: string[]) => parseCli(args, SOURCES);

function usage(args: string[], message: RegExp): void {
  assert.throws(() => parseCli(args, SOURCES), (error: unknown) => {
    assert.ok(error instanceof UsageError, `a UsageError for ${args.join(" ")}`);
    assert.match(error.message, message);
    assert.ok(!error.message.includes("\n"), "one line");
    return true;
  });
}

test("parseCli defaults: demo source, 1000 ms / 100000 rows, both change logs", () => {
  const options = parse();
  assert.equal(options.help, false);
  assert.equal(options.source.name, "demo");
  assert.equal(options.commitMs, 1000);
  assert.equal(options.commitRows, 100_000);
  assert.equal(options.output, DEFAULT_OUTPUT);
  assert.equal(options.inputLog, DEFAULT_INPUT_LOG);
  assert.equal(options.verbose, false);
});

test("parseCli reads every general flag, in both --flag value and --flag=value forms", () => {
  const options = parse(
    "--commit-ms=250",
    "--commit-rows",
    "1",
    "--output",
    "-",
    "--input-log=in.csv",
    "--verbose",
  );
  assert.equal(options.commitMs, 250);
  assert.equal(options.commitRows, 1);
  assert.equal(options.output, "-");
  assert.equal(options.inputLog, "in.csv");
  assert.equal(options.verbose, true);
  assert.equal(parse("--no-input-log").inputLog, undefined);
  assert.equal(parse("--source", "csv", "--input", "-", "--x", "t").source.name, "csv");
});

test("parseCli passes demo flags, negative numbers included, to the source", async () => {
  const options = parse("--rows", "3", "--rate", "0", "--slope", "-2", "--intercept", "-1e3", "--noise", "0");
  const source = await options.openSource({} as never, new AbortController().signal);
  const ys: number[] = [];
  for await (const chunk of source.chunks(new AbortController().signal)) ys.push(...chunk.y);
  assert.deepEqual(ys, [-1000, -1002, -1004]);
});

test("--help wins over anything else", () => {
  assert.equal(parse("--rate", "nope", "--help").help, true);
  assert.equal(parse("-h").help, true);
  assert.equal(parse("--source", "kafka", "-h").help, true);
});

test("parseCli usage errors name the flag, on one line", () => {
  usage(["--bogus"], /^unknown flag --bogus: see --help for the flags$/);
  usage(["-q"], /^unknown flag -q: see --help/);
  usage(["-x", "1"], /^unknown flag -x: see --help/);
  usage(["extra"], /^unexpected argument "extra": flags start with --/);
  usage(["--rate"], /^--rate needs a value: --rate N$/);
  usage(["--rate", "fast"], /^--rate: expected a number ≥ 0, got "fast"$/);
  usage(["--rate", "-1"], /^--rate: expected a number ≥ 0, got "-1"$/);
  usage(["--rows", "2.5"], /^--rows: expected an integer ≥ 0, got "2\.5"$/);
  usage(["--rows", "1e400"], /^--rows: expected an integer ≥ 0/);
  usage(["--seed", "x"], /^--seed: expected an integer, got "x"$/);
  usage(["--slope", ""], /^--slope: expected a number, got ""$/);
  usage(["--noise", "-0.1"], /^--noise: expected a number ≥ 0/);
  usage(["--commit-ms", "0"], /^--commit-ms: expected a number > 0, got "0"$/);
  usage(["--commit-rows", "-3"], /^--commit-rows: expected an integer ≥ 0, got "-3"$/);
  usage(["--verbose=yes"], /^--verbose takes no value, got "yes"$/);
  usage(["--source", "nope"], /^--source: unknown source "nope": use one of demo, csv, kafka$/);
  usage(["--source", "csv"], /^--source csv needs --input PATH/);
  usage(
    ["--source", "csv", "--input", "a.csv", "--rate", "2"],
    /^--rate applies to --source demo only \(the source is csv\)$/,
  );
  usage(["--input", "a.csv"], /^--input applies to --source csv only \(the source is demo\)$/);
  usage(["--x", "t"], /^--x applies to --source csv and kafka only \(the source is demo\)$/);
  usage(["--source", "csv", "--input", "a", "-b", "h:1"], /^--brokers applies to --source kafka only/);
  usage(["--source", "csv", "--input", "a.csv", "--x", ""], /^--x: expected a column name/);
  usage(["--output", "-", "--input-log", "-"], /cannot both be stdout/);
  usage(
    ["--output", "/dev/stdout", "--input-log", "-"],
    /^--output and --input-log cannot both be stdout \(\/dev\/stdout, -\)/,
  );
  usage(
    ["--input-log", "/proc/self/fd/1", "--output", "x.csv", "--dead-letter", "/dev/fd/1"],
    /cannot both be stdout/,
  );
  usage(
    ["--output", "/dev/stdout", "--state", "s"],
    /^--state needs file outputs: --output \/dev\/stdout \(stdout\)/,
  );
  usage(["--input-log", "a.csv", "--no-input-log"], /contradict each other/);
  usage(["--output", ""], /^--output: expected a path or -/);
});

test("parseCli: a flag shared by sources (--x of csv and kafka), and a repeatable flag (-X)", () => {
  const seen: FlagValues[] = [];
  const spec = (name: string, flags: FlagSpec[]): SourceSpec => ({
    name,
    summary: name,
    flags,
    example: "",
    configure: (values) => {
      seen.push(values);
      return () => Promise.reject(new Error("not opened"));
    },
  });
  const sources = [
    spec("one", [{ name: "x", value: "COLUMN", default: "x", help: "x" }]),
    spec("two", [
      { name: "x", value: "NAME", default: "x", help: "x" },
      { name: "prop", short: "X", value: "K=V", repeatable: true, help: "p" },
    ]),
  ];
  parseCli(["--source", "two", "--x", "t", "-X", "a=1", "-Xb=2", "--prop", "c=3"], sources);
  assert.deepEqual(seen.at(-1), { x: "t", prop: ["a=1", "b=2", "c=3"] });
  parseCli(["--source", "one", "--x", "u"], sources);
  assert.deepEqual(seen.at(-1), { x: "u" });
  assert.throws(
    () => parseCli(["--source", "one", "-X", "a=1"], sources),
    /^UsageError: --prop applies to --source two only \(the source is one\)$/,
  );
  const clash = [sources[0], spec("three", [{ name: "x", help: "a boolean --x" }])];
  assert.throws(() => parseCli([], clash), /flag --x is defined twice/);
});
