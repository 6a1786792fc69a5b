/**
 * Points from a Kafka topic, read with a kafkajs consumer in a consumer group.
 *
 * **Messages.** `csv` (the default, as in the reference tutorial): the header of a partition is its first
 * message, naming the columns (`x,y` in any order; other columns are ignored); every later message is one
 * data row, a later header-like message included. `--csv-header` supplies the header instead, and then
 * every message is a data row. `json`: one object per message, `{"x": 1, "y": 2}` (field names
 * configurable; with several x columns, every one of them). A message that is not a point is rejected like a bad line of a CSV file (see
 * `../../model/rejection.ts`: reported, dead-lettered, or with `--on-error fail` the end of the run): it keeps a slot
 * in its chunk (`rejects`), with its origin (topic, partition, offset) and its bytes. Reasons:
 * `not_a_number`, `empty_field`, `overflow`, `out_of_range`, `missing_column` / `extra_fields` (a field
 * count other than the header's), `bad_csv` (quotes), `bad_json`, `invalid_utf8` (bytes that are not
 * UTF-8), `too_large` (`maxRecordBytes`). JSON numbers are judged as CSV fields are: `1e400` is
 * `overflow` and `1e-400` `out_of_range`, not Infinity and 0.
 *
 * **Where reading starts**, per partition: the group's committed offset, if any, else the earliest
 * offset (`auto.offset.reset=latest` makes it the end); `--from-beginning` / `--from-end` override
 * committed offsets. A reader that starts past a partition's first message without `--csv-header`
 * (a restarted reader, `--from-end`) first reads that one message as the header, then seeks back to its
 * start; if that message is not a header naming x and y, the run stops with a message saying to pass
 * `--csv-header`. That is for the first assignment; a partition newly assigned after a rebalance (another
 * reader of the group stopped or joined) starts at the group's committed offset as it is then (or a
 * checkpoint's, if later, for a partition the checkpoint names), and one held across a rejoin goes on
 * where this reader is.
 *
 * **Offsets** are committed (the next offset per partition) only in {@linkcode KafkaSource.committed},
 * that is after the batch's change-log rows are written (and its rejected messages dead-lettered), and
 * only for partitions assigned to this reader now and read in their current assignment (`./commits.ts`).
 * Commits run in the background, one at a time; `close` waits for the last. Each fetched kafkajs batch becomes one chunk, pushed through a
 * {@linkcode ChunkQueue} so that a slow pipeline slows fetching down.
 *
 * With `transactional`, the reader commits nothing itself: each batch's offsets are committed by the
 * transaction that produces its output (`./result_producer.ts`, with the offsets of
 * {@linkcode KafkaSource.position}), and `committed` only notes them.
 *
 * **Resuming** (`--state`): {@linkcode KafkaSource.position} says, after a batch, where every partition
 * goes on (the offset after its last message written) and its CSV header; reopened with that as
 * `resume`, the reader starts each partition there, whatever the group's committed offsets (which lag
 * behind the checkpoint after a crash between the two) or `start` say, and needs no header message. A
 * checkpoint the topic no longer matches (offsets past the end, or expired) stops the run with a message.
 *
 * **Compressed messages**: batches compressed with gzip, snappy, LZ4 or zstd are read as uncompressed
 * ones (`./compression_codecs.ts`). A batch that cannot be decompressed (damaged, or in a form the codec
 * does not read; see `./undecodable_batch.ts`) ends the reading there, with an error naming its codec,
 * partition, offset and the reason, after the messages before it: the pipeline writes and commits those,
 * so a later run goes on from there.
 *
 * **Stopping**: `exitAtEnd` stops once every assigned partition has reached the end offset it had when
 * the reader started (kcat's `-e`); `maxMessages` after that many messages (every message counts, the
 * CSV header and skipped ones too). The pipeline then writes the open batch, which commits its offsets,
 * and {@linkcode KafkaSource.close} leaves the group.
 *
 * @example
 * ```ts
 * import { KafkaSource } from "./kafka_source.ts";
 * const source = await KafkaSource.open({ connection, exitAtEnd: true });
 * const stats = await runPipeline(source, core, sinks);
 * await source.close();
 * ```
 * @module
 */

