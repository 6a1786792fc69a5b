import { test } from "../../../test/harness.ts";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  checkProperty,
  KafkaPropertyError,
  KNOWN_PROPERTIES,
  mergeProperties,
  parseProperties,
  propertiesFromEnv,
  redactProperties,
} from "./config.ts";
import { toKafkaJsConfig } from "./kafkajs_config.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const SECRET = "pa55-W0rd-do-not-leak";
const key = (encoding: { cipher?: string; passphrase?: string }) =>
  generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem", ...encoding },
  }).privateKey as string;
const KEY = key({});
const ENCRYPTED_KEY = key({ cipher: "aes-256-cbc", passphrase: SECRET });
const files: Record<string, string> = {
  "/ca.pem": PEM,
  "/not-a-cert.txt": "hello",
  "/client.pem": PEM,
  "/client.key": KEY,
  "/client-enc.key": ENCRYPTED_KEY,
};
const readFile = (path: string): string => {
  if (path in files) return files[path];
  throw new Error(`ENOENT: no such file ${path}`);
};

/** Asserts that fn throws and that the message matches every pattern and never holds SECRET. */
function throwsWith(fn: () => unknown, ...patterns: RegExp[]): string {
  let message = "";
  assert.throws(fn, (e: unknown) => {
    message = (e as Error).message;
    return true;
  });
  for (const p of patterns) assert.match(message, p);
  assert.ok(!message.includes(SECRET), `message leaks the password: ${message}`);
  return message;
}

test("kafka config: parseProperties handles = and :, comments, blanks, CRLF, trimming", () => {
  const text = [
    "# comment",
    "! another comment",
    "",
    "  bootstrap.servers = a:1,b:2  ",
    "group.id: my-group",
    "sasl.password=x=y:z",
    "client.id=first",
    "client.id=second",
    "empty.value=",
  ].join("\r\n");
  assert.deepEqual(parseProperties(text), {
    "bootstrap.servers": "a:1,b:2",
    "group.id": "my-group",
    "sasl.password": "x=y:z",
    "client.id": "second",
    "empty.value": "",
  });
  assert.deepEqual(parseProperties(""), {});
  assert.deepEqual(parseProperties("\uFEFFa=b\n"), { a: "b" });
});

test("kafka config: parseProperties rejects lines without a separator, naming the line", () => {
  throwsWith(() => parseProperties("a=b\njust-a-word\n"), /line 2/, /key=value/);
  throwsWith(() => parseProperties("=value"), /line 1/, /empty property name/);
});

test("kafka config: propertiesFromEnv maps known KAFKA_* variables only", () => {
  const props = propertiesFromEnv({
    KAFKA_BOOTSTRAP_SERVERS: "h:9092",
    KAFKA_SASL_PASSWORD: SECRET,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SSL_CA_LOCATION: "/ca.pem",
    KAFKA_ENABLE_SSL_CERTIFICATE_VERIFICATION: "true",
    KAFKA_SESSION_TIMEOUT_MS: "10000",
    KAFKA_GROUP_ID: "  ",
    KAFKA_VERSION: "3.9.2",
    KAFKA_STATE_DIR: "/tmp/x",
    KAFKA_SASL_SSL_BOOTSTRAP_SERVERS: "h:9093",
    kafka_client_id: "lower-case is not ours",
    HOME: "/root",
    UNSET: undefined,
  });
  assert.deepEqual(props, {
    "bootstrap.servers": "h:9092",
    "sasl.password": SECRET,
    "security.protocol": "SASL_SSL",
    "ssl.ca.location": "/ca.pem",
    "enable.ssl.certificate.verification": "true",
    "session.timeout.ms": "10000",
  });
  // Every known property has its variable, but debug: Kafka's scripts read KAFKA_DEBUG for the JVM.
  for (const name of KNOWN_PROPERTIES) {
    const envName = "KAFKA_" + name.toUpperCase().replaceAll(".", "_");
    assert.deepEqual(propertiesFromEnv({ [envName]: "v" }), name === "debug" ? {} : { [name]: "v" });
  }
  // An unsupported property is read too, so that it is refused rather than ignored.
  assert.deepEqual(propertiesFromEnv({ KAFKA_GROUP_INSTANCE_ID: "r1" }), { "group.instance.id": "r1" });
});

