/**
 * For `kafka_record_decoder_test.ts`, run as a fresh process: reads a topic with a kafkajs consumer made
 * from streamreg's kafkajs (`loadKafkajs`, the first to load kafkajs here, as in streamreg's own runs) and
 * prints what it saw and how many record batches and fetched batches streamreg's code made, as JSON.
 *
 * Run: `deno run -A test/kafka_record_decoder_probe.ts BROKER TOPIC COUNT` (or `bun run ...`).
 * @module
 */
import process from "node:process";
import { loadKafkajs } from "../src/sources/kafka/kafkajs_module.ts";
import {
  batchConstructorInstalled,
  constructedBatches,
  decodedBatches,
  installRecordDecoder,
} from "../src/sources/kafka/kafkajs_record_hook.ts";

const [brokerAddress, topic, countText] = process.argv.slice(2);
const count = Number(countText);
const { Kafka, logLevel } = await loadKafkajs();
const kafka = new Kafka({
  clientId: "streamreg-probe",
  brokers: [brokerAddress],
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({ groupId: `probe-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
const offsets: string[] = [];
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await new Promise<void>((resolve) => {
  consumer.run({
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) offsets.push(m.offset);
      if (offsets.length >= count) resolve();
      return Promise.resolve();
    },
  });
});
await consumer.disconnect();
console.log(JSON.stringify({
  installed: installRecordDecoder(),
  batchInstalled: batchConstructorInstalled(),
  decoded: decodedBatches(),
  constructed: constructedBatches(),
  offsets,
}));
process.exit(0);
