/**
 * Shared by the Kafka integration tests: the running test broker (from `client.env` in its state dir;
 * a clear error, so the tests fail rather than skip, when it is not running), unique topic names, a
 * kafkajs admin/producer for setting up topics, and the CLI runners as subprocesses.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { parseProperties } from "../src/sources/kafka/config.ts";
import { withDeadline } from "../src/sources/kafka/connection.ts";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";
import { runtimeName } from "./harness.ts";

// What the CLI's entry points do first: the tests' own kafkajs clients and readers are as quiet.
silenceTimeoutWarnings();

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STATE_DIR = process.env.STREAMREG_KAFKA_STATE_DIR || join(ROOT, ".cache/kafka/run");

/** Connection details of the test broker. */
export interface Broker {
  plaintext: string;
  saslSsl: string;
  ca: string;
  user: string;
  password: string;
}

let cached: Broker | undefined;

/** The running test broker; throws (so that the test fails) when it is not running. */
export function broker(): Broker {
  if (cached) return cached;
  const howTo = "start it with `bash scripts/kafka/start.sh` (or set STREAMREG_KAFKA_STATE_DIR)";
  const envFile = join(STATE_DIR, "client.env");
  const pidFile = join(STATE_DIR, "kafka.pid");
  if (!existsSync(envFile) || !existsSync(pidFile)) {
    throw new Error(`Kafka test broker not running: no ${envFile} or ${pidFile}; ${howTo}`);
  }
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  try {
    process.kill(pid, 0);
  } catch {
    throw new Error(`Kafka test broker not running: pid ${pid} from ${pidFile} is gone; ${howTo}`);
  }
  const env = parseProperties(readFileSync(envFile, "utf8"));
  const need = (k: string) => {
    if (!env[k]) throw new Error(`${envFile} lacks ${k}; restart the broker with scripts/kafka/start.sh`);
    return env[k];
  };
  cached = {
    plaintext: need("KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS"),
    saslSsl: need("KAFKA_SASL_SSL_BOOTSTRAP_SERVERS"),
    ca: need("KAFKA_SSL_CA_LOCATION"),
    user: need("KAFKA_SASL_USERNAME"),
    password: need("KAFKA_SASL_PASSWORD"),
  };
  return cached;
}

/** The broker's SSL listener, which requires a client certificate (mutual TLS). */
export interface MutualTlsBroker {
  /** host:port of the SSL listener. */
  ssl: string;
  /** The CA that signed the broker's and the client's certificates (PEM). */
  ca: string;
  /** The client's certificate (PEM). */
  certificate: string;
  /** Its key, unencrypted (PEM). */
  key: string;
  /** The same key, encrypted (PEM). */
  encryptedKey: string;
  /** The password of `encryptedKey`. */
  keyPassword: string;
}

/**
 * The test broker's mutual-TLS listener; throws (so that the test fails) when the broker was started by
 * a `scripts/kafka/start.sh` older than that listener.
 */
export function mutualTlsBroker(): MutualTlsBroker {
  const b = broker();
  const envFile = join(STATE_DIR, "client.env");
  const env = parseProperties(readFileSync(envFile, "utf8"));
  const need = (k: string) => {
    if (!env[k]) {
      throw new Error(
        `${envFile} lacks ${k}: the broker has no mutual-TLS listener yet; restart it with scripts/kafka/start.sh`,
      );
    }
    return env[k];
  };
  return {
    ssl: need("KAFKA_SSL_BOOTSTRAP_SERVERS"),
    ca: b.ca,
    certificate: need("KAFKA_SSL_CERTIFICATE_LOCATION"),
    key: need("KAFKA_SSL_KEY_LOCATION"),
    encryptedKey: need("STREAMREG_KAFKA_SSL_ENCRYPTED_KEY_LOCATION"),
    keyPassword: need("STREAMREG_KAFKA_SSL_KEY_PASSWORD"),
  };
}

