/**
 * `PartitionTransactions` against the real test broker (docs/kafka.md, "Many readers"): readers of one
 * group on a 6-partition topic, each with one transactional producer per assigned partition, commit each
 * batch as one transaction per partition (its `p/<partition>` record and its offset). Readers are
 * in-process here (the CLI does not use them yet): one reader, then a second taking half the partitions
 * over (restoring their states from the records), then a third taking one partition from the second,
 * which fences the second for that partition only. The committed offsets are the partitions' ends, and
 * the latest records, merged, give bit for bit the line of one core fed every point. Fails (does not
 * skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Kafka, logLevel } from "kafkajs";
import { test } from "./harness.ts";
import { broker, committedOffsets, createTopic, CURRENT, sendMany, unique } from "./kafka_helpers.ts";
import { RegressionCore } from "../src/core/regression_core.ts";
import { PartitionStates } from "../src/pipeline/partition_states.ts";
import { PythonRandom } from "../src/sources/demo/python_random.ts";
import { decodePartitionRecord, partitionOfKey } from "../src/sources/kafka/partition_records.ts";
import { PartitionTransactions } from "../src/sources/kafka/partition_transactions.ts";
import { FencedError } from "../src/sources/kafka/result_producer.ts";
import { ensureCompactedTopic, readStateTopic, stateTopicName } from "../src/sources/kafka/state_topic.ts";
import { partitionBatches } from "../src/cli/kafka_partitions.ts";
import type { KafkaPosition } from "../src/sources/kafka/options.ts";

const PARTITIONS = 6;
const PER_ROUND = 100;
const ROUNDS = 3;

test(
  `kafka partition transactions (${CURRENT}): readers joining and taking partitions over commit one transaction per partition; the merged records are one reader's line`,
  async () => {
    const kafka = new Kafka({
      clientId: "streamreg-test",
      brokers: [broker().plaintext],
      logLevel: logLevel.NOTHING,
    });
    const topic = unique("ptr");
    const group = unique("g");
    const stateTopic = stateTopicName(group);
    await createTopic(topic, PARTITIONS);
    await ensureCompactedTopic(kafka, stateTopic);
    const wasm = await readFile(new URL("../build/streamreg.wasm", import.meta.url));
    const core = await RegressionCore.load(wasm);
    const reference = await RegressionCore.load(wasm);

    const random = new PythonRandom(14);
    const rounds = Array.from({ length: ROUNDS }, () =>
      Array.from({ length: PARTITIONS }, () => {
        const x = Float64Array.from({ length: PER_ROUND }, () => 1.7e9 + Math.floor(random.random() * 1e6));
        const y = x.map((v) => -0.75 * v + (random.random() - 0.5) * 1e4);
        return { x, y };
      }));
    for (const round of rounds) {
      for (const [p, { x, y }] of round.entries()) {
        await sendMany(topic, Array.from(x, (v, i) => `${v},${y[i]}`), { partition: p });
      }
    }

    /** An in-process reader: its partitions' states and producers. */
    const reader = () => ({
      states: new PartitionStates(),
      transactions: new PartitionTransactions(kafka, { groupId: group, topic, stateTopic }),
    });
    type Reader = ReturnType<typeof reader>;
    /** The reader takes `partitions` over (restoring their records), forgetting the others. */
    const assign = async (r: Reader, partitions: number[], want: number) => {
      for (const p of r.states.partitions()) if (!partitions.includes(p)) r.states.drop(p);
      const { restored } = await r.transactions.assign(partitions);
      for (const [p, record] of restored) {
        assert.equal(record.next, want, `partition ${p}'s record`);
        r.states.restore(p, record.state);
      }
      return restored;
    };
    /** One batch: round `round` of the reader's partitions, one transaction per partition. */
    const batch = (r: Reader, partitions: number[], round: number) => {
      const points = partitions.map((partition) => ({ chunk: { partition }, ...rounds[round][partition] }))
        .map(({ chunk, x, y }) => ({ chunk, x, y, diff: 1 }));
      const position: KafkaPosition = {
        topic,
        partitions: partitions.map((partition) => ({ partition, next: (round + 1) * PER_ROUND })),
      };
      return r.transactions.commit(
        partitionBatches(r.states, { points } as never, { topic: stateTopic, position }),
      );
    };

    const [a, b, c] = [reader(), reader(), reader()];
    try {
      // One reader holds every partition.
      assert.equal((await assign(a, [0, 1, 2, 3, 4, 5], 0)).size, 0);
      await batch(a, [0, 1, 2, 3, 4, 5], 0);
      assert.deepEqual(await committedOffsets(group, topic), Array(PARTITIONS).fill(PER_ROUND));
      // A second joins: 3, 4 and 5 move to it, with their states.
      await assign(a, [0, 1, 2], PER_ROUND);
      assert.deepEqual(a.transactions.partitions, [0, 1, 2]);
      assert.equal((await assign(b, [3, 4, 5], PER_ROUND)).size, 3);
      await batch(a, [0, 1, 2], 1);
      await batch(b, [3, 4, 5], 1);
      // A third takes partition 5 while the second still thinks it holds it (a zombie for 5): the
      // second's transaction of 5 is refused, those of 3 and 4 commit.
      assert.equal((await assign(c, [5], 2 * PER_ROUND)).size, 1);
      await assert.rejects(batch(b, [3, 4, 5], 2), FencedError);
      await batch(a, [0, 1, 2], 2);
      await batch(c, [5], 2);
      assert.deepEqual(await committedOffsets(group, topic), Array(PARTITIONS).fill(ROUNDS * PER_ROUND));
    } finally {
      for (const r of [a, b, c]) await r.transactions.close();
    }

    // The designated writer's view: the latest record of every partition, merged exactly.
    const merged = new PartitionStates();
    for (const [key, value] of await readStateTopic(kafka, { topic: stateTopic, groupId: group })) {
      const p = partitionOfKey(key);
      assert.notEqual(p, undefined, key);
      const record = decodePartitionRecord(value, key);
      assert.equal(record.next, ROUNDS * PER_ROUND, key);
      merged.restore(p!, record.state);
    }
    assert.deepEqual(merged.partitions(), [0, 1, 2, 3, 4, 5]);
    for (const round of rounds) for (const { x, y } of round) reference.add(x, y);
    const got = merged.fit(core);
    const want = reference.fit();
    assert.ok(
      Object.is(got.a, want.a) && Object.is(got.b, want.b) && got.count === want.count,
      `${got.a},${got.b} (${got.count}) ≠ ${want.a},${want.b} (${want.count})`,
    );
    assert.equal(got.count, ROUNDS * PARTITIONS * PER_ROUND);
  },
  { timeoutMs: 150_000 },
);
