/**
 * Reads every message of a topic up to its current end, as a read_committed consumer (kafkajs with
 * `readUncommitted: false`) sees them: aborted transactions left out. For the tests of `--output-topic`.
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { broker, unique } from "./kafka_helpers.ts";
import { registerCompressionCodecs } from "../src/sources/kafka/compression_codecs.ts";

/** One message as read. */
export interface ReadMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

function client(brokers?: readonly string[]): Kafka {
  return new Kafka({
    clientId: "streamreg-test-reader",
    brokers: brokers !== undefined ? [...brokers] : [broker().plaintext],
    connectionTimeout: 3000,
    retry: { retries: 2, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
  });
}

/**
 * The topic's messages (all partitions, each in offset order), read_committed, up to the end offsets of
 * now; from the test broker, or from `brokers` (the three-broker cluster, say).
 */
export async function readTopic(
  topic: string,
  options: { timeoutMs?: number; brokers?: readonly string[] } = {},
): Promise<ReadMessage[]> {
  await registerCompressionCodecs(); // (snappy, LZ4, zstd: kafkajs reads only gzip by itself)
  const kafka = client(options.brokers);
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const offsets = (await admin.fetchTopicOffsets(topic)).filter((o) => Number(o.high) > Number(o.low));
    ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const got: ReadMessage[] = [];
  if (ends.size === 0) return got;
  const left = new Set(ends.keys());
  const consumer = kafka.consumer({ groupId: unique("read"), maxWaitTimeInMs: 100, readUncommitted: false });
  const reached = (partition: number, last: number) => {
    if (last >= (ends.get(partition) ?? 0) - 1) left.delete(partition);
  };
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
    if (event.payload.batchSize === 0) reached(event.payload.partition, Number(event.payload.lastOffset));
    if (left.size === 0) finish();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        const end = ends.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          if (Number(m.offset) >= end) break;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
          got.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key === null ? null : m.key.toString(),
            value: m.value === null ? null : m.value.toString(),
            headers,
          });
        }
        reached(batch.partition, Number(batch.lastOffset()));
        if (left.size === 0) finish();
        return Promise.resolve();
      },
    });
    const timeout = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`read ${got.length} messages of ${topic}, not up to its end`)),
          timeout,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return got.sort((p, q) => p.partition - q.partition || p.offset - q.offset);
}
