/**
 * One transactional producer per assigned input partition, and a batch committed as one transaction per
 * partition: the exactly-once part of many readers in one group (docs/kafka.md, "Many readers").
 *
 * kafkajs 2.2.4 commits a transaction's offsets with TxnOffsetCommit v0–v1 (no group generation or member,
 * KIP-447), so a zombie reader can only be fenced by its transactional id. Each partition therefore has
 * its own id, `<group>.streamreg-tx.<topic>.<partition>` (`./partition_records.ts`), held by whoever owns
 * the partition: {@linkcode PartitionTransactions.assign} opens the producers of newly assigned partitions
 * — which fences their old owners and aborts their open transactions — and only then reads the state
 * topic (read_committed) for those partitions' latest `p/<partition>` records, so that the state restored
 * is exactly that of the offset committed with it. {@linkcode PartitionTransactions.commit} commits each
 * partition's share of a batch (its messages, its `p/<partition>` record, its next offset for the group)
 * in that partition's transaction.
 *
 * @example
 * ```ts
 * import { PartitionTransactions } from "./partition_transactions.ts";
 * const transactions = new PartitionTransactions(kafka, { groupId: "g", topic: "points", stateTopic: "g.streamreg-state" });
 * const { restored } = await transactions.assign([0, 3]); // Map { 0 => { partition: 0, next: 1200, state }, ... }
 * await transactions.commit([{ partition: 0, next: 1300, messages: [{ topic: "g.streamreg-state", messages: [record] }] }]);
 * await transactions.close();
 * ```
 * @module
 */

import type { Kafka } from "kafkajs";
import type { CompressionName } from "./compression_codecs.ts";
import { decodePartitionRecord, partitionOfKey, type PartitionRecord } from "./partition_records.ts";
import { partitionTransactionalId } from "./partition_records.ts";
import { ResultProducer, type TopicMessages } from "./result_producer.ts";
import { readStateTopic } from "./state_topic.ts";

/** kafkajs's transaction.timeout.ms when none is set. */
const DEFAULT_TRANSACTION_TIMEOUT = 60_000;

/**
 * Options of {@linkcode PartitionTransactions}.
 *
 * @example
 * ```ts
 * const options: PartitionTransactionsOptions = { groupId: "g", topic: "points", stateTopic: "g.streamreg-state" };
 * ```
 */
export interface PartitionTransactionsOptions {
  /** The consumer group (its offsets are committed in the transactions; part of the ids). */
  readonly groupId: string;
  /** The input topic. */
  readonly topic: string;
  /** The state topic holding the `p/<partition>` records. */
  readonly stateTopic: string;
  /** transaction.timeout.ms of the producers; default kafkajs's 60 000. */
  readonly transactionTimeout?: number;
  /** The codec of the batches produced. Default none. */
  readonly compression?: CompressionName;
  /** The session timeout of the consumer reading the state topic back. */
  readonly sessionTimeout?: number;
  /** Told, in one line, when a partition's transaction failed and is tried again. */
  readonly onRetry?: (message: string) => void;
}

/**
 * A partition's share of a batch: its messages (to any topics: results, its `p/<partition>` record) and
 * the offset of its next message, committed for the group in the same transaction.
 *
 * @example
 * ```ts
 * const share: PartitionBatch = { partition: 2, next: 501, messages: [{ topic: "results", messages }] };
 * ```
 */
export interface PartitionBatch {
  /** The input partition. */
  readonly partition: number;
  /** The offset of the partition's next message to read. */
  readonly next: number;
  /** The messages of its transaction. */
  readonly messages: readonly TopicMessages[];
}

/**
 * What {@linkcode PartitionTransactions.assign} read back for the newly assigned partitions.
 *
 * @example
 * ```ts
 * const { restored, stored } = await transactions.assign([0]);
 * ```
 */
export interface Assigned {
  /** The latest record of each newly assigned partition that has one. */
  readonly restored: Map<number, PartitionRecord>;
  /** Every record of the state topic, by key (empty if no partition was newly assigned). */
  readonly stored: Map<string, Uint8Array>;
}

/**
 * The transactional producers of the partitions assigned to this reader.
 *
 * @example
 * ```ts
 * const transactions = new PartitionTransactions(kafka, { groupId: "g", topic: "points", stateTopic: "g.streamreg-state" });
 * ```
 */
export class PartitionTransactions {
  readonly #kafka: Kafka;
  readonly #options: PartitionTransactionsOptions;
  readonly #producers = new Map<number, ResultProducer>();

  /** Opens nothing yet: {@linkcode PartitionTransactions.assign} does. */
  constructor(kafka: Kafka, options: PartitionTransactionsOptions) {
    this.#kafka = kafka;
    this.#options = options;
  }

