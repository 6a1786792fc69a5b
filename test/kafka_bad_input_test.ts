// deno-lint-ignore-file no-control-regex -- the tests look for control characters on purpose
/**
 * Bad input never changes the answer, on Kafka: thousands of seeded random malformed messages (binary
 * garbage, bytes that are not UTF-8, text that is not a number, missing and extra fields, NaN, ±Infinity,
 * overflow and underflow, bad quotes, empty messages and messages without a value, JSON of the wrong
 * shape, messages over 1 MiB) mixed into good CSV and JSON streams on the real test broker, read by the
 * CLI of the runtime running the tests. No crash; every bad message is in the dead-letter file with its
 * topic, partition and offset, its reason and its exact bytes; the accepted points are exactly the good
 * ones, and the final line is bit for bit the fit of the good ones alone.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { Kafka, logLevel } from "kafkajs";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";
import { unescapeRaw } from "../src/model/rejection.ts";
import { seededGenerator } from "./cli_helpers.ts";
import { test } from "./harness.ts";
import { broker, CURRENT, kafkaReader, ok, regress, rows, run, sendMany, unique } from "./kafka_helpers.ts";

const enc = new TextEncoder();

const generator = seededGenerator;
type Generator = ReturnType<typeof generator>;

interface Bad {
  /** The message's value (null: a message without a value). */
  value: Uint8Array | null;
  /** The expected reason code, or undefined for random garbage (one of `GARBAGE_REASONS`). */
  reason?: string;
}

const GARBAGE_REASONS =
  /^(not_a_number|empty_field|missing_column|extra_fields|invalid_utf8|bad_csv|bad_json|overflow|out_of_range)$/;

/** Random bytes (quotes, CR, LF, NUL, commas, braces, bytes over 0x7f...), with a NUL: never a point. */
function garbage(g: Generator): Uint8Array {
  const bytes = Uint8Array.from({ length: 1 + g.int(60) }, () => {
    const b = g.pick([0x22, 0x0d, 0x0a, 0x00, 0x2c, 0x5c, 0x7b, 0x7d, 0xff, 0xc3, 0x31, -1]);
    return b >= 0 ? b : g.int(256);
  });
  bytes[g.int(bytes.length)] = 0x00;
  return bytes;
}

const text = (s: string): Bad["value"] => enc.encode(s);

/** Bad CSV messages (header x,y in some order), by kind. */
const CSV_KINDS: ((g: Generator) => Bad)[] = [
  (g) => ({ value: text(`${g.int(100)},abc${g.int(9)}`), reason: "not_a_number" }),
  (g) => ({ value: text(`0x1g,${g.int(100)}`), reason: "not_a_number" }),
  (g) => ({ value: text(`${g.int(100)},1.2.3`), reason: "not_a_number" }),
  (g) => ({ value: text(`,${g.int(100)}`), reason: "empty_field" }),
  (g) => ({ value: text(`${g.int(100)}, `), reason: "empty_field" }),
  () => ({ value: text(""), reason: "empty_field" }),
  () => ({ value: null, reason: "empty_field" }),
  (g) => ({ value: text(`${g.int(100)}`), reason: "missing_column" }),
  (g) => ({ value: text(`${g.int(100)},${g.int(100)},${g.int(9)}`), reason: "extra_fields" }),
  (g) => ({ value: text(`NaN,${g.int(100)}`), reason: "nan" }),
  (g) => ({ value: text(`${g.int(100)},NaN`), reason: "nan" }),
  (g) => ({ value: text(`${g.int(100)},nan`), reason: "not_a_number" }),
  (g) => ({ value: text(`Infinity,${g.int(100)}`), reason: "infinite" }),
  (g) => ({ value: text(`${g.int(100)},-Infinity`), reason: "infinite" }),
  (g) => ({ value: text(`1e${400 + g.int(1000)},1`), reason: "overflow" }),
  (g) => ({ value: text(`1,-${g.int(9) + 1}e999`), reason: "overflow" }),
  (g) => ({ value: text(`1e-${140 + g.int(160)},1`), reason: "out_of_range" }),
  (g) => ({ value: text(`1,1e${140 + g.int(160)}`), reason: "out_of_range" }),
  (g) => ({ value: text(`1e-${400 + g.int(100)},1`), reason: "out_of_range" }),
  () => ({ value: text(`1,5e-324`), reason: "out_of_range" }),
  (g) => ({ value: Uint8Array.of(0x31, 0x2c, 0x80 + g.int(64)), reason: "invalid_utf8" }),
  () => ({ value: Uint8Array.of(0x31, 0x2c, 0xed, 0xa0, 0x80), reason: "invalid_utf8" }),
  () => ({ value: Uint8Array.of(0xc3, 0x2c, 0x31), reason: "invalid_utf8" }),
  (g) => ({ value: text(`"${g.int(100)},${g.int(100)}`), reason: "bad_csv" }),
  (g) => ({ value: text(`"${g.int(100)}"x,${g.int(100)}`), reason: "bad_csv" }),
  (g) => ({ value: text(`a"b,${g.int(100)}`), reason: "bad_csv" }),
  (g) => ({ value: garbage(g) }),
  (g) => ({ value: garbage(g) }),
];

