/**
 * `--key` on Kafka against the real test broker: the message key (`--key @key`, JSON messages) and a
 * CSV column (`--key sensor`): every key's line is the exact fit of its points; a message without a key
 * is dead-lettered as missing_key. Runs the runners of the runtime running the tests.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import { exactFit } from "./exact_reference.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { modelCells } from "../src/model/fit_cells.ts";
import { type ModelConfig, resultColumns } from "../src/model/model_config.ts";
import { exactModelFit, type ModelPoint } from "./model_reference.ts";
import { createTopic, CURRENT, kafkaReader, ok, regress, run, sendKeyed, unique } from "./kafka_helpers.ts";

// A run gets RUN; a test (up to two runs) gets TIMEOUT, so a run that hangs fails with its stderr shown.
const RUN = { timeoutMs: 30_000 };
const TIMEOUT = { timeoutMs: 90_000 };

/**
 * Message timestamps for the windowed tests: the start of the hour three hours ago. Not a fixed date:
 * the test broker deletes records older than a day (log.retention.hours=24) every few minutes, and
 * records deleted under a running reader were lost to the test.
 */
const recentHour = () => Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
const rows = (csv: string): string[][] => csv.trim().split("\n").map((line) => line.split(","));

/** The standing line of each key after the whole result log. */
function standing(body: string[][]): Record<string, [string, string]> {
  const lines: Record<string, [string, string]> = {};
  for (const [key, a, b, , diff] of body) {
    if (diff === "1") lines[key] = [a, b];
    else delete lines[key];
  }
  return lines;
}

function points(n: number, seed: number): Map<string, [number, number][]> {
  const byKey = new Map<string, [number, number][]>();
  for (let i = 0; i < n; i++) {
    const key = `s${(i * 7 + seed) % 5}`;
    const x = (1_700_000_000_000 + 37 * i) / 1000;
    const y = 0.25 * x + Math.sin(i + seed) + i % 5;
    byKey.set(key, [...byKey.get(key) ?? [], [x, y]]);
  }
  return byKey;
}

function expected(byKey: Map<string, [number, number][]>): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const [key, list] of byKey) {
    const fit = exactFit(list.map((p) => p[0]), list.map((p) => p[1]));
    out[key] = [formatNumber(fit.a), formatNumber(fit.b)];
  }
  return out;
}

test(
  `kafka --key @key (${CURRENT}): JSON messages, one exact line per message key; no key is missing_key`,
  async () => {
    const topic = unique("keys-json");
    await createTopic(topic);
    const byKey = points(300, 1);
    const messages: { key: string | null; value: string }[] = [];
    for (const [key, list] of byKey) {
      for (const [x, y] of list) messages.push({ key, value: JSON.stringify({ x, y }) });
    }
    messages.splice(17, 0, { key: null, value: '{"x":1,"y":2}' });
    await sendKeyed(topic, messages);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-keys-"));
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--format",
      "json",
      "--key",
      "@key",
      "--exit-at-end",
      "--commit-rows",
      "50",
      "--output",
      join(dir, "out.csv"),
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "dead.csv"),
    ], RUN);
    ok(r, "keyed JSON run");
    const [header, ...body] = rows(await readFile(join(dir, "out.csv"), "utf8"));
    assert.deepEqual(header, ["@key", "a", "b", "time", "diff"]);
    assert.deepEqual(standing(body), expected(byKey));
    const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
    assert.equal(dead.length, 1);
    assert.equal(dead[0][2], "missing_key");
    const input = rows(await readFile(join(dir, "in.csv"), "utf8"));
    assert.deepEqual(input[0], ["@key", "x", "y", "time", "diff"]);
    assert.equal(input.length, 1 + 300);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(`kafka --key sensor (${CURRENT}): CSV messages after a header, one exact line per sensor`, async () => {
  const topic = unique("keys-csv");
  await createTopic(topic);
  const byKey = points(200, 3);
  const messages: { key: string | null; value: string }[] = [{ key: null, value: "sensor,x,y" }];
  for (const [key, list] of byKey) {
    for (const [x, y] of list) {
      messages.push({ key: null, value: `${key},${formatNumber(x)},${formatNumber(y)}` });
    }
  }
  messages.push({ key: null, value: ",1,2" });
  await sendKeyed(topic, messages);
  const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-keys-"));
  const r = await run(regress(CURRENT), [
    ...kafkaReader(topic, unique("g")),
    "--key",
    "sensor",
    "--exit-at-end",
    "--output",
    join(dir, "out.csv"),
    "--no-input-log",
    "--dead-letter",
    join(dir, "dead.csv"),
  ], RUN);
  ok(r, "keyed CSV run");
  const [header, ...body] = rows(await readFile(join(dir, "out.csv"), "utf8"));
  assert.deepEqual(header, ["sensor", "a", "b", "time", "diff"]);
  assert.deepEqual(standing(body), expected(byKey));
  const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
  assert.deepEqual(dead.map((row) => row[2]), ["missing_key"]);
  await rm(dir, { recursive: true });
}, TIMEOUT);

