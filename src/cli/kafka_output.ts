/**
 * `--output-topic` for the CLI: the connection (the source's `-b`, `-X`, `-F` and `KAFKA_*` settings,
 * with the output topic), the topic (created if missing: one partition, compacted with
 * `--output-mode upsert`), and the producer.
 *
 * From a Kafka source the producer is transactional (`transactional.id`, default `<group>.streamreg-tx`):
 * each batch's results, its consumed offsets and, with `--state kafka`, its state are committed in one
 * transaction — exactly once for read_committed readers. Opening it fences an older reader of the
 * group that still runs (a zombie): that one's next commit fails and it stops with exit code 1. From a
 * CSV file or the demo stream, each batch's messages are sent before its checkpoint: at least once (a
 * batch may be sent again after a crash, with `--state DIR`).
 *
 * @example
 * ```ts
 * import { openKafkaOutput } from "./kafka_output.ts";
 * const output = await openKafkaOutput(host, cli, { message: (line) => console.error(line) });
 * await output.commit(results.take(), [], position);
 * await output.close();
 * ```
 * @module
 */

import type { Kafka } from "kafkajs";
import {
  createKafka,
  type KafkaConnection,
  kafkaErrorMessage,
  resolveConnection,
  SETUP_DEADLINE_MS,
  withDeadline,
} from "../sources/kafka/connection.ts";
import { ensureTopic } from "../sources/kafka/state_topic.ts";
import {
  fencedError,
  type GroupOffsets,
  isFenced,
  ResultProducer,
  type TopicMessages,
} from "../sources/kafka/result_producer.ts";
import type { KafkaPosition } from "../sources/kafka/options.ts";
import type { ResultMessage } from "../sinks/kafka_results.ts";
import type { CliOptions } from "./args.ts";
import type { Host } from "./host.ts";
import { hostIo } from "./kafka_spec.ts";
import { parseConnectionFlags } from "./kafka_flags.ts";

/**
 * An opened `--output-topic`.
 *
 * @example
 * ```ts
 * const output: KafkaOutput = await openKafkaOutput(host, cli, { message: console.error });
 * ```
 */
export interface KafkaOutput {
  /** The output topic. */
  readonly topic: string;
  /** The resolved connection (its group is the source's). */
  readonly connection: KafkaConnection;
  /** The kafkajs client (for the state topic). */
  readonly kafka: Kafka;
  /** Each batch is one transaction with its offsets (a Kafka source): exactly once. */
  readonly transactional: boolean;
  /**
   * Produces a batch: its results, other messages (the state's), and with a transactional producer the
   * source's position as the group's offsets, all in one transaction.
   */
  commit(
    results: readonly ResultMessage[],
    more: readonly TopicMessages[],
    position?: KafkaPosition,
  ): Promise<void>;
  /**
   * The error to report for a failed run: `error`, or if this reader turns out to have been fenced (a
   * zombie whose first failure after coming back was something else, a timed-out request, say) the
   * message saying so.
   */
  explain(error: unknown): Promise<unknown>;
  /** Aborts an open transaction and disconnects. */
  close(): Promise<void>;
}

/**
 * Resolves the connection, creates the topic if missing and opens the producer (fencing older
 * producers of the group with a Kafka source).
 *
 * @example
 * ```ts
 * const output = await openKafkaOutput(host, cli, { message: (line) => progress.message(line) });
 * ```
 */
export async function openKafkaOutput(
  host: Host,
  cli: CliOptions,
  options: { message: (line: string) => void; verbose?: boolean },
): Promise<KafkaOutput> {
  const target = cli.outputTopic!;
  const fromKafka = cli.source.name === "kafka";
  const flags = parseConnectionFlags(cli.sourceValues ?? {}, { group: fromKafka });
  const connection = await resolveConnection({ ...flags, topic: target.topic }, hostIo(host));
  if (!fromKafka) { for (const warning of connection.warnings) options.message(`streamreg: ${warning}`); }
  const kafka = await createKafka(
    connection,
    options.verbose || connection.settings.debug
      ? { log: (line) => options.message(`streamreg: ${line}`) }
      : {},
  );
  const settings = connection.settings;
  const transactionalId = fromKafka
    ? settings.transactionalId ?? `${connection.groupId}.streamreg-tx`
    : undefined;
  if (!fromKafka && settings.transactionalId !== undefined) {
    options.message(
      `streamreg: ignoring transactional.id: with --source ${cli.source.name} the output topic is written ` +
        "at least once, without transactions",
    );
  }
  const what = `the output topic "${target.topic}" at ${connection.brokers}`;
  let producer: ResultProducer | undefined;
  try {
    const created = await withDeadline(
      ensureTopic(kafka, target.topic, { compact: target.mode === "upsert" }),
      SETUP_DEADLINE_MS,
      () => `could not reach ${what}`,
    );
    if (created) {
      options.message(
        `streamreg: created ${what} (1 partition${
          target.mode === "upsert" ? ", cleanup.policy=compact" : ""
        })`,
      );
    }
    // --readers many: no producer for the group (it would fence the other readers): each reader opens
    // one per partition assigned to it (./kafka_readers.ts).
    producer = cli.readers === "many" ? undefined : await withDeadline(
      ResultProducer.open(kafka, {
        ...(transactionalId !== undefined ? { transactionalId } : {}),
        ...(settings.transactionTimeout !== undefined
          ? { transactionTimeout: settings.transactionTimeout }
          : {}),
        ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
        onRetry: (line) => options.message(`streamreg: ${line}`),
      }),
      SETUP_DEADLINE_MS * 2,
      () => `could not open a producer for ${what}`,
    );
  } catch (error) {
    throw new Error(`--output-topic: ${kafkaErrorMessage(error, { connection })}`, { cause: error });
  }
  const groupId = connection.groupId;
  /** The offsets of the last batch committed by this run. */
  let last: GroupOffsets | undefined;
  return {
    topic: target.topic,
    connection,
    kafka,
    transactional: transactionalId !== undefined,
    async commit(results, more, position) {
      const batches: TopicMessages[] = [{ topic: target.topic, messages: results }, ...more];
      const offsets = position === undefined || transactionalId === undefined ? undefined : {
        groupId,
        topic: position.topic,
        partitions: position.partitions.map(({ partition, next }) => ({ partition, offset: next })),
      };
      if (producer === undefined) throw new Error("--readers many commits per partition: please report this");
      await producer.commit(batches, offsets);
      if (offsets !== undefined) last = offsets;
    },
    async explain(error) {
      if (transactionalId === undefined || last === undefined || isFenced(error)) return error;
      return (await producer?.isFenced(last)) ? fencedError(transactionalId, error) : error;
    },
    close: async () => await producer?.close(),
  };
}
