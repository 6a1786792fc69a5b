/**
 * `--source kafka` with several x columns against the real test broker (`bash scripts/kafka/start.sh`):
 * CSV messages (after a header message, or with --csv-header) and JSON messages give every model column,
 * the model's result change log (NIST Longley close to the certified values), the input change log by
 * column, and bad fields rejected per column. Runs the runners of the runtime running the tests.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import { exactModelFit, NIST_CERTIFIED, parseNist } from "./model_reference.ts";
import {
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  OTHER,
  regress,
  ROOT,
  run,
  send,
  unique,
} from "./kafka_helpers.ts";

const TIMEOUT = { timeoutMs: 60_000 };
const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-kafka-model-"));
const X = ["x1", "x2", "x3", "x4", "x5", "x6"];

/** Every line of a CSV text, the header included, as arrays of fields. */
const rows = (csv: string): string[][] => csv.trim().split("\n").map((line) => line.split(","));

async function longley(): Promise<number[][]> {
  const text = await readFile(join(ROOT, "test/fixtures/nist/longley.csv"), "utf8");
  return text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
}

/** The cells of the last row with diff 1, by header name. */
function lastInserted(csv: string): Record<string, string> {
  const [header, ...body] = rows(csv);
  const last = body.filter((row) => row.at(-1) === "1").at(-1)!;
  return Object.fromEntries(header.map((name, i) => [name, last[i]]));
}

function checkLongley(csv: string): void {
  const header = rows(csv)[0].join(",");
  assert.equal(
    header,
    "a,b_x1,b_x2,b_x3,b_x4,b_x5,b_x6,n,r2,sigma,se_a,se_b_x1,se_b_x2,se_b_x3,se_b_x4,se_b_x5,se_b_x6,time,diff",
  );
  const last = lastInserted(csv);
  const cert = NIST_CERTIFIED.longley;
  const names = ["a", "b_x1", "b_x2", "b_x3", "b_x4", "b_x5", "b_x6"];
  const certified: Record<string, number> = {
    ...Object.fromEntries(names.map((name, i) => [name, cert.coefficients[i]])),
    ...Object.fromEntries(names.map((name, i) => [`se_${name}`, cert.sd[i]])),
    sigma: cert.residualSD,
    r2: cert.r2,
  };
  assert.equal(last.n, "16");
  for (const [name, want] of Object.entries(certified)) {
    const got = Number(last[name]);
    assert.ok(Math.abs(got - want) <= 1e-13 * Math.abs(want), `${name}: ${last[name]}, certified ${want}`);
  }
  // and bit for bit the exact answer for the file's doubles
  const exact = exactModelFit(parseNist("longley").points, { k: 6, degree: 1, intercept: true });
  names.forEach((name, i) => {
    assert.equal(Number(last[name]), exact.coefficients[i], name);
    assert.equal(Number(last[`se_${name}`]), exact.se[i], `se_${name}`);
  });
  assert.equal(Number(last.sigma), exact.sigma);
  assert.equal(Number(last.r2), exact.r2);
}