import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { type Columns, type CsvLayout, csvLayout } from "../../model/csv.ts";
import { DEFAULT_MAX_RECORD_BYTES } from "../../model/rejection.ts";
import type { CommittedBatch, PartitionStatus, Source, SourceStatus } from "../../model/source.ts";
import { decodeBatch } from "./batch.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import { commitWithoutConsumer, dueCommits, noteWritten } from "./commits.ts";
import {
  createConsumer,
  createKafka,
  describeConnection,
  KAFKA_FETCH_DEFAULTS,
  type KafkaConnection,
  kafkaErrorMessage,
  setupGuard,
  withDeadline,
} from "./connection.ts";
import { PointParser, preview } from "./messages.ts";
import type {
  KafkaChunk,
  KafkaPartitionPosition,
  KafkaPosition,
  KafkaSourceOptions,
  StartPosition,
} from "./options.ts";
import {
  assignPartitions,
  checkKafkaPosition,
  initialStates,
  newPartitionState,
  type PartitionState,
  positionOf,
  readGroupOffsets,
  readTopicPlan,
  restartAt,
  type TopicPlan,
} from "./partitions.ts";
import { heartbeatUntil } from "./heartbeat.ts";
import { registerCompressionCodecs } from "./compression_codecs.ts";
import { type Undecodable, undecodableBatch } from "./undecodable_batch.ts";

export {
  KAFKA_FETCH_DEFAULTS,
  type KafkaChunk,
  type KafkaPartitionPosition,
  type KafkaPosition,
  type KafkaSourceOptions,
  type StartPosition,
};

/** Say so if the group is not joined after this long. */
const JOIN_NOTICE_MS = 10_000;
/**
 * With `exitAtEnd`: after this long without a fetched batch, the reader asks the broker whether the
 * records it still waits for were deleted (retention, a delete-records request): the client then reads
 * on past them (auto.offset.reset) in fetches that come back empty, and reading would never reach the end.
 */
const DELETED_CHECK_MS = 2_000;

/**
 * Reads points from a Kafka topic; see the module documentation for the semantics.
 *
 * @example
 * ```ts
 * const source = await KafkaSource.open({ connection, start: "beginning", maxMessages: 11 });
 * ```
 */
export class KafkaSource implements Source<KafkaChunk> {
  readonly name: string;
  /** Messages only add points (the pipeline then keeps no multiset of them). */
  readonly retractions = false;
  readonly #connection: KafkaConnection;
  readonly #topic: string;
  readonly #kafka: Kafka;
  readonly #consumer: Consumer;
  readonly #verbose: boolean;
  /** Offsets are committed by the batch's transaction (`--output-topic`), not by this reader. */
  readonly #transactional: boolean;
  /** See `KafkaSourceOptions.dropsRevoked`. */
  readonly #dropsRevoked: boolean;
  /** Partitions whose commit was fenced (`fenced`): newly assigned at the next join, if assigned. */
  readonly #fenced = new Set<number>();
  /** This reader's member id in the group, since its last join. */
  #memberId: string | undefined;
  readonly #format: "csv" | "json";
  readonly #columns: Columns;
  readonly #fixedLayout: CsvLayout | undefined;
  readonly #exitAtEnd: boolean;
  readonly #maxMessages: number;
  readonly #maxRecordBytes: number;
  readonly #message: (text: string) => void;
  readonly #queue = new ChunkQueue<KafkaChunk>({ limit: 1 });
  readonly #parser: PointParser;
  readonly #partitions = new Map<number, PartitionState>();
  /** Each partition's high watermark at its last fetch (for the lag in `status`). */
  readonly #highWatermarks = new Map<number, number>();
  /** Bytes of message values fetched so far. */
  #bytesRead = 0;
  /** The partitions a checkpoint named (`resume`), with their offsets, until this reader loses them. */
  readonly #resumed: Map<number, number>;
  #assigned: number[] = [];
  /** Joins of the group so far (a lookup of start offsets for an earlier one is dropped). */
  #joins = 0;
  #joined = false;
  #crashed = false;
  /** The consumer crashed for good (it has left the group): commits go through an admin client. */
  #dead = false;
  #stopped = false;
  #closed = false;
  #read = 0;
  #commitFailures = 0;
  #joinTimer: ReturnType<typeof setTimeout> | undefined;
  /** With `exitAtEnd`: the check for records deleted before they were read (see `DELETED_CHECK_MS`). */
  #deletedTimer: ReturnType<typeof setInterval> | undefined;
  /** When the last batch was fetched (`performance.now()`). */
  #lastBatch = 0;
  #checkingDeleted = false;
  #commits: Promise<void> = Promise.resolve();
  #released = false;
  #release: () => void = () => {};

