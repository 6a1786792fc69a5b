/**
 * What the two `--readers many` modes (`./kafka_readers.ts`, the global line; `./kafka_keyed_readers.ts`,
 * keyed messages) share about their partitions: which assignment (tenure) of each partition a batch read,
 * and committing each partition's share in its own transaction, a fenced partition then being lost.
 *
 * @example
 * ```ts
 * import { commitShares, noteTenures } from "./partition_tenures.ts";
 * noteTenures(update.points, { tenures, lost });
 * await commitShares(transactions, batches, { tenures, lost, committed, forget, say });
 * ```
 * @module
 */

import type { BatchUpdate } from "../model/sink.ts";
import type { KafkaChunk } from "../sources/kafka/options.ts";
import type { PartitionBatch, PartitionTransactions } from "../sources/kafka/partition_transactions.ts";
import { isFenced } from "../sources/kafka/result_producer.ts";

/**
 * Each partition's latest tenure read, and the partitions lost (fenced) with the tenure they were lost in.
 *
 * @example
 * ```ts
 * const maps: Tenures = { tenures: new Map(), lost: new Map() };
 * ```
 */
export interface Tenures {
  readonly tenures: Map<number, number>;
  readonly lost: Map<number, number>;
}

/**
 * Notes the tenure of each partition a batch's points were read in; a partition lost in an earlier
 * tenure than one read now is this reader's again.
 *
 * @example
 * ```ts
 * noteTenures(update.points, { tenures, lost });
 * ```
 */
export function noteTenures(points: BatchUpdate["points"], { tenures, lost }: Tenures): void {
  for (const run of points) {
    const chunk = run.chunk as KafkaChunk | undefined;
    if (chunk === undefined || typeof chunk.tenure !== "number") continue;
    const { partition, tenure } = chunk;
    tenures.set(partition, Math.max(tenure, tenures.get(partition) ?? -1));
    // Read in a later assignment than the one whose transaction was fenced: this reader's again.
    if ((lost.get(partition) ?? Infinity) < tenure) lost.delete(partition);
  }
}

/**
 * Options of {@linkcode commitShares}.
 *
 * @example
 * ```ts
 * const options: CommitSharesOptions = { tenures, lost, committed: (p, next) => {}, forget: (p) => {}, say: console.error };
 * ```
 */
export interface CommitSharesOptions extends Tenures {
  /** A partition's share committed, up to `next`. */
  committed(partition: number, next: number): void;
  /** A partition fenced away: forget its state. */
  forget(partition: number): void;
  /** Then told to the source (`Source.fenced`: read it again if the group gives it back). */
  fenced?(partition: number): void;
  /** A line for stderr. */
  say(text: string): void;
}

/**
 * Commits the shares, each in its partition's transaction; a partition whose transaction was fenced is
 * lost (another reader has it: this one forgets it and goes on); any other failure ends the run.
 *
 * @example
 * ```ts
 * await commitShares(transactions, batches, { tenures, lost, committed, forget, say });
 * ```
 */
export async function commitShares(
  transactions: PartitionTransactions,
  batches: PartitionBatch[],
  options: CommitSharesOptions,
): Promise<void> {
  const { tenures, lost } = options;
  const outcomes = await transactions.commitEach(batches);
  let failure: unknown;
  for (const [i, outcome] of outcomes.entries()) {
    const { partition, next } = batches[i];
    if (outcome.status === "fulfilled") {
      options.committed(partition, next);
    } else if (isFenced(outcome.reason)) {
      options.say(`partition ${partition} was taken over by another reader`);
      lost.set(partition, tenures.get(partition) ?? -1);
      options.forget(partition);
      options.fenced?.(partition);
    } else failure ??= outcome.reason;
  }
  if (lost.size > 0) await transactions.assign(transactions.partitions.filter((p) => !lost.has(p)));
  if (failure !== undefined) throw failure;
}