test("kafka config: mergeProperties precedence is flags > env > file, aliases folded", () => {
  const merged = mergeProperties({
    file: {
      "bootstrap.servers": "file:1",
      "group.id": "file-group",
      "client.id": "file-client",
      "sasl.mechanisms": "PLAIN",
    },
    env: { "bootstrap.servers": "env:1", "group.id": "env-group" },
    flags: { "group.id": "flag-group", "client.id": undefined, "sasl.mechanism": "SCRAM-SHA-512" },
  });
  assert.deepEqual(merged, {
    "bootstrap.servers": "env:1",
    "group.id": "flag-group",
    "client.id": "file-client",
    "sasl.mechanism": "SCRAM-SHA-512",
  });
  assert.deepEqual(mergeProperties({}), {});
  throwsWith(
    () => mergeProperties({ file: { "sasl.mechanism": "PLAIN", "sasl.mechanisms": "SCRAM-SHA-256" } }),
    /properties file/,
    /alias conflict/,
  );
});

test("kafka config: plaintext minimal config gets defaults", () => {
  const cfg = toKafkaJsConfig({ "bootstrap.servers": " a:9092 , b , PLAINTEXT://c:29092 ," });
  assert.deepEqual(cfg.kafka, { clientId: "streamreg", brokers: ["a:9092", "b:9092", "c:29092"] });
  assert.deepEqual(cfg.consumer, { groupId: "streamreg", sessionTimeout: 30000, heartbeatInterval: 3000 });
  assert.equal(cfg.fromBeginning, undefined);
  assert.deepEqual(cfg.warnings, []);
  assert.equal(
    toKafkaJsConfig({ "bootstrap.servers": "a:1" }, { defaultGroupId: "g2" }).consumer.groupId,
    "g2",
  );
});

test("kafka config: sasl_ssl with SCRAM and a CA file", () => {
  const cfg = toKafkaJsConfig({
    "bootstrap.servers": "127.0.0.1:39093",
    "security.protocol": "SASL_SSL",
    "sasl.mechanisms": "scram-sha-256",
    "sasl.username": "streamreg",
    "sasl.password": SECRET,
    "ssl.ca.location": "/ca.pem",
    "group.id": "g",
    "session.timeout.ms": "6000",
    "client.id": "cli",
    "auto.offset.reset": "smallest",
  }, { readFile });
  assert.deepEqual(cfg.kafka, {
    clientId: "cli",
    brokers: ["127.0.0.1:39093"],
    ssl: { ca: [PEM], rejectUnauthorized: true },
    sasl: { mechanism: "scram-sha-256", username: "streamreg", password: SECRET },
  });
  assert.deepEqual(cfg.consumer, { groupId: "g", sessionTimeout: 6000, heartbeatInterval: 2000 });
  assert.equal(cfg.fromBeginning, true);
  assert.deepEqual(cfg.warnings, []);
});

test("kafka config: every protocol and mechanism spelling", () => {
  const base = { "bootstrap.servers": "h:1", "sasl.username": "u", "sasl.password": SECRET };
  assert.equal(
    toKafkaJsConfig({ ...base, "security.protocol": "PlainText", "sasl.mechanism": "PLAIN" }).kafka.sasl,
    undefined,
  );
  assert.deepEqual(toKafkaJsConfig({ "bootstrap.servers": "h:1", "security.protocol": "ssl" }).kafka.ssl, {
    rejectUnauthorized: true,
  });
  for (
    const [mech, expected] of [["PLAIN", "plain"], ["SCRAM-SHA-256", "scram-sha-256"], [
      "Scram-Sha-512",
      "scram-sha-512",
    ]]
  ) {
    const cfg = toKafkaJsConfig({ ...base, "security.protocol": "sasl_plaintext", "sasl.mechanism": mech });
    assert.equal(cfg.kafka.sasl?.mechanism, expected);
    assert.equal(cfg.kafka.ssl, undefined);
  }
  for (
    const [value, expected] of [["earliest", true], ["BEGINNING", true], ["latest", false], [
      "largest",
      false,
    ], ["end", false]] as const
  ) {
    assert.equal(
      toKafkaJsConfig({ "bootstrap.servers": "h:1", "auto.offset.reset": value }).fromBeginning,
      expected,
    );
  }
});

