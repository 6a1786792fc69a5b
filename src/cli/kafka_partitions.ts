/**
 * `--state kafka` with the plain one-x line: each partition's exact partial state, kept beside the core
 * and written to the state topic as `p/<partition>` records (with the partition's next offset) in each
 * batch's transaction — the groundwork of many readers merging their partitions' states exactly
 * (docs/kafka.md, "Many readers"). The exact sum of the records' states is the core's state: their
 * merged line is bit for bit the run's line.
 *
 * @example
 * ```ts
 * import { openPartitionStates, partitionRecords } from "./kafka_partitions.ts";
 * const states = openPartitionStates(kafkaState);
 * const records = states && partitionRecords(states, update, { topic: kafkaState.topic, position });
 * ```
 * @module
 */

import type { BatchUpdate } from "../model/sink.ts";
import { PartitionStates } from "../pipeline/partition_states.ts";
import type { KafkaPosition } from "../sources/kafka/options.ts";
import { encodePartitionRecord, partitionStateKey } from "../sources/kafka/partition_records.ts";
import type { TopicMessages } from "../sources/kafka/result_producer.ts";
import type { PartitionBatch } from "../sources/kafka/partition_transactions.ts";
import { StateError } from "../state/checkpoint.ts";
import type { KafkaState } from "./kafka_state.ts";

/**
 * The partitions' states restored from the state topic's `p/<partition>` records; undefined when the
 * topic holds a checkpoint with points but no partition record (written before these records were):
 * the run then goes on without them. Throws a {@linkcode StateError} if a record's offset is not the
 * checkpoint's for its partition.
 *
 * @example
 * ```ts
 * const states = openPartitionStates(kafkaState); // PartitionStates | undefined
 * ```
 */
export function openPartitionStates(state: KafkaState): PartitionStates | undefined {
  const resumed = state.resumed;
  if (resumed !== undefined && resumed.totals.points > 0 && state.partitions.size === 0) return undefined;
  const positions = new Map(
    ((resumed?.source as KafkaPosition | undefined)?.partitions ?? []).map((p) => [p.partition, p.next]),
  );
  const states = new PartitionStates();
  for (const [partition, record] of state.partitions) {
    const next = positions.get(partition);
    if (next !== undefined && next !== record.next) {
      throw new StateError(
        `${state.path}: partition ${partition}'s record is at offset ${record.next} but the checkpoint at ` +
          `${next}: use another group (-G) to start over`,
      );
    }
    states.restore(partition, record.state);
  }
  return states;
}

/**
 * Adds a batch's accepted points to their partitions' states and returns the records of every
 * partition of `position` (its exact state and next offset), for the batch's transaction.
 *
 * @example
 * ```ts
 * more.push(partitionRecords(states, update, { topic: kafkaState.topic, position }));
 * ```
 */
export function partitionRecords(
  states: PartitionStates,
  update: Pick<BatchUpdate, "points">,
  options: { topic: string; position: KafkaPosition | undefined },
): TopicMessages {
  for (const run of update.points) {
    const partition = (run.chunk as { partition?: unknown } | undefined)?.partition;
    if (typeof partition !== "number") {
      throw new Error("a batch's points do not say their partition: please report this");
    }
    states.add(partition, run.x, run.y, run.diff);
  }
  const messages = (options.position?.partitions ?? []).map(({ partition, next }) => ({
    key: partitionStateKey(partition),
    value: encodePartitionRecord({ partition, next, state: states.save(partition) }),
  }));
  return { topic: options.topic, messages };
}

/**
 * Adds a batch's accepted points to their partitions' states and splits the batch by partition, for
 * one transaction per partition (`PartitionTransactions.commit`): each partition of `position` with its
 * `p/<partition>` record (its exact state and next offset) and the messages `extra` gives it (its
 * results, say).
 *
 * @example
 * ```ts
 * await transactions.commit(partitionBatches(states, update, { topic: stateTopic, position }));
 * ```
 */
export function partitionBatches(
  states: PartitionStates,
  update: Pick<BatchUpdate, "points">,
  options: {
    topic: string;
    position: KafkaPosition | undefined;
    extra?: (partition: number) => readonly TopicMessages[];
  },
): PartitionBatch[] {
  const { messages } = partitionRecords(states, update, options);
  return (options.position?.partitions ?? []).map(({ partition, next }, i) => ({
    partition,
    next,
    messages: [...(options.extra?.(partition) ?? []), { topic: options.topic, messages: [messages[i]] }],
  }));
}
