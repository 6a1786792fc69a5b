/**
 * Security of `--source kafka` against the real test broker, with the CLI of the runtime running the
 * tests: TLS certificates are verified by default (an untrusted broker certificate fails with a clear
 * message) and turning that off takes an explicit property and prints a warning; the SASL password never
 * appears in anything a run writes — stdout, stderr (also with --verbose, also when authentication fails),
 * the change logs, the dead-letter file, the state directory — whether it comes from KAFKA_SASL_PASSWORD,
 * from -X or from a -F file.
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
  ok,
  produce,
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
