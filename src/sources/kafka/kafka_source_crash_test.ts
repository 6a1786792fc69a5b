/**
 * How the Kafka source takes kafkajs's consumer crashes, with a fake client (no broker): a retriable
 * crash (kafkajs restarts the consumer) is reported and reading goes on; a non-retriable one ends the
 * chunks with a clear message, which the CLI shows with exit code 1.
 */
import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { test } from "../../../test/harness.ts";
import { resolveConnection } from "./connection.ts";
import { parseConnectionFlags } from "../../cli/kafka_flags.ts";
import { KafkaSource } from "./kafka_source.ts";
import { silenceTimeoutWarnings } from "../../runtime/kafkajs_quiet.ts";

silenceTimeoutWarnings();

type Listener = (event: { payload: Record<string, unknown> }) => void;

/** A kafkajs stand-in: one empty partition; `emit` fires a consumer event. */
function fakeKafka() {
  const listeners = new Map<string, Listener>();
  const nothing = () => Promise.resolve();
  const consumer = {
    events: { GROUP_JOIN: "group_join", START_BATCH_PROCESS: "start_batch_process", CRASH: "crash" },
    connect: nothing,
    subscribe: nothing,
    on: (name: string, listener: Listener) => void listeners.set(name, listener),
    run: nothing,
    seek: () => {},
    pause: () => {},
    commitOffsets: nothing,
    disconnect: nothing,
  };
  const admin = {
    connect: nothing,
    disconnect: nothing,
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({ topics: topics.map((name) => ({ name })) }),
    fetchTopicOffsets: () => Promise.resolve([{ partition: 0, low: "0", high: "0" }]),
    fetchOffsets: () => Promise.resolve([]),
  };
  return {
    kafka: { admin: () => admin, consumer: () => consumer } as unknown as Kafka,
    emit: (name: string, payload: Record<string, unknown>) => listeners.get(name)?.({ payload }),
  };
}

test("kafka source: a retriable consumer crash is reported and reading goes on; a non-retriable one ends the run clearly", async () => {
  const connection = await resolveConnection(
    parseConnectionFlags({ brokers: "127.0.0.1:39999", topic: "points", group: "g" }, { group: true }),
    { env: () => undefined, readText: () => Promise.reject(new Error("no file")) },
  );
  const fake = fakeKafka();
  const messages: string[] = [];
  const source = await KafkaSource.open({
    connection,
    kafka: fake.kafka,
    message: (line) => messages.push(line),
  });
  try {
    fake.emit("group_join", { memberAssignment: { points: [0] } });
    const refused = Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:39999"), {
      code: "ECONNREFUSED",
    });
    const retriable = Object.assign(new Error("Connection error"), {
      name: "KafkaJSNumberOfRetriesExceeded",
      cause: refused,
    });
    fake.emit("crash", { error: retriable, restart: true });
    assert.deepEqual(messages, [
      "streamreg: cannot connect to Kafka at 127.0.0.1:39999: connection refused (is the broker running? check -b); reconnecting",
    ]);
    fake.emit("group_join", { memberAssignment: { points: [0] } }); // kafkajs restarted the consumer

    const iterator = source.chunks(new AbortController().signal)[Symbol.asyncIterator]();
    const next = iterator.next();
    const denied = Object.assign(new Error("Not authorized to access group"), {
      name: "KafkaJSProtocolError",
      type: "GROUP_AUTHORIZATION_FAILED",
      retriable: false,
    });
    fake.emit("crash", { error: denied, restart: false });
    await assert.rejects(
      next,
      /^Error: not authorized to use consumer group "g" on 127\.0\.0\.1:39999 \(check -G \/ group\.id\)$/,
    );
  } finally {
    await source.close().catch(() => {});
  }
});
