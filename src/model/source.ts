/**
 * The contract every point source fulfils: stage 1 of source → batcher → core → sinks.
 *
 * A source is an async producer of {@linkcode PointChunk}s: columnar arrays of points, each point
 * with a weight (+1 adds it, -1 retracts it) and an origin for messages. The pipeline pulls chunks,
 * groups their points into batches, and once a batch's change-log rows are written it calls the
 * source's optional {@linkcode Source.committed} hook with the exact chunk ranges the batch held — the
 * place to commit Kafka offsets.
 *
 * @example
 * ```ts
 * import type { PointChunk, Source } from "./source.ts";
 *
 * const twoPoints: Source = {
 *   name: "two points",
 *   async *chunks() {
 *     yield {
 *       x: new Float64Array([0, 1]),
 *       y: new Float64Array([0, 2]),
 *       diff: new Float64Array([1, 1]),
 *       where: (i) => `point ${i}`,
 *     } satisfies PointChunk;
 *   },
 * };
 * ```
 * @module
 */

import type { RecordOrigin, SourceReject } from "./rejection.ts";

/**
 * Points in columnar form. All arrays have the same length; `diff[i]` is +1 to add point i and
 * -1 to retract it (any other weight is refused by the core, as are NaN, ±Infinity and magnitudes
 * outside the core's range).
 *
 * **Several x columns** (`--x x1,x2,…`): `xs` holds every x column in the model's order, and `x` is
 * `xs[0]` (the same array), so code that only knows one x keeps working and the one-x fast paths are
 * untouched. With one x column, `xs` is absent (a source never sets it to a one-element list).
 *
 * Sources may extend this type with their own per-record data (a Kafka source adds the partition and
 * offsets); the pipeline hands the same objects back in {@linkcode Source.committed}.
 *
 * @example
 * ```ts
 * const chunk: PointChunk = {
 *   x: new Float64Array([2]),
 *   y: new Float64Array([4]),
 *   diff: new Float64Array([-1]),
 *   where: () => "data.csv line 7",
 * };
 * ```
 */
export interface PointChunk {
  /** The x of each point (with several x columns: the first, `xs[0]`). */
  readonly x: Float64Array;
  /**
   * With several x columns (2 or more): each x column, in the model's order; `xs[0]` is `x`. Absent with
   * one x column.
   */
  readonly xs?: readonly Float64Array[];
  /** The y of each point. */
  readonly y: Float64Array;
  /** The weight of each point: +1 adds, -1 retracts. */
  readonly diff: Float64Array;
  /**
   * With `--key`: each point's key (several key columns: joined by `joinKey` of `./keys.ts`). A record
   * without a usable key is rejected by its source (`missing_key`); its slot holds "". Absent: the run
   * is not keyed.
   */
  readonly keys?: readonly string[];
  /**
   * With `--time`: each point's event time in epoch milliseconds (`--time-format` says how the input
   * wrote it). A record without a usable time is rejected by its source (`bad_time`); its slot holds NaN.
   */
  readonly times?: Float64Array;
  /**
   * Optional: the points' numbers exactly as the input change log writes them, where the source has
   * that text at hand (a CSV line whose fields are already written so). Lets the input log copy bytes
   * instead of formatting doubles again. Absent: none has it.
   */
  readonly texts?: PointTexts;
  /**
   * Where point `i` came from, for messages: "data.csv line 12", "partition 0 offset 41".
   * Called only on the rare paths (refused points), so it may be slow.
   */
  where(i: number): string;
  /**
   * Records of this chunk that the source could not turn into points (a line that is not CSV, text
   * that is not a number, invalid UTF-8...), by index, in any order. Each keeps its slot in the arrays
   * (with placeholder values, NaN by convention, which are ignored), so the chunk's indices follow
   * the input and a committed span covers the bad records too. Absent or empty: none.
   * `ChunkBuilder.reject` fills it. See `./rejection.ts`.
   */
  readonly rejects?: ReadonlyMap<number, SourceReject>;
  /**
   * Where record `i` came from, structured, for the dead-letter file. Called only for rejected
   * records. Default: `{ source: <the source's name>, location: where(i) }`.
   */
  origin?(i: number): RecordOrigin;
  /**
   * The content of record `i` as received (text, or bytes), for the dead-letter file. Called only for
   * rejected records. Default: the point as `x,y,diff` (several x: `x1,…,xk,y,diff`).
   */
  raw?(i: number): string | Uint8Array;
}

/**
 * Each point's numbers as the input change log writes them — its x column(s), then y, comma-separated,
 * each `formatNumber` of the value (the shortest round-trip decimal), ASCII — or none: point `i`'s text
 * is `blocks[block[i]].subarray(start[i], end[i])` if `block[i] >= 0`. The arrays are as long as the
 * points'.
 *
 * @example
 * ```ts
 * const texts: PointTexts = {
 *   blocks: [new TextEncoder().encode("1,2\n0.5,3\n")],
 *   block: Int32Array.of(0, 0),
 *   start: Int32Array.of(0, 4),
 *   end: Int32Array.of(3, 9),
 * };
 * ```
 */
export interface PointTexts {
  /** The bytes the texts are in. */
  readonly blocks: readonly Uint8Array[];
  /** For each point, its block (an index of `blocks`), or -1 if it has no text. */
  readonly block: Int32Array;
  /** For each point, where its text starts in its block. */
  readonly start: Int32Array;
  /** For each point, where its text ends in its block. */
  readonly end: Int32Array;
}

