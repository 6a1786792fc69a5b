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
  kafkaReader,
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
  sendTransactions,
  unique,
} from "./kafka_helpers.ts";

const TIMEOUT = { timeoutMs: 60_000 };
const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-kafka-"));

/** `regress --source kafka` over PLAINTEXT, until the end offsets seen at the start. */
function read(topic: string, group: string, ...args: string[]) {
  return run(regress(CURRENT), [
    ...kafkaReader(topic, group),
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
      ...kafkaReader(topic, group),
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

test(
  `kafka cli (${CURRENT}): configuration mistakes exit 2 as for -X: -F, KAFKA_*, bad values, a flag given twice (issue 13.5)`,
  async () => {
    const b = broker();
    const topic = unique("usage");
    await createTopic(topic);
    const dir = await tempDir();
    const file = async (name: string, lines: string[]) => {
      const path = join(dir, name);
      await writeFile(path, lines.join("\n") + "\n");
      return path;
    };
    const unknown = await file("unknown.properties", [
      `bootstrap.servers=${b.plaintext}`,
      "bootstrap.server=x:1",
    ]);
    const badValue = await file("bad.properties", [
      `bootstrap.servers=${b.plaintext}`,
      "session.timeout.ms=abc",
    ]);
    const kafka = ["--source", "kafka", "-t", topic, "-G", unique("g"), "-e", "--output", "-"];
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      [
        "-F unknown property",
        [...kafka, "-F", unknown],
        {},
        /^streamreg: -F .*unknown\.properties: unknown Kafka property "bootstrap\.server" \(did you mean "bootstrap\.servers"\?\)/,
      ],
      [
        "-F invalid value",
        [...kafka, "-F", badValue],
        {},
        /^streamreg: -F .*bad\.properties: invalid value "abc" for Kafka property session\.timeout\.ms/,
      ],
      [
        "-X invalid value",
        [...kafka, "-b", b.plaintext, "-X", "session.timeout.ms=abc"],
        {},
        /^streamreg: -X: invalid value "abc" for Kafka property session\.timeout\.ms: expected an integer number of milliseconds from 1000 to 3600000\n$/,
      ],
      [
        "KAFKA_* invalid value",
        [...kafka, "-b", b.plaintext],
        { KAFKA_SESSION_TIMEOUT_MS: "abc" },
        /^streamreg: environment KAFKA_SESSION_TIMEOUT_MS: invalid value "abc" for Kafka property session\.timeout\.ms/,
      ],
      ["no broker", kafka, {}, /^streamreg: no Kafka broker given: pass -b HOST:PORT/],
      [
        "--topic twice",
        ["--source", "kafka", "-b", b.plaintext, "--topic", "a", "--topic", "b", "-e"],
        {},
        /^streamreg: --topic is given twice \("a" and "b"\): give it once\n$/,
      ],
      [
        "-X group.instance.id",
        [...kafka, "-b", b.plaintext, "-X", "group.instance.id=r1"],
        {},
        /^streamreg: -X: Kafka property "group\.instance\.id" is known but unsupported: kafkajs 2\.2\.4 has no static group membership/,
      ],
    ];
    for (const [what, args, env, message] of cases) {
      const r = await run(regress(CURRENT), args, { env });
      assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message, what);
      assert.equal(r.stdout, "", what);
    }
    // The producer too.
    const produced = await run(produce(CURRENT), ["-t", topic, "-F", unknown]);
    assert.equal(produced.code, 2, produced.stderr);
    assert.match(produced.stderr, /^produce: -F .*: unknown Kafka property "bootstrap\.server"/);
    const twice = await run(produce(CURRENT), [
      "-b",
      b.plaintext,
      "-t",
      topic,
      "--count",
      "1",
      "--count",
      "2",
    ]);
    assert.equal(twice.code, 2, twice.stderr);
    assert.match(twice.stderr, /^produce: --count is given twice/);
    // An unreadable -F file is a failure of the run, not a usage error.
    const missing = await run(regress(CURRENT), [...kafka, "-F", join(dir, "missing.properties")]);
    assert.equal(missing.code, 1, missing.stderr);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): kcat's -b=HOST:PORT, -e, -c N, -o beginning|end|stored, -q and --bootstrap-server (issue 13.5, 13.7)`,
  async () => {
    const b = broker();
    const topic = unique("kcat");
    const group = unique("g");
    await createTopic(topic);
    await send(topic, ["x,y", ...Array.from({ length: 10 }, (_, i) => `${i},${2 * i + 1}`)]);
    const dir = await tempDir();
    const out = join(dir, "out.csv");
    // The accepted points (the input change log) on stdout, the fitted line in out.csv.
    const kcat = (...args: string[]) =>
      run(regress(CURRENT), ["--source", "kafka", "-t", topic, "--output", out, "--input-log", "-", ...args]);
    const points = (csv: string) => rows(csv).map((r) => r.slice(0, 2).join(","));
    const fitted = async () => lastLine(await readFile(out, "utf8"));

    // -b=HOST:PORT, -c 6: the header and the first 5 points.
    const first = await kcat(`-b=${b.plaintext}`, "-G", group, "-c", "6");
    ok(first, "-b= -c 6");
    assert.deepEqual(points(first.stdout), ["0,1", "1,3", "2,5", "3,7", "4,9"]);
    assert.deepEqual(await committedOffsets(group, topic), [6]);
    // -o stored (the default): goes on at the group's offsets; -e stops at the end.
    const stored = await kcat(
      "--bootstrap-server",
      b.plaintext,
      "-G",
      group,
      "-o",
      "stored",
      "-e",
      "--verbose",
    );
    ok(stored, "-o stored -e");
    assert.match(stored.stderr, /reading from 6 \(group ".*" committed offset 6\)/);
    assert.deepEqual(points(stored.stdout), ["5,11", "6,13", "7,15", "8,17", "9,19"]);
    assert.deepEqual(await committedOffsets(group, topic), [11]);
    // -o beginning: all 10 points again: the exact line y = 1 + 2x.
    const beginning = await kcat("-b", b.plaintext, "-G", group, "-o", "beginning", "-e");
    ok(beginning, "-o beginning -e");
    assert.equal(points(beginning.stdout).length, 10);
    assert.deepEqual(await fitted(), ["1", "2"]);
    // -o end -e: nothing to read.
    const end = await kcat("-b", b.plaintext, "-G", unique("g"), "-o", "end", "-e", "--verbose");
    ok(end, "-o end -e");
    assert.deepEqual(points(end.stdout), []);
    assert.match(end.stderr, /reading from 11 \(--from-end\)/);
    // -q with the others (its effect on a terminal's status line is tested in src/cli/main_test.ts).
    const quiet = await kcat("-b", b.plaintext, "-G", unique("g"), "-o", "beginning", "-e", "-c", "3", "-q");
    ok(quiet, "-q");
    assert.equal(quiet.stderr, "");
    assert.deepEqual(points(quiet.stdout), ["0,1", "1,3"]);
    // -o with a contradicting flag, or a kcat offset we do not support: usage errors.
    const contradiction = await kcat("-b", b.plaintext, "-o", "end", "--from-beginning");
    assert.equal(contradiction.code, 2);
    assert.match(contradiction.stderr, /^streamreg: --from-beginning and -o end contradict each other/);
    const numeric = await kcat("-b", b.plaintext, "-o", "5");
    assert.equal(numeric.code, 2);
    assert.match(numeric.stderr, /^streamreg: -o: expected beginning, end or stored, got "5"/);
    await rm(dir, { recursive: true });
  },
  TIMEOUT,
);

test(
  `kafka cli (${CURRENT}): isolation.level reads a transactional topic: read_committed skips aborted points (issue 13.6)`,
  async () => {
    broker(); // fails at once when no broker runs
    const topic = unique("tx");
    await createTopic(topic);
    // Committed: the header and y = 1 + 2x; aborted: points far off that line.
    await sendTransactions(topic, [
      { values: ["x,y", "0,1", "1,3"], commit: true },
      { values: ["2,100", "3,-100"], commit: false },
      { values: ["2,5", "3,7"], commit: true },
    ]);
    const read = (...args: string[]) =>
      run(regress(CURRENT), [
        ...kafkaReader(topic, unique("g")),
        "-e",
        "--output",
        "-",
        "--no-input-log",
        ...args,
      ]);
    // Small fetches and a short wait still read everything (fetch.max.bytes, max.partition.fetch.bytes,
    // fetch.wait.max.ms), with a request timeout of our own.
    const fetch = [
      "-X",
      "fetch.max.bytes=1024",
      "-X",
      "max.partition.fetch.bytes=128",
      "-X",
      "fetch.wait.max.ms=10",
      "-X",
      "socket.timeout.ms=20000",
    ];
    const committed = await read("-X", "isolation.level=read_committed", ...fetch);
    ok(committed, "read_committed");
    assert.deepEqual(lastLine(committed.stdout), ["1", "2"]);
    const byDefault = await read();
    ok(byDefault, "the default");
    assert.deepEqual(lastLine(byDefault.stdout), ["1", "2"]);
    const uncommitted = await read("-X", "isolation.level=read_uncommitted");
    ok(uncommitted, "read_uncommitted");
    assert.notDeepEqual(lastLine(uncommitted.stdout), ["1", "2"]);
    // All six points, the aborted ones too: least squares over them.
    const xs = [0, 1, 2, 3, 2, 3];
    const ys = [1, 3, 100, -100, 5, 7];
    const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
    const [mx, my] = [mean(xs), mean(ys)];
    const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) /
      xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    const [a, b2] = lastLine(uncommitted.stdout)!.map(Number);
    assert.ok(Math.abs(b2 - slope) < 1e-9 && Math.abs(a - (my - slope * mx)) < 1e-9, `${a} ${b2}`);
  },
  TIMEOUT,
);
