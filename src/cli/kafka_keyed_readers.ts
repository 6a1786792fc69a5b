/**
 * `--readers many --key @key`: several readers of one group, each writing the lines of the keys of the
 * partitions it holds (docs/kafka.md, "Many readers").
 *
 * When the messages are keyed (`--key @key`, Kafka's default partitioner), a key lives in one
 * partition: its line needs no merge across readers. Each reader keeps, per partition assigned to it, a
 * keyed engine of its own (`../pipeline/keyed/`: the line's `KeyedEngine`, or another model's
 * `KeyedModelEngine`), and commits each batch as **one transaction per partition**
 * (`../sources/kafka/partition_transactions.ts`): the exact state of each key the batch changed in that
 * partition (`k/<partition>/<key>`, a tombstone once the key holds no points), the partition's
 * `p/<partition>` record (its next offset; an empty state), its offset for the group, and its keys' result
 * rows (−1 old line, +1 new line) for the output topic.
 *
 * A partition newly assigned (at the start, or after a rebalance) is first taken over — its producer
 * opened, which fences its old owner and aborts that one's open transaction — and its keys' states
 * restored from the state topic (read_committed), each with the line last written, so the change log
 * goes on: the new owner's next change of a key retracts the line its old owner wrote. Points before the
 * partition's record's offset (read again after a rebalance) are skipped. A key met in two partitions
 * (messages not partitioned by their key) ends the run when this reader holds both partitions, or finds
 * the key under both in the state topic when it takes a partition over: its line would be written twice.
 *
 * @example
 * ```ts
 * import { openKeyedReaders } from "./kafka_keyed_readers.ts";
 * const readers = await openKeyedReaders(kafkaOut, kafkaState, { inputTopic: "points", engine, keys: ["@key"], emptyCore, format: "json", mode: "changelog" });
 * await readers.commit(batch.time, update, position);
 * await readers.close();
 * ```
 * @module
 */

import type { ModelConfig } from "../model/model_config.ts";
import type { BatchUpdate, KeyChange } from "../model/sink.ts";
import type { BatchSpan } from "../model/source.ts";
import { applyKeyedBatch, isKeyedEngine, type KeyedEngine, LastRing } from "../pipeline/keyed/keyed_stage.ts";
import { applyKeyedModelBatch, type KeyedModelEngine } from "../pipeline/keyed/keyed_model_stage.ts";
import { KafkaResults } from "../sinks/kafka_results.ts";
import type { KafkaChunk, KafkaPosition } from "../sources/kafka/options.ts";
import {
  encodePartitionRecord,
  keyOfStateKey,
  keyStateKey,
  partitionStateKey,
} from "../sources/kafka/partition_records.ts";
import { type PartitionBatch, PartitionTransactions } from "../sources/kafka/partition_transactions.ts";
import type { OutgoingMessage, TopicMessages } from "../sources/kafka/result_producer.ts";
import type { KafkaOutput } from "./kafka_output.ts";
import type { KafkaState } from "./kafka_state.ts";
import { commitShares, noteTenures } from "./partition_tenures.ts";
import type { ManyReaders } from "./kafka_readers.ts";

/**
 * Options of {@linkcode openKeyedReaders}.
 *
 * @example
 * ```ts
 * const options: KeyedReadersOptions = { inputTopic: "points", engine: () => new KeyedEngine(core), keys: ["@key"], emptyCore, format: "json", mode: "changelog" };
 * ```
 */
