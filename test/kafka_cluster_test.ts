/**
 * A broker of a three-broker cluster (scripts/kafka/cluster.sh: replication factor 3,
 * min.insync.replicas=2) is killed with SIGKILL while a reader (the CLI of the runtime running the
 * tests, with `--state` and `--output-topic`, so each batch is a transaction) streams a three-partition
 * topic. The killed broker is the group's coordinator and, by the choice of the reader's
 * `transactional.id`, its transaction coordinator as well: the partitions' leaders and both
 * coordinators move, the reader follows them (retrying its transactions), and it reads every point
 * exactly once; its fit is the fit of all the points; and the output topic, read back with
 * read_committed, holds every batch exactly once — the very rows of the reader's CSV change log, which
 * replay to the fit of all the points.
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
import { readTopic } from "./kafka_topic_reader.ts";
import { replay } from "./change_log.ts";

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
const TRANSACTIONS_TOPIC = "__transaction_state";

/** Java's `String.hashCode`. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The partition of an internal topic (`__consumer_offsets`, `__transaction_state`) that holds `id`:
 * Kafka's `Utils.abs(id.hashCode()) % partitions` (an absolute value, not the low 31 bits).
 */
const slotOf = (id: string, partitions: number) => {
  const h = javaHash(id);
  return (h === -0x80000000 ? 0 : Math.abs(h)) % partitions;
};

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
    const outTopic = unique("cluster-out");
    const dir = await mkdtemp(join(tmpdir(), "streamreg-cluster-"));
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    let killed: string | undefined;
    try {
      await admin.connect();
      // The input topic, and the output topic (created here rather than by the reader: kafkajs's wait for
      // a new topic's leaders asks one broker, which may not know the topic yet).
      await admin.createTopics({
        topics: [
          { topic, numPartitions: PARTITIONS, replicationFactor: 3 },
          { topic: outTopic, numPartitions: 1, replicationFactor: 3 },
        ],
        waitForLeaders: false,
      });
      for (const [name, count] of [[topic, PARTITIONS], [outTopic, 1]] as const) {
        for (const deadline = Date.now() + 30_000;; await sleep(200)) {
          const seen = await admin.fetchTopicMetadata({ topics: [name] }).catch(() => undefined);
          const ready = seen?.topics[0].partitions.filter((p) => p.leader >= 0 && p.isr.length === 3).length;
          if (ready === count) break;
          assert.ok(Date.now() < deadline, `the partitions of ${name} got no leaders and replicas in 30 s`);
        }
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
      // Both internal topics exist (a transactional producer and a group lookup create them), so that the
      // coordinators of the reader's group and transactional id are known before it starts.
      const probe = kafka.producer({
        transactionalId: unique("probe"),
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await probe.connect();
      await (await probe.transaction()).abort();
      await probe.disconnect();
      // (Right after __consumer_offsets is created its partitions' leaders may still move: the lookup can
      // answer "not the correct coordinator" for a while. Ask again until it answers.)
      for (const deadline = Date.now() + 30_000;; await sleep(200)) {
        const found = await admin.fetchOffsets({ groupId: group, topics: [topic] }).then(
          () => true,
          (error) => {
            assert.ok(Date.now() < deadline, `the group's offsets could not be read in 30 s: ${error}`);
            return false;
          },
        );
        if (found) break;
      }
      const leaders = async (name: string) => {
        for (const deadline = Date.now() + 30_000;; await sleep(200)) {
          const [meta] = (await admin.fetchTopicMetadata({ topics: [name] }).catch(() => ({ topics: [] })))
            .topics;
          if (meta !== undefined && meta.partitions.every((p) => p.leader >= 0)) {
            return meta.partitions.sort((p, q) => p.partitionId - q.partitionId).map((p) => p.leader);
          }
          assert.ok(Date.now() < deadline, `${name} got no leaders in 30 s`);
        }
      };
      const groupLeaders = await leaders(OFFSETS_TOPIC);
      const coordinator = groupLeaders[slotOf(group, groupLeaders.length)];
      // A transactional id whose transaction coordinator is the group's coordinator too.
      const txLeaders = await leaders(TRANSACTIONS_TOPIC);
      const transactionalId = Array.from({ length: 64 }, (_, i) => `${group}.tx${i}`)
        .find((id) => txLeaders[slotOf(id, txLeaders.length)] === coordinator);
      assert.ok(transactionalId, `no transactional id of 64 falls on broker ${coordinator}: ${txLeaders}`);
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
        "1000", // (each batch is a transaction, a few hundred ms on this cluster)
        "--output",
        out,
        "--input-log",
        log,
        "--state",
        join(dir, "state"),
        "--output-topic",
        outTopic,
        "--output-format",
        "csv",
        "-X",
        `transactional.id=${transactionalId}`,
        // (a member lost with the coordinator is dropped after 6 s, not the default 30 s)
        "-X",
        "session.timeout.ms=6000",
      ], { timeoutMs: 150_000, interruptWhen: async () => done && (await inLog()) >= total });

      // Once the reader is under way, kill the group's coordinator: the broker that holds the group's
      // committed offsets and the reader's transactions, which also leads partitions of the topic
      // (three partitions, three brokers).
      const deadline = Date.now() + 30_000;
      while ((await inLog()) < 3000 && Date.now() < deadline) await sleep(5);
      const [offsets] = (await admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] })).topics;
      const leader = offsets.partitions.find((p) =>
        p.partitionId === slotOf(group, offsets.partitions.length)
      )!
        .leader;
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
      const written = await readFile(out, "utf8");
      assert.deepEqual(last(written), last(reference.stdout));

      // The output topic, read_committed: every batch once — the rows of the reader's own change log, in
      // order (its transactions retried or not) — replaying to the fit of all the points.
      const messages = await readTopic(outTopic, { brokers: brokers.split(","), timeoutMs: 60_000 });
      const header = written.trim().split("\n")[0];
      assert.ok(messages.every((m) => m.headers.columns === header), `columns ${header} on every message`);
      assert.deepEqual(messages.map((m) => m.value), rows(written).map((r) => r.join(",")));
      const column = (name: string) => header.split(",").indexOf(name);
      const [a, b, diff] = [column("a"), column("b"), column("diff")];
      const live = replay(messages.map((m) => {
        const cells = m.value!.split(",");
        return { a: Number(cells[a]), b: Number(cells[b]), diff: Number(cells[diff]) };
      }));
      assert.deepEqual(live && [live.a, live.b], last(reference.stdout).map(Number));
      // (what the reader tried again, for the record: which steps failed depends on the moment of the kill)
      const retries = r.stderr.split("\n").filter((l) => /trying again/.test(l));
      console.error(
        `(${messages.length} rows; the reader retried ${retries.length} time(s))\n${retries.join("\n")}`,
      );
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
