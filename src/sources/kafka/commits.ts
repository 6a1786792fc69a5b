/**
 * Committing the Kafka source's offsets: which offset each partition is owed once the pipeline has
 * written a batch ({@linkcode noteWritten}), which commits are due ({@linkcode dueCommits}), and the
 * commit of a consumer that crashed for good ({@linkcode commitWithoutConsumer}).
 *
 * @example
 * ```ts
 * import { dueCommits, noteWritten } from "./commits.ts";
 * noteWritten(batch, (partition) => states.get(partition)!);
 * await consumer.commitOffsets(dueCommits("points", [...states.values()]));
 * ```
 * @module
 */

import type { Kafka } from "kafkajs";
import type { CommittedBatch } from "../../model/source.ts";
import type { KafkaChunk } from "./options.ts";
import type { PartitionState } from "./partitions.ts";

/**
 * One offset to commit: the partition's next message to read.
 *
 * @example
 * ```ts
 * const commit: DueCommit = { topic: "points", partition: 0, offset: "501" };
 * ```
 */
export interface DueCommit {
  /** The topic. */
  readonly topic: string;
  /** The partition. */
  readonly partition: number;
  /** The offset, as kafkajs takes it. */
  readonly offset: string;
}

/**
 * Notes, per partition, the offset after the batch's last message (idempotent). A chunk read in an
 * earlier assignment of its partition (revoked since, and maybe read by another reader) is not noted.
 *
 * @example
 * ```ts
 * noteWritten(batch, (partition) => states.get(partition)!);
 * ```
 */
export function noteWritten(
  batch: CommittedBatch<KafkaChunk>,
  stateOf: (partition: number) => PartitionState,
): void {
  for (const { chunk, end } of batch.spans) {
    const state = stateOf(chunk.partition);
    // Read before the partition was revoked (and maybe read by another reader since): not committed.
    if (chunk.tenure !== state.tenure) continue;
    const next = end === chunk.x.length ? chunk.next : chunk.offset(end - 1) + 1;
    state.committed = Math.max(state.committed, next);
  }
}

/**
 * The commits due for the given partitions (those assigned to this reader now: another reader may have
 * gone on with the others): points written, and batches without points after them.
 *
 * @example
 * ```ts
 * const due = dueCommits("points", assignedStates);
 * ```
 */
export function dueCommits(topic: string, states: readonly PartitionState[]): DueCommit[] {
  const due: DueCommit[] = [];
  for (const state of states) {
    if (state.pending) continue; // (its start is being decided: the group's offset may be ahead)
    // Batches without points may be committed once every chunk before them has been.
    if (state.empty > state.committed && state.committed >= state.pushed) state.committed = state.empty;
    if (state.committed >= 0 && state.committed !== state.sent) {
      due.push({ topic, partition: state.partition, offset: String(state.committed) });
    }
  }
  return due;
}

/**
 * Commits offsets for a consumer that crashed for good (a fatal error: it has left the group), so that
 * the batch the pipeline writes after the error is committed too. The broker accepts it only while the
 * group has no other member.
 *
 * @example
 * ```ts
 * await commitWithoutConsumer(kafka, "my-group", "points", [{ partition: 0, offset: "501" }]);
 * ```
 */
export async function commitWithoutConsumer(
  kafka: Kafka,
  groupId: string,
  topic: string,
  due: readonly { partition: number; offset: string }[],
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.setOffsets({
      groupId,
      topic,
      partitions: due.map(({ partition, offset }) => ({ partition, offset })),
    });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