/** Bad JSON messages (fields x and y), by kind. */
const JSON_KINDS: ((g: Generator) => Bad)[] = [
  (g) => ({ value: text(`not json ${g.int(100)}`), reason: "bad_json" }),
  (g) => ({ value: text(`{"x": ${g.int(100)}, "y": `), reason: "bad_json" }),
  (g) => ({ value: text(`[${g.int(100)}, ${g.int(100)}]`), reason: "bad_json" }),
  () => ({ value: text("null"), reason: "bad_json" }),
  (g) => ({ value: text(`${g.int(100)}`), reason: "bad_json" }),
  () => ({ value: text(`"x,y"`), reason: "bad_json" }),
  (g) => ({ value: text(`{"x": "${g.int(100)}", "y": 1}`), reason: "bad_json" }),
  (g) => ({ value: text(`{"x": ${g.int(100)}}`), reason: "bad_json" }),
  (g) => ({ value: text(`{"y": ${g.int(100)}, "z": 1}`), reason: "bad_json" }),
  () => ({ value: text(`{"x": true, "y": 1}`), reason: "bad_json" }),
  () => ({ value: text(`{"x": null, "y": 1}`), reason: "bad_json" }),
  (g) => ({ value: text(`{"x": [${g.int(100)}], "y": 2}`), reason: "bad_json" }),
  (g) => ({ value: text(`{"x": {"v": ${g.int(100)}}, "y": 2}`), reason: "bad_json" }),
  () => ({ value: text(`{"x": NaN, "y": 1}`), reason: "bad_json" }),
  () => ({ value: text(`{"x": 1, "y": Infinity}`), reason: "bad_json" }),
  () => ({ value: text(""), reason: "empty_field" }),
  () => ({ value: null, reason: "empty_field" }),
  (g) => ({ value: text(`{"x": 1e${400 + g.int(1000)}, "y": 1}`), reason: "overflow" }),
  (g) => ({ value: text(`{"x": 1, "y": -${g.int(9) + 1}e999}`), reason: "overflow" }),
  (g) => ({ value: text(`{"x": 1e-${400 + g.int(100)}, "y": 1}`), reason: "out_of_range" }),
  (g) => ({ value: text(`{"x": 1, "y": 1e-${140 + g.int(160)}}`), reason: "out_of_range" }),
  (g) => ({ value: text(`{"x": 1, "y": 1e${140 + g.int(160)}}`), reason: "out_of_range" }),
  () => ({
    value: Uint8Array.of(...enc.encode('{"x": 1, "y": 2, "n": "'), 0xff, 0x22, 0x7d),
    reason: "invalid_utf8",
  }),
  (g) => ({ value: garbage(g) }),
];

interface Stream {
  /** Every message of each partition, in order (the CSV header first). */
  partitions: (Uint8Array | null)[][];
  /** The good points as "x,y" text. */
  good: string[];
  /** The bad messages by "partition offset". */
  bad: Map<string, Bad>;
}

/**
 * Per partition `good` points and `bad` bad messages in random places, after the header (CSV; one
 * column order per partition) and with a few messages over 1 MiB among the bad ones.
 */
