import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "../../../test/harness.ts";
import { UsageError } from "../../cli/flags.ts";
import { type ConnectionIo, DEFAULT_TOPIC, kafkaErrorMessage, resolveConnection } from "./connection.ts";
import { parseConnectionFlags } from "../../cli/kafka_flags.ts";
import { parseProduceArgs } from "../../cli/produce.ts";

const SECRET = "s3cret-pa55word";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function io(env: Record<string, string> = {}, files: Record<string, string> = {}): ConnectionIo {
  return {
    env: (name) => env[name],
    readText: (path) =>
      path in files
        ? Promise.resolve(files[path])
        : Promise.reject(new Error(`cannot read "${path}": no such file or directory`)),
  };
}

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

test("kafka flags: -b, -G and repeated -X become librdkafka properties; the topic defaults", () => {
  const flags = parseConnectionFlags(
    { brokers: "h:1", group: "g", property: ["client.id=me", "sasl.password= x=y ", "client.id=me"] },
    { group: true },
  );
  assert.equal(flags.topic, DEFAULT_TOPIC);
  assert.deepEqual(flags.properties, {
    "client.id": "me",
    "sasl.password": "x=y",
    "bootstrap.servers": "h:1",
    "group.id": "g",
  });
  assert.equal(
    parseConnectionFlags({ topic: "t.1_x-y", config: "c.properties" }, { group: false }).configFile,
    "c.properties",
  );
});

test("kafka flags: malformed -X, unknown properties, contradictions and bad topics are usage errors", () => {
  usage(() => parseConnectionFlags({ property: ["novalue"] }, { group: true }), /^-X: expected KEY=VALUE/);
  usage(() => parseConnectionFlags({ property: ["=v"] }, { group: true }), /^-X: expected KEY=VALUE/);
  usage(
    () => parseConnectionFlags({ property: ["sasl.pasword=x"] }, { group: true }),
    /^-X: unknown Kafka property "sasl.pasword" \(did you mean "sasl.password"\?\)/,
  );
  usage(
    () => parseConnectionFlags({ brokers: "a:1", property: ["bootstrap.servers=b:1"] }, { group: true }),
    /^-b and -X bootstrap.servers disagree/,
  );
  usage(() => parseConnectionFlags({ brokers: " " }, { group: true }), /^-b: expected a value/);
  usage(
    () => parseConnectionFlags({ topic: "a b" }, { group: true }),
    /^-t: "a b" is not a Kafka topic name/,
  );
  usage(() => parseConnectionFlags({ config: "" }, { group: true }), /^-F: expected a file path/);
});

test("kafka settings: flags win over KAFKA_* variables, which win over the -F file", async () => {
  const file = [
    "# test",
    "bootstrap.servers=file:1",
    "security.protocol=SASL_SSL",
    "sasl.mechanisms=SCRAM-SHA-256",
    "sasl.username=file-user",
    "ssl.ca.location=/ca.pem",
    "group.id=file-group",
    "client.id=file-client",
  ].join("\n");
  const flags = parseConnectionFlags(
    { topic: "t", config: "/c.properties", property: ["client.id=flag-client"] },
    { group: true },
  );
  const c = await resolveConnection(
    flags,
    io({ KAFKA_SASL_PASSWORD: SECRET, KAFKA_GROUP_ID: "env-group", KAFKA_CLIENT_ID: "env-client" }, {
      "/c.properties": file,
      "/ca.pem": PEM,
    }),
  );
  assert.equal(c.brokers, "file:1");
  assert.equal(c.topic, "t");
  assert.equal(c.groupId, "env-group");
  assert.equal(c.protocol, "sasl_ssl");
  assert.equal(c.mechanism, "SCRAM-SHA-256");
  assert.equal(c.username, "file-user");
  assert.equal(c.settings.kafka.clientId, "flag-client");
  assert.deepEqual(c.settings.kafka.sasl, {
    mechanism: "scram-sha-256",
    username: "file-user",
    password: SECRET,
  });
  assert.deepEqual(c.settings.kafka.ssl, { ca: [PEM], rejectUnauthorized: true });
  assert.deepEqual(c.warnings, []);
  const plain = await resolveConnection(parseConnectionFlags({ brokers: "b" }, { group: true }), io());
  assert.deepEqual(plain.settings.kafka.brokers, ["b:9092"]);
  assert.equal(plain.groupId, "streamreg");
});

