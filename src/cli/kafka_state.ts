/**
 * `--state kafka`: the checkpoints of a Kafka reader kept in a compacted topic, `<group>.streamreg-state`
 * (created if missing, `cleanup.policy=compact`), written in the same transaction as each batch's
 * output and offsets (`./kafka_output.ts`).
 *
 * **Records**, by key: `checkpoint`, the checkpoint `--state DIR` writes to `checkpoint.json` (same bytes,
 * `encodeCheckpoint` of `../state/checkpoint.ts`: the settings, the totals, the last line, the core's
 * exact state and the source's position, each partition's next offset and CSV header); with `--key` or
 * `--window`, one record per entry of the keyed state, `e/<name>`, holding what `keys.sqlite` holds for
 * that entry (a key's exact sums and last line, a pane, a window), a tombstone when it is gone; and
 * `meta`, JSON, with windows the largest event time accepted; with the plain line, one record per
 * partition, `p/<partition>` (its next offset and exact partial state, `./kafka_partitions.ts`); with
 * `--readers many --key @key`, `k/<partition>/<key>` records instead of `e/<name>` (`./kafka_keyed_readers.ts`). A batch's records are in its
 * transaction, so a read_committed reader of the topic always sees the state after one whole batch.
 *
 * **On start** the producer has already fenced any older reader of the group (and aborted its open
 * transaction); the topic is then read to its end, and the checkpoint is checked against this run's
 * settings (as with `--state DIR`) before anything else is read.
 *
 * @example
 * ```ts
 * import { openKafkaState } from "./kafka_state.ts";
 * const state = await openKafkaState(host, cli, output, (line) => console.error(line));
 * state.resumed; // the checkpoint to go on from, if any
 * ```
 * @module
 */

import {
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  type Settings,
  StateError,
} from "../state/checkpoint.ts";
import type { BatchState } from "../state/state_store.ts";
import { ensureCompactedTopic, readStateTopic, stateTopicName } from "../sources/kafka/state_topic.ts";
import type { OutgoingMessage, TopicMessages } from "../sources/kafka/result_producer.ts";
import {
  decodePartitionRecord,
  partitionOfKey,
  type PartitionRecord,
} from "../sources/kafka/partition_records.ts";
import type { CliOptions } from "./args.ts";
import type { Host } from "./host.ts";
import type { KafkaOutput } from "./kafka_output.ts";
import { runSettings } from "./state_setup.ts";

/** The key of the checkpoint record. */
const CHECKPOINT_KEY = "checkpoint";
/** The key of the meta record. */
const META_KEY = "meta";
/** The prefix of the keyed state's entries. */
const ENTRY_PREFIX = "e/";

/**
 * What `--state kafka` keeps besides the checkpoint (with windows).
 *
 * @example
 * ```ts
 * const meta: KafkaStateMeta = { maxTime: 1700000000000 };
 * ```
 */
export interface KafkaStateMeta {
  /** With windows: the largest event time accepted. */
  readonly maxTime?: number;
}

/**
 * The opened state topic.
 *
 * @example
 * ```ts
 * const { resumed, entries } = await openKafkaState(host, cli, output);
 * ```
 */
export interface KafkaState {
  /** The topic. */
  readonly topic: string;
  /** Where the entries come from, for messages. */
  readonly path: string;
  /** The checkpoint to resume from, if the topic holds one. */
  readonly resumed: Checkpoint | undefined;
  /** The meta record, if any. */
  readonly meta: KafkaStateMeta | undefined;
  /** The partition records (`p/<partition>`) restored, by partition. */
  readonly partitions: ReadonlyMap<number, PartitionRecord>;
  /** The keyed state's entries restored (name → bytes). */
  entries(): IterableIterator<[string, Uint8Array]>;
  /** A batch's state records: the checkpoint, the keyed changes, the meta record. */
  records(
    state: Omit<BatchState, "outputs" | "points">,
    changes: readonly [string, Uint8Array | null][],
    meta?: KafkaStateMeta,
  ): Promise<TopicMessages>;
}

/**
 * The settings a `--state kafka` checkpoint is bound to: those of `--state DIR` without the output
 * files, with the output topic and its format and mode, and the key and window flags.
 *
 * @example
 * ```ts
 * await kafkaStateSettings(host, cli); // { source: "kafka", "--topic": "points", ..., "--output-topic": "results" }
 * ```
 */