test(
  `kafka model (${CURRENT}): CSV messages after a header message, six x columns in another order`,
  async () => {
    const topic = unique("model-csv");
    await createTopic(topic);
    const points = await longley();
    // The columns in another order than --x, with an extra one.
    await send(topic, [
      "y,x6,note,x5,x4,x3,x2,x1",
      ...points.map((p) => [p[6], p[5], "n", p[4], p[3], p[2], p[1], p[0]].join(",")),
      "60000,1947,n,x,1,1,1,1",
      "60000,1947,n,1,1,1e999,1,1",
    ]);
    const dir = await tempDir();
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--exit-at-end",
      "--x",
      X.join(","),
      "--stats",
      "--output",
      join(dir, "out.csv"),
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "dead.csv"),
    ]);
    ok(r, "regress");
    checkLongley(await readFile(join(dir, "out.csv"), "utf8"));
    const input = rows(await readFile(join(dir, "in.csv"), "utf8"));
    assert.deepEqual(input[0], [...X, "y", "time", "diff"]);
    assert.deepEqual(input.slice(1).map((row) => row.slice(0, 7).map(Number)), points);
    const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
    assert.deepEqual(dead.map((row) => row[2]), ["not_a_number", "overflow"]);
    const deadText = await readFile(join(dir, "dead.csv"), "utf8");
    assert.match(deadText, /,not_a_number,"x5 is ""x"", not a number",/);
    assert.match(deadText, /,overflow,"x3 is ""1e999"": too large for a double/);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka model (${CURRENT}): JSON messages with several x fields; a field missing is rejected`,
  async () => {
    const topic = unique("model-json");
    await createTopic(topic);
    const points = await longley();
    await send(topic, [
      ...points.map((p) =>
        JSON.stringify({ y: p[6], ...Object.fromEntries(X.map((x, i) => [x, p[i]])), id: "a" })
      ),
      JSON.stringify({ y: 1, x1: 1, x2: 2, x3: 3, x4: 4, x6: 6 }),
      JSON.stringify({ y: 1, x1: 1, x2: "2", x3: 3, x4: 4, x5: 5, x6: 6 }),
    ]);
    const dir = await tempDir();
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--exit-at-end",
      "--format",
      "json",
      "--x",
      X.join(","),
      "--stats",
      "--output",
      "-",
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "dead.csv"),
    ]);
    ok(r, "regress");
    checkLongley(r.stdout);
    const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
    assert.deepEqual(dead.map((row) => row[2]), ["bad_json", "bad_json"]);
    const details = (await readFile(join(dir, "dead.csv"), "utf8")).split("\n").slice(1, 3);
    assert.match(details[0], /no field ""x5""/);
    assert.match(details[1], /x2 is the string ""2"", not a number/);
    assert.equal(rows(await readFile(join(dir, "in.csv"), "utf8")).length, 1 + 16);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka model (${CURRENT}): --csv-header with several x and a polynomial in one x (--degree)`,
  async () => {
    const topic = unique("model-header");
    await createTopic(topic);
    // y = 1 + 2 x1 - x2 exactly; a second run fits y as a polynomial of degree 2 in x1.
    const messages = [[0, 0], [1, 0], [0, 1], [2, 3], [3, 1], [4, 4]].map(([a, b]) =>
      `${b},${1 + 2 * a - b},${a}`
    );
    await send(topic, messages);
    const header = ["--csv-header", "x2,y,x1"];
    let r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--exit-at-end",
      ...header,
      "--x",
      "x1,x2",
      "--output",
      "-",
      "--no-input-log",
    ]);
    ok(r, "regress");
    const fit = lastInserted(r.stdout);
    assert.deepEqual(Object.keys(fit), ["a", "b_x1", "b_x2", "time", "diff"]);
    for (const [name, want] of [["a", 1], ["b_x1", 2], ["b_x2", -1]] as const) {
      assert.ok(Math.abs(Number(fit[name]) - want) < 1e-9, `${name}: ${fit[name]}`);
    }
    r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--exit-at-end",
      ...header,
      "--x",
      "x1",
      "--degree",
      "2",
      "--no-intercept",
      "--output",
      "-",
      "--no-input-log",
    ]);
    ok(r, "regress");
    assert.deepEqual(rows(r.stdout)[0], ["b_x1", "b_x1^2", "time", "diff"]);
  },
  TIMEOUT,
);

test(
  `kafka model (${CURRENT} then ${OTHER}): --state resumes six x columns across runtimes; another model is refused`,
  async () => {
    const topic = unique("model-state");
    await createTopic(topic);
    const points = await longley();
    await send(topic, [X.concat("y").join(","), ...points.slice(0, 9).map((p) => p.join(","))]);
    const dir = await tempDir();
    const group = unique("g");
    const flags = [
      ...kafkaReader(topic, group),
      "--exit-at-end",
      "--x",
      X.join(","),
      "--stats",
      "--output",
      join(dir, "out.csv"),
      "--no-input-log",
      "--state",
      join(dir, "state"),
    ];
    ok(await run(regress(CURRENT), flags), "first run");
    await send(topic, points.slice(9).map((p) => p.join(",")));
    ok(await run(regress(OTHER), flags), "resumed run, other runtime");
    // The resumed run ends on the fit of all 16 points, bit for bit, and wrote each row once.
    const out = await readFile(join(dir, "out.csv"), "utf8");
    checkLongley(out);
    const body = rows(out).slice(1);
    assert.equal(
      body.filter((row) => row.at(-1) === "1").length,
      body.filter((row) => row.at(-1) === "-1").length + 1,
    );
    const otherModel = flags.map((flag, i) => (flags[i - 1] === "--x" ? "x1,x2" : flag));
    const other = await run(regress(CURRENT), otherModel);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /--x/);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);
