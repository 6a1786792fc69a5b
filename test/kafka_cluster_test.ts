/**
 * A broker of a three-broker cluster (scripts/kafka/cluster.sh: replication factor 3,
 * min.insync.replicas=2) is killed with SIGKILL while a reader (the CLI of the runtime running the
 * tests, with `--state`) streams a three-partition topic: the partitions' leaders move, the reader
 * follows them, and it reads every point exactly once; its fit is the fit of all the points.
 *
 * The test starts the cluster when it is not running and stops it again at its end (it leaves it as it
 * found it); the killed broker is started again before the test ends.
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import { sleep } from "./cli_helpers.ts";
import { CURRENT, ok, regress, ROOT, rows, run, unique } from "./kafka_helpers.ts";

const PARTITIONS = 3;
const CLUSTER_DIR = process.env.KAFKA_CLUSTER_DIR || join(ROOT, ".cache/kafka/cluster");

/** Runs `scripts/kafka/cluster.sh` with arguments; resolves to its exit code and output. */
function cluster(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts/kafka/cluster.sh"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The cluster's bootstrap servers, from the connection file `cluster.sh start` writes. */
function bootstrap(): string {
  const file = join(CLUSTER_DIR, "cluster.env");
  assert.ok(existsSync(file), `${file} missing after cluster.sh start`);
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith("KAFKA_BOOTSTRAP_SERVERS="));
  assert.ok(line, `${file} names no KAFKA_BOOTSTRAP_SERVERS`);
  return line.slice("KAFKA_BOOTSTRAP_SERVERS=".length).trim();
}

const OFFSETS_TOPIC = "__consumer_offsets";

/** Java's `String.hashCode`; Kafka takes its low 31 bits to place a group's offsets in `__consumer_offsets`. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** `count` points on a noisy line, from `from` on, as `x,y` text. */
const points = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${(from + i) / 8},${(from + i) / 3 + ((from + i) % 11) / 7}`);

test(
  `kafka cluster (${CURRENT}): the group's coordinator, one of three brokers, is killed mid-stream; the reader reads every point once and fits all of them`,
  async () => {
    const wasRunning =
      (await cluster("status")).output.split("\n").filter((l) => /running/.test(l)).length === 3;
    if (!wasRunning) {
      const started = await cluster("start");
      assert.equal(started.code, 0, started.output);
    }
    const brokers = bootstrap();
    const kafka = new Kafka({
      clientId: "streamreg-test",
      brokers: brokers.split(","),
      connectionTimeout: 3000,
      retry: { retries: 10, initialRetryTime: 200 },
      logLevel: logLevel.NOTHING,
    });
    const topic = unique("cluster");
    const group = unique("g");
    const dir = await mkdtemp(join(tmpdir(), "streamreg-cluster-"));
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    let killed: string | undefined;
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 3 }],
        waitForLeaders: false, // kafkajs's wait asks one broker, which may not know the topic yet
      });
      for (const deadline = Date.now() + 30_000;; await sleep(200)) {
        const seen = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        const ready = seen?.topics[0].partitions.filter((p) => p.leader >= 0 && p.isr.length === 3).length;
        if (ready === PARTITIONS) break;
        assert.ok(Date.now() < deadline, `the topic's partitions got no leaders and replicas in 30 s`);
      }
      await producer.connect();
      const sendRound = async (values: readonly string[]) => {
        for (let i = 0; i < values.length; i += 3000) {
          await producer.send({
            topic,
            acks: -1,
            messages: values.slice(i, i + 3000).map((value, j) => ({
              value,
              partition: (i + j) % PARTITIONS,
            })),
          });
        }
      };
      for (let p = 0; p < PARTITIONS; p++) {
        await producer.send({ topic, acks: -1, messages: [{ value: "x,y", partition: p }] });
      }
      const all = points(0, 45_000);
      await sendRound(all);
      // The test's own clients leave before a broker dies: a client of the dead broker would fail the test
      // with a connection error of its own, not the reader's.
      await producer.disconnect();

      const out = join(dir, "out.csv");
      const log = join(dir, "in.csv");
      const total = all.length;
      const inLog = async () => (await readFile(log, "utf8").catch(() => "")).split("\n").length - 2;
      let done = false;
      const reader = run(regress(CURRENT), [
        "--source",
        "kafka",
        "-b",
        brokers,
        "-t",
        topic,
        "-G",
        group,
        "--commit-rows",
        "200",
        "--output",
        out,
        "--input-log",
        log,
        "--state",
        join(dir, "state"),
      ], { timeoutMs: 150_000, interruptWhen: async () => done && (await inLog()) >= total });

      // Once the reader is under way, kill the group's coordinator: the broker that holds the group's
      // committed offsets, which also leads partitions of the topic (three partitions, three brokers).
      const deadline = Date.now() + 30_000;
      while ((await inLog()) < 3000 && Date.now() < deadline) await sleep(5);
      const [offsets] = (await admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] })).topics;
      const slot = (javaHash(group) & 0x7fffffff) % offsets.partitions.length;
      const leader = offsets.partitions.find((p) => p.partitionId === slot)!.leader;
      await admin.disconnect();
      const kill = await cluster("kill", String(leader));
      assert.equal(kill.code, 0, kill.output);
      killed = String(leader);
      const midStream = await inLog();
      await sleep(3000); // the reader finds the partitions' new leaders
      const restart = await cluster("start-node", killed);
      assert.equal(restart.code, 0, restart.output);
      killed = undefined;
      done = true;
      const r = await reader;
      ok(r, "the reader");
      assert.ok(midStream < total, `the broker died mid-stream (after ${midStream} of ${total} points)`);

      // Every point once (the partitions interleave: compared as multisets), and the fit of all of them.
      const accepted = rows(await readFile(log, "utf8")).map((f) => `${f[0]},${f[1]}`).sort();
      assert.equal(accepted.length, total, "no point lost, none twice");
      assert.deepEqual(accepted, [...all].sort());
      await writeFile(join(dir, "all.csv"), ["x,y", ...all].join("\n") + "\n");
      const reference = await run(regress(CURRENT), [
        "--source",
        "csv",
        "--input",
        join(dir, "all.csv"),
        "--output",
        "-",
        "--no-input-log",
      ]);
      ok(reference, "reference");
      const last = (csv: string) => rows(csv).at(-1)!.slice(0, 2);
      assert.deepEqual(last(await readFile(out, "utf8")), last(reference.stdout));
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      if (killed !== undefined) await cluster("start-node", killed);
      if (!wasRunning) await cluster("stop");
      await rm(dir, { recursive: true, force: true });
    }
  },
  { timeoutMs: 240_000 },
);
