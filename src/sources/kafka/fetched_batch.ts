/**
 * A cheaper constructor for kafkajs 2.2.4's `Batch` (`consumer/batch.js`, the messages of one fetched
 * partition that `eachBatch` receives). kafkajs's constructor keeps the messages at or after the fetched
 * offset by parsing every message's offset into a BigInt-backed `Long`; this one compares the decimal
 * strings themselves when both are canonical (digits without a leading zero: non-negative integers; by
 * length, then character by character) and uses kafkajs's `Long` otherwise, then sets the
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

/**
 * A fetched partition, as kafkajs's fetch response gives it.
 *
 * @example
 * ```ts
 * const data: PartitionData = { partition: 0, highWatermark: "10", abortedTransactions: [], messages: [] };
 * ```
 */
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

/**
 * kafkajs's pieces the constructor uses.
 *
 * @example
 * ```ts
 * const internals: KafkajsBatchInternals = { Batch, Long, filterAbortedMessages };
 * ```
 */
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

/**
 * The offset as a canonical decimal string of a non-negative integer (digits, no leading zero), or
 * undefined: for the fetched offset, a string or a number.
 */
function canonical(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  return typeof value === "string" && digitsOnly(value) ? value : undefined;
}

/** Whether `text` is decimal digits without a leading zero: a non-negative integer, as BigInt reads it. */
function digitsOnly(text: string): boolean {
  const length = text.length;
  if (length === 0) return false;
  if (text.charCodeAt(0) === 48) return length === 1; // "0"
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
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
    const fetched = canonical(fetchedOffset);
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.rawMessages = messages;
    // Messages before the fetched offset (a compressed batch starts earlier) are left out, as kafkajs does.
    // Two canonical decimal strings compare as numbers by length, then character by character.
    this.messagesWithinOffset = messages.filter((message) => {
      const offset = message.offset;
      if (fetched !== undefined && typeof offset === "string" && digitsOnly(offset)) {
        return offset.length !== fetched.length ? offset.length > fetched.length : offset >= fetched;
      }
      return Long.fromValue(offset).gte(longFetchedOffset);
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
