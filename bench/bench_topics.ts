/**
 * Shared by the Kafka benchmarks: a one-partition topic made to hold a given number of messages, kept
 * between runs when it already does.
 * @module
 */
import type { Admin } from "kafkajs";

/**
 * True when `topic` already has one partition holding exactly `messages` messages from offset 0; else
 * deletes it (if it exists), creates it empty with one partition and returns false: the caller fills it.
 *
 * @example
 * ```ts
 * if (!(await holdsOrEmpty(admin, "bench-points", 1_000_001))) await fill("bench-points");
 * ```
 */
export async function holdsOrEmpty(admin: Admin, topic: string, messages: number): Promise<boolean> {
  const exists = (await admin.listTopics()).includes(topic);
  const offsets = exists ? await admin.fetchTopicOffsets(topic) : [];
  if (offsets.length === 1 && offsets[0].low === "0" && Number(offsets[0].high) === messages) return true;
  if (exists) {
    await admin.deleteTopics({ topics: [topic] });
    while ((await admin.listTopics()).includes(topic)) await new Promise((r) => setTimeout(r, 200));
  }
  for (let attempt = 0;; attempt++) {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      return false;
    } catch (error) {
      if (attempt > 20) throw error; // the deletion may still be in progress
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