function makeStream(
  seed: number,
  format: "csv" | "json",
  options: { partitions: number; good: number; bad: number; large: number[] },
): Stream {
  const g = generator(seed);
  const kinds = format === "csv" ? CSV_KINDS : JSON_KINDS;
  const headers = ["x,y", "y,x", "x,y"];
  const stream: Stream = { partitions: [], good: [], bad: new Map() };
  const large = [...options.large];
  let n = 0;
  for (let p = 0; p < options.partitions; p++) {
    const header = headers[p % headers.length];
    const messages: (Uint8Array | null)[] = format === "csv" ? [enc.encode(header)] : [];
    let goods = 0;
    let bads = 0;
    while (goods < options.good || bads < options.bad) {
      const offset = messages.length;
      if (bads < options.bad && (goods >= options.good || g.next() < 0.5)) {
        bads++;
        let bad: Bad;
        if (large.length > 0 && g.next() < 0.01) {
          const size = large.pop()!;
          const value = new Uint8Array(size).fill(0x37);
          if (format === "csv") value[1] = 0x2c; // "7,777...": a fine point, but far too long
          else {
            value.set(enc.encode('{"x": 1, "y": 2, "pad": "'), 0);
            value.set(enc.encode('"}'), size - 2);
          }
          bad = { value, reason: "too_large" };
        } else {
          bad = g.pick(kinds)(g);
        }
        stream.bad.set(`${p} ${offset}`, bad);
        messages.push(bad.value);
        continue;
      }
      goods++;
      const x = ++n + g.pick([0, 0.25, 0.5]);
      const y = 2 * x + 1 + (2 * g.next() - 1) / 10;
      stream.good.push(`${x},${y}`);
      const value = format === "json"
        ? `{"x": ${x}, "y": ${y}${g.next() < 0.2 ? `, "id": "p${n}"` : ""}}`
        : header === "x,y"
        ? `${x},${y}`
        : `${y},${x}`;
      messages.push(enc.encode(value));
    }
    stream.partitions.push(messages);
  }
  assert.equal(large.length, 0, "every message over 1 MiB is in");
  return stream;
}