  private constructor(
    options: KafkaSourceOptions,
    kafka: Kafka,
    consumer: Consumer,
    partitions: PartitionState[],
    layout: CsvLayout | undefined,
  ) {
    this.#connection = options.connection;
    this.#topic = options.connection.topic;
    this.#kafka = kafka;
    this.#consumer = consumer;
    this.#verbose = options.verbose ?? false;
    this.#transactional = options.transactional ?? false;
    this.#dropsRevoked = options.dropsRevoked ?? false;
    this.#resumed = new Map((options.resume?.partitions ?? []).map((p) => [p.partition, p.next]));
    this.#format = options.format ?? "csv";
    this.#columns = options.columns ?? { x: "x", y: "y" };
    this.#fixedLayout = layout;
    this.#exitAtEnd = options.exitAtEnd ?? false;
    this.#maxMessages = options.maxMessages ?? Infinity;
    this.#maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.#message = options.message ?? (() => {});
    this.#parser = new PointParser(this.#columns);
    for (const state of partitions) this.#partitions.set(state.partition, state);
    this.name = `Kafka topic "${this.#topic}" at ${
      describeConnection(options.connection)
    }, group "${options.connection.groupId}"`;
  }

  /**
   * Connects, checks that the topic exists, decides where each partition starts and starts the
   * consumer. Rejects with a one-line message (unknown topic, unreachable broker, failed
   * authentication, TLS failure) within about 25 seconds.
   *
   * @example
   * ```ts
   * const source = await KafkaSource.open({ connection, format: "csv", csvHeader: "x,y" });
   * ```
   */
  static async open(options: KafkaSourceOptions): Promise<KafkaSource> {
    const c = options.connection;
    const format = options.format ?? "csv";
    const columns = options.columns ?? { x: "x", y: "y" };
    let layout: CsvLayout | undefined;
    if (format === "csv" && options.csvHeader !== undefined) {
      const l = csvLayout(options.csvHeader, columns);
      if (typeof l === "string") throw new Error(`--csv-header "${options.csvHeader}": ${l}`);
      layout = l;
    }
    const message = options.message ?? (() => {});
    await registerCompressionCodecs();
    const kafka = options.kafka ??
      await createKafka(
        c,
        options.verbose || c.settings.debug ? { log: (line) => message(`streamreg: ${line}`) } : {},
      );
    const guard = setupGuard(c, options.signal);

    // 1. The topic, its offsets, and the group's committed offsets, with an admin client.
    const admin = kafka.admin();
    let plan: TopicPlan[];
    try {
      plan = await guard(readTopicPlan(admin, c.topic, c.groupId));
    } finally {
      await admin.disconnect().catch(() => {});
    }

    // 2. Where each partition starts: at the checkpoint's offset if resuming, else as the flags say.
    const resetToBeginning = c.settings.fromBeginning ?? true;
    const states = initialStates(plan, options, layout, message);

    // 3. The consumer. Offsets are committed by `committed`, never automatically.
    const consumer = createConsumer(kafka, c, options.fetch);
    try {
      await guard(consumer.connect());
      await guard(consumer.subscribe({ topics: [c.topic], fromBeginning: resetToBeginning }));
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    const source = new KafkaSource(options, kafka, consumer, states, layout);
    source.#start();
    return source;
  }

  #start(): void {
    const consumer = this.#consumer;
    consumer.on(
      consumer.events.GROUP_JOIN,
      (event) => this.#onJoin(event.payload.memberAssignment, event.payload.memberId),
    );
    consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
      // A batch of transaction markers or aborted messages only: nothing to read up to its end.
      const { partition, batchSize, firstOffset, lastOffset } = event.payload;
      const state = this.#partitions.get(partition);
      this.#lastBatch = performance.now();
      if (batchSize === 0 && state && !state.probe && !state.pending && Number(firstOffset) <= state.next) {
        state.next = Math.max(state.next, Number(lastOffset) + 1);
        if (this.#caughtUp()) this.#finish();
      }
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.#crashed = true;
      if (!event.payload.restart) this.#dead = true;
      const text = kafkaErrorMessage(event.payload.error, { connection: this.#connection });
      if (event.payload.restart && !this.#stopped) {
        this.#message(`streamreg: ${text}; reconnecting`);
        this.#joined = false;
        this.#noticeSlowJoin();
      } else if (!this.#stopped) {
        this.#fail(new Error(text, { cause: event.payload.error }));
      }
    });
    this.#noticeSlowJoin();
    if (this.#exitAtEnd) {
      this.#lastBatch = performance.now();
      this.#deletedTimer = setInterval(() => void this.#checkDeleted(), DELETED_CHECK_MS);
    }
    this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#onBatch(payload),
    }).catch((error) => this.#fail(new Error(kafkaErrorMessage(error, { connection: this.#connection }))));
  }

