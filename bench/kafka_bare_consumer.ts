/**
 * The ceiling for `bench/kafka_bench.ts`: a bare kafkajs consumer that only reads a topic, from the
 * beginning in a new group, until it has reached the end offsets seen at its start, with the same client
 * and fetch settings as `--source kafka`. Prints `{"messages": N, "bytes": B}` on stdout. It is stock
 * kafkajs: streamreg's record batch decoder (`src/sources/kafka/kafkajs_record_hook.ts`) is kept out
 * (`STREAMREG_KAFKAJS_DECODER=kafkajs`), unless `--streamreg-decoder` is given.
 *
 * Run: `deno run -A bench/kafka_bare_consumer.ts -b HOST:PORT -t TOPIC -G GROUP [--streamreg-decoder]`
 * (or `bun run ...`).
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { createKafka, resolveConnection } from "../src/sources/kafka/connection.ts";
import { parseConnectionFlags } from "../src/cli/kafka_flags.ts";
import { KAFKA_FETCH_DEFAULTS } from "../src/sources/kafka/kafka_source.ts";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";

silenceTimeoutWarnings();

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    brokers: { type: "string", short: "b" },
    topic: { type: "string", short: "t" },
    group: { type: "string", short: "G" },
    "streamreg-decoder": { type: "boolean", default: false },
  },
});
// Read when kafkajs is first loaded (by createKafka below).
process.env.STREAMREG_KAFKAJS_DECODER = values["streamreg-decoder"] ? "streamreg" : "kafkajs";
const { brokers, topic, group } = values;
const connection = await resolveConnection(parseConnectionFlags({ brokers, topic, group }, { group: true }), {
  env: (name) => process.env[name],
  readText: (path) => readFile(path, "utf8"),
});
const kafka = await createKafka(connection);
const admin = kafka.admin();
await admin.connect();
const ends = new Map(
  (await admin.fetchTopicOffsets(connection.topic)).map((o) => [o.partition, Number(o.high)]),
);
await admin.disconnect();

const consumer = kafka.consumer({
  groupId: connection.groupId,
  sessionTimeout: connection.settings.consumer.sessionTimeout,
  heartbeatInterval: connection.settings.consumer.heartbeatInterval,
  allowAutoTopicCreation: false,
  ...KAFKA_FETCH_DEFAULTS,
});
await consumer.connect();
await consumer.subscribe({ topics: [connection.topic], fromBeginning: true });
let messages = 0;
let bytes = 0;
const next = new Map<number, number>();
const caughtUp = () => [...ends].every(([p, end]) => (next.get(p) ?? 0) >= end);
await new Promise<void>((resolve) => {
  if (caughtUp()) return resolve();
  consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        messages++;
        bytes += m.value?.length ?? 0;
      }
      next.set(batch.partition, Number(batch.lastOffset()) + 1);
      if (caughtUp()) resolve();
      await Promise.resolve();
    },
  });
});
await consumer.disconnect();
console.log(JSON.stringify({ messages, bytes }));
process.exit(0);
