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
import { isRetriable, StepTimeout } from "./retriable_error.ts";

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
  /**
   * The transaction timeout in ms (transaction.timeout.ms); default kafkajs's 60 000. Also how long a
   * batch's transaction is tried again after transient failures before the run gives up.
   */
  readonly transactionTimeout?: number;
  /** The codec of the batches produced. Default none. */
  readonly compression?: CompressionName;
  /** Told, in one line, when a transaction failed and is tried again. */
  readonly onRetry?: (message: string) => void;
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

/** kafkajs's default transaction.timeout.ms. */
const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000;

/** The longest wait for an abort with the producer's own epoch (the coordinator may be gone). */
const ABORT_MS = 10_000;

/** The pause before attempt `attempt + 1`: 300 ms doubling up to 3 s, ±20 %. */
const backoff = (attempt: number) => Math.min(3_000, 300 * 2 ** attempt) * (0.8 + Math.random() * 0.4);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const messageOf = (error: unknown) => error instanceof Error ? error.message : String(error);

/** `promise`, or a {@linkcode StepTimeout} once `ms` have passed (`promise` may still settle later). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StepTimeout(`${what}: no answer within ${Math.ceil(ms / 1000)} s`)),
      Math.max(ms, 1),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A transaction failed; `committing`: its commit (EndTxn) may have been sent. */
class TransactionFailure extends Error {
  constructor(readonly error: unknown, readonly committing: boolean) {
    super(messageOf(error), { cause: error });
  }
}

type KafkajsMessages = { topic: string; messages: ReturnType<typeof toKafkajs>[] }[];

/**
 * A connected producer of result (and state) messages.
 *
 * A transactional one commits each batch exactly once. A transaction that fails on a transient error
 * (a broker or the transaction coordinator gone, a request timed out, a coordinator moved) is ended
 * and done again, with backoff, until `transactionTimeout` has passed since the batch's first
 * attempt: the failed kafkajs producer is dropped and a new one with the same `transactional.id` is
 * opened, whose InitProducerId aborts the transaction if it is still open, or waits for it to complete
 * if its commit had reached the coordinator. Each transaction writes a token of its own as the offset
 * metadata of the group's partitions, so that the group's committed offsets then tell whether it
 * committed (the batch is done) or not (it is sent again): never twice, never lost. A token of another
 * producer there means another reader took over: a {@linkcode FencedError}, as is any fenced request.
 *
 * @example
 * ```ts
 * const producer = await ResultProducer.open(kafka, {});
 * ```
 */
export class ResultProducer {
  readonly #kafka: Kafka;
  readonly #options: ResultProducerOptions;
  readonly #transactional: string | undefined;
  readonly #compression: number;
  readonly #budget: number;
  /** Tells this producer's transactions from other producers' in the group's offset metadata. */
  readonly #instance = globalThis.crypto.randomUUID();
  #count = 0;
  /** Per group, topic and partition: the offset metadata of the last transaction committed there. */
  readonly #known = new Map<string, string | null>();
  #producer: Producer;
  #transaction: Transaction | undefined;
  /** False once a transaction failed (kafkajs may be stuck in its commit) until a new one is open. */
  #usable = true;

  private constructor(kafka: Kafka, producer: Producer, options: ResultProducerOptions) {
    this.#kafka = kafka;
    this.#producer = producer;
    this.#options = options;
    this.#transactional = options.transactionalId;
    this.#compression = compressionType(options.compression ?? "none");
    this.#budget = options.transactionTimeout ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
  }

  /** The transactional id, if transactional. */
  get transactionalId(): string | undefined {
    return this.#transactional;
  }

  /**
   * Connects; a transactional producer also fences older producers with its id (and aborts their open
   * transaction) before this resolves, trying again on transient failures for up to the transaction
   * timeout.
   *
   * @example
   * ```ts
   * const producer = await ResultProducer.open(kafka, { transactionalId: "g.streamreg-tx" });
   * ```
   */
  static async open(kafka: Kafka, options: ResultProducerOptions): Promise<ResultProducer> {
    const deadline = Date.now() + (options.transactionTimeout ?? DEFAULT_TRANSACTION_TIMEOUT_MS);
    const producer = await ResultProducer.#connect(kafka, options, deadline);
    return new ResultProducer(kafka, producer, options);
  }