export interface KeyedReadersOptions {
  /** The topic read. */
  readonly inputTopic: string;
  /** A new, empty keyed engine (one per partition held; with `--window last:N`, the line's, with `last`). */
  readonly engine: () => KeyedEngine | KeyedModelEngine;
  /** The key columns (`--key`; they include `@key`). */
  readonly keys: readonly string[];
  /** A model other than the plain line (its result columns). */
  readonly model?: ModelConfig;
  /** `--window last:N`: the engines' rows have window bounds (point numbers). */
  readonly lastPoints?: boolean;
  /** The bytes of an empty core, for the `checkpoint` record that binds the state topic to the settings. */
  readonly emptyCore: Uint8Array;
  /** `--output-format`. */
  readonly format: "json" | "csv";
  /** `--output-mode`. */
  readonly mode: "changelog" | "upsert";
  /** Messages for stderr (partitions taken over or lost, with `verbose`). */
  readonly message?: (line: string) => void;
  /** Say what happens to partitions. */
  readonly verbose?: boolean;
  /** A partition's transaction was fenced: tell the source (`Source.fenced`). */
  readonly fenced?: (partition: number) => void;
}

/** A partition held: its keyed engine and the offset its state has reached. */
interface Held {
  readonly engine: KeyedEngine | KeyedModelEngine;
  /** Points before this offset are in the state already (not added again). */
  expect: number;
  /** The next offset last committed (or restored), if any. */
  next: number | undefined;
}

/**
 * Opens nothing yet: producers are opened, and states restored, as partitions are assigned.
 *
 * @example
 * ```ts
 * const readers = await openKeyedReaders(kafkaOut, kafkaState, options);
 * ```
 */
