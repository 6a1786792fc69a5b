/**
 * Security of `--source kafka` against the real test broker, with the CLI of the runtime running the
 * tests: TLS certificates are verified by default (an untrusted broker certificate fails with a clear
 * message) and turning that off takes an explicit property and prints a warning; the SASL password never
 * appears in anything a run writes — stdout, stderr (also with --verbose, also when authentication fails),
 * the change logs, the dead-letter file, the state directory — whether it comes from KAFKA_SASL_PASSWORD,
 * from -X or from a -F file. Mutual TLS: the broker's SSL listener requires a client certificate, given
 * with ssl.certificate.location and ssl.key.location (and ssl.key.password for an encrypted key).
 * @module
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./harness.ts";
import {
  broker,
  createTopic,
  CURRENT,
  mutualTlsBroker,
  ok,
  OTHER,
  produce,
  readAll,
  regress,
  rows,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

const VERIFICATION_OFF_WARNING =
  "streamreg: TLS certificate verification is disabled (enable.ssl.certificate.verification=false): " +
  "the broker's identity is not checked; use only for testing";

/** A topic with the header, 20 points and a few bad messages. */
async function pointsTopic(tag: string): Promise<string> {
  const topic = unique(tag);
  await createTopic(topic, 1);
  await sendMany(topic, [
    "x,y",
    ...Array.from({ length: 20 }, (_, i) => `${i},${3 * i - 1}`),
    "oops,1",
    "1,2,3",
    "",
    "NaN,4",
  ]);
  return topic;
}

/** `--source kafka` on the SASL_SSL listener; `extra` adds connection flags. */
function saslArgs(topic: string, extra: string[]): string[] {
  const b = broker();
  return ["--source", "kafka", "-b", b.saslSsl, "-t", topic, "-X", "security.protocol=sasl_ssl", ...extra];
}

test(
  `kafka security (${CURRENT}): TLS certificates are verified by default; turning that off takes -X enable.ssl.certificate.verification=false and warns`,
  async () => {
    const b = broker();
    const topic = await pointsTopic("tls");
    const sasl = ["-X", "sasl.mechanism=SCRAM-SHA-256", "-X", `sasl.username=${b.user}`];
    const env = { KAFKA_SASL_PASSWORD: b.password };
    const read = ["--exit-at-end", "--output", "-", "--no-input-log"];

    // No CA given: the system's CAs do not know the broker's self-signed CA.
    const untrusted = await run(regress(CURRENT), [...saslArgs(topic, sasl), "-G", unique("g"), ...read], {
      env,
    });
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      /^streamreg: TLS handshake with 127\.0\.0\.1:\d+ failed: self.signed certificate in certificate chain: set ssl\.ca\.location to the CA certificate \(PEM\) that signed the broker's certificate\n$/,
    );
    assert.equal(untrusted.stdout, "");
    // Another CA (the system's bundle, if there is one) does not make it trusted either.
    const bundle = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"].find(
      existsSync,
    );
    if (bundle) {
      const other = await run(
        regress(CURRENT),
        [...saslArgs(topic, [...sasl, "-X", `ssl.ca.location=${bundle}`]), "-G", unique("g"), ...read],
        { env },
      );
      assert.equal(other.code, 1);
      assert.match(other.stderr, /^streamreg: TLS handshake with .* failed: .*: set ssl\.ca\.location/);
    }
    // The right CA: verified, and no warning.
    const trusted = await run(
      regress(CURRENT),
      [...saslArgs(topic, [...sasl, "-X", `ssl.ca.location=${b.ca}`]), "-G", unique("g"), ...read],
      { env },
    );
    ok(trusted, "with ssl.ca.location");
    assert.equal(trusted.stderr.includes("verification"), false);
    const line = rows(trusted.stdout).at(-1)!.slice(0, 2);
    assert.deepEqual(line, ["-1", "3"]);

    // Verification off, explicitly (-X, or the environment): it connects, and says so on stderr, once.
    for (
      const [how, extra, more] of [
        ["-X", ["-X", "enable.ssl.certificate.verification=false"], {}],
        ["environment", [], { KAFKA_ENABLE_SSL_CERTIFICATE_VERIFICATION: "false" }],
      ] as const
    ) {
      const off = await run(regress(CURRENT), [
        ...saslArgs(topic, [...sasl, ...extra]),
        "-G",
        unique("g"),
        ...read,
      ], {
        env: { ...env, ...more },
      });
      ok(off, `verification off (${how})`);
      assert.deepEqual(rows(off.stdout).at(-1)!.slice(0, 2), line, how);
      assert.equal(
        off.stderr.split(VERIFICATION_OFF_WARNING).length,
        2,
        `${how}: the warning, once: ${off.stderr}`,
      );
      assert.ok(off.stderr.startsWith(VERIFICATION_OFF_WARNING + "\n"), `${how}: first, before reading`);
    }
    // The producer warns too.
    const produced = await run(
      produce(CURRENT),
      [
        ...saslArgs(topic, [...sasl, "-X", "enable.ssl.certificate.verification=false"]).slice(2),
        "--count",
        "1",
        "--rate",
        "0",
        "--no-header",
      ],
      { env },
    );
    ok(produced, "produce");
    assert.match(produced.stderr, /^produce: TLS certificate verification is disabled/);

    // --help says how it works.
    const help = await run(regress(CURRENT), ["--help"]);
    ok(help, "--help");
    assert.match(help.stdout, /verified/);
    assert.match(help.stdout, /enable\.ssl\.certificate\.verification=false/);
  },
  { timeoutMs: 90_000 },
);

