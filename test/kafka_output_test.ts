/**
 * `--output-topic` through the real CLI of the runtime running the tests, against the real test broker:
 * the messages are the rows of the CSV result change log written by the same run (JSON with the same
 * names and number text, or the CSV rows with a `columns` header), every row in changelog mode, the
 * latest line per key and tombstones in upsert mode; from a CSV file, the demo stream and a Kafka topic
 * (whose offsets the run's transactions commit).
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  regress,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";
import { readTopic } from "./kafka_topic_reader.ts";

/** The CSV file's header and rows (fields as text; keys here hold no commas). */
async function csvRows(path: string): Promise<{ header: string[]; rows: string[][]; lines: string[] }> {
  const lines = (await readFile(path, "utf8")).trim().split("\n");
  return {
    header: lines[0].split(","),
    rows: lines.slice(1).map((l) => l.split(",")),
    lines: lines.slice(1),
  };
}

/** The JSON a row must be sent as: each column by name, numbers as written, `keys` columns as strings. */
function json(header: readonly string[], row: readonly string[], keys: number, to = header.length): string {
  const parts = header.slice(0, to).map((name, i) =>
    `"${name}":${i < keys ? JSON.stringify(row[i]) : row[i]}`
  );
  return `{${parts.join(",")}}`;
}

/** The rows of the last batch that touched each identity (the first `id` columns), per batch time, in order. */
function upserts(rows: readonly string[][], id: number, timeAt: number): string[][] {
  const out: string[][] = [];
  let batch = new Map<string, string[]>();
  let time: string | undefined;
  const flush = () => {
    out.push(...batch.values());
    batch = new Map();
  };
  for (const row of rows) {
    if (row[timeAt] !== time) flush();
    time = row[timeAt];
    const key = row.slice(0, id).join("\u0000");
    batch.delete(key);
    batch.set(key, row);
  }
  flush();
  return out;
}

