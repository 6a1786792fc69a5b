/**
 * End-to-end tests of `--source kafka` and `scripts/produce.ts` against the real test broker
 * (`bash scripts/kafka/start.sh`; the tests fail when it is not running). Each test runs the runners of
 * the runtime running the tests, so `deno test` covers the Deno runners and `bun test` the Bun ones;
 * the first test also produces with the other runtime. Every test uses topics and groups of its own.
 * @module
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  ok,
  OTHER,
  produce,
  readAll,
  regress,
  rows,
  run,
  SEED_LINE,
  seedPoints,
  send,
  unique,
} from "./kafka_helpers.ts";

const TIMEOUT = { timeoutMs: 60_000 };
const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-kafka-"));

/** `regress --source kafka` over PLAINTEXT, until the end offsets seen at the start. */
function read(topic: string, group: string, ...args: string[]) {
  return run(regress(CURRENT), [
    "--source",
    "kafka",
    "-b",
    broker().plaintext,
    "-t",
    topic,
    "-G",
    group,
    "--exit-at-end",
    ...args,
  ]);
}

const lastLine = (csv: string) => rows(csv).at(-1)?.slice(0, 2);

test(
  `kafka cli (${CURRENT}): the tutorial's stream produced by produce.ts (${OTHER}) gives the exact line`,
  async () => {
    const b = broker();
    const topic = unique("seed");
    const group = unique("g");
    const produced = await run(produce(OTHER), [
      "-b",
      b.plaintext,
      "-t",
      topic,
      "--partitions",
      "1",
      "--rate",
      "0",
    ]);
    ok(produced, "produce");
    assert.match(produced.stderr, /produce: created topic .* with 1 partition/);
    assert.match(produced.stderr, /produce: sent 10 points after the header x,y to ".*" partition 0/);

    const dir = await tempDir();
    const first = await read(
      topic,
      group,
      "--output",
      join(dir, "out.csv"),
      "--input-log",
      join(dir, "in.csv"),
    );
    ok(first, "regress");
    assert.equal(first.stderr, "", "quiet when stderr is not a terminal");
    assert.deepEqual(lastLine(await readFile(join(dir, "out.csv"), "utf8")), SEED_LINE);
    assert.deepEqual(
      rows(await readFile(join(dir, "in.csv"), "utf8")).map((r) => r.slice(0, 2)),
      seedPoints(),
    );
    assert.deepEqual(await committedOffsets(group, topic), [11], "header and ten points committed");

    // The same group again: nothing new, said so, exit 0.
    const again = await read(topic, group, "--output", "-", "--no-input-log");
    ok(again, "second run");
    assert.equal(again.stdout, "a,b,time,diff\n");
    assert.match(again.stderr, /no message to read in ".*" up to its end offsets/);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): produce.ts defaults to one point per second, as the tutorial's generator`,
  async () => {
    const topic = unique("rate");
    await createTopic(topic);
    const r = await run(produce(CURRENT), ["-b", broker().plaintext, "-t", topic, "--count", "3"]);
    ok(r, "produce");
    const messages = await readAll(topic, 4);
    assert.deepEqual(messages.map((m) => m.value), [
      "x,y",
      ...seedPoints().slice(0, 3).map((p) => p.join(",")),
    ]);
    const gaps = messages.slice(2).map((m, i) => m.timestamp - messages[i + 1].timestamp);
    for (const gap of gaps) assert.ok(gap >= 900 && gap <= 1500, `points about 1 s apart: ${gaps}`);
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): SASL_SSL with SCRAM-SHA-256, the password from KAFKA_SASL_PASSWORD, the rest from -F`,
  async () => {
    const b = broker();
    const dir = await tempDir();
    const properties = join(dir, "client.properties");
    await writeFile(
      properties,
      [
        "# the test broker's SASL_SSL listener",
        `bootstrap.servers=${b.saslSsl}`,
        "security.protocol=sasl_ssl",
        "sasl.mechanism=SCRAM-SHA-256",
        `sasl.username=${b.user}`,
        `ssl.ca.location=${b.ca}`,
        "",
      ].join("\n"),
    );
    const topic = unique("sasl");
    const group = unique("g");
    const env = { KAFKA_SASL_PASSWORD: b.password, KAFKA_GROUP_ID: group };
    ok(
      await run(produce(CURRENT), ["-F", properties, "-t", topic, "--partitions", "1", "--rate", "0"], {
        env,
      }),
      "produce",
    );
    const r = await run(regress(CURRENT), [
      "--source",
      "kafka",
      "-F",
      properties,
      "-t",
      topic,
      "--exit-at-end",
      "--output",
      "-",
      "--no-input-log",
    ], { env });
    ok(r, "regress");
    assert.deepEqual(lastLine(r.stdout), SEED_LINE);
    assert.deepEqual(await committedOffsets(group, topic), [11], "the group from KAFKA_GROUP_ID");
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(`kafka cli (${CURRENT}): JSON messages, field names from --x and --y`, async () => {
  const b = broker();
  const topic = unique("json");
  ok(
    await run(produce(CURRENT), [
      "-b",
      b.plaintext,
      "-t",
      topic,
      "--partitions",
      "1",
      "--rate",
      "0",
      "--format",
      "json",
    ]),
    "produce",
  );
  const json = await read(topic, unique("g"), "--format", "json", "--output", "-", "--no-input-log");
  ok(json, "regress json");
  assert.deepEqual(lastLine(json.stdout), SEED_LINE);

  const named = unique("json-named");
  await createTopic(named);
  await send(named, [
    '{"t": 0, "v": 1, "id": "a"}',
    '{"t": 1, "v": 3}',
    '{"t": "2", "v": 5}',
    "not json",
    '{"t": 2, "v": 5}',
  ]);
  const r = await read(
    named,
    unique("g"),
    "--format",
    "json",
    "--x",
    "t",
    "--y",
    "v",
    "--output",
    "-",
    "--input-log",
    "/dev/null",
  );
  ok(r, "regress named");
  assert.deepEqual(lastLine(r.stdout), ["1", "2"]);
  assert.match(r.stderr, /offset 2: t is the string "2", not a number \[bad_json\]/);
  assert.match(r.stderr, /offset 3: not JSON: "not json" \[bad_json\]/);
}, TIMEOUT);

test(
  `kafka cli (${CURRENT}): CSV headers: any column order, a later header is data, --csv-header`,
  async () => {
    const b = broker();
    const dir = await tempDir();
    const topic = unique("header");
    await createTopic(topic);
    await send(topic, ["y,note,x", "1,a,0", "y,note,x", "3,b,1", "5,c"]);
    const r = await read(
      topic,
      unique("g"),
      "--output",
      "-",
      "--input-log",
      join(dir, "in.csv"),
      "--dead-letter",
      join(dir, "bad.csv"),
    );
    ok(r, "regress");
    assert.deepEqual(rows(await readFile(join(dir, "in.csv"), "utf8")).map((r) => r.slice(0, 2)), [
      ["0", "1"],
      ["1", "3"],
    ]);
    assert.deepEqual(lastLine(r.stdout), ["1", "2"]);
    const bad = rows(await readFile(join(dir, "bad.csv"), "utf8"));
    assert.deepEqual(bad.map((f) => f[2]), ["not_a_number", "missing_column"]);
    assert.match(bad[0][1], /partition 0 offset 2$/);

    // A topic without a header: the first message is not one, so the run stops and says what to do...
    const headless = unique("headless");
    ok(
      await run(produce(CURRENT), [
        "-b",
        b.plaintext,
        "-t",
        headless,
        "--partitions",
        "1",
        "--rate",
        "0",
        "--no-header",
      ]),
      "produce",
    );
    const fails = await read(headless, unique("g"), "--output", "-", "--no-input-log");
    assert.equal(fails.code, 1);
    assert.match(
      fails.stderr,
      /^streamreg: .* partition 0 offset 0: the partition's first message "0,0.06888437030500963" is not a CSV header naming the columns "x" and "y" \(no column "x"\): produce the header first, or pass --csv-header\n$/,
    );
    // ... and --csv-header supplies it.
    const given = await read(headless, unique("g"), "--csv-header", "x,y", "--output", "-", "--no-input-log");
    ok(given, "--csv-header");
    assert.deepEqual(lastLine(given.stdout), SEED_LINE);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): offsets are committed per group; a restarted reader reads the header again, then only new points`,
  async () => {
    const b = broker();
    const topic = unique("resume");
    const group = unique("g");
    ok(
      await run(produce(CURRENT), ["-b", b.plaintext, "-t", topic, "--partitions", "1", "--rate", "0"]),
      "produce",
    );
    const points = seedPoints();
    const first = await read(
      topic,
      group,
      "--max-messages",
      "6",
      "--output",
      "/dev/null",
      "--input-log",
      "-",
    );
    ok(first, "first 6 messages");
    assert.deepEqual(rows(first.stdout).map((r) => r.slice(0, 2)), points.slice(0, 5));
    assert.deepEqual(await committedOffsets(group, topic), [6]);

    const second = await read(topic, group, "--output", "-", "--input-log", "/dev/null", "--verbose");
    ok(second, "the rest");
    assert.match(second.stderr, /reading from 6 \(group ".*" committed offset 6\), header from offset 0/);
    // The fit of points 5..9 alone, as --source csv computes it.
    const alone = await run(regress(CURRENT), [
      "--source",
      "csv",
      "--input",
      "-",
      "--output",
      "-",
      "--no-input-log",
    ], {
      stdin: ["x,y", ...points.slice(5).map((p) => p.join(","))].join("\n") + "\n",
    });
    ok(alone, "csv");
    assert.deepEqual(lastLine(second.stdout), lastLine(alone.stdout));
    assert.deepEqual(await committedOffsets(group, topic), [11]);

    const again = await read(topic, group, "--from-beginning", "--output", "-", "--no-input-log");
    ok(again, "--from-beginning");
    assert.deepEqual(lastLine(again.stdout), SEED_LINE);
    const end = await read(topic, unique("g"), "--from-end", "--output", "-", "--no-input-log");
    ok(end, "--from-end");
    assert.equal(end.stdout, "a,b,time,diff\n");
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): a live reader gets points as they come; SIGINT writes the open batch and commits`,
  async () => {
    const b = broker();
    const dir = await tempDir();
    const topic = unique("live");
    const group = unique("g");
    await createTopic(topic);
    const out = join(dir, "out.csv");
    const final = async () =>
      JSON.stringify(lastLine(await readFile(out, "utf8").catch(() => "x\n"))) === JSON.stringify(SEED_LINE);
    const reader = run(regress(CURRENT), [
      "--source",
      "kafka",
      "-b",
      b.plaintext,
      "-t",
      topic,
      "-G",
      group,
      "--commit-ms",
      "100",
      "--output",
      out,
      "--no-input-log",
    ], { interruptWhen: final }); // once the ten points are in
    await new Promise((r) => setTimeout(r, 1500)); // the reader has joined the group
    ok(await run(produce(CURRENT), ["-b", b.plaintext, "-t", topic, "--rate", "20"]), "produce");
    const r = await reader;
    ok(r, "reader");
    assert.deepEqual(lastLine(await readFile(out, "utf8")), SEED_LINE);
    assert.deepEqual(await committedOffsets(group, topic), [11]);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): a wrong password, an unknown topic or no broker: one line, exit 1, within 30 s`,
  async () => {
    const b = broker();
    const topic = unique("errors");
    await createTopic(topic);
    const sasl = [
      "-X",
      "security.protocol=sasl_ssl",
      "-X",
      "sasl.mechanism=SCRAM-SHA-256",
      "-X",
      `sasl.username=${b.user}`,
    ];
    const wrong = await run(regress(CURRENT), [
      "--source",
      "kafka",
      "-b",
      b.saslSsl,
      "-t",
      topic,
      ...sasl,
      "-X",
      `ssl.ca.location=${b.ca}`,
      "--output",
      "-",
    ], { env: { KAFKA_SASL_PASSWORD: `${b.password}-wrong` } });
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      `streamreg: authentication failed at ${b.saslSsl} for user "${b.user}" (SCRAM-SHA-256): check sasl.username, sasl.password and sasl.mechanism\n`,
    );
    assert.equal(wrong.stdout, "");

    const untrusted = await run(regress(CURRENT), [
      "--source",
      "kafka",
      "-b",
      b.saslSsl,
      "-t",
      topic,
      ...sasl,
      "--output",
      "-",
    ], {
      env: { KAFKA_SASL_PASSWORD: b.password },
    });
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      /^streamreg: TLS handshake with .* failed: self.signed certificate in certificate chain: set ssl.ca.location/,
    );
    assert.ok(untrusted.ms < 30_000, `${untrusted.ms} ms`);

    const missing = await read(unique("missing"), unique("g"), "--output", "-");
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^streamreg: topic "streamreg-kt-missing-.*" does not exist on .*: create it \(e\.g\. scripts\/produce\.ts --partitions 1\) or check -t\n$/,
    );
    const noTopic = await run(produce(CURRENT), ["-b", b.plaintext, "-t", unique("missing")]);
    assert.equal(noTopic.code, 1);
    assert.match(
      noTopic.stderr,
      /^produce: topic ".*" does not exist on .*: pass --partitions N to create it\n$/,
    );

    const refused = await run(regress(CURRENT), ["--source", "kafka", "-b", "127.0.0.1:1", "--output", "-"]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      "streamreg: cannot connect to Kafka at 127.0.0.1:1: connection refused (is the broker running? check -b)\n",
    );
    assert.ok(refused.ms < 30_000, `${refused.ms} ms`);
    for (const r of [wrong, untrusted, missing, refused]) assert.ok(!r.stderr.includes(b.password));

    const usage = await run(regress(CURRENT), ["--source", "kafka", "-X", "sasl.pasword=x"]);
    assert.equal(usage.code, 2);
    assert.match(
      usage.stderr,
      /^streamreg: -X: unknown Kafka property "sasl.pasword" \(did you mean "sasl.password"\?\)/,
    );
  },
  TIMEOUT,
);
