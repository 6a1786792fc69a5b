/**
 * `readStateTopic` against the real test broker, where transactions of several producers interleave (as
 * in the state topic of `--readers many`, one transactional id per input partition): a record committed
 * after another producer opened a transaction lies beyond the topic's last stable offset, and is read
 * all the same (the read waits for the open transaction to end). Fails (does not skip) when the broker
 * is not running.
 * @module
 */
import assert from "node:assert/strict";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { test } from "./harness.ts";
import { broker, CURRENT, unique } from "./kafka_helpers.ts";
import { ensureCompactedTopic, readStateTopic } from "../src/sources/kafka/state_topic.ts";

const kafka = () =>
  new Kafka({ clientId: "streamreg-test", brokers: [broker().plaintext], logLevel: logLevel.NOTHING });

async function transactional(client: Kafka, id: string): Promise<Producer> {
  const producer = client.producer({ transactionalId: unique(id), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

for (const end of ["commit", "abort"] as const) {
  test(
    `kafka state topic (${CURRENT}): a record committed after another producer's transaction opened is read; the open one is waited for (${end})`,
    async () => {
      const client = kafka();
      const topic = unique("state-lso");
      await ensureCompactedTopic(client, topic);
      const [first, second] = [await transactional(client, "a"), await transactional(client, "b")];
      try {
        // The first producer's transaction opens at the topic's first offset and stays open...
        const open = await first.transaction();
        await open.send({ topic, messages: [{ key: "k/3/a", value: "open" }] });
        // ...while the second commits one after it: beyond the last stable offset.
        const committed = await second.transaction();
        await committed.send({ topic, messages: [{ key: "p/0", value: "committed" }] });
        await committed.commit();
        let read = false;
        const reading = readStateTopic(client, { topic, groupId: unique("g"), timeoutMs: 30_000 });
        void reading.then(() => (read = true), () => {});
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.ok(!read, "the read ended before the open transaction did");
        await (end === "commit" ? open.commit() : open.abort());
        const entries = await reading;
        const text = Object.fromEntries([...entries].map(([k, v]) => [k, new TextDecoder().decode(v)]));
        assert.deepEqual(
          text,
          end === "commit" ? { "k/3/a": "open", "p/0": "committed" } : { "p/0": "committed" },
        );
      } finally {
        await first.disconnect();
        await second.disconnect();
      }
    },
    { timeoutMs: 60_000 },
  );
}