/** Creates a topic whose messages may be up to 4 MiB (the broker's default limit is 1 MiB). */
async function createLargeTopic(topic: string, partitions: number): Promise<void> {
  silenceTimeoutWarnings();
  const kafka = new Kafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{
        topic,
        numPartitions: partitions,
        configEntries: [{ name: "max.message.bytes", value: String(4 << 20) }],
      }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Checks the dead-letter file: one row per bad message, with its place, reason and bytes. */
function checkDeadLetter(csv: string, topic: string, stream: Stream, label: string): void {
  const table = parse(csv, { relax_column_count: false }) as string[][];
  assert.deepEqual(table[0], ["source", "location", "reason", "detail", "raw"], label);
  const body = table.slice(1);
  assert.equal(body.length, stream.bad.size, `${label}: one row per bad message`);
  const seen = new Set<string>();
  const place = new RegExp(`^topic ${topic} partition (\\d+) offset (\\d+)$`);
  for (const [source, location, reason, detail, raw] of body) {
    const where = `${label}: ${location}`;
    assert.equal(source, "kafka", where);
    const m = location.match(place);
    assert.ok(m, `${where}: topic, partition and offset`);
    const key = `${m[1]} ${m[2]}`;
    const bad = stream.bad.get(key);
    assert.ok(bad, `${where}: a bad message is there`);
    assert.ok(!seen.has(key), `${where}: once`);
    seen.add(key);
    if (bad.reason) assert.equal(reason, bad.reason, `${where}: ${detail}`);
    else assert.match(reason, GARBAGE_REASONS, where);
    assert.ok(detail.length > 0 && !/[\x00-\x1f]/.test(detail), where);
    const bytes = bad.value ?? new Uint8Array();
    assert.deepEqual(
      unescapeRaw(raw),
      bad.reason === "too_large" ? bytes.subarray(0, 1024) : bytes,
      `${where}: raw`,
    );
  }
}

async function fuzz(format: "csv" | "json", seed: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-bad-"));
  const partitions = format === "csv" ? 2 : 1;
  const stream = makeStream(seed, format, {
    partitions,
    good: format === "csv" ? 2000 : 3000,
    bad: format === "csv" ? 2000 : 3000,
    large: [(1 << 20) + 1, 2 << 20],
  });
  const topic = unique(`bad-${format}`);
  await createLargeTopic(topic, partitions);
  for (const [p, messages] of stream.partitions.entries()) {
    await sendMany(topic, messages, { partition: p, batch: 500 });
  }

  // The fit of the good points alone, read from a CSV file.
  await writeFile(join(dir, "good.csv"), ["x,y", ...stream.good].join("\n") + "\n");
  const reference = await run(regress(CURRENT), [
    "--source",
    "csv",
    "--input",
    join(dir, "good.csv"),
    "--output",
    "-",
    "--no-input-log",
  ]);
  ok(reference, "reference");

  const label = `${CURRENT} ${format}`;
  const r = await run(regress(CURRENT), [
    ...kafkaReader(topic, unique("g")),
    "--format",
    format,
    "--exit-at-end",
    "--commit-rows",
    "997",
    "--output",
    "-",
    "--input-log",
    join(dir, "in.csv"),
    "--dead-letter",
    join(dir, "dead.csv"),
  ]);
  ok(r, label);
  const lastLine = (csv: string) => rows(csv).at(-1)!.slice(0, 2).join(",");
  assert.equal(
    lastLine(r.stdout),
    lastLine(reference.stdout),
    `${label}: the fit of the good points, bit for bit`,
  );
  const accepted = rows(await readFile(join(dir, "in.csv"), "utf8")).map((f) => `${f[0]},${f[1]}`);
  assert.deepEqual(accepted.sort(), [...stream.good].sort(), `${label}: exactly the good points`);
  checkDeadLetter(await readFile(join(dir, "dead.csv"), "utf8"), topic, stream, label);
  const messages = r.stderr.trim().split("\n");
  assert.equal(messages.length, 11, `${label}: the first 10 rejections and a summary: ${r.stderr}`);
  assert.match(
    messages[0],
    new RegExp(`^streamreg: rejected kafka topic ${topic} partition \\d+ offset \\d+: .* \\[[a-z_0-9]+\\]$`),
  );
  assert.match(messages[10], new RegExp(`^streamreg: rejected ${stream.bad.size} records \\(.*\\) in all;`));
  assert.ok(!/[\x00-\x08\x0b-\x1f]/.test(r.stderr), `${label}: no control characters on stderr`);
  await rm(dir, { recursive: true });
}

test(
  `kafka bad input fuzz (${CURRENT}): 4000 malformed CSV messages mixed into 4000 points over two partitions change nothing; every one is dead-lettered with its partition and offset`,
  () => fuzz("csv", 20240611),
  { timeoutMs: 60_000 },
);

test(
  `kafka bad input fuzz (${CURRENT}): 3000 malformed JSON messages (wrong shapes, not JSON, overflow, not UTF-8, over 1 MiB) mixed into 3000 points change nothing`,
  () => fuzz("json", 777),
  { timeoutMs: 60_000 },
);

test(
  `kafka bad input (${CURRENT}): --max-record-bytes rejects longer messages as too_large, keeping their first 1024 bytes`,
  async () => {
    const topic = unique("max-bytes");
    await createLargeTopic(topic, 1);
    const long = `${"1".repeat(1500)},2`;
    await sendMany(topic, ["x,y", "1,2", long, "3,4", "12345,6"]);
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-bad-"));
    const r = await run(regress(CURRENT), [
      "--source",
      "kafka",
      "-b",
      broker().plaintext,
      "-t",
      topic,
      "--exit-at-end",
      "--max-record-bytes",
      "6",
      "--output",
      "-",
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "dead.csv"),
    ]);
    ok(r, "regress");
    assert.deepEqual(rows(await readFile(join(dir, "in.csv"), "utf8")).map((f) => f.slice(0, 2).join(",")), [
      "1,2",
      "3,4",
    ]);
    const dead = (parse(await readFile(join(dir, "dead.csv"), "utf8")) as string[][]).slice(1);
    assert.deepEqual(dead.map((row) => [row[1], row[2]]), [
      [`topic ${topic} partition 0 offset 2`, "too_large"],
      [`topic ${topic} partition 0 offset 4`, "too_large"],
    ]);
    assert.equal(dead[0][3], "the message has 1502 bytes, more than the limit of 6 (--max-record-bytes)");
    assert.equal(dead[0][4], long.slice(0, 1024));
    assert.equal(dead[1][4], "12345,6");
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 30_000 },
);