test(
  `--output-topic (${CURRENT}): the demo stream's change log as JSON and CSV messages, changelog and upsert; no files unless asked for`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kout-"));
    const b = broker().plaintext;
    const demo = ["--rate", "0", "--commit-rows", "3", "-b", b];
    const json1 = unique("out-json");
    ok(
      await run(regress(CURRENT), [...demo, "--output", "out.csv", "--output-topic", json1], { cwd: dir }),
      "json",
    );
    assert.deepEqual(await readdir(dir), ["out.csv"], "the result log only: no input log unless asked for");
    const { header, rows } = await csvRows(join(dir, "out.csv"));
    assert.deepEqual(header, ["a", "b", "time", "diff"]);
    assert.equal(rows.length, 7, "4 batches: 1 + 3 × 2 rows");
    const got = await readTopic(json1);
    assert.deepEqual(got.map((m) => m.key), rows.map(() => null), "no key when unkeyed");
    assert.deepEqual(got.map((m) => m.value), rows.map((row) => json(header, row, 0)));
    const [a0, b0, time] = rows[0].map(Number);
    assert.deepEqual(JSON.parse(got[0].value!), { a: a0, b: b0, time, diff: 1 });

    const csv1 = unique("out-csv");
    await rm(join(dir, "out.csv"));
    const upsert = [...demo, "--output-topic", csv1, "--output-format", "csv", "--output-mode", "upsert"];
    ok(await run(regress(CURRENT), [...upsert, "--output", "out.csv"], { cwd: dir }), "csv upsert");
    const second = await csvRows(join(dir, "out.csv"));
    const latest = await readTopic(csv1);
    const expected = upserts(second.rows, 0, 2);
    assert.equal(expected.length, 4, "one line per batch");
    assert.deepEqual(latest.map((m) => m.key), expected.map(() => "{}"), "upsert: key {} when unkeyed");
    assert.deepEqual(latest.map((m) => m.value), expected.map((row) => row.join(",")));
    for (const m of latest) assert.deepEqual(m.headers, { columns: "a,b,time,diff" });

    // --output-topic alone: no file at all.
    await rm(join(dir, "out.csv"));
    const alone = unique("out-alone");
    const r = await run(regress(CURRENT), [...demo, "--output-topic", alone], { cwd: dir });
    ok(r, "topic only");
    assert.deepEqual(await readdir(dir), [], "no files");
    assert.equal((await readTopic(alone)).length, 7);
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

test(
  `--output-topic (${CURRENT}): a keyed CSV run, upsert: the latest line per key, a tombstone for a key whose points were all retracted`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kout-keys-"));
    const input = [
      "k,x,y,diff",
      ...["a,1,2,1", "a,2,3,1", "b,1,1,1", "b,2,5,1"],
      ...["a,3,5,1", "b,1,1,-1", "b,2,5,-1", "a,4,4,1"],
      ...["c,1,1,1", "c,2,0.1,1", "a,5,5,1", "c,3,7,1"],
    ].join("\n");
    await writeFile(join(dir, "in.csv"), `${input}\n`);
    const args = (topic: string, mode: string) => [
      "--source",
      "csv",
      "--input",
      "in.csv",
      "--key",
      "k",
      "--commit-rows",
      "4",
      "-b",
      broker().plaintext,
      "--output",
      `out-${mode}.csv`,
      "--output-topic",
      topic,
      "--output-mode",
      mode,
    ];
    const changelog = unique("keys-log");
    const upsert = unique("keys-up");
    ok(await run(regress(CURRENT), args(changelog, "changelog"), { cwd: dir }), "changelog");
    ok(await run(regress(CURRENT), args(upsert, "upsert"), { cwd: dir }), "upsert");
    const log = await csvRows(join(dir, "out-changelog.csv"));
    assert.deepEqual(log.header, ["k", "a", "b", "time", "diff"]);
    const messages = await readTopic(changelog);
    assert.deepEqual(messages.map((m) => m.key), log.rows.map((row) => JSON.stringify({ k: row[0] })));
    assert.deepEqual(messages.map((m) => m.value), log.rows.map((row) => json(log.header, row, 1)));
    assert.ok(log.rows.some((row) => row[0] === "b" && row[4] === "-1"), "b's line is retracted");

    const up = await csvRows(join(dir, "out-upsert.csv"));
    const expected = upserts(up.rows, 1, 3);
    const got = await readTopic(upsert);
    assert.deepEqual(got.map((m) => m.key), expected.map((row) => JSON.stringify({ k: row[0] })));
    assert.deepEqual(
      got.map((m) => m.value),
      expected.map((row) => (row[4] === "1" ? json(up.header, row, 1) : null)),
    );
    const tombstones = got.filter((m) => m.value === null).map((m) => m.key);
    assert.deepEqual(tombstones, ['{"k":"b"}'], "one tombstone: b, all of whose points were retracted");
    // What a compacted topic ends up holding: the last line of each key still there.
    const last = new Map(got.map((m) => [m.key, m.value]));
    assert.deepEqual([...last.keys()].sort(), ['{"k":"a"}', '{"k":"b"}', '{"k":"c"}']);
    assert.equal(last.get('{"k":"b"}'), null);
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

test(
  `--output-topic (${CURRENT}): from a Kafka topic, the results and the offsets in one transaction per batch`,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kout-kafka-"));
    const topic = unique("kout-in");
    await createTopic(topic, 1);
    const points = Array.from({ length: 2000 }, (_, i) => `${i / 4},${(i * 7919) % 101 / 10}`);
    await sendMany(topic, ["x,y", ...points]);
    const group = unique("g");
    const out = unique("kout-out");
    const args = [
      ...kafkaReader(topic, group),
      "--exit-at-end",
      "--commit-rows",
      "250",
      "--output",
      "out.csv",
      "--output-topic",
      out,
      "-X",
      "compression.type=zstd",
    ];
    const r = await run(regress(CURRENT), args, { cwd: dir });
    ok(r, "kafka → topic");
    const log = await csvRows(join(dir, "out.csv"));
    assert.equal(log.rows.length, 15, "8 batches");
    const got = await readTopic(out);
    assert.deepEqual(got.map((m) => m.value), log.rows.map((row) => json(log.header, row, 0)));
    assert.deepEqual(await committedOffsets(group, topic), [2001], "the transactions committed the offsets");
    // Nothing more to read: a second run commits nothing and sends nothing.
    ok(await run(regress(CURRENT), args, { cwd: dir }), "again");
    assert.equal((await readTopic(out)).length, 15);
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

test(
  `--output-topic (${CURRENT}): over SASL_SSL with the source's security settings (password from KAFKA_SASL_PASSWORD), compressed with lz4`,
  async () => {
    const b = broker();
    const topic = unique("out-sasl");
    const r = await run(regress(CURRENT), [
      "--rate",
      "0",
      "--output-topic",
      topic,
      "-b",
      b.saslSsl,
      "-X",
      "security.protocol=sasl_ssl",
      "-X",
      "sasl.mechanism=SCRAM-SHA-256",
      "-X",
      `sasl.username=${b.user}`,
      "-X",
      `ssl.ca.location=${b.ca}`,
      "-X",
      "compression.type=lz4",
      "--output",
      "-",
    ], { env: { KAFKA_SASL_PASSWORD: b.password } });
    ok(r, "SASL_SSL");
    assert.ok(!r.stderr.includes(b.password), "the password is never shown");
    const [header, ...rows] = r.stdout.trim().split("\n").map((line) => line.split(","));
    const got = await readTopic(topic);
    assert.deepEqual(got.map((m) => m.value), rows.map((row) => json(header, row, 0)));
    assert.equal(rows.at(-1)!.slice(0, 2).join(","), "0.025649728471302445,0.9958341214647296");
  },
  { timeoutMs: 60_000 },
);
