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
 * Each partition's first offset and high watermark (the offset after its last record, committed,
 * aborted or in a transaction still open). kafkajs's admin client asks for the end offsets with
 * isolation level read_committed, which gives the last stable offset instead: the first record of the
 * oldest open transaction. In a topic where several producers' transactions interleave (the state topic
 * of `--readers many`: one transactional id per partition of the input), records committed after
 * another producer opened its transaction lie beyond that offset; a reader stopping there would restore
 * an older state. So the end offsets are asked for with read_uncommitted, through a client of kafkajs
 * 2.2.4's own (`Kafka`'s private cluster factory); where that is missing (another kafkajs), through the
 * admin client as before.
 */
async function logEnds(kafka: Kafka, topic: string): Promise<Map<number, { low: number; high: number }>> {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) =>
    s.description === "private:Kafka:createCluster"
  );
  const createCluster = factory === undefined
    ? undefined
    : (kafka as unknown as Record<symbol, unknown>)[factory];
  if (typeof createCluster !== "function") {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  const cluster = createCluster({
    isolationLevel: READ_UNCOMMITTED,
    allowAutoTopicCreation: false,
  }) as KafkajsCluster;
  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const offsets = async (fromBeginning: boolean) =>
      new Map(
        (await cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions }]))
          .flatMap((t) => t.partitions)
          .map((p) => [p.partition, Number(p.offset)]),
      );
    const [low, high] = await Promise.all([offsets(true), offsets(false)]);
    return new Map(
      [...high].map(([partition, end]) => [partition, { low: low.get(partition) ?? 0, high: end }]),
    );
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/** kafkajs's isolation level read_uncommitted (`protocol/isolationLevel.js`). */
const READ_UNCOMMITTED = 0;

/** What {@linkcode logEnds} uses of kafkajs 2.2.4's `Cluster` (`cluster/index.js`). */
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * Reads the whole topic (read_committed) up to its current end and returns the latest value of every
 * key, in the order of their last records; a tombstone removes its key. Resolves to an empty map for an
 * empty topic. The end is each partition's high watermark when the read starts (see `logEnds`): a
 * transaction still open before it is waited for, so that every record committed by then is read.
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
  const ends = await logEnds(kafka, topic);
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
        `(partitions ${[...left].join(", ")} not read up to their end offsets: a transaction still ` +
        "open there is waited for until its producer commits or aborts it, is fenced, or it times out " +
        "(transaction.timeout.ms))",
    );
  } finally {
    await withDeadline(consumer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
  }
  return entries;
}