test(
  `kafka --key @key --time @timestamp --window (${CURRENT}): exact lines per key and sliding window`,
  async () => {
    const topic = unique("keys-windows");
    await createTopic(topic);
    const start = recentHour();
    const messages: { key: string | null; value: string; timestamp: number }[] = [];
    const byWindow = new Map<string, [number, number][]>();
    for (let i = 0; i < 400; i++) {
      const key = `k${i % 3}`;
      const timestamp = start + i * 1_500; // 10 minutes in all
      const x = i / 7;
      const y = 2 * x + Math.cos(i);
      messages.push({ key, value: JSON.stringify({ x, y }), timestamp });
      const pane = Math.floor(timestamp / 60_000);
      for (let w = pane - 2; w <= pane; w++) {
        const id = `${key},${w * 60_000},${w * 60_000 + 180_000}`;
        byWindow.set(id, [...byWindow.get(id) ?? [], [x, y]]);
      }
    }
    // One point far behind the stream: late.
    messages.push({ key: "k0", value: '{"x":1,"y":1}', timestamp: start - 3_600_000 });
    await sendKeyed(topic, messages);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-keys-"));
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      "--format",
      "json",
      "--key",
      "@key",
      "--time",
      "@timestamp",
      "--window",
      "sliding:3m,1m",
      "--exit-at-end",
      "--commit-rows",
      "37",
      "--output",
      join(dir, "out.csv"),
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "dead.csv"),
    ], RUN);
    ok(r, "keyed, windowed JSON run");
    const [header, ...body] = rows(await readFile(join(dir, "out.csv"), "utf8"));
    assert.deepEqual(header, ["@key", "window_start", "window_end", "a", "b", "time", "diff"]);
    const lines: Record<string, string> = {};
    for (const row of body) {
      const id = row.slice(0, 3).join(",");
      if (row[6] === "1") lines[id] = `${row[3]},${row[4]}`;
      else delete lines[id];
    }
    const want: Record<string, string> = {};
    for (const [id, list] of byWindow) {
      const fit = exactFit(list.map((p) => p[0]), list.map((p) => p[1]));
      want[id] = `${formatNumber(fit.a)},${formatNumber(fit.b)}`;
    }
    assert.deepEqual(lines, want);
    const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
    assert.deepEqual(dead.map((row) => row[2]), ["late"]);
    const input = rows(await readFile(join(dir, "in.csv"), "utf8"));
    assert.deepEqual(input[0], ["@key", "timestamp", "x", "y", "time", "diff"]);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

/** The cells of the exact fit of `points` under `config`, as the result log writes them. */
function modelRow(points: ModelPoint[], config: ModelConfig): string {
  const fit = exactModelFit(points, {
    k: config.x.length,
    degree: config.degree,
    intercept: config.intercept,
  });
  return modelCells(config, {
    ...fit,
    coefficients: Float64Array.from(fit.coefficients),
    se: Float64Array.from(fit.se),
  });
}

