/**
 * `--readers many`: several readers of one group, one global line (docs/kafka.md, "Many readers").
 *
 * Each reader keeps the exact partial state of each partition assigned to it
 * (`../pipeline/partition_states.ts`) and commits each batch as **one transaction per partition**
 * (`../sources/kafka/partition_transactions.ts`): the partition's `p/<partition>` record (its exact state
 * and next offset) with its offset for the group. A partition newly assigned (at the start, or after a
 * rebalance) is first taken over — its producer opened, which fences its old owner and aborts that one's
 * open transaction — and its state restored from its latest record; points before the record's offset
 * (read again after a rebalance) are skipped, so that none is counted twice.
 *
 * **The designated writer**, the reader holding partition 0, follows the state topic (read_committed,
 * `../sources/kafka/state_tail.ts`), merges the latest states of the other partitions with its own
 * exactly, and writes the global line's changes (−1 old line, +1 new line) to the output topic in
 * partition 0's transaction, with a `checkpoint` record holding the line published, so that the next
 * holder of partition 0 continues the change log. It publishes after each of its batches and, when other
 * partitions' records changed, every `publishMs`. Once every reader has read everything, the last line
 * published is bit for bit one reader's.
 *
 * @example
 * ```ts
 * import { openManyReaders } from "./kafka_readers.ts";
 * const readers = await openManyReaders(kafkaOut, kafkaState, { inputTopic: "points", core, emptyCore, format: "json", mode: "changelog", fail });
 * await readers.commit(batch.time, update, position);
 * await readers.close();
 * ```
 * @module
 */

import type { RegressionCore } from "../core/regression_core.ts";
import type { BatchUpdate, Line } from "../model/sink.ts";
import { PartitionStates } from "../pipeline/partition_states.ts";
import { KafkaResults } from "../sinks/kafka_results.ts";
import type { KafkaChunk, KafkaPosition } from "../sources/kafka/options.ts";
import { encodePartitionRecord, partitionStateKey } from "../sources/kafka/partition_records.ts";
import { type PartitionBatch, PartitionTransactions } from "../sources/kafka/partition_transactions.ts";
import type { TopicMessages } from "../sources/kafka/result_producer.ts";
import { StateTail } from "../sources/kafka/state_tail.ts";
import { decodeCheckpoint } from "../state/checkpoint.ts";
import type { KafkaOutput } from "./kafka_output.ts";
import type { KafkaState } from "./kafka_state.ts";
import { commitShares, noteTenures } from "./partition_tenures.ts";

/** The key of the checkpoint record (as `./kafka_state.ts` writes it). */
const CHECKPOINT_KEY = "checkpoint";

/**
 * Options of {@linkcode openManyReaders}.
 *
 * @example
 * ```ts
 * const options: ManyReadersOptions = { inputTopic: "points", core, emptyCore, format: "json", mode: "changelog", fail };
 * ```
 */
export interface ManyReadersOptions {
  /** The topic read. */
  readonly inputTopic: string;
  /** A core to fit merged sums in (`fitSums`). */
  readonly core: Pick<RegressionCore, "fitSums">;
  /** The bytes of an empty core (the checkpoint record's core: many readers keep no global core). */
  readonly emptyCore: Uint8Array;
  /** `--output-format`. */
  readonly format: "json" | "csv";
  /** `--output-mode`. */
  readonly mode: "changelog" | "upsert";
  /** Ends the run with an error found outside a batch (the state topic's tail, a timed publication). */
  readonly fail: (error: unknown) => void;
  /** Messages for stderr (partitions taken over or lost, with `verbose`). */
  readonly message?: (line: string) => void;
  /** Say what happens to partitions. */
  readonly verbose?: boolean;
  /** The source's assignment now (between batches), to take partitions over with no new message. */
  readonly assignment?: () => KafkaPosition | undefined;
  /** A partition's transaction was fenced: tell the source (`Source.fenced`). */
  readonly fenced?: (partition: number) => void;
  /** How often the designated writer looks for other partitions' new records. Default 500 ms. */
  readonly publishMs?: number;
}

/**
 * A reader of many: commits its batches per partition, and writes the global line while it holds
 * partition 0.
 *
 * @example
 * ```ts
 * await readers.commit(batch.time, update, position);
 * ```
 */
