/**
 * The producer of `--output-topic` (and of `--state kafka`'s records): plain, or transactional for
 * exactly-once output from a Kafka source.
 *
 * **Transactional** (`transactionalId` given): an idempotent kafkajs producer with that
 * `transactional.id`. Opening it (InitProducerId) fences every earlier producer with the same id — a
 * reader that was paused or cut off and comes back (a zombie) — and aborts its open transaction. Each
 * {@linkcode ResultProducer.commit} is one transaction: the batch's messages (results, state records) and
 * the consumed offsets of the group (`sendOffsets`), committed together or not at all. A reader of the
 * topics with `isolation.level=read_committed` sees every batch exactly once. A producer fenced by a
 * newer one throws a {@linkcode FencedError}.
 *
 * **Plain**: each commit sends the messages (acks from all in-sync replicas) and resolves when the
 * broker has them: at least once.
 *
 * @example
 * ```ts
 * import { ResultProducer } from "./result_producer.ts";
 * const producer = await ResultProducer.open(kafka, { transactionalId: "streamreg.streamreg-tx" });
 * await producer.commit([{ topic: "results", messages }], { groupId: "streamreg", topic: "points", partitions: [{ partition: 0, offset: 501 }] });
 * await producer.close();
 * ```
 * @module
 */

import type { Kafka, Producer, Transaction } from "kafkajs";
import { Buffer } from "node:buffer";
import { type CompressionName, compressionType } from "./compression_codecs.ts";
import { hasKafkaError, withDeadline } from "./connection.ts";
import { loadKafkajs } from "./kafkajs_module.ts";

/**
 * A message to produce: text key and value (a null value is a tombstone), record headers.
 *
 * @example
 * ```ts
 * const message: OutgoingMessage = { key: "e/k", value: null };
 * ```
 */
export interface OutgoingMessage {
  /** The key, or null. */
  readonly key: string | Uint8Array | null;
  /** The value, or null (a tombstone). */
  readonly value: string | Uint8Array | null;
  /** Record headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Messages for one topic.
 *
 * @example
 * ```ts
 * const batch: TopicMessages = { topic: "results", messages: [{ key: null, value: "{}" }] };
 * ```
 */
export interface TopicMessages {
  /** The topic. */
  readonly topic: string;
  /** Its messages, in order. */
  readonly messages: readonly OutgoingMessage[];
}

/**
 * The consumed offsets to commit with a transaction: the next offset of each partition.
 *
 * @example
 * ```ts
 * const offsets: GroupOffsets = { groupId: "streamreg", topic: "points", partitions: [{ partition: 0, offset: 42 }] };
 * ```
 */
export interface GroupOffsets {
  /** The consumer group. */
  readonly groupId: string;
  /** The topic read. */
  readonly topic: string;
  /** Per partition, the offset of the next message to read. */
  readonly partitions: readonly { readonly partition: number; readonly offset: number }[];
}

/**
 * This producer was fenced: a newer producer with the same `transactional.id` took over (or the broker
 * expired its transaction). Nothing of the open transaction is visible to read_committed readers.
 *
 * @example
 * ```ts
 * try { await producer.commit(batches); } catch (e) { if (e instanceof FencedError) exitCode = 1; }
 * ```
 */
export class FencedError extends Error {
  /** `message` says what happened and what it means. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FencedError";
  }
}

/**
 * Options of {@linkcode ResultProducer.open}.
 *
 * @example
 * ```ts
 * const options: ResultProducerOptions = { transactionalId: "g.streamreg-tx", compression: "zstd" };
 * ```
 */
export interface ResultProducerOptions {
  /** Transactional (exactly once) with this id; absent: a plain producer. */
  readonly transactionalId?: string;
  /** The transaction timeout in ms (transaction.timeout.ms); default kafkajs's 60 000. */
  readonly transactionTimeout?: number;
  /** The codec of the batches produced. Default none. */
  readonly compression?: CompressionName;
}

/**
 * The {@linkcode FencedError} of a producer with this transactional id.
 *
 * @example
 * ```ts
 * throw fencedError("streamreg.streamreg-tx", cause);
 * ```
 */
export function fencedError(transactionalId: string, cause: unknown): FencedError {
  return new FencedError(
    `this reader was fenced: a newer producer with transactional.id "${transactionalId}" ` +
      `(another reader of the group) has taken over, or the broker aborted this reader's transaction ` +
      `after transaction.timeout.ms; its open batch is aborted (read_committed readers never see it) ` +
      `and it stops`,
    { cause },
  );
}

/** A transaction's commit failed: whether it took effect is unknown (so it is not tried again). */
class CommitUnknown extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The error types that mean a newer producer with the same transactional id exists. */
const FENCED = ["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "KafkaJSNonRetriableError:fenced"];

/**
 * True if `error` says the producer was fenced.
 *
 * @example
 * ```ts
 * if (isFenced(error)) console.error("another reader took over");
 * ```
 */
export function isFenced(error: unknown): boolean {
  if (error instanceof FencedError) return true;
  return FENCED.some((type) => hasKafkaError(error, type)) ||
    /old epoch|fenced/i.test(error instanceof Error ? error.message : "");
}

/**
 * A connected producer of result (and state) messages.
 *
 * @example
 * ```ts
 * const producer = await ResultProducer.open(kafka, {});
 * ```
 */
export class ResultProducer {
  readonly #producer: Producer;
  readonly #transactional: string | undefined;
  readonly #compression: number;
  #transaction: Transaction | undefined;

  private constructor(producer: Producer, options: ResultProducerOptions) {
    this.#producer = producer;
    this.#transactional = options.transactionalId;
    this.#compression = compressionType(options.compression ?? "none");
  }

  /** The transactional id, if transactional. */
  get transactionalId(): string | undefined {
    return this.#transactional;
  }

  /**
   * Connects; a transactional producer also fences older producers with its id (and aborts their open
   * transaction) before this resolves.
   *
   * @example
   * ```ts
   * const producer = await ResultProducer.open(kafka, { transactionalId: "g.streamreg-tx" });
   * ```
   */
  static async open(kafka: Kafka, options: ResultProducerOptions): Promise<ResultProducer> {
    const id = options.transactionalId;
    const { Partitioners } = await loadKafkajs();
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      // Keys to partitions as the Java client does (murmur2), so a key's lines stay in one partition.
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(id !== undefined
        ? {
          transactionalId: id,
          idempotent: true,
          maxInFlightRequests: 1,
          // Idempotence needs a send to be retried until it is known to have landed (a broker outage is
          // waited out); errors that cannot be retried, such as being fenced, still end it at once.
          retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 3_000 },
          ...(options.transactionTimeout !== undefined
            ? { transactionTimeout: options.transactionTimeout }
            : {}),
        }
        : {}),
    });
    await producer.connect();
    const out = new ResultProducer(producer, options);
    if (id !== undefined) {
      // InitProducerId happens on the first transaction: begin one and abort it now, so that older
      // producers with this id are fenced (and their open transaction aborted) before anything is read.
      try {
        const transaction = await producer.transaction();
        await transaction.abort();
      } catch (error) {
        await producer.disconnect().catch(() => {});
        throw error;
      }
    }
    return out;
  }