test("kafka config: unknown property names it and lists the supported ones", () => {
  const msg = throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "foo.bar": "1" }),
    /unknown Kafka property "foo\.bar"/,
    /supported are/,
  );
  for (const name of KNOWN_PROPERTIES) assert.ok(msg.includes(name), `${name} missing from: ${msg}`);
  throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "group.idd": "g" }),
    /did you mean "group\.id"/,
  );
});

test("kafka config: bad values are named clearly", () => {
  throwsWith(() => toKafkaJsConfig({}), /bootstrap\.servers/, /KAFKA_BOOTSTRAP_SERVERS/);
  throwsWith(() => toKafkaJsConfig({ "bootstrap.servers": " , " }), /bootstrap\.servers/);
  throwsWith(() => toKafkaJsConfig({ "bootstrap.servers": "h:port" }), /"h:port"/, /bootstrap\.servers/);
  throwsWith(() => toKafkaJsConfig({ "bootstrap.servers": "h:70000" }), /1 to 65535/);
  throwsWith(() => toKafkaJsConfig({ "bootstrap.servers": "[::1]:9092" }), /IPv6/);
  throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "security.protocol": "tls" }),
    /"tls"/,
    /security\.protocol/,
    /sasl_ssl/,
  );
  throwsWith(
    () =>
      toKafkaJsConfig({
        "bootstrap.servers": "h:1",
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "GSSAPI",
        "sasl.username": "u",
        "sasl.password": SECRET,
      }),
    /"GSSAPI"/,
    /sasl\.mechanism/,
    /SCRAM-SHA-512/,
  );
  throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "session.timeout.ms": "10s" }),
    /session\.timeout\.ms/,
    /"10s"/,
  );
  throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "session.timeout.ms": "10" }),
    /session\.timeout\.ms/,
  );
  throwsWith(
    () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "auto.offset.reset": "error" }),
    /auto\.offset\.reset/,
    /earliest/,
  );
  throwsWith(
    () =>
      toKafkaJsConfig({
        "bootstrap.servers": "h:1",
        "security.protocol": "ssl",
        "enable.ssl.certificate.verification": "maybe",
      }),
    /enable\.ssl\.certificate\.verification/,
    /true or false/,
  );
});

test("kafka config: SASL without credentials says what to set, never the password", () => {
  const base = { "bootstrap.servers": "h:1", "security.protocol": "sasl_ssl" };
  throwsWith(() => toKafkaJsConfig(base), /sasl\.mechanism/, /KAFKA_SASL_MECHANISM/);
  const m = { ...base, "sasl.mechanism": "SCRAM-SHA-256" };
  throwsWith(
    () => toKafkaJsConfig(m),
    /sasl\.username \(env KAFKA_SASL_USERNAME\)/,
    /sasl\.password \(env KAFKA_SASL_PASSWORD\)/,
  );
  const noUser = throwsWith(() => toKafkaJsConfig({ ...m, "sasl.password": SECRET }), /KAFKA_SASL_USERNAME/);
  assert.ok(!noUser.includes("KAFKA_SASL_PASSWORD"));
  throwsWith(() => toKafkaJsConfig({ ...m, "sasl.username": "u" }), /KAFKA_SASL_PASSWORD/);
  // A secret in a bad place still never shows up.
  throwsWith(
    () => toKafkaJsConfig({ ...m, "sasl.username": "u", "sasl.password": SECRET, "group.idd": SECRET }),
    /group\.idd/,
  );
  throwsWith(
    () =>
      mergeProperties({ env: { "sasl.password": SECRET, "sasl.mechanisms": "a", "sasl.mechanism": "b" } }),
    /alias/,
  );
});