test(
  `kafka --key @key with a model (${CURRENT}): JSON messages, 3 x columns and --stats, per key and per tumbling window`,
  async () => {
    const topic = unique("keys-model");
    await createTopic(topic);
    const start = recentHour();
    const config: ModelConfig = { x: ["x1", "x2", "x3"], y: "y", degree: 1, intercept: true, stats: true };
    const messages: { key: string | null; value: string; timestamp: number }[] = [];
    const byKey = new Map<string, ModelPoint[]>();
    const byWindow = new Map<string, ModelPoint[]>();
    for (let i = 0; i < 300; i++) {
      const key = `k${(i * 7) % 4}`;
      const timestamp = start + i * 1_000; // 5 minutes in all
      const xs = [1_700_000 + i / 7, Math.sin(i), (i % 9) / 4];
      const y = 1 + 2 * xs[0] - xs[1] + 0.5 * xs[2] + Math.cos(3 * i);
      messages.push({ key, value: JSON.stringify({ x1: xs[0], x2: xs[1], x3: xs[2], y }), timestamp });
      byKey.set(key, [...byKey.get(key) ?? [], { xs, y }]);
      const w = Math.floor(timestamp / 120_000) * 120_000;
      const id = `${key},${w},${w + 120_000}`;
      byWindow.set(id, [...byWindow.get(id) ?? [], { xs, y }]);
    }
    await sendKeyed(topic, messages);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-keys-model-"));
    for (const windowed of [false, true]) {
      const r = await run(regress(CURRENT), [
        ...kafkaReader(topic, unique("g")),
        ...["--format", "json", "--key", "@key", "--x", "x1,x2,x3", "--stats", "--exit-at-end"],
        ...(windowed ? ["--time", "@timestamp", "--window", "tumbling:2m"] : []),
        ...["--commit-rows", "41", "--output", join(dir, "out.csv"), "--input-log", join(dir, "in.csv")],
      ], RUN);
      ok(r, `keyed model JSON run${windowed ? ", windowed" : ""}`);
      const [header, ...body] = rows(await readFile(join(dir, "out.csv"), "utf8"));
      const ids = windowed ? 3 : 1;
      assert.deepEqual(header, [
        "@key",
        ...(windowed ? ["window_start", "window_end"] : []),
        ...resultColumns(config),
        "time",
        "diff",
      ]);
      const standing: Record<string, string> = {};
      for (const row of body) {
        const id = row.slice(0, ids).join(",");
        if (row.at(-1) === "1") standing[id] = row.slice(ids, -2).join(",");
        else delete standing[id];
      }
      const want: Record<string, string> = {};
      for (const [id, points] of windowed ? byWindow : byKey) want[id] = modelRow(points, config);
      assert.deepEqual(standing, want, windowed ? "per window" : "per key");
      const input = rows(await readFile(join(dir, "in.csv"), "utf8"));
      assert.deepEqual(input[0], [
        "@key",
        ...(windowed ? ["timestamp"] : []),
        "x1",
        "x2",
        "x3",
        "y",
        "time",
        "diff",
      ]);
      assert.equal(input.length, 1 + 300);
    }
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka --key sensor with a model (${CURRENT}): CSV messages after a header, 2 x columns, --no-intercept`,
  async () => {
    const topic = unique("keys-model-csv");
    await createTopic(topic);
    const config: ModelConfig = { x: ["x1", "x2"], y: "y", degree: 1, intercept: false, stats: false };
    const messages: { key: string | null; value: string }[] = [{ key: null, value: "x2,sensor,y,x1" }];
    const byKey = new Map<string, ModelPoint[]>();
    for (let i = 0; i < 200; i++) {
      const key = `s${(i * 3) % 5}`;
      const xs = [i / 3, Math.sin(i)];
      const y = 2 * xs[0] - xs[1] + Math.cos(i);
      messages.push({
        key: null,
        value: `${formatNumber(xs[1])},${key},${formatNumber(y)},${formatNumber(xs[0])}`,
      });
      byKey.set(key, [...byKey.get(key) ?? [], { xs, y }]);
    }
    messages.push({ key: null, value: "1,,2,3" }); // no key
    await sendKeyed(topic, messages);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-keys-model-"));
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      ...["--key", "sensor", "--x", "x1,x2", "--no-intercept", "--exit-at-end", "--commit-rows", "29"],
      ...["--output", join(dir, "out.csv"), "--no-input-log", "--dead-letter", join(dir, "dead.csv")],
    ], RUN);
    ok(r, "keyed model CSV run");
    const [header, ...body] = rows(await readFile(join(dir, "out.csv"), "utf8"));
    assert.deepEqual(header, ["sensor", "b_x1", "b_x2", "time", "diff"]);
    const standing: Record<string, string> = {};
    for (const row of body) {
      if (row.at(-1) === "1") standing[row[0]] = row.slice(1, -2).join(",");
      else delete standing[row[0]];
    }
    const want: Record<string, string> = {};
    for (const [key, points] of byKey) want[key] = modelRow(points, config);
    assert.deepEqual(standing, want);
    const dead = rows(await readFile(join(dir, "dead.csv"), "utf8")).slice(1);
    assert.deepEqual(dead.map((row) => row[2]), ["missing_key"]);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);
