/**
 * The compacted topic of `--state kafka`: its name (from the group), creating it, and reading it back.
 *
 * The topic holds, by key, the latest value of every entry of a reader's state (a later record with the
 * same key replaces an earlier one, a tombstone deletes it): compaction keeps the topic as large as the
 * state, not as the history. It is written only in transactions (with the results and the offsets), and
 * read with `isolation.level=read_committed`, so a reader restores exactly the state of the last
 * committed batch.
 *
 * @example
 * ```ts
 * import { readStateTopic, stateTopicName } from "./state_topic.ts";
 * const entries = await readStateTopic(kafka, { topic: stateTopicName("streamreg"), groupId: "streamreg" });
 * entries.get("checkpoint"); // the bytes of the last checkpoint, if any
 * ```
 * @module
 */

import type { Kafka } from "kafkajs";
import { withDeadline } from "./connection.ts";

/**
 * The state topic of a group: `<group>.streamreg-state`.
 *
 * @example
 * ```ts
 * stateTopicName("streamreg"); // "streamreg.streamreg-state"
 * ```
 */
export function stateTopicName(groupId: string): string {
  return `${groupId}.streamreg-state`;
}

/**
 * Creates the topic if it does not exist, with `cleanup.policy=compact` (one partition, the broker's
 * replication factor); resolves to true if it created it. An existing topic is left as it is.
 *
 * @example
 * ```ts
 * await ensureCompactedTopic(kafka, "streamreg.streamreg-state"); // true the first time
 * ```
 */
export async function ensureCompactedTopic(kafka: Kafka, topic: string): Promise<boolean> {
  return await ensureTopic(kafka, topic, { compact: true });
}

/**
 * Creates the topic if it does not exist (one partition; compacted if `compact`); resolves to true if
 * it created it.
 *
 * @example
 * ```ts
 * await ensureTopic(kafka, "results", { compact: false });
 * ```
 */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  options: { compact: boolean },
): Promise<boolean> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (topics.includes(topic)) return false;
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        numPartitions: 1,
        ...(options.compact ? { configEntries: [{ name: "cleanup.policy", value: "compact" }] } : {}),
      }],
    });
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Options of {@linkcode readStateTopic}.
 *
 * @example
 * ```ts
 * const options: ReadStateOptions = { topic: "g.streamreg-state", groupId: "g", timeoutMs: 60_000 };
 * ```
 */
export interface ReadStateOptions {
  /** The state topic. */
  readonly topic: string;
  /** The reader's group (each restore uses a new group named after it, and commits nothing). */
  readonly groupId: string;
  /** Give up after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** The consumer's session timeout (the connection's). */
  readonly sessionTimeout?: number;
}

/**
 * Reads the whole topic (read_committed) up to its current end and returns the latest value of every
 * key, in the order of their last records; a tombstone removes its key. Resolves to an empty map for an
 * empty topic.
 *
 * @example
 * ```ts
 * const entries = await readStateTopic(kafka, { topic: "g.streamreg-state", groupId: "g" });
 * ```
 */
export async function readStateTopic(
  kafka: Kafka,
  options: ReadStateOptions,
): Promise<Map<string, Uint8Array>> {
  const { topic } = options;
  const admin = kafka.admin();
  let ends: Map<number, { low: number; high: number }>;
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const entries = new Map<string, Uint8Array>();
  const open = [...ends].filter(([, { low, high }]) => high > low).map(([partition]) => partition);
  if (open.length === 0) return entries;

  const consumer = kafka.consumer({
    // A group of its own for each restore (it commits nothing, so it is dropped once empty): a restore
    // killed midway never keeps the next one waiting for the killed member's session to time out.
    groupId: `${options.groupId}.streamreg-state-restore-${Date.now().toString(36)}-${
      Math.random().toString(36).slice(2, 8)
    }`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    ...(options.sessionTimeout !== undefined
      ? {
        sessionTimeout: options.sessionTimeout,
        heartbeatInterval: Math.min(3000, options.sessionTimeout / 3),
      }
      : {}),
  });
  const left = new Set(open);
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const reached = (partition: number, last: number) => {
    const end = ends.get(partition);
    if (end !== undefined && last >= end.high - 1) left.delete(partition);
    if (left.size === 0) finish();
  };
  consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
    // Transaction markers or aborted records only (no eachBatch follows): read up to their end.
    if (event.payload.batchSize === 0) reached(event.payload.partition, Number(event.payload.lastOffset));
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition)?.high ?? Infinity;
        for (const message of batch.messages) {
          if (Number(message.offset) >= end) break;
          const key = message.key?.toString() ?? "";
          entries.delete(key);
          if (message.value !== null) entries.set(key, new Uint8Array(message.value));
        }
        reached(batch.partition, Number(batch.lastOffset()));
        await Promise.resolve();
      },
    });
    const timeout = options.timeoutMs ?? 60_000;
    await withDeadline(
      done,
      timeout,
      () =>
        `could not read the state topic "${topic}" to its end within ${timeout / 1000} s ` +
        `(partitions ${[...left].join(", ")} not read up to their end offsets)`,
    );
  } finally {
    await withDeadline(consumer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
  }
  return entries;
}
