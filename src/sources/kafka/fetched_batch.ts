/**
 * A cheaper constructor for kafkajs 2.2.4's `Batch` (`consumer/batch.js`, the messages of one fetched
 * partition that `eachBatch` receives). kafkajs's constructor keeps the messages at or after the fetched
 * offset by parsing every message's offset into a BigInt-backed `Long`; this one compares plain numbers
 * when both offsets are safe integers written as such (and uses kafkajs's `Long` otherwise), then sets the
 * same fields in the same order, with kafkajs's `filterAbortedMessages` and control-record filter. The
 * object's prototype is kafkajs's `Batch.prototype`: every method (`isEmpty`, `lastOffset`, `offsetLag`,
 * ...) is kafkajs's own and `instanceof` holds.
 *
 * @example
 * ```ts
 * import { createRequire } from "node:module";
 * import { createBatchConstructor } from "./fetched_batch.ts";
 * const require = createRequire(import.meta.url);
 * const Batch = createBatchConstructor({
 *   Batch: require("kafkajs/src/consumer/batch.js"),
 *   Long: require("kafkajs/src/utils/long.js"),
 *   filterAbortedMessages: require("kafkajs/src/consumer/filterAbortedMessages.js"),
 * });
 * ```
 * @module
 */

/** What the constructor reads of a fetched message. */
interface FetchedMessage {
  /** The offset (decimal). */
  offset: string;
  /** Whether it is a control record. */
  isControlRecord?: boolean;
}

/** A fetched partition, as kafkajs's fetch response gives it. */
export interface PartitionData {
  /** The partition. */
  partition: number;
  /** Its high watermark (decimal). */
  highWatermark: string;
  /** The aborted transactions of the fetched range. */
  abortedTransactions?: unknown[];
  /** The decoded records. */
  messages: FetchedMessage[];
}

/** kafkajs's pieces the constructor uses. */
export interface KafkajsBatchInternals {
  /** consumer/batch.js (its prototype is the new objects' prototype). */
  Batch: { prototype: object };
  /** utils/long.js. */
  Long: { fromValue(value: unknown): { gte(other: unknown): boolean } };
  /** consumer/filterAbortedMessages.js. */
  filterAbortedMessages: (
    options: { messages: FetchedMessage[]; abortedTransactions?: unknown[] },
  ) => FetchedMessage[];
}

/** The fields kafkajs's constructor sets, in its order. */
interface BatchFields {
  fetchedOffset: unknown;
  topic: string;
  partition: number;
  highWatermark: string;
  rawMessages: FetchedMessage[];
  messagesWithinOffset: FetchedMessage[];
  messages: FetchedMessage[];
}

/** The number a canonical decimal string stands for, if it is a safe integer. */
function safe(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && String(n) === value ? n : undefined;
}

/**
 * A constructor (for `new`) with kafkajs's `Batch(topic, fetchedOffset, partitionData)` signature and
 * result; `onBatch` is called for each batch made (a count for tests).
 *
 * @example
 * ```ts
 * const Batch = createBatchConstructor(internals);
 * const batch = new Batch("t", "0", { partition: 0, highWatermark: "1", messages: [] });
 * ```
 */
export function createBatchConstructor(
  internals: KafkajsBatchInternals,
  options: { onBatch?: () => void } = {},
): new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => BatchFields {
  const { Long, filterAbortedMessages } = internals;
  const onBatch = options.onBatch;
  function Batch(this: BatchFields, topic: string, fetchedOffset: unknown, partitionData: PartitionData) {
    onBatch?.();
    this.fetchedOffset = fetchedOffset;
    const longFetchedOffset = Long.fromValue(fetchedOffset); // (throws where kafkajs's throws)
    const fetched = safe(fetchedOffset);
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.rawMessages = messages;
    // Messages before the fetched offset (a compressed batch starts earlier) are left out, as kafkajs does.
    this.messagesWithinOffset = messages.filter((message) => {
      if (fetched !== undefined) {
        const offset = safe(message.offset);
        if (offset !== undefined) return offset >= fetched;
      }
      return Long.fromValue(message.offset).gte(longFetchedOffset);
    });
    this.messages = filterAbortedMessages({ messages: this.messagesWithinOffset, abortedTransactions })
      .filter((message) => !message.isControlRecord);
  }
  Batch.prototype = internals.Batch.prototype;
  return Batch as unknown as new (
    topic: string,
    fetchedOffset: unknown,
    partitionData: PartitionData,
  ) => BatchFields;
}