test("kafka settings: one-line errors name the property or the file, never the password", async () => {
  const rejects = async (
    flags: Record<string, string | string[]>,
    env: Record<string, string>,
    files: Record<string, string>,
    pattern: RegExp,
  ) => {
    await assert.rejects(
      resolveConnection(parseConnectionFlags(flags, { group: true }), io(env, files)),
      (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(!e.message.includes(SECRET) && !e.message.includes("\n"), e.message);
        return true;
      },
    );
  };
  await rejects({}, {}, {}, /^no Kafka broker given: pass -b HOST:PORT, or set KAFKA_BOOTSTRAP_SERVERS/);
  await rejects({ config: "/nope" }, {}, {}, /^-F: cannot read "\/nope": no such file or directory$/);
  await rejects(
    { config: "/c" },
    {},
    { "/c": "bootstrap.server=x:1\n" },
    /^-F \/c: unknown Kafka property "bootstrap.server"/,
  );
  await rejects({ config: "/c" }, {}, { "/c": "just words\n" }, /^-F \/c: properties line 1/);
  await rejects(
    { brokers: "h:1", property: ["security.protocol=sasl_ssl", "sasl.mechanism=PLAIN", "sasl.username=u"] },
    {},
    {},
    /needs credentials: set property sasl.password \(env KAFKA_SASL_PASSWORD\)/,
  );
  await rejects(
    { brokers: "h:1", property: ["security.protocol=ssl", "ssl.ca.location=/missing.pem"] },
    { KAFKA_SASL_PASSWORD: SECRET },
    {},
    /ssl.ca.location.*cannot read "\/missing.pem": no such file or directory/,
  );
});

test("kafka errors: kafkajs failures become one line naming what to check", async () => {
  const c = await resolveConnection(
    parseConnectionFlags(
      {
        brokers: "h:9093",
        topic: "points",
        property: ["security.protocol=sasl_ssl", "sasl.mechanism=SCRAM-SHA-256", "sasl.username=me"],
      },
      { group: true },
    ),
    io({ KAFKA_SASL_PASSWORD: SECRET }),
  );
  const kafkaJs = (name: string, message: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { name, ...extra });
  const retries = (cause: Error) => kafkaJs("KafkaJSNumberOfRetriesExceeded", cause.message, { cause });
  const cases: [Error, RegExp][] = [
    [
      kafkaJs("KafkaJSSASLAuthenticationError", `SASL SCRAM SHA256 authentication failed for ${SECRET}`),
      /^authentication failed at h:9093 for user "me" \(SCRAM-SHA-256\): check sasl.username, sasl.password/,
    ],
    [
      retries(
        kafkaJs("KafkaJSConnectionError", "Connection error: self-signed certificate in certificate chain", {
          code: "SELF_SIGNED_CERT_IN_CHAIN",
        }),
      ),
      /^TLS handshake with h:9093 failed: self-signed certificate in certificate chain: set ssl.ca.location/,
    ],
    [
      retries(
        kafkaJs(
          "KafkaJSConnectionError",
          "Connection error: Client network socket disconnected before secure TLS connection was established",
        ),
      ),
      /is it a TLS listener\? check security.protocol$/,
    ],
    [
      retries(
        kafkaJs("KafkaJSConnectionError", "Connection error: connect ECONNREFUSED 1.2.3.4:9093", {
          code: "ECONNREFUSED",
        }),
      ),
      /^cannot connect to Kafka at h:9093: connection refused \(is the broker running\? check -b\)$/,
    ],
    [
      retries(
        kafkaJs("KafkaJSConnectionError", "Connection error: getaddrinfo ENOTFOUND h", { code: "ENOTFOUND" }),
      ),
      /^cannot connect to Kafka at h:9093: unknown host/,
    ],
    [
      retries(kafkaJs("KafkaJSConnectionClosedError", "Closed connection")),
      /^Kafka at h:9093 closed the connection: does security.protocol=sasl_ssl match the listener\?$/,
    ],
    [
      kafkaJs("KafkaJSProtocolError", "This server does not host this topic-partition", {
        type: "UNKNOWN_TOPIC_OR_PARTITION",
      }),
      /^topic "points" does not exist on h:9093: create it \(e.g. scripts\/produce.ts --partitions 1\) or check -t$/,
    ],
    [
      kafkaJs("KafkaJSProtocolError", "x", { type: "GROUP_AUTHORIZATION_FAILED" }),
      /consumer group "streamreg"/,
    ],
    [kafkaJs("KafkaJSError", `something else ${SECRET}`), /^Kafka error at h:9093: something else \*\*\*$/],
  ];
  for (const [error, pattern] of cases) {
    const message = kafkaErrorMessage(error, { connection: c });
    assert.match(message, pattern);
    assert.ok(!message.includes(SECRET), message);
  }
});

test("produce flags: the tutorial's generator by default; checked values", () => {
  const o = parseProduceArgs(["-b", "h:1"]);
  assert.deepEqual(
    [o.count, o.rate, o.slope, o.intercept, o.noise, o.seed, o.format, o.header, o.partitions],
    [10, 1, 1, 0, 0.1, 0, "csv", true, undefined],
  );
  assert.equal(o.connection.topic, "linear-regression");
  const p = parseProduceArgs([
    "-t",
    "t",
    "--count",
    "0",
    "--rate",
    "0",
    "--format",
    "json",
    "--partitions",
    "3",
  ]);
  assert.deepEqual([p.count, p.rate, p.format, p.header, p.partitions], [0, 0, "json", false, 3]);
  assert.equal(parseProduceArgs(["--no-header"]).header, false);
  assert.equal(parseProduceArgs(["-h"]).help, true);
  usage(() => parseProduceArgs(["--count", "-1"]), /^--count: expected an integer ≥ 0/);
  usage(() => parseProduceArgs(["--format", "xml"]), /^--format: expected csv or json/);
  usage(() => parseProduceArgs(["--partitions", "0"]), /^--partitions: expected an integer ≥ 1/);
  usage(() => parseProduceArgs(["--bogus"]), /^unknown flag --bogus/);
  usage(() => parseProduceArgs(["-G", "g"]), /^unknown flag -G/);
  usage(() => parseProduceArgs(["-X", "nope=1"]), /^-X: unknown Kafka property "nope"/);
});

