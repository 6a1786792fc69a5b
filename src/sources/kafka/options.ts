/**
 * The Kafka source's settings ({@linkcode KafkaSourceOptions}), its chunks ({@linkcode KafkaChunk}) and
 * where it stands for a checkpoint ({@linkcode KafkaPosition}).
 *
 * @example
 * ```ts
 * import type { KafkaSourceOptions } from "./options.ts";
 * const options: KafkaSourceOptions = { connection, format: "json", exitAtEnd: true };
 * ```
 * @module
 */

import type { Kafka } from "kafkajs";
import type { Columns } from "../../model/csv.ts";
import type { PointChunk } from "../../model/source.ts";
import type { KafkaConnection } from "./connection.ts";

/**
 * A chunk of one fetched batch of one partition.
 *
 * @example
 * ```ts
 * for await (const chunk of source.chunks(signal)) console.log(chunk.partition, chunk.offset(0), chunk.next);
 * ```
 */
export interface KafkaChunk extends PointChunk {
  /** The partition of every point. */
  readonly partition: number;
  /** The offset of the message of point `i`. */
  offset(i: number): number;
  /** The offset after the last message read for this chunk (messages that were not points included). */
  readonly next: number;
  /**
   * Which assignment of the partition to this reader the chunk was read in (it grows each time the
   * partition is newly assigned): a chunk of an earlier one is written but not committed.
   */
  readonly tenure: number;
}

/**
 * Where a reader starts when the group has committed offsets: at them (`committed`), or at the
 * partition's first (`beginning`) or next new (`end`) message regardless.
 *
 * @example
 * ```ts
 * const start: StartPosition = "beginning";
 * ```
 */
export type StartPosition = "committed" | "beginning" | "end";

/**
 * Settings of `KafkaSource.open`.
 *
 * @example
 * ```ts
 * const options: KafkaSourceOptions = { connection, format: "json", columns: { x: "t", y: "v" }, exitAtEnd: true };
 * ```
 */
export interface KafkaSourceOptions {
  /** Brokers, credentials, topic and group (see `./connection.ts`). */
  readonly connection: KafkaConnection;
  /**
   * A kafkajs client to use; default: one made by `createKafka` for the connection.
   * @ignore kafkajs's own type; for tests that hand in a client of their own.
   */
  readonly kafka?: Kafka;
  /** Message format. Default "csv". */
  readonly format?: "csv" | "json";
  /** CSV only: the header to use instead of each partition's first message, e.g. "x,y". */
  readonly csvHeader?: string;
  /** Column (CSV) or field (JSON) names (several x columns: `columns.xs`). Default x and y. */
  readonly columns?: Columns;
  /** Where to start. Default "committed". */
  readonly start?: StartPosition;
  /** Stop once every assigned partition reached the end offset it had at the start. */
  readonly exitAtEnd?: boolean;
  /** Stop after this many messages. */
  readonly maxMessages?: number;
  /** Longer messages are rejected (`too_large`). Default `DEFAULT_MAX_RECORD_BYTES` (1 MiB). */
  readonly maxRecordBytes?: number;
  /** Prints a message line for the user (warnings, reconnections); default: none. */
  readonly message?: (text: string) => void;
  /** Also print informational lines (start offsets) and kafkajs's warnings. */
  readonly verbose?: boolean;
  /** Aborting stops the setup. */
  readonly signal?: AbortSignal;
  /** Consumer fetch sizes (for benchmarks): bytes per partition and per fetch. */
  readonly fetch?: { maxBytesPerPartition?: number; maxBytes?: number; maxWaitTimeInMs?: number };
  /**
   * Resume after a checkpoint (`--state`): start each partition it names at its `next` offset (over
   * the group's committed offsets and `start`), with its CSV header. See `KafkaSource.position`.
   */
  readonly resume?: KafkaPosition;
  /**
   * Commit no offsets: the batch's transaction commits them with its output (`--output-topic` from a
   * Kafka source, exactly once); `committed` only notes them. Default false.
   */
  readonly transactional?: boolean;
  /**
   * The sink leaves out the points of a partition revoked before their batch commits (`--readers many`:
   * another reader goes on with the partition). A partition assigned to this reader again is then always
   * read again from the group's committed offset, never continued where this reader had read up to: what
   * it read of it before was not committed by anyone. Default false (one reader: every point read is
   * written).
   */
  readonly dropsRevoked?: boolean;
}

/**
 * Where a reader stands after a batch (`KafkaSource.position`): what a checkpoint keeps.
 *
 * @example
 * ```ts
 * const position: KafkaPosition = { topic: "points", partitions: [{ partition: 0, next: 1234, header: "x,y" }] };
 * ```
 */
export interface KafkaPosition {
  /** The topic. */
  readonly topic: string;
  /** Every partition this reader knows where to resume, by partition number. */
  readonly partitions: readonly KafkaPartitionPosition[];
}

/**
 * One partition of a {@linkcode KafkaPosition}.
 *
 * @example
 * ```ts
 * const p: KafkaPartitionPosition = { partition: 2, next: 17, header: "y,x" };
 * ```
 */
export interface KafkaPartitionPosition {
  /** The partition. */
  readonly partition: number;
  /** The offset of the first message after the batch: where reading goes on. */
  readonly next: number;
  /**
   * CSV without `--csv-header`: the partition's header, once read (it is before `next`, so the
   * resumed reader does not read it again). Absent: the header has not been read yet.
   */
  readonly header?: string;
}