  /**
   * A new kafkajs producer, connected; a transactional one also initialized (InitProducerId: older
   * producers with the id are fenced, and their open transaction aborted, or completed if its commit
   * was under way). A transactional one is tried again on transient failures until `deadline`.
   */
  static async #connect(kafka: Kafka, options: ResultProducerOptions, deadline: number): Promise<Producer> {
    const id = options.transactionalId;
    const { Partitioners } = await loadKafkajs();
    for (let attempt = 0;; attempt++) {
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
      try {
        if (id === undefined) {
          await producer.connect();
          return producer;
        }
        await within(
          (async () => {
            await producer.connect();
            // InitProducerId happens on the first transaction: begin one and abort it now, so that older
            // producers with this id are fenced (and their open transaction ended) before anything is read.
            const transaction = await producer.transaction();
            await transaction.abort();
          })(),
          deadline - Date.now(),
          `opening the producer of transactional.id "${id}"`,
        );
        return producer;
      } catch (error) {
        await discard(producer);
        const pause = backoff(attempt);
        if (id === undefined || isFenced(error) || !isRetriable(error) || Date.now() + pause >= deadline) {
          throw error;
        }
        options.onRetry?.(
          `opening the producer of transactional.id "${id}" failed (${messageOf(error)}); trying again`,
        );
        await sleep(pause);
      }
    }
  }

  /**
   * Produces one batch: in one transaction with `offsets` if transactional (then nothing of it is
   * visible to read_committed readers unless all of it is), else plainly (`offsets` must be absent).
   * A transaction failing on transient errors is done again (see the class) until the transaction
   * timeout has passed; then, or on an error that cannot be retried, this throws. Throws
   * {@linkcode FencedError} if a newer producer with the same id took over.
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
    const tracked = offsets !== undefined && offsets.partitions.length > 0 ? offsets : undefined;
    if (topicMessages.length === 0 && tracked === undefined) return;
    const deadline = Date.now() + this.#budget;
    if (tracked !== undefined) await this.#learn(tracked, deadline);
    for (let attempt = 0;; attempt++) {
      const token = `streamreg ${this.#instance} ${++this.#count}`;
      try {
        if (!this.#usable) await this.#reopen(deadline);
        await this.#transact(topicMessages, tracked, token, deadline);
        this.#remember(tracked, token);
        return;
      } catch (caught) {
        const { error, committing } = caught instanceof TransactionFailure
          ? caught
          : { error: caught, committing: false };
        if (isFenced(error)) throw this.#fenced(error);
        if (!isRetriable(error)) throw error;
        if (Date.now() >= deadline) throw this.#gaveUp(error, committing);
        if (tracked === undefined && committing) {
          // No offsets to tell whether it committed: sending it again might show it twice.
          throw new Error(
            `committing a batch's transaction failed and whether it took effect is not known: ` +
              messageOf(error),
            { cause: error },
          );
        }
        this.#options.onRetry?.(
          `the transaction of a batch failed (${messageOf(error)}); ${
            committing ? "finding out whether it committed, and " : ""
          }trying again for up to ${Math.ceil((deadline - Date.now()) / 1000)} s more`,
        );
        const committed = await this.#recover(error, { offsets: tracked, token, committing, deadline })
          .catch((failure) => {
            if (isFenced(failure)) throw this.#fenced(failure);
            throw isRetriable(failure) ? this.#gaveUp(failure, committing) : failure;
          });
        if (committed) {
          this.#remember(tracked, token);
          return;
        }
        await sleep(Math.min(backoff(attempt), Math.max(0, deadline - Date.now())));
      }
    }
  }

  /**
   * After a failed transaction: opens a new kafkajs producer, which ends it (aborted if still open,
   * else its commit completed), and tells from the group's offset metadata whether it committed.
   * Throws a {@linkcode FencedError} if another producer committed since this one's last commit.
   */
  async #recover(
    error: unknown,
    attempt: { offsets: GroupOffsets | undefined; token: string; committing: boolean; deadline: number },
  ): Promise<boolean> {
    const { offsets, token, committing, deadline } = attempt;
    // If another producer with this id has committed since, this one was fenced: it must not fence that
    // one in turn by opening a new producer.
    if (offsets !== undefined && this.#foreign(await this.#read(offsets, deadline), token)) {
      throw this.#fenced(error);
    }
    await this.#reopen(deadline);
    if (offsets === undefined) return false;
    let seen = await this.#read(offsets, deadline);
    if (committing && !this.#all(seen, token)) {
      // (the group coordinator applies a committed transaction's offsets just after its marker)
      await sleep(1_000);
      seen = await this.#read(offsets, deadline);
    }
    if (this.#all(seen, token)) return true;
    if (this.#foreign(seen, token)) throw this.#fenced(error);
    return false;
  }

  /**
   * Whether a newer producer with the same transactional id has fenced this one: whether the group's
   * offsets of `offsets`' partitions were committed by another producer since this one's last commit,
   * else (when this producer can still commit) commits a transaction holding only `offsets` — those of
   * the last batch committed, so that it changes nothing — and sees whether the broker refuses it.
   * Tries three times; false if it cannot tell.
   *
   * @example
   * ```ts
   * if (await producer.isFenced(lastOffsets)) console.error("another reader took over");
   * ```
   */
  async isFenced(offsets: GroupOffsets): Promise<boolean> {
    if (this.#transactional === undefined || offsets.partitions.length === 0) return false;
    const seen = await this.#read(offsets, Date.now() + ABORT_MS).catch(() => undefined);
    if (seen !== undefined && this.#foreign(seen, undefined)) return true;
    for (let attempt = 0; attempt < 3 && this.#usable; attempt++) {
      const token = `streamreg ${this.#instance} ${++this.#count}`;
      try {
        await this.#transact([], offsets, token, Date.now() + ABORT_MS);
        this.#remember(offsets, token);
        return false;
      } catch (error) {
        if (isFenced(error instanceof TransactionFailure ? error.error : error)) return true;
      }
    }
    return false;
  }

  /**
   * One transaction on the current kafkajs producer, bounded by `deadline`; on failure throws a
   * {@linkcode TransactionFailure} and leaves the producer to be replaced. A failure before the commit
   * is aborted with the producer's own epoch when the coordinator answers (which also tells if it was
   * fenced).
   */
  async #transact(
    topicMessages: KafkajsMessages,
    offsets: GroupOffsets | undefined,
    token: string,
    deadline: number,
  ): Promise<void> {
    const progress = { committing: false, transaction: undefined as Transaction | undefined };
    const steps = async () => {
      const transaction = await this.#producer.transaction();
      this.#transaction = progress.transaction = transaction;
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
              metadata: token,
            })),
          }],
        });
      }
      progress.committing = true;
      await transaction.commit();
    };
    try {
      await within(steps(), deadline - Date.now(), "a batch's transaction");
    } catch (error) {
      this.#usable = false;
      const transaction = progress.transaction;
      if (!progress.committing && !isFenced(error) && transaction?.isActive()) {
        const aborted = await within(
          transaction.abort(),
          Math.min(ABORT_MS, deadline - Date.now()),
          "aborting a batch's transaction",
        ).then(() => undefined, (e) => e);
        if (aborted !== undefined && isFenced(aborted)) throw new TransactionFailure(aborted, false);
      }
      throw new TransactionFailure(error, progress.committing);
    } finally {
      this.#transaction = undefined;
    }
  }

  /** Drops the kafkajs producer and opens a new one with the same transactional id. */
  async #reopen(deadline: number): Promise<void> {
    this.#usable = false;
    const old = this.#producer;
    this.#transaction = undefined;
    await discard(old);
    this.#producer = await ResultProducer.#connect(this.#kafka, this.#options, deadline);
    this.#usable = true;
  }

  /** The group's committed offset metadata of `offsets`' partitions, by key; retried until `deadline`. */
  async #read(offsets: GroupOffsets, deadline: number): Promise<Map<string, string | null>> {
    for (let attempt = 0;; attempt++) {
      const admin = this.#kafka.admin();
      try {
        const answer = await within(
          (async () => {
            await admin.connect();
            return await admin.fetchOffsets({ groupId: offsets.groupId, topics: [offsets.topic] });
          })(),
          deadline - Date.now(),
          `reading the committed offsets of group "${offsets.groupId}"`,
        );
        const metadata = new Map<number, string | null>();
        for (const topic of answer) {
          if (topic.topic !== offsets.topic) continue;
          for (const p of topic.partitions) metadata.set(p.partition, p.metadata ?? null);
        }
        return new Map(
          offsets.partitions.map(({ partition }) => [
            offsetKey(offsets, partition),
            metadata.get(partition) ?? null,
          ]),
        );
      } catch (error) {
        const pause = backoff(attempt);
        if (!isRetriable(error) || Date.now() + pause >= deadline) throw error;
        await sleep(pause);
      } finally {
        await withDeadline(admin.disconnect(), 5_000, () => "").catch(() => {});
      }
    }
  }

  /** Reads the offset metadata of the partitions not seen yet (before a first transaction on them). */
  async #learn(offsets: GroupOffsets, deadline: number): Promise<void> {
    if (offsets.partitions.every(({ partition }) => this.#known.has(offsetKey(offsets, partition)))) return;
    for (const [key, metadata] of await this.#read(offsets, deadline)) {
      if (!this.#known.has(key)) this.#known.set(key, metadata);
    }
  }

  #remember(offsets: GroupOffsets | undefined, token: string): void {
    for (const { partition } of offsets?.partitions ?? []) {
      this.#known.set(offsetKey(offsets!, partition), token);
    }
  }

  /** Whether every partition seen carries `token`. */
  #all(seen: Map<string, string | null>, token: string): boolean {
    return [...seen.values()].every((metadata) => metadata === token);
  }

  /** Whether a partition seen carries neither `token` nor the metadata of the last commit known. */
  #foreign(seen: Map<string, string | null>, token: string | undefined): boolean {
    return [...seen].some(([key, metadata]) =>
      metadata !== token && this.#known.has(key) && this.#known.get(key) !== metadata
    );
  }

  #fenced(error: unknown): FencedError {
    return error instanceof FencedError ? error : fencedError(this.#transactional ?? "", error);
  }

  #gaveUp(error: unknown, committing: boolean): Error {
    return new Error(
      `the transaction of a batch did not succeed within ${this.#budget / 1000} s ` +
        `(transaction.timeout.ms) of trying again: ${messageOf(error)}` +
        (committing
          ? "; its commit may or may not take effect (read_committed readers see it once or not at all)"
          : "; it is aborted (read_committed readers never see it)"),
      { cause: error },
    );
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

/** Disconnects a kafkajs producer that is no longer used (its requests in flight are dropped). */
async function discard(producer: Producer): Promise<void> {
  await withDeadline(producer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
}

function offsetKey(offsets: GroupOffsets, partition: number): string {
  return `${offsets.groupId}\u0000${offsets.topic}\u0000${partition}`;
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