test("kafka settings: configuration mistakes found when resolving are usage errors, file failures are not (issue 13.5)", async () => {
  const resolve = (
    flags: Record<string, string | string[]>,
    env: Record<string, string>,
    files: Record<string, string>,
  ) => resolveConnection(parseConnectionFlags(flags, { group: true }), io(env, files));
  const usageRejects = async (promise: Promise<unknown>, pattern: RegExp) => {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof UsageError, `a UsageError: ${e}`);
      assert.match((e as Error).message, pattern);
      assert.ok(!(e as Error).message.includes(SECRET));
      return true;
    });
  };
  await usageRejects(resolve({}, {}, {}), /^no Kafka broker given/);
  await usageRejects(
    resolve({ config: "/c" }, {}, { "/c": "bootstrap.servers=h:1\nbootstrap.server=x:1\n" }),
    /^-F \/c: unknown Kafka property "bootstrap.server"/,
  );
  await usageRejects(
    resolve({ config: "/c" }, {}, { "/c": "bootstrap.servers=h:1\nsession.timeout.ms=abc\n" }),
    /^-F \/c: invalid value "abc" for Kafka property session\.timeout\.ms/,
  );
  await usageRejects(
    resolve({ config: "/c" }, {}, { "/c": "bootstrap.servers=h:1\ngroup.instance.id=r1\n" }),
    /^-F \/c: Kafka property "group\.instance\.id" is known but unsupported/,
  );
  await usageRejects(
    resolve({ brokers: "h:1" }, { KAFKA_ISOLATION_LEVEL: "dirty" }, {}),
    /^environment KAFKA_ISOLATION_LEVEL: invalid value "dirty" for Kafka property isolation\.level/,
  );
  await usageRejects(
    resolve({ brokers: "h:1" }, { KAFKA_GROUP_INSTANCE_ID: "r1" }, {}),
    /^environment KAFKA_GROUP_INSTANCE_ID: Kafka property "group\.instance\.id" is known but unsupported/,
  );
  await usageRejects(
    resolve({ brokers: "h:1", property: ["security.protocol=sasl_ssl", "sasl.mechanism=PLAIN"] }, {}, {}),
    /needs credentials/,
  );
  await usageRejects(
    resolve({ brokers: "h:1", property: ["security.protocol=ssl", "ssl.key.location=/k"] }, {}, {
      "/k": "x",
    }),
    /ssl\.key\.location needs property ssl\.certificate\.location/,
  );
  // KAFKA_DEBUG (the JVM debugger of Kafka's scripts) is no property.
  const c = await resolve({ brokers: "h:1" }, { KAFKA_DEBUG: "y" }, {});
  assert.equal(c.settings.debug, undefined);
  // A file that cannot be read is a failure of the run (exit 1), not a usage error.
  await assert.rejects(resolve({ config: "/nope" }, {}, {}), (e: unknown) => !(e instanceof UsageError));
  await assert.rejects(
    resolve({ brokers: "h:1", property: ["security.protocol=ssl", "ssl.ca.location=/nope.pem"] }, {}, {}),
    (e: unknown) => !(e instanceof UsageError) && /cannot read "\/nope\.pem"/.test((e as Error).message),
  );
});

test("kafka settings: the client certificate and key are read through the host (issue 13.6)", async () => {
  const KEY = generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-128-cbc", passphrase: SECRET },
  }).privateKey as string;
  const c = await resolveConnection(
    parseConnectionFlags({
      brokers: "h:9095",
      property: [
        "security.protocol=ssl",
        "ssl.ca.location=/ca.pem",
        "ssl.certificate.location=/client.pem",
        "ssl.key.location=/client.key",
      ],
    }, { group: true }),
    io({ KAFKA_SSL_KEY_PASSWORD: SECRET }, {
      "/ca.pem": PEM,
      "/client.pem": PEM.replace("MIIB", "MIIC"),
      "/client.key": KEY,
    }),
  );
  assert.deepEqual(c.settings.kafka.ssl, {
    ca: [PEM],
    rejectUnauthorized: true,
    cert: PEM.replace("MIIB", "MIIC"),
    key: KEY,
    passphrase: SECRET,
  });
  // The key's password is kept out of messages like the SASL password.
  const error = Object.assign(new Error(`bad decrypt ${SECRET}`), { name: "KafkaJSConnectionError" });
  assert.ok(!kafkaErrorMessage(error, { connection: c }).includes(SECRET));
});