  /**
   * With `exitAtEnd`, when no batch came for a while: a partition whose next offset to read is below the
   * topic's first offset now lost those records to deletion before this reader read them. Says so, and
   * goes on at the first offset, where the client reads now; stops if that reaches the end.
   */
  async #checkDeleted(): Promise<void> {
    if (this.#stopped) return clearInterval(this.#deletedTimer);
    if (!this.#joined || this.#checkingDeleted || performance.now() - this.#lastBatch < DELETED_CHECK_MS) {
      return;
    }
    this.#checkingDeleted = true;
    const admin = this.#kafka.admin();
    try {
      const offsets = await admin.fetchTopicOffsets(this.#topic);
      for (const { partition, low } of offsets) {
        const state = this.#partitions.get(partition);
        const first = Number(low);
        if (state === undefined || state.pending || state.probe || !this.#assigned.includes(partition)) {
          continue;
        }
        if (state.next < first && !this.#stopped) {
          this.#message(
            `streamreg: ${this.#topic} partition ${partition}: offsets ${state.next}..${
              first - 1
            } were deleted from the topic (retention, or a delete-records request) before this reader read them; reading goes on at offset ${first}`,
          );
          state.next = first;
        }
      }
      if (this.#caughtUp()) this.#finish();
    } catch {
      // The broker is not reachable now: the next check asks again.
    } finally {
      this.#checkingDeleted = false;
      await admin.disconnect().catch(() => {});
    }
  }

  /** Says so if the group is not joined soon: a previous member may hold the partitions. */
  #noticeSlowJoin(): void {
    clearTimeout(this.#joinTimer);
    this.#joinTimer = setTimeout(() => {
      if (!this.#joined && !this.#stopped) {
        this.#message(
          `streamreg: still joining consumer group "${this.#connection.groupId}" after ${
            JOIN_NOTICE_MS / 1000
          } s: a previous member of the group may not have left (it is dropped after session.timeout.ms = ${this.#connection.settings.consumer.sessionTimeout})`,
        );
      }
    }, JOIN_NOTICE_MS);
  }

  /**
   * The chunks: one per fetched batch with points.
   *
   * @example
   * ```ts
   * for await (const chunk of source.chunks(signal)) console.log(chunk.where(0)); // "... partition 0 offset 1"
   * ```
   */
  chunks(_signal: AbortSignal): AsyncIterable<KafkaChunk> {
    return this.#queue;
  }

  /**
   * Ready once the consumer group is joined (not while connecting or rejoining after a broker outage);
   * the bytes of message values fetched; per assigned partition, the next offset to read and the high
   * watermark of its last fetch (partitions not fetched from yet are left out).
   *
   * @example
   * ```ts
   * const { partitions = [] } = source.status();
   * const lag = partitions.reduce((sum, p) => sum + p.highWatermark - p.position, 0);
   * ```
   */
  status(): SourceStatus {
    const partitions: PartitionStatus[] = [];
    for (const partition of this.#assigned) {
      const highWatermark = this.#highWatermarks.get(partition);
      const state = this.#partitions.get(partition);
      if (highWatermark === undefined || state === undefined) continue;
      partitions.push({ partition, position: state.next, highWatermark });
    }
    return { ready: this.#joined && !this.#crashed, bytesRead: this.#bytesRead, partitions };
  }

  #state(partition: number): PartitionState {
    let state = this.#partitions.get(partition);
    if (state === undefined) {
      // A partition added after the start: read from wherever the group says, header first.
      state = newPartitionState(partition, this.#fixedLayout);
      this.#partitions.set(partition, state);
    }
    return state;
  }

  #onJoin(assignment: Record<string, number[]>, memberId: string): void {
    this.#joined = true;
    this.#crashed = false;
    clearTimeout(this.#joinTimer);
    if (this.#stopped) return;
    const first = this.#joins++ === 0;
    const previous = new Set(this.#assigned);
    // A new member id: this reader was out of the group (its session expired: paused, cut off), and
    // other readers may have held its partitions meanwhile.
    const readmitted = this.#memberId !== undefined && memberId !== this.#memberId;
    this.#memberId = memberId;
    this.#assigned = [...(assignment[this.#topic] ?? [])];
    // A partition lost is not the checkpoint's any more: whoever read it next committed its offsets.
    for (const partition of previous) {
      if (!this.#assigned.includes(partition)) this.#resumed.delete(partition);
    }
    // With --readers many, the partitions another reader may have held since this one last read them
    // start afresh (their points read before are left out of this reader's batches): all of them after
    // a readmission, and those whose commit was fenced since the last join.
    const kept = this.#dropsRevoked && readmitted ? new Set<number>() : new Set(previous);
    for (const partition of this.#fenced) kept.delete(partition);
    this.#fenced.clear();
    const lookUp = assignPartitions(
      this.#assigned.map((partition) => this.#state(partition)),
      { previous: kept, first, resumed: this.#resumed, seek: (state) => this.#seek(state) },
    );
    if (this.#assigned.length === 0) {
      this.#message(
        `streamreg: no partition of "${this.#topic}" is assigned to this reader: other readers of group "${this.#connection.groupId}" hold them all`,
      );
    }
    if (lookUp.length > 0) {
      const partitions = lookUp.map((state) => state.partition);
      this.#consumer.pause([{ topic: this.#topic, partitions }]);
      this.#lookUpStarts(lookUp, this.#joins).catch((error) =>
        this.#fail(
          new Error(
            `could not read the committed offsets of group "${this.#connection.groupId}" for partition${
              partitions.length === 1 ? "" : "s"
            } ${partitions.join(", ")}: ${kafkaErrorMessage(error, { connection: this.#connection })}`,
          ),
        )
      );
    }
    if (this.#caughtUp()) this.#finish();
  }

  /** Seeks to where the partition goes on (its first message first, if that is the header to read). */
  #seek(state: PartitionState): void {
    const offset = state.probe ? state.low : state.next;
    this.#consumer.seek({ topic: this.#topic, partition: state.partition, offset: String(offset) });
  }

  /**
   * Starts newly assigned (paused) partitions at the group's committed offsets, as read now (not when
   * the reader started: another reader of the group may have committed since), or a checkpoint's offset
   * if later, else as `auto.offset.reset` says; then resumes them. A partition this reader held before
   * and of which nobody has committed anything since this reader's last commit (its own member from
   * before a broker outage held it meanwhile, say) goes on where this reader is instead.
   */
  async #lookUpStarts(states: PartitionState[], join: number): Promise<void> {
    const admin = this.#kafka.admin();
    let committed: Map<number, number>;
    let offsets: Map<number, { low: number; high: number }>;
    try {
      ({ committed, offsets } = await readGroupOffsets(admin, this.#topic, this.#connection.groupId));
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (join !== this.#joins || this.#stopped) return; // a later join decides
    const resetToBeginning = this.#connection.settings.fromBeginning ?? true;
    for (const state of states) {
      const range = offsets.get(state.partition);
      if (range === undefined) continue;
      // (Not with --readers many: what this reader read of it and had not committed when it lost it was
      // left out of its batches; it must be read again.)
      if (
        !this.#dropsRevoked && state.tenure > 0 && (committed.get(state.partition) ?? -1) === state.sent
      ) {
        state.pending = false;
        this.#seek(state);
        continue;
      }
      // The checkpoint's offset, for a partition that it names and another reader held until now: the
      // group's committed offset may lag behind it (a crash between checkpoint and commit).
      const c = Math.max(committed.get(state.partition) ?? -1, this.#resumed.get(state.partition) ?? -1);
      const next = restartAt(state, range, c, {
        resetToBeginning,
        csv: this.#format === "csv",
        exitAtEnd: this.#exitAtEnd,
      });
      if (this.#verbose) {
        this.#message(
          `streamreg: partition ${state.partition} assigned: reading from ${next} (${
            c >= 0 ? `group "${this.#connection.groupId}" committed offset ${c}` : "no committed offset"
          })` + (state.probe ? `, header from offset ${state.low}` : ""),
        );
      }
      this.#seek(state);
    }
    this.#consumer.resume([{ topic: this.#topic, partitions: states.map((state) => state.partition) }]);
    if (this.#caughtUp()) this.#finish();
  }

  #caughtUp(): boolean {
    if (!this.#exitAtEnd || !this.#joined) return false;
    return this.#assigned.every((p) => {
      const state = this.#state(p);
      return !state.pending && state.next >= state.end;
    });
  }

  /** Stops the reading at a batch that could not be decompressed (see `./undecodable_batch.ts`). */
  #failUndecodable(partition: number, { codec, reason, offset }: Undecodable & { offset: number }): void {
    this.#fail(
      new Error(
        `${this.#topic} partition ${partition} offset ${offset}: the batch of messages that starts here is ` +
          `compressed with ${codec} and cannot be decompressed (${reason}); the points before offset ${offset} ` +
          `are written and committed, so the next run goes on from there (and stops here again while this ` +
          `batch is in the partition)`,
      ),
    );
  }

  async #onBatch({ batch, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    if (this.#stopped) return;
    const partition = batch.partition;
    const state = this.#state(partition);
    // (No local of the messages: it would keep them past `releaseMessages` in this async function.)
    this.#lastBatch = performance.now();
    this.#highWatermarks.set(partition, Number(batch.highWatermark));
    for (const message of batch.messages) this.#bytesRead += message.value?.length ?? 0;
    if (batch.messages.length === 0 || state.pending) return; // (pending: paused, and sought to its start later)

    if (state.probe) {
      const head = batch.messages[0];
      const offset = Number(head.offset);
      state.probe = false;
      const why = head.value === null ? undecodableBatch(head.key) : undefined;
      if (why !== undefined) {
        this.#failUndecodable(partition, { ...why, offset });
        return;
      }
      if (offset < state.next) {
        // The partition's first message: the header. Then back to where reading starts.
        this.#readHeader(state, head.value?.toString() ?? "", offset);
        if (!this.#stopped) {
          this.#consumer.seek({ topic: this.#topic, partition, offset: String(state.next) });
        }
        return;
      }
      // Nothing before `next` any more: this message is the first one read, and so the header.
    }

    const decoded = decodeBatch(batch, state, {
      topic: this.#topic,
      parser: this.#parser,
      csv: this.#format === "csv",
      maxRecordBytes: this.#maxRecordBytes,
      maxMessages: this.#maxMessages,
      read: this.#read,
      isStale,
      readHeader: (text, offset) => {
        this.#readHeader(state, text, offset);
        return this.#stopped;
      },
    });
    if (decoded === undefined) return;
    this.#read = decoded.read;
    releaseMessages(batch);
    if (decoded.chunk !== undefined) {
      state.pushed = state.next;
      await this.#push(decoded.chunk, heartbeat);
    } else {
      state.empty = state.next;
    }
    const { stop, undecodable } = decoded;
    if (undecodable !== undefined) {
      // After the chunk: the pipeline writes and commits what was read before, then stops.
      this.#failUndecodable(partition, undecodable);
      return;
    }
    if (stop || this.#caughtUp()) {
      this.#finish();
      // Hold kafkajs here until `close`: it must not start another fetch, which would wait for new
      // messages for up to maxWaitTimeInMs and delay leaving the group; the final commit still works.
      await this.#hold(heartbeat);
    }
  }

  /** Waits until `close` releases the consumer, heartbeating the group meanwhile. */
  async #hold(heartbeat: () => Promise<void>): Promise<void> {
    await heartbeatUntil(
      () => this.#released,
      () => new Promise<void>((resolve) => (this.#release = resolve)),
      heartbeat,
    );
  }

  /** Hands a chunk to the pipeline, heartbeating the group while the pipeline is busy. */
  async #push(chunk: KafkaChunk, heartbeat: () => Promise<void>): Promise<void> {
    let done = false;
    const pushed = this.#queue.push(chunk).then(
      () => void (done = true),
      () => {
        done = true;
        this.#stopped = true; // the pipeline has stopped reading
      },
    );
    await heartbeatUntil(() => done, () => pushed, heartbeat);
  }

  #readHeader(state: PartitionState, text: string, offset: number): void {
    const layout = csvLayout(text, this.#columns);
    if (typeof layout === "string") {
      this.#fail(
        new Error(
          `${this.#topic} partition ${state.partition} offset ${offset}: the partition's first message ${
            preview(text)
          } is not a CSV header naming the columns ${namedColumns(this.#columns)} (${layout}): ` +
            `produce the header first, or pass --csv-header`,
        ),
      );
      return;
    }
    state.layout = layout;
    state.header = text;
    state.headerAt = offset;
  }

  /** Stops reading; the pipeline gets the chunks already pushed, then the end. */
  #finish(): void {
    if (this.#stopped) return;
    if (this.#read === 0) {
      this.#message(
        `streamreg: no message to read in "${this.#topic}" up to its end offsets (--exit-at-end)`,
      );
    }
    this.#stopped = true;
    this.#pause();
    this.#queue.end();
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#pause();
    this.#queue.fail(error);
  }

  #pause(): void {
    try {
      this.#consumer.pause([{ topic: this.#topic }]);
    } catch {
      // not running: nothing to pause
    }
  }

  /**
   * Commits, per partition, the offset after the batch's last message (messages that were not points
   * included). A failed commit is reported and retried with the next batch.
   *
   * @example
   * ```ts
   * await source.committed({ time, spans: [{ chunk, start: 0, end: chunk.x.length }] });
   * ```
   */
  committed(batch: CommittedBatch<KafkaChunk>): void {
    this.#written(batch);
    if (this.#transactional) {
      // The batch's transaction has committed its offsets (with its output): note them as sent.
      for (
        const { partition, offset } of dueCommits(
          this.#topic,
          this.#assigned.map((p) => this.#state(p)),
        )
      ) {
        this.#state(partition).sent = Number(offset);
      }
      return;
    }
    // In the background, one commit at a time: the pipeline does not wait for the broker (whose
    // connection may be busy with a fetch); `close` waits for the last commit.
    this.#commits = this.#commits.then(() => this.#commit(false));
  }

  /** Notes, per partition, the offset after the batch's last message (idempotent). */
  #written(batch: CommittedBatch<KafkaChunk>): void {
    noteWritten(batch, (partition) => this.#state(partition));
  }

  /**
   * Where to resume after `batch` (`--state`): for every partition assigned to this reader, the offset
   * after its last message written (by this batch or an earlier one; where this reader started on it if
   * none), and its CSV header if that is before. Reopened with it as `resume`, the reader goes on exactly after the batch.
   *
   * @example
   * ```ts
   * source.position(batch); // { topic: "points", partitions: [{ partition: 0, next: 501, header: "x,y" }] }
   * ```
   */
  position(batch: CommittedBatch<KafkaChunk>): KafkaPosition {
    this.#written(batch);
    return positionOf(this.#topic, this.#assigned.map((p) => this.#state(p)));
  }

  /**
   * Checks a position from a checkpoint (a JSON value); returns it typed, or throws an Error saying
   * what is wrong.
   *
   * @example
   * ```ts
   * const resume = KafkaSource.checkPosition(JSON.parse(text));
   * ```
   */
  static checkPosition(value: unknown): KafkaPosition {
    return checkKafkaPosition(value);
  }

  /**
   * `--readers many`: the commit of `partition` was fenced (another reader has taken it over). If the
   * group assigns it to this reader again at its next join, it is read again from the group's committed
   * offset, in a new tenure, instead of going on where this reader is (see `Source.fenced`).
   *
   * @example
   * ```ts
   * source.fenced(3);
   * ```
   */
  fenced(partition: number): void {
    this.#fenced.add(partition);
  }

  /** Commits what is due: points written, and batches without points after them. */
  async #commit(final: boolean): Promise<void> {
    const due = dueCommits(this.#topic, this.#assigned.map((p) => this.#state(p)));
    if (due.length === 0) return;
    try {
      if (this.#dead) await commitWithoutConsumer(this.#kafka, this.#connection.groupId, this.#topic, due);
      else if (this.#crashed) throw new Error("the consumer is reconnecting");
      else await this.#consumer.commitOffsets(due);
      for (const { partition, offset } of due) this.#state(partition).sent = Number(offset);
    } catch (error) {
      const text = error instanceof Error && error.message === "the consumer is reconnecting"
        ? error.message
        : kafkaErrorMessage(error, { connection: this.#connection });
      const what = `could not commit the offsets of group "${this.#connection.groupId}": ${text}`;
      if (final) throw new Error(`${what}: the next run will read the last messages again`);
      if (++this.#commitFailures <= 3) this.#message(`streamreg: ${what}; retrying with the next batch`);
    }
  }

  /**
   * Commits what the pipeline has written, leaves the group and disconnects. Reports how many messages
   * were skipped.
   *
   * @example
   * ```ts
   * await source.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopped = true;
    clearTimeout(this.#joinTimer);
    clearInterval(this.#deletedTimer);
    // Release an eachBatch waiting for the pipeline, so that the consumer can stop.
    this.#queue.end();
    await this.#queue[Symbol.asyncIterator]().return?.();
    let failure: unknown;
    try {
      await this.#commits;
      if (!this.#transactional) await this.#commit(true);
    } catch (error) {
      failure = error;
    }
    this.#released = true;
    this.#release();
    await withDeadline(this.#consumer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
    if (failure) throw failure;
  }
}

/** `"x" and "y"`, or `"x1", "x2" and "y"` with several x columns. */
function namedColumns(columns: Columns): string {
  const names = [...(columns.xs !== undefined && columns.xs.length > 1 ? columns.xs : [columns.x]), columns.y]
    .map((name) => `"${name}"`);
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * Lets the garbage collector have a fetched batch's messages once they are decoded, while `eachBatch`
 * still waits for the pipeline to take the chunk (which may take as long as a batch of the pipeline):
 * kafkajs keeps the batch until `eachBatch` returns, and tens of thousands of message objects kept that
 * long outlive the young generation of both runtimes' collectors, which then grow the old one by
 * hundreds of MB before they collect it. kafkajs reads only the last message after `eachBatch` (for the
 * batch's last offset), so each of its lists keeps that one.
 */
function releaseMessages(batch: EachBatchPayload["batch"]): void {
  const lists = batch as unknown as Record<"messages" | "rawMessages" | "messagesWithinOffset", unknown>;
  for (const name of ["messages", "rawMessages", "messagesWithinOffset"] as const) {
    const list = lists[name];
    if (Array.isArray(list) && list.length > 1) lists[name] = list.slice(-1);
  }
}
