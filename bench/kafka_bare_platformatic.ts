/**
 * A candidate client's ceiling for `bench/kafka_client_bench.ts`: a bare `@platformatic/kafka` consumer
 * that only reads a topic, from the beginning in a new group, until it has reached the end offsets seen
 * at its start (the same stopping rule as `bench/kafka_bare_consumer.ts`, the kafkajs one). Values stay
 * bytes (no deserialiser). Prints `{"messages": N, "bytes": B}` on stdout.
 *
 * Run: `deno run -A bench/kafka_bare_platformatic.ts -b HOST:PORT -t TOPIC -G GROUP [--max-bytes N]`
 * (or `bun run ...`). `--max-bytes` is the fetch size (default 1 MiB; the client's own default, 50 MiB,
 * was measured 2–7× slower here).
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Admin, Consumer } from "@platformatic/kafka";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    brokers: { type: "string", short: "b" },
    topic: { type: "string", short: "t" },
    group: { type: "string", short: "G" },
    "max-bytes": { type: "string", default: String(1 << 20) },
  },
});
const { brokers, topic, group } = values;
if (!brokers || !topic || !group) {
  console.error("kafka_bare_platformatic: -b HOST:PORT, -t TOPIC and -G GROUP are required");
  process.exit(2);
}
const bootstrapBrokers = brokers.split(",");

const admin = new Admin({ clientId: "streamreg-bench-admin", bootstrapBrokers });
const listed = await admin.listOffsets({
  topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
});
await admin.close();
const ends = new Map<number, bigint>();
for (const t of listed) for (const p of t.partitions) ends.set(p.partitionIndex, p.offset);

const consumer = new Consumer({
  clientId: "streamreg-bench",
  groupId: group,
  bootstrapBrokers,
  maxBytes: Number(values["max-bytes"]),
});
const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
let messages = 0;
let bytes = 0;
const next = new Map<number, bigint>();
const caughtUp = () => [...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end);
if (!caughtUp()) {
  for await (const m of stream) {
    messages++;
    bytes += m.value?.length ?? 0;
    next.set(m.partition, m.offset + 1n);
    if (caughtUp()) break;
  }
}
await stream.close();
await consumer.close(true);
console.log(JSON.stringify({ messages, bytes }));
process.exit(0);
