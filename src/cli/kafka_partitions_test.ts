import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import type { Checkpoint } from "../state/checkpoint.ts";
import { StateError } from "../state/checkpoint.ts";
import type { PartitionRecord } from "../sources/kafka/partition_records.ts";
import { decodePartitionRecord } from "../sources/kafka/partition_records.ts";
import { PartitionStates } from "../pipeline/partition_states.ts";
import type { KafkaState } from "./kafka_state.ts";
import { openPartitionStates, partitionRecords } from "./kafka_partitions.ts";

/** A state topic as read: a checkpoint at these offsets with `points` points, and these records. */
function stateOf(
  offsets: [number, number][] | undefined,
  points: number,
  records: PartitionRecord[],
): KafkaState {
  const resumed = offsets === undefined ? undefined : {
    totals: { points },
    source: { topic: "t", partitions: offsets.map(([partition, next]) => ({ partition, next })) },
  } as unknown as Checkpoint;
  return {
    topic: "g.streamreg-state",
    path: 'the state topic "g.streamreg-state"',
    resumed,
    meta: undefined,
    partitions: new Map(records.map((r) => [r.partition, r])),
    entries: () => [].values(),
    records: () => Promise.reject(new Error("not used")),
  };
}

test("kafka partitions: records of a batch, restored and checked against the checkpoint", () => {
  const states = new PartitionStates();
  const chunk = (partition: number) => ({ partition }) as never;
  const { topic, messages } = partitionRecords(states, {
    points: [
      { x: Float64Array.of(1, 2), y: Float64Array.of(2, 4), diff: Float64Array.of(1, 1), chunk: chunk(0) },
      { x: Float64Array.of(3), y: Float64Array.of(7), diff: Float64Array.of(1), chunk: chunk(2) },
    ],
  }, {
    topic: "g.streamreg-state",
    position: { topic: "t", partitions: [{ partition: 0, next: 9 }, { partition: 2, next: 4 }] },
  });
  assert.equal(topic, "g.streamreg-state");
  assert.deepEqual(messages.map((m) => m.key), ["p/0", "p/2"]);
  const records = messages.map((m) => decodePartitionRecord(m.value as Uint8Array, m.key as string));
  assert.deepEqual(records.map((r) => [r.partition, r.next]), [[0, 9], [2, 4]]);

  const restored = openPartitionStates(stateOf([[0, 9], [2, 4]], 3, records))!;
  assert.deepEqual(restored.partitions(), [0, 2]);
  assert.equal(restored.count(0), 2);
  assert.equal(restored.count(2), 1);
  // A record behind its checkpoint: refused.
  assert.throws(
    () => openPartitionStates(stateOf([[0, 10], [2, 4]], 3, records)),
    (e) =>
      e instanceof StateError &&
      /partition 0's record is at offset 9 but the checkpoint at 10/.test(e.message),
  );
  // A checkpoint with points but no partition record (an earlier version's): none kept.
  assert.equal(openPartitionStates(stateOf([[0, 9]], 3, [])), undefined);
  assert.deepEqual(openPartitionStates(stateOf(undefined, 0, []))!.partitions(), []);
  // Points that do not say their partition: a bug, said so.
  assert.throws(
    () =>
      partitionRecords(states, {
        points: [{ x: Float64Array.of(1), y: Float64Array.of(1), diff: Float64Array.of(1) }],
      }, { topic: "s", position: undefined }),
    /do not say their partition/,
  );
});