test("kafka config: CA file problems are reported with the path", () => {
  const base = { "bootstrap.servers": "h:1", "security.protocol": "ssl" };
  throwsWith(
    () => toKafkaJsConfig({ ...base, "ssl.ca.location": "/missing.pem" }, { readFile }),
    /ssl\.ca\.location/,
    /\/missing\.pem/,
    /ENOENT/,
  );
  throwsWith(
    () => toKafkaJsConfig({ ...base, "ssl.ca.location": "/not-a-cert.txt" }, { readFile }),
    /no PEM certificate/,
  );
  throwsWith(() => toKafkaJsConfig({ ...base, "ssl.ca.location": "/ca.pem" }), /no readFile/);
});

test("kafka config: warnings for disabled verification and ignored settings", () => {
  const off = toKafkaJsConfig(
    {
      "bootstrap.servers": "h:1",
      "security.protocol": "SSL",
      "enable.ssl.certificate.verification": "false",
    },
    { readFile },
  );
  assert.deepEqual(off.kafka.ssl, { rejectUnauthorized: false });
  assert.equal(off.warnings.length, 1);
  assert.match(off.warnings[0], /verification is disabled/);

  const plain = toKafkaJsConfig({
    "bootstrap.servers": "h:1",
    "sasl.username": "u",
    "sasl.password": SECRET,
    "ssl.ca.location": "/ca.pem",
  });
  assert.equal(plain.kafka.ssl, undefined);
  assert.equal(plain.kafka.sasl, undefined);
  assert.equal(plain.warnings.length, 2);
  assert.match(plain.warnings[0], /ignoring sasl\.username, sasl\.password/);
  assert.match(plain.warnings[1], /ignoring ssl\.ca\.location/);
  for (const w of plain.warnings) assert.ok(!w.includes(SECRET));
});

test("kafka config: redactProperties hides the password", () => {
  assert.deepEqual(redactProperties({ "sasl.password": SECRET, "group.id": "g" }), {
    "sasl.password": "***",
    "group.id": "g",
  });
});

