/**
 * `--state kafka` keeps each partition's exact partial state in the state topic (`p/<partition>`, with
 * the partition's next offset), in each batch's transaction: through the real CLI of the runtime running
 * the tests, against the real test broker, a 6-partition topic read in three runs (the second killed
 * with SIGKILL at a random moment) leaves records whose offsets are the partitions' ends and whose
 * states, merged exactly, give bit for bit the final line of the output topic and the line of all the
 * points fitted by one core. Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { Kafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  regress,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";
import { random, sleep, track } from "./cli_helpers.ts";
import { readTopic } from "./kafka_topic_reader.ts";
import { RegressionCore } from "../src/core/regression_core.ts";
import { PartitionStates } from "../src/pipeline/partition_states.ts";
import { decodePartitionRecord, partitionOfKey } from "../src/sources/kafka/partition_records.ts";
import { readStateTopic, stateTopicName } from "../src/sources/kafka/state_topic.ts";

const PARTITIONS = 6;
const PER_PARTITION = 3000; // points, in two halves

test(
  `kafka partition state (${CURRENT}): p/<partition> records merge bit for bit to the run's final line`,
  async () => {
    const topic = unique("pstate");
    const group = unique("g");
    const out = unique("pstate-out");
    await createTopic(topic, PARTITIONS);
    const next = random(CURRENT === "deno" ? 61 : 62);
    // Each partition its own scale, so that plain double sums would not give the exact line.
    const points = Array.from(
      { length: PARTITIONS },
      (_, p) =>
        Array.from({ length: PER_PARTITION }, (_, i) => {
          const x = (1.7e9 + i * 7 + p * 1e6) / 10 ** (p % 3);
          return `${x},${0.5 * x * (p + 1) + (next() - 0.5) * 10 ** (p - 2)}`;
        }),
    );
    const half = PER_PARTITION / 2;
    for (let p = 0; p < PARTITIONS; p++) {
      await sendMany(topic, ["x,y", ...points[p].slice(0, half)], { partition: p });
    }
    const args = [
      ...kafkaReader(topic, group),
      "-X",
      "session.timeout.ms=6000",
      "--exit-at-end",
      "--commit-rows",
      "100",
      "--commit-ms",
      "1e9",
      "--output-topic",
      out,
      "--state",
      "kafka",
    ];
    ok(await run(regress(CURRENT), args, { timeoutMs: 90_000 }), "first run");
    for (let p = 0; p < PARTITIONS; p++) await sendMany(topic, points[p].slice(half), { partition: p });
    // A run killed at a random moment, then one to the end.
    const [exe, pre] = regress(CURRENT);
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (const [k, v] of Object.entries(process.env)) {
      if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
    }
    const killed = track(spawn(exe, [...pre, ...args], { env, stdio: "pipe" }));
    // Killed once it has committed a batch of the second half (mid-stream: some 90 batches of 100 points to go).
    const deadline = Date.now() + 60_000;
    while (!killed.exited() && Date.now() < deadline) {
      if ((await committedOffsets(group, topic)).some((offset) => offset > 1 + half)) break;
      await sleep(10);
    }
    await sleep(next() * 10);
    assert.ok(!killed.exited(), "the second run is still running when killed");
    process.kill(killed.child.pid!, "SIGKILL");
    assert.equal((await killed.done).signal, "SIGKILL");
    ok(await run(regress(CURRENT), args, { timeoutMs: 90_000 }), "last run");

    // The records: one per partition, at its end, merged exactly.
    const kafka = new Kafka({
      clientId: "streamreg-test",
      brokers: [broker().plaintext],
      logLevel: logLevel.NOTHING,
    });
    const merged = new PartitionStates();
    for (
      const [key, value] of await readStateTopic(kafka, { topic: stateTopicName(group), groupId: group })
    ) {
      const partition = partitionOfKey(key);
      if (partition === undefined) continue;
      const record = decodePartitionRecord(value, key);
      assert.equal(record.next, 1 + PER_PARTITION, `${key} is at the partition's end`);
      merged.restore(partition, record.state);
    }
    assert.deepEqual(merged.partitions(), [...Array(PARTITIONS).keys()]);
    const core = await RegressionCore.load(
      await readFile(new URL("../build/streamreg.wasm", import.meta.url)),
    );
    const got = merged.fit(core);

    const reference = await RegressionCore.load(
      await readFile(new URL("../build/streamreg.wasm", import.meta.url)),
    );
    for (const list of points) {
      reference.add(
        Float64Array.from(list, (line) => Number(line.split(",")[0])),
        Float64Array.from(list, (line) => Number(line.split(",")[1])),
      );
    }
    const want = reference.fit();
    const same = (a: number, b: number, what: string) =>
      assert.ok(
        Object.is(got.a, a) && Object.is(got.b, b),
        `${what}: merged ${got.a},${got.b} ≠ ${a},${b}`,
      );
    same(want.a, want.b, "one core");
    assert.equal(got.count, PARTITIONS * PER_PARTITION);
    const rows = (await readTopic(out, { timeoutMs: 60_000 })).map((m) => JSON.parse(m.value!));
    const last = rows.findLast((row) => row.diff === 1);
    same(last.a, last.b, "the output topic's final line");
  },
  { timeoutMs: 180_000 },
);