/** Every file under `dir`, recursively, with its bytes as text (latin1: any byte maps to one char). */
async function everyFile(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    // deno-lint-ignore no-explicit-any
    const parent = (entry as any).parentPath ?? (entry as any).path;
    const path = join(parent, entry.name);
    files.set(path, (await readFile(path)).toString("latin1"));
  }
  return files;
}

test(
  `kafka security (${CURRENT}): the SASL password (from KAFKA_SASL_PASSWORD, -X or -F) appears nowhere a run writes, also with --verbose, bad messages, --state and a wrong password`,
  async () => {
    const b = broker();
    const topic = await pointsTopic("secret");
    const root = await mkdtemp(join(tmpdir(), "streamreg-kafka-secret-"));
    const secrets = await mkdtemp(join(tmpdir(), "streamreg-kafka-secret-props-")); // outside `root`
    const wrong = `wrong-${crypto.randomUUID()}`;
    const common = [
      "-X",
      "sasl.mechanism=SCRAM-SHA-256",
      "-X",
      `sasl.username=${b.user}`,
      "-X",
      `ssl.ca.location=${b.ca}`,
    ];
    const written: string[] = []; // every stdout and stderr
    const variants: [
      string,
      (password: string) => Promise<{ flags: string[]; env: Record<string, string> }>,
    ][] = [
      ["env", (password) => Promise.resolve({ flags: common, env: { KAFKA_SASL_PASSWORD: password } })],
      [
        "-X",
        (password) => Promise.resolve({ flags: [...common, "-X", `sasl.password=${password}`], env: {} }),
      ],
      ["-F", async (password) => {
        const file = join(secrets, password === b.password ? "good.properties" : "wrong.properties");
        await writeFile(
          file,
          [
            `bootstrap.servers=${b.saslSsl}`,
            "security.protocol=SASL_SSL",
            "sasl.mechanism=SCRAM-SHA-256",
            `sasl.username=${b.user}`,
            `sasl.password=${password}`,
            `ssl.ca.location=${b.ca}`,
          ].join("\n") + "\n",
        );
        return { flags: ["-F", file], env: {} };
      }],
    ];
    for (const [how, setup] of variants) {
      const dir = join(root, how.replace(/\W/g, ""));
      await mkdir(dir);
      const group = unique("g");
      const args = (sub: string) => [
        "--output",
        join(dir, `${sub}-out.csv`),
        "--input-log",
        join(dir, `${sub}-in.csv`),
        "--dead-letter",
        join(dir, `${sub}-dead.csv`),
        "--state",
        join(dir, `${sub}-state`),
        "--verbose",
        "--exit-at-end",
        "--commit-rows",
        "5",
      ];
      const good = await setup(b.password);
      const base = how === "-F"
        ? ["--source", "kafka", "-t", topic, ...good.flags]
        : saslArgs(topic, good.flags);
      const first = await run(regress(CURRENT), [...base, "-G", group, ...args("good")], { env: good.env });
      ok(first, `${how}: the run`);
      assert.match(first.stderr, /rejected 4 records/, `${how}: bad messages reported`);
      assert.equal(rows(await readFile(join(dir, "good-dead.csv"), "utf8")).length, 4);
      const again = await run(regress(CURRENT), [...base, "-G", group, ...args("good")], { env: good.env });
      ok(again, `${how}: the restart`);
      assert.match(again.stderr, /resuming from/);

      const bad = await setup(wrong);
      const badBase = how === "-F"
        ? ["--source", "kafka", "-t", topic, ...bad.flags]
        : saslArgs(topic, bad.flags);
      const failed = await run(regress(CURRENT), [...badBase, "-G", group, ...args("wrong")], {
        env: bad.env,
      });
      assert.equal(failed.code, 1, `${how}: a wrong password fails`);
      assert.match(
        failed.stderr,
        /authentication failed at .* for user "streamreg" \(SCRAM-SHA-256\): check sasl\.username, sasl\.password and sasl\.mechanism/,
      );
      // A bad -X or -F line next to the password: the usage error does not show the password either.
      const usage = await run(regress(CURRENT), [
        ...base,
        "-X",
        `sasl.pasword=${b.password}`,
        ...args("usage"),
      ], {
        env: good.env,
      });
      assert.equal(usage.code, 2);
      written.push(
        first.stdout,
        first.stderr,
        again.stdout,
        again.stderr,
        failed.stdout,
        failed.stderr,
        usage.stdout,
        usage.stderr,
      );
    }
    const help = await run(regress(CURRENT), ["--help"], { env: { KAFKA_SASL_PASSWORD: b.password } });
    written.push(help.stdout, help.stderr);

    const files = await everyFile(root);
    // Per variant: the three outputs and the checkpoint of the good runs (the runs with a wrong password
    // stop before they write anything).
    assert.equal(
      [...files.keys()].filter((p) => p.endsWith("checkpoint.json")).length,
      3,
      "the state directories",
    );
    assert.ok(files.size >= 3 * 4, `${files.size} files`);
    for (const secret of [b.password, wrong]) {
      for (const [i, text] of written.entries()) {
        assert.ok(!text.includes(secret), `output ${i} shows a password: ${text}`);
      }
      for (const [path, text] of files) assert.ok(!text.includes(secret), `${path} holds a password`);
    }
    await rm(root, { recursive: true });
    await rm(secrets, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  `kafka security (${CURRENT}): mutual TLS against a listener that requires client certificates (issue 13.6)`,
  async () => {
    const m = mutualTlsBroker();
    const topic = await pointsTopic("mtls");
    const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-mtls-"));
    const tls = ["-X", "security.protocol=ssl", "-X", `ssl.ca.location=${m.ca}`];
    const client = ["-X", `ssl.certificate.location=${m.certificate}`, "-X", `ssl.key.location=${m.key}`];
    const read = (args: string[], env: Record<string, string> = {}) =>
      run(regress(CURRENT), [
        "--source",
        "kafka",
        "-b",
        m.ssl,
        "-t",
        topic,
        "-G",
        unique("g"),
        "-e",
        "--output",
        "-",
        "--no-input-log",
        ...args,
      ], { env });
    const line = (csv: string) => rows(csv).at(-1)?.slice(0, 2);

    // The unencrypted key.
    const plain = await read([...tls, ...client]);
    ok(plain, "mutual TLS with the key");
    assert.deepEqual(line(plain.stdout), ["-1", "3"]);

    // The encrypted key, its password from -F, from KAFKA_SSL_KEY_PASSWORD and from -X.
    const file = join(dir, "mtls.properties");
    await writeFile(
      file,
      [
        `bootstrap.servers=${m.ssl}`,
        "security.protocol=SSL",
        `ssl.ca.location=${m.ca}`,
        `ssl.certificate.location=${m.certificate}`,
        `ssl.key.location=${m.encryptedKey}`,
        `ssl.key.password=${m.keyPassword}`,
        "ssl.endpoint.identification.algorithm=https",
      ].join("\n") + "\n",
    );
    const encrypted = [
      "-X",
      `ssl.certificate.location=${m.certificate}`,
      "-X",
      `ssl.key.location=${m.encryptedKey}`,
    ];
    const runs = [
      ["-F", await read(["-F", file, "--verbose"])],
      ["env", await read([...tls, ...encrypted], { KAFKA_SSL_KEY_PASSWORD: m.keyPassword })],
      ["-X", await read([...tls, ...encrypted, "-X", `ssl.key.password=${m.keyPassword}`])],
    ] as const;
    for (const [how, r] of runs) {
      ok(r, `mutual TLS with the encrypted key, password by ${how}`);
      assert.deepEqual(line(r.stdout), ["-1", "3"], how);
    }

    // ssl.endpoint.identification.algorithm=none still connects, with a warning.
    const none = await read([...tls, ...client, "-X", "ssl.endpoint.identification.algorithm=none"]);
    ok(none, "ssl.endpoint.identification.algorithm=none");
    assert.deepEqual(line(none.stdout), ["-1", "3"]);
    assert.match(
      none.stderr,
      /streamreg: ssl\.endpoint\.identification\.algorithm=none: the broker's certificate may name any host/,
    );

    // scripts/produce.ts (the other runtime's) over mutual TLS too.
    const produced = await run(produce(OTHER), [
      "-b",
      m.ssl,
      "-t",
      topic,
      "--count",
      "3",
      "--rate",
      "0",
      ...tls,
      ...client,
    ]);
    ok(produced, "produce.ts over mutual TLS");
    assert.equal((await readAll(topic, 29)).length, 29);

    // No client certificate: the broker refuses the handshake; the message says what to set.
    const without = await read(tls);
    assert.equal(without.code, 1, without.stderr);
    assert.match(
      without.stderr,
      // The refusal is an alert in the handshake (TLS 1.2) or a closed connection right after it (TLS 1.3).
      /^streamreg: (TLS handshake with 127\.0\.0\.1:\d+ failed: the broker asks for a client certificate \(.*\): set ssl\.certificate\.location and ssl\.key\.location|Kafka at 127\.0\.0\.1:\d+ closed the TLS connection \(.*\): if the listener requires a client certificate, set ssl\.certificate\.location and ssl\.key\.location; else check security\.protocol)\n$/,
    );
    // A wrong key password, or none: said before connecting (exit 1), never showing the password.
    const wrong = await read([...tls, ...encrypted, "-X", `ssl.key.password=${m.keyPassword}x`]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.equal(
      wrong.stderr,
      `streamreg: Kafka property ssl.key.password (env KAFKA_SSL_KEY_PASSWORD) does not decrypt the key in "${m.encryptedKey}"\n`,
    );
    const missing = await read([...tls, ...encrypted]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /the key in ".*" is encrypted: set property ssl\.key\.password/);
    // Half a client certificate is a usage error.
    const half = await read([...tls, "-X", `ssl.certificate.location=${m.certificate}`]);
    assert.equal(half.code, 2, half.stderr);
    assert.match(
      half.stderr,
      /^streamreg: Kafka property ssl\.certificate\.location needs property ssl\.key\.location/,
    );
    for (const r of [plain, ...runs.map(([, r]) => r), none, without, wrong, missing, half]) {
      assert.ok(
        !r.stdout.includes(m.keyPassword) && !r.stderr.includes(m.keyPassword),
        "the key password leaks",
      );
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);

test(
  `kafka security (${CURRENT}): -X debug=all shows kafkajs's debug log on stderr, without the password (issue 13.6)`,
  async () => {
    const b = broker();
    const topic = await pointsTopic("debug");
    const r = await run(regress(CURRENT), [
      ...saslArgs(topic, [
        "-X",
        "sasl.mechanism=SCRAM-SHA-256",
        "-X",
        `sasl.username=${b.user}`,
        "-X",
        `ssl.ca.location=${b.ca}`,
      ]),
      "-G",
      unique("g"),
      "-e",
      "--output",
      "-",
      "--no-input-log",
      "-X",
      "debug=all",
    ], { env: { KAFKA_SASL_PASSWORD: b.password, KAFKA_DEBUG: "y" } });
    ok(r, "debug=all");
    assert.deepEqual(rows(r.stdout).at(-1)?.slice(0, 2), ["-1", "3"]);
    assert.match(r.stderr, /^streamreg: kafkajs debug \[\w+\]: /m);
    assert.ok(r.stderr.split("\n").filter((l) => l.includes("kafkajs debug")).length > 10, r.stderr);
    assert.ok(!r.stderr.includes(b.password) && !r.stdout.includes(b.password));
    // Without it (and KAFKA_DEBUG, Kafka's JVM debugger switch, is no property): no debug log.
    const quiet = await run(regress(CURRENT), [
      ...saslArgs(topic, [
        "-X",
        "sasl.mechanism=SCRAM-SHA-256",
        "-X",
        `sasl.username=${b.user}`,
        "-X",
        `ssl.ca.location=${b.ca}`,
      ]),
      "-G",
      unique("g"),
      "-e",
      "--output",
      "-",
      "--no-input-log",
    ], { env: { KAFKA_SASL_PASSWORD: b.password, KAFKA_DEBUG: "y" } });
    ok(quiet, "without debug");
    assert.doesNotMatch(quiet.stderr, /kafkajs debug/);
  },
  { timeoutMs: 60_000 },
);