test("kafka config: mutual TLS: client certificate, key and key password; both or neither (issue 13.6)", () => {
  const base = { "bootstrap.servers": "h:9095", "security.protocol": "ssl", "ssl.ca.location": "/ca.pem" };
  const mtls = toKafkaJsConfig(
    {
      ...base,
      "ssl.certificate.location": "/client.pem",
      "ssl.key.location": "/client-enc.key",
      "ssl.key.password": SECRET,
    },
    { readFile },
  );
  assert.deepEqual(mtls.kafka.ssl, {
    ca: [PEM],
    rejectUnauthorized: true,
    cert: PEM,
    key: ENCRYPTED_KEY,
    passphrase: SECRET,
  });
  assert.deepEqual(mtls.warnings, []);
  const plainKey = toKafkaJsConfig(
    { ...base, "ssl.certificate.location": "/client.pem", "ssl.key.location": "/client.key" },
    { readFile },
  );
  assert.equal(plainKey.kafka.ssl?.key, KEY);
  assert.equal(plainKey.kafka.ssl?.passphrase, undefined);
  const half = (props: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => toKafkaJsConfig({ ...base, ...props }, { readFile }), (e: unknown) => {
      assert.ok(e instanceof KafkaPropertyError, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  half(
    { "ssl.certificate.location": "/client.pem" },
    /ssl\.certificate\.location needs property ssl\.key\.location/,
  );
  half({ "ssl.key.location": "/client.key" }, /ssl\.key\.location needs property ssl\.certificate\.location/);
  // A file that is not what it should be is no usage error: it is the file's fault.
  const wrong = throwsWith(
    () =>
      toKafkaJsConfig({
        ...base,
        "ssl.certificate.location": "/client.pem",
        "ssl.key.location": "/client.pem",
      }, { readFile }),
    /ssl\.key\.location .*"\/client\.pem" holds no PEM private key/,
  );
  assert.ok(wrong);
  throwsWith(
    () =>
      toKafkaJsConfig(
        { ...base, "ssl.certificate.location": "/nope.pem", "ssl.key.location": "/client.key" },
        { readFile },
      ),
    /ssl\.certificate\.location .*cannot read "\/nope\.pem"/,
  );
  // A key that cannot be decrypted is found before connecting (Deno would send no certificate at all).
  const encrypted = {
    ...base,
    "ssl.certificate.location": "/client.pem",
    "ssl.key.location": "/client-enc.key",
  };
  throwsWith(
    () => toKafkaJsConfig({ ...encrypted, "ssl.key.password": `${SECRET}-wrong` }, { readFile }),
    /^Kafka property ssl\.key\.password \(env KAFKA_SSL_KEY_PASSWORD\) does not decrypt the key in "\/client-enc\.key"$/,
  );
  throwsWith(
    () => toKafkaJsConfig(encrypted, { readFile }),
    /the key in "\/client-enc\.key" is encrypted: set property ssl\.key\.password \(env KAFKA_SSL_KEY_PASSWORD\)$/,
  );
  // The key password is a secret: redacted, and never shown in an error.
  assert.deepEqual(redactProperties({ "ssl.key.password": SECRET }), { "ssl.key.password": "***" });
  // Without TLS, the TLS properties are ignored with a warning.
  const plain = toKafkaJsConfig(
    {
      "bootstrap.servers": "h:1",
      "ssl.certificate.location": "/client.pem",
      "ssl.key.location": "/client.key",
    },
    { readFile },
  );
  assert.equal(plain.kafka.ssl, undefined);
  assert.deepEqual(plain.warnings, [
    "ignoring ssl.certificate.location, ssl.key.location: security.protocol=plaintext does not use TLS",
  ]);
});

test("kafka config: ssl.endpoint.identification.algorithm=none skips the host-name check only (issue 13.6)", () => {
  const base = { "bootstrap.servers": "h:9093", "security.protocol": "ssl" };
  const https = toKafkaJsConfig({ ...base, "ssl.endpoint.identification.algorithm": "https" }, { readFile });
  assert.deepEqual(https.kafka.ssl, { rejectUnauthorized: true });
  const none = toKafkaJsConfig({ ...base, "ssl.endpoint.identification.algorithm": "NONE" }, { readFile });
  assert.equal(none.kafka.ssl?.rejectUnauthorized, true);
  assert.equal(typeof none.kafka.ssl?.checkServerIdentity, "function");
  assert.equal(none.kafka.ssl?.checkServerIdentity?.(), undefined);
  assert.match(
    none.warnings.join("\n"),
    /ssl\.endpoint\.identification\.algorithm=none: .* must still be signed/,
  );
  throwsWith(
    () => toKafkaJsConfig({ ...base, "ssl.endpoint.identification.algorithm": "http" }),
    /expected https or none/,
  );
});

test("kafka config: isolation.level, fetch sizes and wait, request timeout, debug (issue 13.6)", () => {
  const base = { "bootstrap.servers": "h:1" };
  const defaults = toKafkaJsConfig(base);
  assert.deepEqual(defaults.consumer, {
    groupId: "streamreg",
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
  });
  assert.equal(defaults.kafka.requestTimeout, undefined);
  assert.equal(defaults.debug, undefined);
  const set = toKafkaJsConfig({
    ...base,
    "isolation.level": "read_uncommitted",
    "fetch.max.bytes": "1000000",
    "max.partition.fetch.bytes": "65536",
    "fetch.wait.max.ms": "0",
    "socket.timeout.ms": "20000",
    "debug": "broker, fetch",
  });
  assert.deepEqual(set.consumer, {
    groupId: "streamreg",
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
    readUncommitted: true,
    maxBytes: 1_000_000,
    maxBytesPerPartition: 65536,
    maxWaitTimeInMs: 0,
  });
  assert.equal(set.kafka.requestTimeout, 20000);
  assert.deepEqual(set.debug, ["broker", "fetch"]);
  assert.equal(
    toKafkaJsConfig({ ...base, "isolation.level": "READ_COMMITTED" }).consumer.readUncommitted,
    undefined,
  );
  assert.equal(toKafkaJsConfig({ ...base, "request.timeout.ms": "900000" }).kafka.requestTimeout, 900000);
  throwsWith(
    () => toKafkaJsConfig({ ...base, "socket.timeout.ms": "1000", "request.timeout.ms": "2000" }),
    /"request\.timeout\.ms" and its alias conflict/,
  );
  for (
    const [name, value, expected] of [
      ["isolation.level", "committed", /expected read_committed or read_uncommitted/],
      ["fetch.max.bytes", "0", /from 1 to 2147483135/],
      ["max.partition.fetch.bytes", "1e6", /from 1 to 1000000000/],
      ["fetch.wait.max.ms", "300001", /from 0 to 300000/],
      ["request.timeout.ms", "5", /from 10 to 900000/],
      ["session.timeout.ms", "abc", /from 1000 to 3600000/],
      ["debug", "broker,nope", /expected a comma-separated list of all, generic, broker/],
      ["auto.offset.reset", "constructor", /expected earliest/],
    ] as const
  ) {
    assert.throws(() => toKafkaJsConfig({ ...base, [name]: value }), (e: unknown) => {
      assert.ok(e instanceof KafkaPropertyError, `${name}=${value}: ${e}`);
      assert.match((e as Error).message, expected);
      assert.match((e as Error).message, new RegExp(`^invalid value "${value}" for Kafka property ${name}`));
      return true;
    });
    assert.throws(() => checkProperty(name, value), KafkaPropertyError);
  }
});

test("kafka config: compression.type (or compression.codec) names the codec of the batches produced", () => {
  const base = { "bootstrap.servers": "h:1" };
  assert.equal(toKafkaJsConfig(base).compression, undefined);
  for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
    assert.equal(toKafkaJsConfig({ ...base, "compression.type": codec }).compression, codec);
    assert.equal(toKafkaJsConfig({ ...base, "compression.codec": codec.toUpperCase() }).compression, codec);
  }
  assert.deepEqual(propertiesFromEnv({ KAFKA_COMPRESSION_TYPE: "lz4" }), { "compression.type": "lz4" });
  throwsWith(
    () => toKafkaJsConfig({ ...base, "compression.type": "brotli" }),
    /^invalid value "brotli" for Kafka property compression\.type: expected none, gzip, snappy, lz4, zstd$/,
  );
  throwsWith(
    () => toKafkaJsConfig({ ...base, "compression.type": "lz4", "compression.codec": "zstd" }),
    /"compression\.codec" and its alias conflict \("lz4" vs "zstd"\)/,
  );
  assert.throws(() => checkProperty("compression.codec", "lzma"), KafkaPropertyError);
});

test("kafka config: group.instance.id is known but unsupported, and says why (issue 13.6)", () => {
  for (
    const fn of [
      () => toKafkaJsConfig({ "bootstrap.servers": "h:1", "group.instance.id": "r1" }),
      () => checkProperty("group.instance.id", "r1"),
    ]
  ) {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof KafkaPropertyError);
      assert.match(
        (e as Error).message,
        /^Kafka property "group\.instance\.id" is known but unsupported: kafkajs 2\.2\.4 has no static group membership \(KIP-345\)/,
      );
      return true;
    });
  }
  assert.throws(
    () => checkProperty("isolation.levl", "x"),
    /unknown Kafka property "isolation\.levl" \(did you mean "isolation\.level"\?\)/,
  );
  checkProperty("session.timeout.ms", "6000");
  checkProperty("session.timeout.ms", ""); // empty: as if unset
  checkProperty("ssl.key.password", "anything");
});
