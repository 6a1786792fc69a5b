/**
 * A reader following the state topic (read_committed) for every partition's latest `p/<partition>`
 * record: what the designated writer of many readers merges (docs/kafka.md, "Many readers").
 *
 * @example
 * ```ts
 * import { StateTail } from "./state_tail.ts";
 * const tail = await StateTail.open(kafka, { topic: "g.streamreg-state", groupId: "g" });
 * tail.records(); // Map { 1 => { partition: 1, next: 700, state }, ... }
 * await tail.close();
 * ```
 * @module
 */

import type { Consumer, Kafka } from "kafkajs";
import { decodePartitionRecord, partitionOfKey, type PartitionRecord } from "./partition_records.ts";

/**
 * Options of {@linkcode StateTail.open}.
 *
 * @example
 * ```ts
 * const options: StateTailOptions = { topic: "g.streamreg-state", groupId: "g" };
 * ```
 */
export interface StateTailOptions {
  /** The state topic. */
  readonly topic: string;
  /** The readers' group (the tail uses a group of its own named after it, and commits nothing). */
  readonly groupId: string;
  /** The consumer's session timeout. */
  readonly sessionTimeout?: number;
  /** Called with an error that ends the tail (a record that does not decode, the connection lost). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The latest committed record of every partition, as the state topic receives them.
 *
 * @example
 * ```ts
 * const tail = await StateTail.open(kafka, { topic, groupId });
 * if (tail.version !== seen) merge(tail.records());
 * ```
 */
export class StateTail {
  readonly #consumer: Consumer;
  readonly #records = new Map<number, PartitionRecord>();
  #version = 0;

  private constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  /**
   * Joins a group of its own and reads the topic from its beginning, on and on (records committed
   * only).
   *
   * @example
   * ```ts
   * const tail = await StateTail.open(kafka, { topic: "g.streamreg-state", groupId: "g" });
   * ```
   */
  static async open(kafka: Kafka, options: StateTailOptions): Promise<StateTail> {
    const consumer = kafka.consumer({
      groupId: `${options.groupId}.streamreg-state-tail-${Date.now().toString(36)}-${
        Math.random().toString(36).slice(2, 8)
      }`,
      allowAutoTopicCreation: false,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
      ...(options.sessionTimeout !== undefined
        ? {
          sessionTimeout: options.sessionTimeout,
          heartbeatInterval: Math.min(3000, options.sessionTimeout / 3),
        }
        : {}),
    });
    const tail = new StateTail(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString() ?? "";
          const partition = partitionOfKey(key);
          if (partition === undefined) continue;
          if (message.value === null) tail.#records.delete(partition);
          else {
            try {
              tail.#records.set(partition, decodePartitionRecord(new Uint8Array(message.value), key));
            } catch (error) {
              options.onError?.(error);
            }
          }
          tail.#version++;
        }
        await Promise.resolve();
      },
    });
    return tail;
  }

  /**
   * Grows each time a record arrives.
   *
   * @example
   * ```ts
   * const seen = tail.version;
   * ```
   */
  get version(): number {
    return this.#version;
  }

  /**
   * The latest record of every partition seen so far, by partition.
   *
   * @example
   * ```ts
   * for (const [partition, record] of tail.records()) merged.restore(partition, record.state);
   * ```
   */
  records(): ReadonlyMap<number, PartitionRecord> {
    return this.#records;
  }

  /**
   * Leaves the group and disconnects.
   *
   * @example
   * ```ts
   * await tail.close();
   * ```
   */
  async close(): Promise<void> {
    await this.#consumer.disconnect().catch(() => {});
  }
}