/** A topic or group name no other test (or earlier run) uses. */
export const unique = (tag: string): string =>
  `streamreg-kt-${tag}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

function kafka(): Kafka {
  silenceTimeoutWarnings();
  return new Kafka({
    clientId: "streamreg-test",
    brokers: [broker().plaintext],
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Joins `group` with a plain consumer of `topic` that reads nothing and commits nothing, until the group
 * assigns it some partitions; then leaves the group. Resolves to the partitions it was given: the
 * group's other members lost them meanwhile and are given them back after it leaves.
 */
export async function borrowPartitions(topic: string, group: string, timeoutMs = 30_000): Promise<number[]> {
  const consumer = kafka().consumer({ groupId: group, maxWaitTimeInMs: 100 });
  let given: number[] = [];
  let joined = () => {};
  const join = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    given = event.payload.memberAssignment[topic] ?? [];
    if (given.length > 0) joined();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: () => Promise.resolve() });
    consumer.pause([{ topic }]); // (it reads nothing)
    await withDeadline(join, timeoutMs, () => `group ${group} gave no partition of ${topic}`);
    return given;
  } finally {
    await consumer.disconnect();
  }
}

/** Creates a topic (PLAINTEXT listener). */
export async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Sends messages as they are (null: a message without a value) to one partition. */
export async function send(topic: string, values: (string | null)[], partition = 0): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value, partition })) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Sends many messages (text, bytes, or null for a message without a value) to one partition, in
 * batches of `batch`, with one producer; waits for every acknowledgement.
 */
export async function sendMany(
  topic: string,
  values: readonly (string | Uint8Array | null)[],
  options: { partition?: number; batch?: number } = {},
): Promise<void> {
  const producer = kafka().producer();
  const step = options.batch ?? 5000;
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += step) {
      await producer.send({
        topic,
        messages: values.slice(i, i + step).map((value) => ({
          value: value instanceof Uint8Array
            ? Buffer.from(value.buffer, value.byteOffset, value.length)
            : value,
          partition: options.partition ?? 0,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Sends each group of messages to partition 0 in a transaction of its own, committed or aborted as it
 * says (a transactional producer, PLAINTEXT listener).
 */
export async function sendTransactions(
  topic: string,
  transactions: readonly { values: readonly string[]; commit: boolean }[],
): Promise<void> {
  const producer = kafka().producer({
    transactionalId: unique("tx"),
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (const { values, commit } of transactions) {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
      await (commit ? transaction.commit() : transaction.abort());
    }
  } finally {
    await producer.disconnect();
  }
}

/** The group's committed offset of each partition of the topic (-1: none). */
export async function committedOffsets(group: string, topic: string): Promise<number[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

/** The messages of partition 0 with their timestamps (ms), read with a throwaway group. */
export async function readAll(topic: string, count: number): Promise<{ value: string; timestamp: number }[]> {
  const consumer = kafka().consumer({ groupId: unique("read"), maxWaitTimeInMs: 200 });
  const got: { value: string; timestamp: number }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length} of ${count} messages`)), 15_000);
      consumer.run({
        eachMessage: ({ message }) => {
          got.push({ value: String(message.value), timestamp: Number(message.timestamp) });
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** The flags that make `regress` read `topic` in `group` from the test broker (PLAINTEXT). */
export const kafkaReader = (topic: string, group: string): string[] => [
  "--source",
  "kafka",
  "-b",
  broker().plaintext,
  "-t",
  topic,
  "-G",
  group,
];

export type Runtime = "deno" | "bun";
/** The runtime running the tests: its runners are the ones tested (the other runtime's tests cover theirs). */
export const CURRENT: Runtime = runtimeName;
/** The other runtime, for cross-runtime checks. */
export const OTHER: Runtime = runtimeName === "deno" ? "bun" : "deno";

const DENO = join(ROOT, "node_modules/deno/deno");
const BUN = join(ROOT, "node_modules/.bin/bun");

/** The `regress` command of a runtime. */
export function regress(runtime: Runtime): [string, string[]] {
  return runtime === "deno"
    ? [DENO, ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [BUN, ["run", join(ROOT, "src/runtime/bun_main.ts")]];
}

/** `scripts/produce.ts` under a runtime. */
export function produce(runtime: Runtime): [string, string[]] {
  return runtime === "deno"
    ? [DENO, ["run", "-A", join(ROOT, "scripts/produce.ts")]]
    : [BUN, ["run", join(ROOT, "scripts/produce.ts")]];
}

/** What a subprocess did. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** Environment variables on top of this process's, without its KAFKA_* ones. */
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  /** Send SIGINT once this (polled every 100 ms) is true. */
  interruptWhen?: () => Promise<boolean>;
  /** Kill the process after this long (default 45 s): the test then fails on its exit code. */
  timeoutMs?: number;
}

/** Runs a command to its end. */
export function run(command: [string, string[]], args: string[], options: RunOptions = {}): Promise<Ran> {
  const [exe, pre] = command;
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
  }
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(exe, [...pre, ...args], {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const limit = options.timeoutMs ?? 45_000;
    const timer = setTimeout(() => {
      stderr += `\n[test harness: no exit after ${limit} ms; killed with SIGKILL]\n`;
      process.kill(child.pid!, "SIGKILL");
    }, limit);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    child.stdin!.end(options.stdin ?? "");
    if (options.interruptWhen) {
      const when = options.interruptWhen;
      const poll = async () => {
        if (child.exitCode !== null) return;
        if (await when().catch(() => false)) process.kill(child.pid!, "SIGINT");
        else setTimeout(poll, 100);
      };
      setTimeout(poll, 100);
    }
  });
}

/** Asserts exit code 0, showing stderr otherwise. */
export function ok(r: Ran, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
}

/** The data rows of a CSV text (header dropped) as arrays of fields. */
export function rows(csv: string): string[][] {
  return csv.trim().split("\n").slice(1).filter((l) => l !== "").map((l) => l.split(","));
}

/** The tutorial's ten points, as text, from test/fixtures. */
export function seedPoints(): string[][] {
  return rows(readFileSync(join(ROOT, "test/fixtures/seed_points.csv"), "utf8"));
}

/** The exact line of all ten tutorial points. */
export const SEED_LINE = ["0.025649728471302445", "0.9958341214647296"];

/** Sends messages with keys (null: no key) and optional timestamps (epoch ms) to one partition. */
export async function sendKeyed(
  topic: string,
  messages: readonly { key: string | null; value: string; timestamp?: number }[],
  partition = 0,
): Promise<void> {
  const producer = kafka().producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: messages.map(({ key, value, timestamp }) => ({
        key,
        value,
        partition,
        ...(timestamp !== undefined ? { timestamp: String(timestamp) } : {}),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** The test broker's JVM: its java, its classpath (Kafka's jars) and its log directories. */
export interface BrokerJvm {
  java: string;
  classpath: string;
  logDirs: string[];
}

/**
 * The running test broker's JVM, read from its process (Linux's /proc) and its server.properties: Kafka's
 * own tools (the Java console producer, DumpLogSegments) run with the same java and jars.
 */
export function brokerJvm(): BrokerJvm {
  broker(); // (fails clearly when it is not running)
  const pid = readFileSync(join(STATE_DIR, "kafka.pid"), "utf8").trim();
  const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  const classpath = args[args.indexOf("-cp") + 1];
  const serverProperties = args[args.indexOf("kafka.Kafka") + 1];
  assert.ok(
    classpath && serverProperties,
    `no -cp or server.properties in the broker's command line: ${args}`,
  );
  const props = parseProperties(readFileSync(serverProperties, "utf8"));
  const logDirs = (props["log.dirs"] ?? props["log.dir"] ?? "").split(",").filter((d) => d !== "");
  assert.ok(logDirs.length > 0, `no log.dirs in ${serverProperties}`);
  return { java: readlinkSync(`/proc/${pid}/exe`), classpath, logDirs };
}

let log4jFile: string | undefined;

/** Runs a class of the broker's jars (log4j warnings and errors on stderr). */
export function runJava(mainClass: string, args: string[], options: RunOptions = {}): Promise<Ran> {
  const jvm = brokerJvm();
  if (log4jFile === undefined) {
    log4jFile = join(mkdtempSync(join(tmpdir(), "streamreg-log4j-")), "log4j.properties");
    writeFileSync(
      log4jFile,
      [
        "log4j.rootLogger=WARN, stderr",
        "log4j.appender.stderr=org.apache.log4j.ConsoleAppender",
        "log4j.appender.stderr.Target=System.err",
        "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout",
        "log4j.appender.stderr.layout.ConversionPattern=%p %c: %m%n",
      ].join("\n") + "\n",
    );
  }
  return run(
    [jvm.java, ["-Xmx256m", `-Dlog4j.configuration=file:${log4jFile}`, "-cp", jvm.classpath, mainClass]],
    args,
    { timeoutMs: 60_000, ...options },
  );
}

/**
 * Sends lines to partition 0 of an existing topic with Kafka's own Java producer (the console producer of
 * the broker's jars), its batches compressed with `codec` (gzip, snappy, lz4, zstd).
 */
export async function javaProduce(topic: string, lines: readonly string[], codec: string): Promise<void> {
  const r = await runJava("kafka.tools.ConsoleProducer", [
    "--bootstrap-server",
    broker().plaintext,
    "--topic",
    topic,
    "--compression-codec",
    codec,
    "--producer-property",
    "batch.size=262144",
    "--producer-property",
    "linger.ms=200",
    "--producer-property",
    "max.block.ms=15000",
  ], { stdin: lines.join("\n") + "\n" });
  assert.equal(r.code, 0, `the Java console producer: exit ${r.code}\n${r.stderr}`);
  assert.ok(!/ERROR/.test(r.stderr), `the Java console producer:\n${r.stderr}`);
}

/** A partition's log as Kafka's DumpLogSegments reads it: each batch's codec and record count, the values. */
export interface DumpedLog {
  batches: { codec: string; count: number }[];
  values: string[];
}

/** Partition 0 of a topic, read from the broker's log files by Kafka's own DumpLogSegments (Java's codecs). */
export async function dumpLog(topic: string): Promise<DumpedLog> {
  const dir = brokerJvm().logDirs.map((d) => join(d, `${topic}-0`)).find((d) => existsSync(d));
  assert.ok(dir, `no log directory of ${topic}-0`);
  const r = await runJava("kafka.tools.DumpLogSegments", [
    "--deep-iteration",
    "--print-data-log",
    "--files",
    join(dir, "00000000000000000000.log"),
  ]);
  assert.equal(r.code, 0, `DumpLogSegments: exit ${r.code}\n${r.stderr}`);
  const dumped: DumpedLog = { batches: [], values: [] };
  for (const line of r.stdout.split("\n")) {
    const batch = /\bcount: (\d+) .*\bcompresscodec: (\w+)/.exec(line);
    if (batch) dumped.batches.push({ codec: batch[2], count: Number(batch[1]) });
    const record = /^\| offset: \d+ .*\bpayload: (.*)$/.exec(line);
    if (record) dumped.values.push(record[1]);
  }
  return dumped;
}

/** Deletes the records of a partition before `offset` (-1: all of them), as retention would. */
export async function deleteRecords(topic: string, partition: number, offset = -1): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [topic] }); // (deleteTopicRecords needs it loaded)
    await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}