/**
 * Points `start` (inclusive) to `end` (exclusive) of one chunk, as held by one batch.
 *
 * @example
 * ```ts
 * const span: BatchSpan = { chunk, start: 0, end: chunk.x.length };
 * ```
 */
export interface BatchSpan<C extends PointChunk = PointChunk> {
  /** The chunk, exactly as the source yielded it. */
  readonly chunk: C;
  /** Index of the first point of the chunk in this batch. */
  readonly start: number;
  /** Index after the last point of the chunk in this batch. */
  readonly end: number;
}

/**
 * A batch whose output has been written and flushed to every sink.
 *
 * @example
 * ```ts
 * const batch: CommittedBatch = { time: Date.now(), spans: [{ chunk, start: 0, end: 10 }] };
 * ```
 */
export interface CommittedBatch<C extends PointChunk = PointChunk> {
  /** The batch's commit time (epoch milliseconds), the `time` column of its change-log rows. */
  readonly time: number;
  /** The chunk ranges of the batch, in arrival order; together they cover the batch exactly. */
  readonly spans: readonly BatchSpan<C>[];
}

/**
 * A stream of points for the pipeline.
 *
 * Write a new source by implementing `chunks` as an async generator; push-based clients (Kafka
 * consumers) can feed a {@linkcode ChunkQueue} from `./chunk_queue.ts` and return it.
 *
 * @example
 * ```ts
 * class Countdown implements Source {
 *   readonly name = "countdown";
 *   async *chunks(signal: AbortSignal) {
 *     for (let i = 3; i > 0 && !signal.aborted; i--) {
 *       yield { x: Float64Array.of(i), y: Float64Array.of(i), diff: Float64Array.of(1), where: () => `tick ${i}` };
 *     }
 *   }
 * }
 * ```
 */
export interface Source<C extends PointChunk = PointChunk> {
  /** A short description for messages and progress, e.g. "demo stream" or "data.csv". */
  readonly name: string;
  /**
   * The chunks, in order. Should return promptly once `signal` aborts (the pipeline then stops
   * pulling, closes the open batch and finishes). A thrown error ends the run with exit code 1, its
   * message shown to the user: say where and what was wrong.
   */
  chunks(signal: AbortSignal): AsyncIterable<C>;
  /**
   * Called once per closed batch, after its change-log rows were written and flushed, in batch
   * order, awaited before the next batch is processed. Commit consumer offsets here.
   */
  committed?(batch: CommittedBatch<C>): void | Promise<void>;
  /** Releases resources (connections, files); called once when the pipeline ends, also after errors. */
  close?(): void | Promise<void>;
  /**
   * Whether this source may retract points (diff -1). Default true. Read once, when the first chunk
   * arrives: only then does the pipeline keep the multiset of added points that catches retractions of
   * points that are not there (16 or more bytes per point). A source that says false must never yield
   * diff -1.
   */
  readonly retractions?: boolean;
  /**
   * Where to resume after `batch`, for a checkpoint (`--state DIR`): a JSON value (plain objects,
   * arrays, strings, finite numbers, booleans, null) from which the source, reopened after a crash,
   * starts exactly at the first record after the batch (for a file: the byte offset after the batch's
   * last record and the header; for Kafka: the next offset of every partition and each partition's
   * header). Called once per batch, in batch order, after the batch's output is written and before
   * {@linkcode Source.committed}. A source without it cannot be used with `--state`.
   */
  position?(batch: CommittedBatch<C>): unknown;
  /**
   * How the source stands now, for monitoring (`--serve`: `/metrics`, `/readyz`, the live page). Cheap:
   * it may be called a few times a second. A source without it counts as ready once opened.
   */
  status?(): SourceStatus;
  /**
   * `--readers many`: this reader's commit of a partition was refused because another reader has taken
   * it over, while the source still holds it. The group will have this reader join again (its view of
   * the group is out of date); at that join the source takes the partition, if assigned to it again, as
   * newly assigned: read again from the group's committed offset, in a new tenure.
   */
  fenced?(partition: number): void;
}

/**
 * How a source stands, for monitoring: whether it is ready (connected, and for Kafka the group joined),
 * the bytes read so far, and for Kafka each partition's read position against its high watermark.
 *
 * @example
 * ```ts
 * const status: SourceStatus = {
 *   ready: true,
 *   bytesRead: 1234,
 *   partitions: [{ partition: 0, position: 90, highWatermark: 100 }],
 * };
 * ```
 */
export interface SourceStatus {
  /** Connected and reading (Kafka: the consumer group joined); false while connecting or rejoining. */
  readonly ready: boolean;
  /** Bytes of input read so far (a file's bytes; Kafka: the messages' values), if the source counts them. */
  readonly bytesRead?: number;
  /**
   * Kafka: per assigned partition, the next offset to read (`position`) and the partition's high
   * watermark at the last fetch (the offset after its last message): the lag is their difference.
   */
  readonly partitions?: readonly PartitionStatus[];
}

/**
 * One Kafka partition's read position and high watermark (see {@linkcode SourceStatus}).
 *
 * @example
 * ```ts
 * const lag = (p: PartitionStatus) => p.highWatermark - p.position;
 * ```
 */
export interface PartitionStatus {
  /** The partition number. */
  readonly partition: number;
  /** The next offset to read. */
  readonly position: number;
  /** The offset after the partition's last message, as of the last fetch from it. */
  readonly highWatermark: number;
}