  /**
   * Produces one batch: in one transaction with `offsets` if transactional (then nothing of it is
   * visible to read_committed readers unless all of it is), else plainly (`offsets` must be absent).
   * Throws {@linkcode FencedError} if a newer producer with the same id took over.
   *
   * @example
   * ```ts
   * await producer.commit([{ topic: "results", messages }], offsets);
   * ```
   */
  async commit(batches: readonly TopicMessages[], offsets?: GroupOffsets): Promise<void> {
    const topicMessages = batches.filter((b) => b.messages.length > 0).map(({ topic, messages }) => ({
      topic,
      messages: messages.map(toKafkajs),
    }));
    if (this.#transactional === undefined) {
      if (offsets !== undefined) throw new Error("offsets need a transactional producer");
      if (topicMessages.length > 0) {
        await this.#producer.sendBatch({ topicMessages, compression: this.#compression, acks: -1 });
      }
      return;
    }
    if (topicMessages.length === 0 && (offsets === undefined || offsets.partitions.length === 0)) return;
    try {
      await this.#transact(topicMessages, offsets);
    } catch (error) {
      if (isFenced(error) || error instanceof CommitUnknown) throw this.#fenced(error);
      // Failed before its commit (a request timed out, a broker went away): aborted, so once more.
      await this.#transact(topicMessages, offsets).catch((again) => {
        throw isFenced(again) ? this.#fenced(again) : again instanceof CommitUnknown ? again.cause : again;
      });
    }
  }

  /**
   * Whether a newer producer with the same transactional id has fenced this one: commits a transaction
   * holding only `offsets` — those of the last batch committed, so that it changes nothing — and sees
   * whether the broker refuses it. Tries three times; false if it cannot tell.
   *
   * @example
   * ```ts
   * if (await producer.isFenced(lastOffsets)) console.error("another reader took over");
   * ```
   */
  async isFenced(offsets: GroupOffsets): Promise<boolean> {
    if (this.#transactional === undefined || offsets.partitions.length === 0) return false;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#transact([], offsets);
        return false;
      } catch (error) {
        if (isFenced(error)) return true;
      }
    }
    return false;
  }

  /** One transaction; an error after the commit was asked for is a {@linkcode CommitUnknown}. */
  async #transact(
    topicMessages: { topic: string; messages: ReturnType<typeof toKafkajs>[] }[],
    offsets: GroupOffsets | undefined,
  ): Promise<void> {
    const transaction = await this.#producer.transaction();
    this.#transaction = transaction;
    let committing = false;
    try {
      if (topicMessages.length > 0) {
        await transaction.sendBatch({ topicMessages, compression: this.#compression, acks: -1 });
      }
      if (offsets !== undefined && offsets.partitions.length > 0) {
        await transaction.sendOffsets({
          consumerGroupId: offsets.groupId,
          topics: [{
            topic: offsets.topic,
            partitions: offsets.partitions.map(({ partition, offset }) => ({
              partition,
              offset: String(offset),
            })),
          }],
        });
      }
      committing = true;
      await transaction.commit();
      this.#transaction = undefined;
    } catch (error) {
      this.#transaction = undefined;
      if (isFenced(error)) throw error;
      if (committing) throw new CommitUnknown(error);
      if (transaction.isActive()) await transaction.abort(); // (fenced: throws that)
      throw error;
    }
  }

  #fenced(error: unknown): Error {
    if (!isFenced(error)) return error instanceof CommitUnknown ? error.cause as Error : error as Error;
    return fencedError(this.#transactional ?? "", error);
  }

  /**
   * Aborts an open transaction, if any, and disconnects.
   *
   * @example
   * ```ts
   * await producer.close();
   * ```
   */
  async close(): Promise<void> {
    const open = this.#transaction;
    this.#transaction = undefined;
    if (open?.isActive()) await open.abort().catch(() => {});
    await withDeadline(this.#producer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
  }
}

function toKafkajs(message: OutgoingMessage) {
  const bytes = (v: string | Uint8Array | null) =>
    v === null ? null : typeof v === "string" ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return {
    key: bytes(message.key),
    value: bytes(message.value),
    ...(message.headers ? { headers: { ...message.headers } } : {}),
  };
}
