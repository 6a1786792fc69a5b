/**
 * Integration test against the real test broker started by `bash scripts/kafka/start.sh`.
 *
 * Reads the connection details from `client.env` in the broker's state dir (env
 * STREAMREG_KAFKA_STATE_DIR, default `.cache/kafka/run`), then with kafkajs configured through
 * {@linkcode toKafkaJsConfig}: creates a topic, produces and consumes over PLAINTEXT and over
 * SASL_SSL (SCRAM-SHA-256, broker certificate verified against ca.pem), and checks that a wrong
 * password and an untrusted certificate are refused. Fails (does not skip) when no broker runs.
 * @module
 */
import { test } from "./harness.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { Kafka, logLevel } from "kafkajs";
import { toKafkaJsConfig } from "../src/sources/kafka/kafkajs_config.ts";
import { type Broker, broker } from "./kafka_helpers.ts";

const readFile = (p: string) => readFileSync(p, "utf8");
const TEST_TIMEOUT_MS = 25_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const unique = (tag: string) =>
  `streamreg-it-${tag}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

function kafkaFor(props: Record<string, string>) {
  const cfg = toKafkaJsConfig(props, { readFile });
  assert.deepEqual(cfg.warnings, []);
  const kafka = new Kafka({
    ...cfg.kafka,
    connectionTimeout: 3000,
    authenticationTimeout: 5000,
    retry: { retries: 2, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
  return { kafka, cfg };
}

/** Creates a topic, produces one message, consumes it in a consumer group, deletes the topic. */
async function roundTrip(props: Record<string, string>, tag: string): Promise<void> {
  const topic = unique(tag);
  const { kafka, cfg } = kafkaFor({ ...props, "group.id": topic, "auto.offset.reset": "earliest" });
  assert.equal(cfg.fromBeginning, true);
  const admin = kafka.admin();
  const producer = kafka.producer();
  // A short fetch wait so that disconnect() does not sit out kafkajs' default 5 s long poll.
  const consumer = kafka.consumer({ ...cfg.consumer, maxWaitTimeInMs: 200 });
  try {
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    assert.equal(created, true, `topic ${topic} was not created`);

    await producer.connect();
    const value = `hello over ${tag} at ${new Date().toISOString()}`;
    const sent = await producer.send({ topic, messages: [{ key: "k1", value }] });
    assert.equal(sent[0].errorCode, 0);

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: cfg.fromBeginning });
    const received = await withTimeout(
      new Promise<{ key: string; value: string; partition: number }>((resolve, reject) => {
        consumer.run({
          eachMessage: ({ message, partition }) => {
            resolve({ key: String(message.key), value: String(message.value), partition });
            return Promise.resolve();
          },
        }).catch(reject);
      }),
      15_000,
      `consuming from ${topic} over ${tag}`,
    );
    assert.deepEqual(received, { key: "k1", value, partition: 0 });

    const groups = await admin.describeGroups([cfg.consumer.groupId]);
    assert.equal(groups.groups[0].groupId, cfg.consumer.groupId);
    assert.ok(["Stable", "PreparingRebalance", "CompletingRebalance"].includes(groups.groups[0].state));
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

function saslProps(b: Broker, password = b.password): Record<string, string> {
  return {
    "bootstrap.servers": b.saslSsl,
    "security.protocol": "sasl_ssl",
    "sasl.mechanism": "SCRAM-SHA-256",
    "sasl.username": b.user,
    "sasl.password": password,
    "ssl.ca.location": b.ca,
    "client.id": "streamreg-it",
  };
}

/** Connects an admin client and returns the error it fails with (or throws if it succeeds). */
async function connectError(props: Record<string, string>): Promise<Error & { type?: string }> {
  const { kafka } = kafkaFor(props);
  const admin = kafka.admin();
  try {
    await withTimeout(admin.connect(), 15_000, "admin.connect");
  } catch (e) {
    return e as Error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new Error("connection unexpectedly succeeded");
}

test("kafka broker: PLAINTEXT create topic, produce, consume in a group", async () => {
  const b = broker();
  await withTimeout(
    roundTrip({ "bootstrap.servers": b.plaintext, "client.id": "streamreg-it" }, "plaintext"),
    TEST_TIMEOUT_MS,
    "PLAINTEXT round trip",
  );
}, { timeoutMs: TEST_TIMEOUT_MS + 2000 });

test("kafka broker: SASL_SSL SCRAM-SHA-256 with the CA from ca.pem", async () => {
  const b = broker();
  await withTimeout(roundTrip(saslProps(b), "sasl-ssl"), TEST_TIMEOUT_MS, "SASL_SSL round trip");
}, { timeoutMs: TEST_TIMEOUT_MS + 2000 });

test("kafka broker: SASL_SSL with a wrong password fails authentication", async () => {
  const b = broker();
  const err = await connectError(saslProps(b, b.password + "-wrong"));
  assert.match(`${err.name}: ${err.message}`, /SASLAuthentication|authentication failed/i, String(err));
  assert.ok(!err.message.includes(b.password), "error message leaks the password");
}, { timeoutMs: TEST_TIMEOUT_MS });

test("kafka broker: SASL_SSL without the test CA rejects the broker certificate", async () => {
  const b = broker();
  const { "ssl.ca.location": _ca, ...noCa } = saslProps(b);
  const err = await connectError(noCa);
  assert.match(`${err.name}: ${err.message}`, /certificate|self.signed|issuer|verify/i, String(err));
}, { timeoutMs: TEST_TIMEOUT_MS });