export function openKeyedReaders(
  output: Pick<KafkaOutput, "kafka" | "connection" | "topic">,
  state: Pick<KafkaState, "topic" | "records">,
  options: KeyedReadersOptions,
): Promise<ManyReaders> {
  const { kafka, connection } = output;
  const settings = connection.settings;
  const sessionTimeout = settings.consumer.sessionTimeout;
  const transactions = new PartitionTransactions(kafka, {
    groupId: connection.groupId,
    topic: options.inputTopic,
    stateTopic: state.topic,
    ...(settings.transactionTimeout !== undefined ? { transactionTimeout: settings.transactionTimeout } : {}),
    ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
    ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
  });
  const say = (line: string) => {
    if (options.verbose) options.message?.(`streamreg: ${line}`);
  };
  const results = new KafkaResults({
    keys: options.keys,
    ...(options.model !== undefined ? { model: { config: options.model } } : {}),
    ...(options.lastPoints ? { windows: {} } : {}),
    format: options.format,
    mode: options.mode,
  });
  const held = new Map<number, Held>();
  /**
   * Partitions whose transaction was fenced, with the source's tenure of them then: ignored until the
   * source no longer has them, or reads them in a later assignment.
   */
  const lost = new Map<number, number>();
  /** Per partition, the latest tenure (assignment to this reader) of a chunk seen. */
  const tenures = new Map<number, number>();
  /** Whether this reader has written the `checkpoint` record (the settings of the state topic). */
  let bound = false;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = chain.then(task);
    chain = run.catch(() => {});
    return run;
  };

  /** Takes over the partitions the source holds now (not the lost ones), restoring new ones' keys. */
  const take = async (position: KafkaPosition) => {
    const now = new Set(position.partitions.map((p) => p.partition));
    for (const partition of [...lost.keys()]) if (!now.has(partition)) lost.delete(partition);
    const wanted = [...now].filter((p) => !lost.has(p)).sort((p, q) => p - q);
    const open = transactions.partitions;
    if (open.length === wanted.length && open.every((p, i) => p === wanted[i])) return;
    for (const partition of open) if (!wanted.includes(partition)) held.delete(partition);
    const { restored, stored } = await transactions.assign(wanted);
    const fresh = wanted.filter((p) => !open.includes(p));
    for (const partition of fresh) {
      const record = restored.get(partition);
      held.set(partition, { engine: options.engine(), expect: record?.next ?? 0, next: record?.next });
    }
    let keys = 0;
    /** Every key of the state topic and its partition (a key in two partitions is refused). */
    const where = new Map<string, number>();
    for (const [name, bytes] of stored) {
      const found = keyOfStateKey(name);
      if (found === undefined) continue;
      const other = where.get(found.key);
      if (other !== undefined && other !== found.partition) twoPartitions(found.key, other, found.partition);
      where.set(found.key, found.partition);
      const into = held.get(found.partition);
      if (into === undefined || !fresh.includes(found.partition)) continue;
      restoreKey(into.engine, found.key, bytes, `record "${name}" of "${state.topic}"`);
      keys++;
    }
    for (const partition of fresh) {
      const record = restored.get(partition);
      say(`partition ${partition} taken over${record ? ` at offset ${record.next}` : ""}`);
    }
    if (fresh.length > 0 && keys > 0) say(`${keys} ${keys === 1 ? "key" : "keys"} restored`);
  };

  /**
   * The batch's spans of held partitions, by partition: the points its state does not have yet, before
   * the partition's next offset in `position` (those at or after it were read before the partition was
   * last assigned: the source reads them again).
   */
  const spans = (update: Pick<BatchUpdate, "points">, position: KafkaPosition) => {
    const ends = new Map(position.partitions.map((p) => [p.partition, p.next]));
    const out = new Map<number, BatchSpan[]>();
    for (const run of update.points) {
      const chunk = run.chunk as KafkaChunk | undefined;
      if (chunk === undefined || typeof chunk.partition !== "number" || chunk.keys === undefined) {
        throw new Error("a batch's points do not say their partition and keys: please report this");
      }
      const partition = chunk.partition;
      const mine = held.get(partition);
      if (mine === undefined) continue; // (not held: lost, or revoked)
      const start = (run.y.byteOffset - chunk.y.byteOffset) / Float64Array.BYTES_PER_ELEMENT;
      const to = ends.get(partition) ?? 0;
      let i = 0;
      while (i < run.y.length && chunk.offset(start + i) < mine.expect) i++;
      let j = i;
      while (j < run.y.length && chunk.offset(start + j) < to) j++;
      if (j === i) continue;
      const list = out.get(partition) ?? [];
      list.push({ chunk, start: start + i, end: start + j });
      out.set(partition, list);
      mine.expect = chunk.offset(start + j - 1) + 1;
    }
    return out;
  };

  /** A key of `partition` also held in another partition: the run cannot give it one line. */
  const checkUnique = (partition: number, keys: readonly string[]) => {
    for (const [other, { engine }] of held) {
      if (other === partition) continue;
      for (const key of keys) {
        if (holds(engine, key)) twoPartitions(key, other, partition);
      }
    }
  };
  const twoPartitions = (key: string, one: number, two: number): never => {
    throw new Error(
      `key ${JSON.stringify(key)} is in partitions ${Math.min(one, two)} and ${Math.max(one, two)} of ` +
        `"${options.inputTopic}": --readers many with --key @key needs each key in one partition (messages ` +
        "partitioned by their key, as Kafka's default partitioner does); use one reader per group",
    );
  };

  /** The partition's share of the batch: its keys' rows, their states, and its `p/<partition>` record. */
  const share = async (
    time: number,
    partition: number,
    mine: Held,
    spans: readonly BatchSpan[],
  ): Promise<TopicMessages[]> => {
    const engine = mine.engine;
    const changes: readonly KeyChange[] = isKeyedEngine(engine)
      ? applyKeyedBatch(engine, spans).keys!
      : applyKeyedModelBatch(engine, spans).keys!;
    checkUnique(partition, engine.touched);
    const records: OutgoingMessage[] = engine.touched.map((key) => ({
      key: keyStateKey(partition, key),
      value: saveKey(engine, key),
    }));
    const messages: TopicMessages[] = [];
    if (changes.length > 0) {
      await results.write({
        time,
        points: [],
        accepted: 0,
        refused: 0,
        count: engine.count,
        line: undefined,
        keys: changes,
      });
      messages.push({ topic: output.topic, messages: results.take() });
    }
    messages.push({ topic: state.topic, messages: records });
    return messages;
  };

  const partitionRecord = (partition: number, next: number): TopicMessages => ({
    topic: state.topic,
    messages: [{
      key: partitionStateKey(partition),
      value: encodePartitionRecord({ partition, next, state: new Uint8Array(0) }),
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
      committed: (partition, next) => {
        const mine = held.get(partition);
        if (mine !== undefined) mine.next = next;
      },
      forget: (partition) => held.delete(partition),
      ...(options.fenced !== undefined ? { fenced: options.fenced } : {}),
      say,
    });

  return Promise.resolve({
    commit: (time, update, position) =>
      serial(async () => {
        noteTenures(update.points, { tenures, lost });
        await take(position);
        const byPartition = spans(update, position);
        const batches: PartitionBatch[] = [];
        for (const { partition, next } of position.partitions) {
          const mine = held.get(partition);
          if (mine === undefined) continue;
          const some = byPartition.get(partition);
          if (some === undefined && mine.next === next) continue; // (nothing new)
          const messages = some === undefined ? [] : await share(time, partition, mine, some);
          if (!bound) messages.push(await checkpointRecord());
          bound = true;
          batches.push({ partition, next, messages: [...messages, partitionRecord(partition, next)] });
        }
        await commit(batches);
      }),
    async close() {
      await chain;
      await transactions.close();
      await results.close();
    },
  });

  /**
   * The `checkpoint` record: no line, no core, only this run's settings (`--readers many`, `--key`, the
   * model), so that a run of other settings refuses the state topic instead of misreading it.
   */
  function checkpointRecord(): Promise<TopicMessages> {
    const totals = { points: 0, refused: 0, rejected: 0, batches: 0, changes: 0, count: 0 };
    return state.records(
      { time: undefined, line: undefined, totals, core: options.emptyCore, source: undefined },
      [],
    );
  }
}

/** Whether the engine holds `key`. */
function holds(engine: KeyedEngine | KeyedModelEngine, key: string): boolean {
  return isKeyedEngine(engine) ? engine.table.find(key) >= 0 : engine.records.get(key) !== undefined;
}

/**
 * A key's exact state and the line last written, or null once it holds no points. With `last`: u32 the
 * length of the sums' bytes, the sums' bytes, then the key's last points (`LastRing.save`).
 */
function saveKey(engine: KeyedEngine | KeyedModelEngine, key: string): Uint8Array | null {
  if (!isKeyedEngine(engine)) return engine.saveEntry(key);
  const slot = engine.table.find(key);
  if (slot < 0) return null;
  const sums = engine.table.save(slot);
  if (engine.last === undefined) return sums;
  const ring = engine.rings.get(slot)!.save();
  const bytes = new Uint8Array(4 + sums.length + ring.length);
  new DataView(bytes.buffer).setUint32(0, sums.length, true);
  bytes.set(sums, 4);
  bytes.set(ring, 4 + sums.length);
  return bytes;
}

/** Puts a key's state back (from `saveKey`); `where` names the record in errors. */
function restoreKey(
  engine: KeyedEngine | KeyedModelEngine,
  key: string,
  bytes: Uint8Array,
  where: string,
): void {
  try {
    if (!isKeyedEngine(engine)) {
      engine.restoreEntry(key, bytes.slice());
      return;
    }
    if (engine.last === undefined) {
      engine.count += engine.table.count(engine.table.restore(key, bytes));
      return;
    }
    const length = bytes.length < 4 ? -1 : new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    if (length < 0 || 4 + length > bytes.length) throw new RangeError(`${bytes.length} bytes`);
    const slot = engine.table.restore(key, bytes.subarray(4, 4 + length));
    engine.rings.set(slot, LastRing.restore(bytes.subarray(4 + length), engine.last));
    engine.count += engine.table.count(slot);
  } catch (error) {
    throw new RangeError(`${where} is not a key's state of this model: ${(error as Error).message}`);
  }
}
