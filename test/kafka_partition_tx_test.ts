/**
 * The premise of many readers' exactly once (docs/kafka.md, "Many readers"), against the real test
 * broker: one transactional producer per input partition (`<group>.streamreg-tx.<topic>.<partition>`)
 * commits that partition's state record (`p/<partition>`, its exact partial state) with the group's
 * offset of that partition, with no consumer of the group running (kafkajs's TxnOffsetCommit v0–v1
 * carries no group generation); a partition's new owner fences its old owner without touching the other
 * partitions' producers; and the latest records of all partitions, read back with read_committed and
 * merged, give bit for bit the line of all the points committed. Fails (does not skip) when the broker
 * is not running.
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
import {
  decodePartitionRecord,
  encodePartitionRecord,
  partitionOfKey,
  partitionStateKey,
  partitionTransactionalId,
} from "../src/sources/kafka/partition_records.ts";
import { FencedError, ResultProducer } from "../src/sources/kafka/result_producer.ts";
import { ensureCompactedTopic, readStateTopic, stateTopicName } from "../src/sources/kafka/state_topic.ts";

const PARTITIONS = 3;
const PER_ROUND = 200;

test(
  `kafka partition transactions (${CURRENT}): per-partition producers commit offsets and exact states; a new owner fences the old`,
  async () => {
    const kafka = new Kafka({
      clientId: "streamreg-test",
      brokers: [broker().plaintext],
      logLevel: logLevel.NOTHING,
    });
    const topic = unique("ptx");
    const group = unique("g");
    const stateTopic = stateTopicName(group);
    await createTopic(topic, PARTITIONS);
    assert.equal(await ensureCompactedTopic(kafka, stateTopic), true);
    const core = await RegressionCore.load(
      await readFile(new URL("../build/streamreg.wasm", import.meta.url)),
    );
    const reference = await RegressionCore.load(
      await readFile(new URL("../build/streamreg.wasm", import.meta.url)),
    );

    // Each partition's points, two rounds; the messages themselves are in the topic.
    const random = new PythonRandom(447);
    const rounds = Array.from({ length: 2 }, () =>
      Array.from({ length: PARTITIONS }, () => {
        const x = Float64Array.from({ length: PER_ROUND }, () => 1.7e9 + Math.floor(random.random() * 1e6));
        const y = x.map((v) => 0.25 * v + (random.random() - 0.5) * 1e3);
        return { x, y };
      }));
    for (const round of rounds) {
      for (const [p, { x, y }] of round.entries()) {
        await sendMany(topic, Array.from(x, (v, i) => `${v},${y[i]}`), { partition: p });
      }
    }

    const states = new PartitionStates();
    const open = (p: number) =>
      ResultProducer.open(kafka, { transactionalId: partitionTransactionalId(group, topic, p) });
    /** Adds a round of partition p's points and commits its record with its offset, in its transaction. */
    const commit = async (producer: ResultProducer, p: number, round: number) => {
      states.add(p, rounds[round][p].x, rounds[round][p].y);
      const next = (round + 1) * PER_ROUND;
      const value = encodePartitionRecord({ partition: p, next, state: states.save(p) });
      await producer.commit(
        [{ topic: stateTopic, messages: [{ key: partitionStateKey(p), value }] }],
        { groupId: group, topic, partitions: [{ partition: p, offset: next }] },
      );
    };

    const producers = [await open(0), await open(1), await open(2)];
    try {
      for (let p = 0; p < PARTITIONS; p++) await commit(producers[p], p, 0);
      assert.deepEqual(await committedOffsets(group, topic), [PER_ROUND, PER_ROUND, PER_ROUND]);

      // Partition 1 moves to a new owner: opening its id fences the old owner (a zombie) only.
      const successor = await open(1);
      await assert.rejects(commit(producers[1], 1, 1), FencedError);
      await producers[1].close();
      producers[1] = successor;
      // The new owner restores partition 1's state from the topic (read_committed) before going on.
      const restored = await readStateTopic(kafka, { topic: stateTopic, groupId: group });
      const record = decodePartitionRecord(restored.get(partitionStateKey(1))!, partitionStateKey(1));
      assert.equal(record.next, PER_ROUND, "the zombie's record is not visible");
      states.restore(1, record.state);
      for (let p = 0; p < PARTITIONS; p++) await commit(producers[p], p, 1);
      assert.deepEqual(await committedOffsets(group, topic), [2 * PER_ROUND, 2 * PER_ROUND, 2 * PER_ROUND]);
    } finally {
      for (const producer of producers) await producer.close();
    }

    // The designated writer's view: the latest record of every partition, merged exactly.
    const merged = new PartitionStates();
    for (const [key, value] of await readStateTopic(kafka, { topic: stateTopic, groupId: group })) {
      const p = partitionOfKey(key);
      assert.notEqual(p, undefined, key);
      const record = decodePartitionRecord(value, key);
      assert.equal(record.next, 2 * PER_ROUND, key);
      merged.restore(p!, record.state);
    }
    for (const round of rounds) for (const { x, y } of round) reference.add(x, y);
    const got = merged.fit(core);
    const want = reference.fit();
    assert.ok(
      Object.is(got.a, want.a) && Object.is(got.b, want.b) && got.count === want.count,
      `${got.a},${got.b} (${got.count}) ≠ ${want.a},${want.b} (${want.count})`,
    );
    assert.equal(got.count, 2 * PARTITIONS * PER_ROUND);
  },
  { timeoutMs: 120_000 },
);