export async function kafkaStateSettings(host: Host, cli: CliOptions): Promise<Settings> {
  const settings = await runSettings(host, cli);
  delete settings["--output"];
  delete settings["--input-log"];
  delete settings["--dead-letter"];
  const key = cli.sourceValues?.key;
  settings["--key"] = typeof key === "string" ? key : null;
  settings["--window"] = cli.windows?.text ?? null;
  settings["--output-topic"] = cli.outputTopic?.topic ?? null;
  settings["--output-format"] = cli.outputTopic?.format ?? null;
  settings["--output-mode"] = cli.outputTopic?.mode ?? null;
  // (only when given: the checkpoints of runs before this flag still match one reader's)
  if (cli.readers === "many") settings["--readers"] = "many";
  return settings;
}

/**
 * Creates the state topic if missing and reads it back: the checkpoint (checked against this run's
 * settings), the keyed entries and the meta record. Throws a {@linkcode StateError} (exit 1) when the
 * topic holds a checkpoint of other settings, or one that does not decode.
 *
 * @example
 * ```ts
 * const state = await openKafkaState(host, cli, output, (line) => progress.info(line));
 * ```
 */
export async function openKafkaState(
  host: Host,
  cli: CliOptions,
  output: Pick<KafkaOutput, "kafka" | "connection">,
  info: (line: string) => void = () => {},
): Promise<KafkaState> {
  const { kafka, connection } = output;
  const topic = stateTopicName(connection.groupId);
  const settings = await kafkaStateSettings(host, cli);
  if (await ensureCompactedTopic(kafka, topic)) info(`streamreg: created the state topic "${topic}"`);
  const stored = await readStateTopic(kafka, {
    topic,
    groupId: connection.groupId,
    sessionTimeout: connection.settings.consumer.sessionTimeout,
  });
  const path = `the state topic "${topic}"`;
  const bytes = stored.get(CHECKPOINT_KEY);
  let resumed: Checkpoint | undefined;
  if (bytes !== undefined) {
    resumed = await decodeCheckpoint(bytes, `${path} (record "${CHECKPOINT_KEY}")`);
    checkSettings(resumed.settings, settings, topic);
    const { batches, points } = resumed.totals;
    info(
      `streamreg: resuming from ${path} after ${batches} ${batches === 1 ? "batch" : "batches"} ` +
        `(${points} ${points === 1 ? "point" : "points"})`,
    );
  } else if ([...stored.keys()].some((key) => key.startsWith(ENTRY_PREFIX))) {
    throw new StateError(`${path} holds keys but no checkpoint: delete the topic to start over`);
  }
  const partitions = new Map<number, PartitionRecord>();
  for (const [key, value] of stored) {
    const partition = partitionOfKey(key);
    if (partition === undefined) continue;
    try {
      partitions.set(partition, decodePartitionRecord(value, `record "${key}"`));
    } catch (error) {
      throw new StateError(`${path}: ${(error as Error).message}: use another group (-G) to start over`);
    }
    stored.delete(key);
  }
  const metaBytes = stored.get(META_KEY);
  const meta = metaBytes === undefined
    ? undefined
    : JSON.parse(new TextDecoder().decode(metaBytes)) as KafkaStateMeta;
  const encoder = new TextEncoder();
  return {
    topic,
    path,
    resumed,
    meta,
    partitions,
    *entries() {
      for (const [key, value] of stored) {
        if (key.startsWith(ENTRY_PREFIX)) yield [key.slice(ENTRY_PREFIX.length), value];
      }
      stored.clear(); // (read once, at the start: not kept for the whole run)
    },
    async records(state, changes, meta) {
      const messages: OutgoingMessage[] = [];
      for (const [name, value] of changes) messages.push({ key: ENTRY_PREFIX + name, value });
      if (meta !== undefined) messages.push({ key: META_KEY, value: encoder.encode(JSON.stringify(meta)) });
      // The checkpoint last: (all of them are in one transaction anyway).
      messages.push({
        key: CHECKPOINT_KEY,
        value: await encodeCheckpoint({
          settings,
          complete: false,
          time: state.time,
          line: state.line,
          ...(state.model ? { model: state.model } : {}),
          totals: state.totals,
          core: state.core,
          source: state.source,
          outputs: [],
          points: undefined,
        }),
      });
      return { topic, messages };
    },
  };
}

/** Throws a {@linkcode StateError} naming the first setting that differs. */
function checkSettings(saved: Settings, now: Settings, topic: string): void {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
  for (const key of keys) {
    if (JSON.stringify(saved[key] ?? null) === JSON.stringify(now[key] ?? null)) continue;
    const show = (v: unknown) => (v === undefined || v === null ? "(none)" : JSON.stringify(v));
    throw new StateError(
      `the state topic "${topic}" belongs to a run with ${key} ${show(saved[key])}, but this run has ` +
        `${key} ${
          show(now[key])
        }: restart with the same settings, or use another group (-G) to start a new run`,
    );
  }
}
