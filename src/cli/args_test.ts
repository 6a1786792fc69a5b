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
  usage(["-Q"], /^unknown flag -Q: see --help/);
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
  usage(
    ["--source", "csv", "--input", "a", "-b", "h:1"],
    /^--brokers applies to --source kafka, or with --output-topic/,
  );
  usage(["--output-format", "csv"], /^--output-format applies with --output-topic only$/);
  usage(["--output-topic", "r", "--output-mode", "merge"], /^--output-mode: expected changelog or upsert/);
  usage(["--output-topic", "a b"], /^--output-topic: "a b" is not a Kafka topic name/);
  usage(
    ["--source", "kafka", "-b", "h:1", "-t", "points", "--output-topic", "points"],
    /^--output-topic points is the topic read \(-t\)/,
  );
  usage(["--source", "kafka", "-b", "h:1", "--output-topic", "linear-regression"], /is the topic read/);
  usage(["--state", "kafka"], /^--state kafka .* needs --source kafka and --output-topic/);
  usage(
    ["--source", "kafka", "-b", "h:1", "--output-topic", "r", "--state", "kafka", "--output", "o.csv"],
    /^--state kafka keeps its outputs in Kafka only: --output cannot be rolled back/,
  );
  const many = ["--source", "kafka", "-b", "h:1", "--output-topic", "r", "--readers", "many"];
  usage(["--readers", "all"], /^--readers: expected one or many, got "all"$/);
  usage(many, /^--readers many .* needs --state kafka$/);
  usage(
    [...many, "--state", "kafka", "--key", "sensor"],
    /^--readers many with --key sensor: .* use --key @key/,
  );
  usage(
    [...many, "--state", "kafka", "--key", "@key", "--time", "@timestamp", "--window", "tumbling:1m"],
    /^--readers many keeps no windows of time/,
  );
  assert.equal(parse(...many, "--state", "kafka", "--key", "@key", "-t", "t", "-G", "g").readers, "many");
  const lastN = [...many, "--state", "kafka", "--window", "last:5", "-t", "t", "-G", "g"];
  assert.equal(parse(...lastN, "--key", "@key").lastPoints, 5);
  usage(lastN, /^--readers many keeps no windows of time .* last:N only with --key @key/);
  usage(
    [...lastN, "--key", "@key", "--stats"],
    /^--window last:N with --state is not supported yet for models/,
  );
  assert.equal(
    parse(...many, "--state", "kafka", "--key", "@key", "--stats", "-t", "t", "-G", "g").readers,
    "many",
  );
  usage([...many, "--state", "kafka", "--degree", "2"], /^--readers many merges .* the plain line/);
  usage([...many, "--state", "kafka", "--stats"], /^--readers many merges .* the plain line/);
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

test("parseCli: a flag with a value given twice is a usage error, in any spelling (issue 13.5)", () => {
  const kafka = ["--source", "kafka"];
  usage([...kafka, "--topic", "a", "--topic", "b"], /^--topic is given twice \("a" and "b"\): give it once$/);
  usage(
    [...kafka, "-t", "a", "--topic", "b"],
    /^-t and --topic are the same flag, given twice \("a" and "b"\): give it once$/,
  );
  usage([...kafka, "-t", "a", "-t", "a"], /^-t is given twice/);
  usage([...kafka, "-b", "h:1", "--bootstrap-server", "h:2"], /^-b and --bootstrap-server are the same flag/);
  usage(["--commit-ms", "5", "--commit-ms=6"], /^--commit-ms is given twice \("5" and "6"\)/);
  usage(["--output", "a.csv", "--output", "b.csv"], /^--output is given twice/);
  usage([...kafka, "-c", "1", "--max-messages", "2"], /^-c and --max-messages are the same flag/);
  // Repeatable flags stay repeatable, and a switch given twice is still on.
  const twice = parse(...kafka, "-X", "client.id=a", "-X", "group.id=g", "--verbose", "--verbose");
  assert.deepEqual(twice.sourceValues?.property, ["client.id=a", "group.id=g"]);
  assert.equal(twice.verbose, true);
});

test("parseCli: -b=HOST:PORT is -b HOST:PORT, as --brokers=HOST:PORT is (issue 13.5)", () => {
  const kafka = ["--source", "kafka"];
  assert.equal(parse(...kafka, "-b=h:1").sourceValues?.brokers, "h:1");
  assert.equal(parse(...kafka, "-bh:1").sourceValues?.brokers, "h:1");
  assert.equal(parse(...kafka, "--brokers=h:1").sourceValues?.brokers, "h:1");
  assert.equal(parse(...kafka, "-t=points").sourceValues?.topic, "points");
  assert.deepEqual(parse(...kafka, "-X=client.id=me").sourceValues?.property, ["client.id=me"]);
  assert.equal(parse(...kafka, "-c=3").sourceValues?.["max-messages"], "3");
});