export interface ManyReaders {
  /** Commits a batch: each partition's share in its transaction (the global line in partition 0's). */
  commit(time: number, update: Pick<BatchUpdate, "points">, position: KafkaPosition): Promise<void>;
  /** Publishes once more if the line changed, then closes the producers and the tail. */
  close(): Promise<void>;
}

/**
 * Opens the state topic's tail; producers are opened as partitions are assigned.
 *
 * @example
 * ```ts
 * const readers = await openManyReaders(kafkaOut, kafkaState, options);
 * ```
 */
export async function openManyReaders(
  output: Pick<KafkaOutput, "kafka" | "connection" | "topic">,
  state: Pick<KafkaState, "topic" | "records">,
  options: ManyReadersOptions,
): Promise<ManyReaders> {
  const { kafka, connection } = output;
  const groupId = connection.groupId;
  const settings = connection.settings;
  const sessionTimeout = settings.consumer.sessionTimeout;
  const transactions = new PartitionTransactions(kafka, {
    groupId,
    topic: options.inputTopic,
    stateTopic: state.topic,
    ...(settings.transactionTimeout !== undefined ? { transactionTimeout: settings.transactionTimeout } : {}),
    ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
    ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
    onRetry: (line) => options.message?.(`streamreg: ${line}`),
  });
  const tail = await StateTail.open(kafka, {
    topic: state.topic,
    groupId,
    ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
    onError: options.fail,
  });
  const say = (line: string) => {
    if (options.verbose) options.message?.(`streamreg: ${line}`);
  };
  const states = new PartitionStates();
  /** Per partition held, the offset its state has reached: points before it are not added again. */
  const expect = new Map<number, number>();
  /** Per partition held, the next offset last committed (or restored). */
  const nexts = new Map<number, number>();
  /**
   * Partitions whose transaction was fenced, with the source's tenure of them then: ignored until the
   * source no longer has them, or reads them in a later assignment.
   */
  const lost = new Map<number, number>();
  /** Per partition, the latest tenure (assignment to this reader) of a chunk seen. */
  const tenures = new Map<number, number>();
  /** While holding partition 0: the global change log, from the line last published. */
  let results: KafkaResults | undefined;
  let published: Line | undefined;
  let seen = -1;
  let lastTime = -Infinity;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = chain.then(task);
    chain = run.catch(() => {});
    return run;
  };

  const forget = (partition: number) => {
    states.drop(partition);
    expect.delete(partition);
    nexts.delete(partition);
    if (partition === 0) results = undefined;
  };

  /** Takes over the partitions the source holds now (not the lost ones), restoring new ones' states. */
  const take = async (position: KafkaPosition) => {
    const now = new Set(position.partitions.map((p) => p.partition));
    for (const partition of [...lost.keys()]) if (!now.has(partition)) lost.delete(partition);
    const wanted = [...now].filter((p) => !lost.has(p)).sort((p, q) => p - q);
    const held = transactions.partitions;
    if (held.length === wanted.length && held.every((p, i) => p === wanted[i])) return;
    for (const partition of held) if (!wanted.includes(partition)) forget(partition);
    const { restored, stored } = await transactions.assign(wanted);
    for (const partition of wanted) {
      if (held.includes(partition)) continue;
      states.drop(partition);
      const record = restored.get(partition);
      if (record !== undefined) states.restore(partition, record.state);
      expect.set(partition, record?.next ?? 0);
      if (record !== undefined) nexts.set(partition, record.next);
      say(`partition ${partition} taken over${record ? ` at offset ${record.next}` : ""}`);
    }
    if (wanted.includes(0) && !held.includes(0)) {
      const bytes = stored.get(CHECKPOINT_KEY);
      published = bytes === undefined
        ? undefined
        : (await decodeCheckpoint(bytes, `the state topic "${state.topic}" (record "checkpoint")`)).line;
      results = new KafkaResults({
        ...(published !== undefined ? { line: published } : {}),
        format: options.format,
        mode: options.mode,
      });
      seen = -1;
      say("holding partition 0: writing the global line");
    }
  };

  /**
   * Adds the batch's points of held partitions, skipping those its state already has and those at or
   * after the partition's next offset in `position` (read before the partition was last assigned: the
   * source reads them again).
   */
  const add = (update: Pick<BatchUpdate, "points">, position: KafkaPosition) => {
    const ends = new Map(position.partitions.map((p) => [p.partition, p.next]));
    for (const run of update.points) {
      const chunk = run.chunk as KafkaChunk | undefined;
      if (chunk === undefined || typeof chunk.partition !== "number") {
        throw new Error("a batch's points do not say their partition: please report this");
      }
      const partition = chunk.partition;
      const from = expect.get(partition);
      if (from === undefined) continue; // (not held: lost, or revoked)
      const start = (run.x.byteOffset - chunk.x.byteOffset) / Float64Array.BYTES_PER_ELEMENT;
      const to = ends.get(partition) ?? 0;
      let i = 0;
      while (i < run.x.length && chunk.offset(start + i) < from) i++;
      let j = i;
      while (j < run.x.length && chunk.offset(start + j) < to) j++;
      if (j === i) continue;
      states.add(partition, run.x.subarray(i, j), run.y.subarray(i, j), run.diff.subarray(i, j));
      expect.set(partition, chunk.offset(start + j - 1) + 1);
    }
  };

  /** The global line's messages and the checkpoint record, if the merged line changed. */
  const globalLine = async (time: number): Promise<TopicMessages[]> => {
    if (results === undefined) return [];
    seen = tail.version;
    const merged = new PartitionStates();
    for (const [partition, record] of tail.records()) {
      if (!expect.has(partition)) merged.restore(partition, record.state);
    }
    for (const partition of states.partitions()) merged.restore(partition, states.save(partition));
    const fit = merged.fit(options.core);
    const line = fit.count > 0 ? { a: fit.a, b: fit.b } : undefined;
    if (Object.is(line?.a, published?.a) && Object.is(line?.b, published?.b)) return [];
    lastTime = Math.max(time, lastTime + 1);
    await results.write({ time: lastTime, points: [], accepted: 0, refused: 0, count: fit.count, line });
    const messages = results.take();
    published = line;
    const totals = { points: 0, refused: 0, rejected: 0, batches: 0, changes: 0, count: fit.count };
    const checkpoint = await state.records(
      { time: lastTime, line, totals, core: options.emptyCore, source: undefined },
      [],
    );
    return [{ topic: output.topic, messages }, checkpoint];
  };

  const record = (partition: number, next: number): TopicMessages => ({
    topic: state.topic,
    messages: [{
      key: partitionStateKey(partition),
      value: encodePartitionRecord({ partition, next, state: states.save(partition) }),
    }],
  });

  /**
   * Commits the shares, each in its partition's transaction; a partition whose transaction was fenced is
   * lost (another reader has it: this one forgets it and goes on); any other failure ends the run.
   */
  const commit = (batches: PartitionBatch[]) =>
    commitShares(transactions, batches, {
      tenures,
      lost,
      committed: (partition, next) => nexts.set(partition, next),
      forget,
      ...(options.fenced !== undefined ? { fenced: options.fenced } : {}),
      say,
    });

  /**
   * Between batches: takes over partitions newly assigned (partition 0 may come with no new message),
   * and as the designated writer publishes the global line again if other partitions moved on.
   */
  const publish = () =>
    serial(async () => {
      const position = options.assignment?.();
      if (position !== undefined) await take(position);
      const next = nexts.get(0);
      if (results === undefined || next === undefined || !expect.has(0)) return;
      const messages = await globalLine(Date.now());
      if (messages.length > 0) {
        await commit([{ partition: 0, next, messages: [...messages, record(0, next)] }]);
      }
    });
  const timer = setInterval(() => {
    const position = options.assignment?.();
    const moved = position !== undefined &&
      position.partitions.some(({ partition }) => !lost.has(partition) && !expect.has(partition));
    if (moved || (results !== undefined && tail.version !== seen)) publish().catch(options.fail);
  }, options.publishMs ?? 500);

  return {
    commit: (time, update, position) =>
      serial(async () => {
        noteTenures(update.points, { tenures, lost });
        await take(position);
        add(update, position);
        const batches: PartitionBatch[] = [];
        for (const { partition, next } of position.partitions) {
          if (!expect.has(partition)) continue;
          const extra = partition === 0 ? await globalLine(time) : [];
          if (extra.length === 0 && nexts.get(partition) === next) continue; // (nothing new)
          batches.push({ partition, next, messages: [...extra, record(partition, next)] });
        }
        await commit(batches);
      }),
    async close() {
      clearInterval(timer);
      await publish().catch(options.fail);
      await transactions.close();
      await tail.close();
    },
  };
}