  /**
   * The partitions whose producers are open, ascending.
   *
   * @example
   * ```ts
   * transactions.partitions; // [0, 3]
   * ```
   */
  get partitions(): number[] {
    return [...this.#producers.keys()].sort((p, q) => p - q);
  }

  /**
   * Takes over `partitions` (this reader's assignment now): closes the producers of partitions no
   * longer assigned, opens those of newly assigned ones (fencing their old owners, whose open
   * transactions are aborted), then reads the state topic with read_committed and returns the latest
   * `p/<partition>` record of each newly assigned partition that has one (none: start from nothing, at
   * the group's committed offset), with the records read (`stored`, by key; empty when nothing was newly
   * assigned). Throws a RangeError if a record does not decode.
   *
   * @example
   * ```ts
   * const { restored } = await transactions.assign([1, 4]);
   * for (const [partition, record] of restored) states.restore(partition, record.state);
   * ```
   */
  async assign(partitions: readonly number[]): Promise<Assigned> {
    const wanted = new Set(partitions);
    for (const [partition, producer] of this.#producers) {
      if (wanted.has(partition)) continue;
      this.#producers.delete(partition);
      await producer.close();
    }
    const added = [...wanted].filter((p) => !this.#producers.has(p)).sort((p, q) => p - q);
    const { groupId, topic, transactionTimeout, compression, onRetry } = this.#options;
    const opened = await Promise.allSettled(added.map((partition) =>
      ResultProducer.open(this.#kafka, {
        transactionalId: partitionTransactionalId(groupId, topic, partition),
        ...(transactionTimeout !== undefined ? { transactionTimeout } : {}),
        ...(compression !== undefined ? { compression } : {}),
        ...(onRetry !== undefined
          ? { onRetry: (line: string) => onRetry(`partition ${partition}: ${line}`) }
          : {}),
      })
    ));
    let failure: unknown;
    opened.forEach((result, i) => {
      if (result.status === "fulfilled") this.#producers.set(added[i], result.value);
      else failure ??= result.reason;
    });
    if (failure !== undefined) throw failure;
    const restored = new Map<number, PartitionRecord>();
    if (added.length === 0) return { restored, stored: new Map() };
    // After the fencing above: no old owner's transaction is open any more, so the records read are
    // those committed with the group's offsets of these partitions.
    const stored = await readStateTopic(this.#kafka, {
      topic: this.#options.stateTopic,
      groupId,
      ...(this.#options.sessionTimeout !== undefined ? { sessionTimeout: this.#options.sessionTimeout } : {}),
      // Another reader's transaction open in the topic is waited for: at most until it times out.
      timeoutMs: (transactionTimeout ?? DEFAULT_TRANSACTION_TIMEOUT) + 30_000,
    });
    const newly = new Set(added);
    for (const [key, value] of stored) {
      const partition = partitionOfKey(key);
      if (partition === undefined || !newly.has(partition)) continue;
      restored.set(
        partition,
        decodePartitionRecord(value, `record "${key}" of "${this.#options.stateTopic}"`),
      );
    }
    return { restored, stored };
  }

  /**
   * Commits each partition's share of a batch in that partition's transaction (all at once, in
   * parallel), with its next offset for the group. A partition's transaction commits or not
   * independently of the others'. Throws the first failure (a `FencedError` if another reader has taken
   * the partition over) after all have ended, or an Error for a partition not assigned.
   *
   * @example
   * ```ts
   * await transactions.commit([{ partition: 0, next: 501, messages: [{ topic: "g.streamreg-state", messages: [record] }] }]);
   * ```
   */
  async commit(batches: readonly PartitionBatch[]): Promise<void> {
    const results = await this.commitEach(batches);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  /**
   * As {@linkcode PartitionTransactions.commit}, but resolves to each partition's outcome, in the order
   * of `batches` (a rejected one did not commit: a `FencedError` if another reader has the partition).
   *
   * @example
   * ```ts
   * const outcomes = await transactions.commitEach(batches);
   * outcomes.filter((o) => o.status === "rejected"); // the partitions that did not commit
   * ```
   */
  async commitEach(batches: readonly PartitionBatch[]): Promise<PromiseSettledResult<void>[]> {
    const { groupId, topic } = this.#options;
    for (const { partition } of batches) {
      if (!this.#producers.has(partition)) {
        throw new Error(
          `partition ${partition} of "${topic}" is not assigned to this reader: please report this`,
        );
      }
    }
    return await Promise.allSettled(
      batches.map(({ partition, next, messages }) =>
        this.#producers.get(partition)!.commit(messages, {
          groupId,
          topic,
          partitions: [{ partition, offset: next }],
        })
      ),
    );
  }

  /**
   * Aborts open transactions and disconnects every producer.
   *
   * @example
   * ```ts
   * await transactions.close();
   * ```
   */
  async close(): Promise<void> {
    const producers = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.all(producers.map((producer) => producer.close()));
  }
}