test("parseCli: invalid Kafka property values and unsupported properties are usage errors (issue 13.5, 13.6)", () => {
  const kafka = ["--source", "kafka", "-b", "h:1"];
  usage(
    [...kafka, "-X", "session.timeout.ms=abc"],
    /^-X: invalid value "abc" for Kafka property session\.timeout\.ms: expected an integer number of milliseconds from 1000 to 3600000$/,
  );
  usage(
    [...kafka, "-X", "security.protocol=tls"],
    /^-X: invalid value "tls" for Kafka property security\.protocol/,
  );
  usage([...kafka, "-X", "isolation.level=committed"], /expected read_committed or read_uncommitted$/);
  usage([...kafka, "-X", "fetch.wait.max.ms=-1"], /fetch\.wait\.max\.ms: expected an integer/);
  usage(
    [...kafka, "-X", "debug=everything"],
    /for Kafka property debug: expected a comma-separated list of all,/,
  );
  usage(
    [...kafka, "-X", "group.instance.id=reader-1"],
    /^-X: Kafka property "group\.instance\.id" is known but unsupported: kafkajs 2\.2\.4 has no static group membership/,
  );
  usage(
    [...kafka, "-X", "client.id=a", "-X", "client.id=b"],
    /^-X client\.id is given twice \("a" and "b"\): give it once$/,
  );
  usage(["--source", "kafka", "-b", "h:x"], /^-b: invalid value "h:x" for Kafka property bootstrap\.servers/);
});

test("parseCli: kcat's -e, -c N, -o and -q, and --bootstrap-server (issue 13.7)", () => {
  const options = parse(
    "--source",
    "kafka",
    "--bootstrap-server",
    "h:1",
    "-e",
    "-c",
    "5",
    "-o",
    "beginning",
    "-q",
  );
  assert.equal(options.sourceValues?.brokers, "h:1");
  assert.equal(options.sourceValues?.["exit-at-end"], true);
  assert.equal(options.sourceValues?.["max-messages"], "5");
  assert.equal(options.sourceValues?.offset, "beginning");
  assert.equal(options.quiet, true);
  assert.equal(parse("--quiet").quiet, true);
  assert.equal(parse().quiet, false);
  for (const word of ["beginning", "end", "stored"]) parse("--source", "kafka", "-o", word);
  parse("--source", "kafka", "-o", "beginning", "--from-beginning"); // the same twice: fine
  usage(["--source", "kafka", "-o", "-10"], /^-o: expected beginning, end or stored, got "-10"/);
  usage(["--source", "kafka", "-o", "constructor"], /^-o: expected beginning, end or stored/);
  usage(["--source", "kafka", "-o", "end", "--from-beginning"], /^--from-beginning and -o end contradict/);
  usage(["--source", "kafka", "-o", "stored", "--from-end"], /^--from-end and -o stored contradict/);
  usage(["--source", "kafka", "-c", "0"], /^--max-messages: expected an integer ≥ 1, got "0"$/);
  usage(["--verbose", "-q"], /^--verbose and --quiet contradict each other/);
  usage(["-e"], /^--exit-at-end applies to --source kafka only/);
});

test("parseCli: --serve with --key and --window; --metrics-keys (default 100) with --serve and --key only", () => {
  const csv = ["--source", "csv", "--input", "-"];
  const keyed = parse(...csv, "--key", "s", "--serve", "0");
  assert.equal(keyed.metricsKeys, 100);
  assert.deepEqual(keyed.keys, ["s"]);
  assert.equal(parse(...csv, "--key", "s", "--serve", "0", "--metrics-keys", "0").metricsKeys, 0);
  const windowed = parse(...csv, "--time", "t", "--window", "tumbling:1m", "--serve", "0");
  assert.equal(windowed.serve?.port, 0);
  assert.equal(windowed.metricsKeys, undefined);
  assert.equal(parse(...csv, "--key", "s", "--window", "last:5", "--serve", "0").lastPoints, 5);
  usage([...csv, "--metrics-keys", "5"], /^--metrics-keys applies with --serve and --key only/);
  usage([...csv, "--key", "s", "--metrics-keys", "5"], /^--metrics-keys applies with --serve and --key only/);
  usage([...csv, "--key", "s", "--serve", "0", "--metrics-keys", "-1"], /^--metrics-keys/);
  usage([...csv, "--key", "s", "--serve", "0", "--metrics-keys", "1.5"], /^--metrics-keys/);
});
