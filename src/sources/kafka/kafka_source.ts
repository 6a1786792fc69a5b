/**
 * Points from a Kafka topic, read with a kafkajs consumer in a consumer group.
 *
 * **Messages.** `csv` (the default, as in the reference tutorial): the header of a partition is its first
 * message, naming the columns (`x,y` in any order; other columns are ignored); every later message is one
 * data row, a later header-like message included. `--csv-header` supplies the header instead, and then
 * every message is a data row. `json`: one object per message, `{"x": 1, "y": 2}` (field names
 * configurable). A message that is not a point is rejected like a bad line of a CSV file (see
 * `./rejection.ts`: reported, dead-lettered, or with `--on-error fail` the end of the run): it keeps a slot
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
 * only for partitions assigned to this reader now and read in their current assignment.
 * Commits run in the background, one at a time; `close` waits for the last. Each fetched kafkajs batch becomes one chunk, pushed through a
 * {@linkcode ChunkQueue} so that a slow pipeline slows fetching down.
 *
 * **Resuming** (`--state`): {@linkcode KafkaSource.position} says, after a batch, where every partition
 * goes on (the offset after its last message written) and its CSV header; reopened with that as
 * `resume`, the reader starts each partition there, whatever the group's committed offsets (which lag
 * behind the checkpoint after a crash between the two) or `start` say, and needs no header message. A
 * checkpoint the topic no longer matches (offsets past the end, or expired) stops the run with a message.
 *
 * **Compressed messages** kafkajs cannot read (snappy, LZ4, zstd; see `./unsupported_compression.ts`)
 * end the reading at the first of them, with an error naming its partition and offset, after the
 * messages before it: the pipeline writes and commits those, so a later run goes on from there.
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

import { Buffer } from "node:buffer";
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import {
  createKafka,
  describeConnection,
  type KafkaConnection,
  kafkaErrorMessage,
  SETUP_DEADLINE_MS,
  withDeadline,
} from "./connection.ts";
import { markUnsupportedCompression, unsupportedCompression } from "./unsupported_compression.ts";
import { ChunkQueue } from "./chunk_queue.ts";
import {
  DEFAULT_MAX_RECORD_BYTES,
  parseNumberField,
  type RecordOrigin,
  type RejectReason,
  showField,
  type SourceReject,
  TOO_LARGE_RAW_BYTES,
} from "../../model/rejection.ts";
import type { CommittedBatch, PointChunk, Source } from "../../model/source.ts";

// ---------------------------------------------------------------------------------------------------
// Messages → points (pure)

/**
 * The names of the x and y columns (CSV) or fields (JSON).
 *
 * @example
 * ```ts
 * const columns: Columns = { x: "time", y: "price" };
 * ```
 */
export interface Columns {
  /** Column or field holding x. */
  readonly x: string;
  /** Column or field holding y. */
  readonly y: string;
}

/**
 * Where x and y are in a CSV record, from a header.
 *
 * @example
 * ```ts
 * const layout = csvLayout("y,x,note", { x: "x", y: "y" }); // { x: 1, y: 0, width: 3 }
 * ```
 */
export interface CsvLayout {
  /** Index of the x field. */
  readonly x: number;
  /** Index of the y field. */
  readonly y: number;
  /** Number of fields of the header; data rows must have as many. */
  readonly width: number;
}

/** Drops one trailing line break ("\n" or "\r\n"): producers that send lines often keep it. */
function chomp(text: string): string {
  if (text.endsWith("\n")) return text.slice(0, text.endsWith("\r\n") ? -2 : -1);
  return text;
}

/**
 * Splits one CSV record (a message) into fields, with RFC 4180 quotes (`"a ""b"""` is `a "b"`).
 * Returns undefined for unbalanced quotes. A trailing line break is ignored.
 *
 * @example
 * ```ts
 * splitCsvRecord('1,"2,5",x'); // ["1", "2,5", "x"]
 * ```
 */
export function splitCsvRecord(message: string): string[] | undefined {
  const text = chomp(message);
  if (text.indexOf('"') < 0) return text.split(",");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    // Spaces before an opening quote are allowed, as csv-parse does not: keep it simple and strict.
    if (text.charCodeAt(i) === 0x22) {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return undefined;
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < text.length && text.charCodeAt(i) !== 0x2c) return undefined; // text after the quote
    } else {
      const comma = text.indexOf(",", i);
      const stop = comma < 0 ? text.length : comma;
      field = text.slice(i, stop);
      if (field.indexOf('"') >= 0) return undefined;
      i = stop;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/**
 * Reads a CSV header: returns the layout, or why it is not a header naming both columns.
 *
 * @example
 * ```ts
 * csvLayout("x,y", { x: "x", y: "y" }); // { x: 0, y: 1, width: 2 }
 * csvLayout("1,2", { x: "x", y: "y" }); // 'no column "x"'
 * ```
 */
export function csvLayout(header: string, columns: Columns): CsvLayout | string {
  const fields = splitCsvRecord(header.replace(/^\uFEFF/, ""));
  if (fields === undefined) return "unbalanced quotes";
  const names = fields.map((f) => f.trim());
  const x = names.indexOf(columns.x);
  const y = names.indexOf(columns.y);
  if (x < 0) return `no column "${columns.x}"`;
  if (y < 0) return `no column "${columns.y}"`;
  if (x === y) return `x and y are the same column "${columns.x}"`;
  return { x, y, width: names.length };
}

/**
 * A message as shown in error messages: escaped, shortened, quoted (see `showField`).
 *
 * @example
 * ```ts
 * preview("1,abc"); // '"1,abc"'
 * ```
 */
export function preview(text: string): string {
  return showField(text);
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`)); // exact up to 1e22

/**
 * Reads `text[a, b)` as a decimal number when that is exact with one multiplication or division:
 * at most 15 significant digits and a power of ten up to 10^22 (Clinger's fast path; the result is
 * then the correctly rounded double, as `Number` gives). Returns NaN for anything else (more digits,
 * spaces, "NaN", hexadecimal...): then call `Number` on the slice.
 *
 * @example
 * ```ts
 * exactDecimal("x=-12.5e1", 2, 9); // -125
 * exactDecimal("0.06888437030500963", 0, 19); // NaN: 16 significant digits
 * ```
 */
export function exactDecimal(text: string, a: number, b: number): number {
  let i = a;
  let c = text.charCodeAt(i);
  const negative = c === 45; // -
  if (negative || c === 43) c = text.charCodeAt(++i); // - or +
  let m = 0;
  let digits = 0;
  let scale = 0;
  let any = false;
  while (i < b && c >= 48 && c <= 57) {
    if ((m !== 0 || c !== 48) && ++digits > 15) return NaN;
    m = m * 10 + (c - 48);
    any = true;
    c = text.charCodeAt(++i);
  }
  if (i < b && c === 46) { // .
    c = text.charCodeAt(++i);
    while (i < b && c >= 48 && c <= 57) {
      if ((m !== 0 || c !== 48) && ++digits > 15) return NaN;
      m = m * 10 + (c - 48);
      scale--;
      any = true;
      c = text.charCodeAt(++i);
    }
  }
  if (!any) return NaN;
  if (i < b && (c === 101 || c === 69)) { // e or E
    c = text.charCodeAt(++i);
    const negativeExponent = c === 45;
    if (negativeExponent || c === 43) c = text.charCodeAt(++i);
    let e = 0;
    let expDigits = 0;
    while (i < b && c >= 48 && c <= 57) {
      if (e < 1000) e = e * 10 + (c - 48);
      expDigits++;
      c = text.charCodeAt(++i);
    }
    if (expDigits === 0) return NaN;
    scale += negativeExponent ? -e : e;
  }
  if (i !== b || scale < -22 || scale > 22) return NaN;
  const v = scale >= 0 ? m * POWERS_OF_TEN[scale] : m / POWERS_OF_TEN[-scale];
  return negative ? -v : v;
}

/**
 * Parses message texts into points. After a call that returns true, `x` and `y` hold the point;
 * after false, `rejected` says why the message is not one (a reason code of `./rejection.ts` and a
 * detail). One instance is reused for every message.
 *
 * @example
 * ```ts
 * const parser = new PointParser({ x: "x", y: "y" });
 * parser.csv("3,4.5", { x: 0, y: 1, width: 2 }); // true: parser.x = 3, parser.y = 4.5
 * parser.json('{"x": 1}'); // false: parser.rejected = { reason: "bad_json", detail: 'no field "y"' }
 * ```
 */
export class PointParser {
  /** The x of the last point parsed. */
  x = NaN;
  /** The y of the last point parsed. */
  y = NaN;
  /** Why the last message was not a point. */
  rejected: SourceReject = { reason: "bad_csv", detail: "" };
  readonly #columns: Columns;
  #exactX = true;
  #exactY = true;

  /** `columns` names the fields, in JSON and in messages. */
  constructor(columns: Columns) {
    this.#columns = columns;
  }

  /**
   * Parses a CSV data row laid out as `layout`.
   *
   * @example
   * ```ts
   * parser.csv("a,1,2", csvLayout("note,x,y", columns) as CsvLayout); // true
   * ```
   */
  csv(text: string, layout: CsvLayout): boolean {
    const fields = splitCsvRecord(text);
    if (fields === undefined) return this.#fail("bad_csv", "a quote is unterminated or misplaced");
    if (fields.length !== layout.width) {
      return this.#fail(
        fields.length < layout.width ? "missing_column" : "extra_fields",
        `${fields.length} field${fields.length === 1 ? "" : "s"} where the header has ${layout.width}`,
      );
    }
    return this.pair(fields[layout.x], fields[layout.y]);
  }

  /**
   * Parses the x and y fields of a CSV row (what `csv` does once it has found them).
   *
   * @example
   * ```ts
   * parser.pair("1", " 2.5"); // true: parser.x = 1, parser.y = 2.5
   * ```
   */
  pair(xField: string, yField: string): boolean {
    const x = parseNumberField(xField, this.#columns.x);
    if (typeof x !== "number") return this.#reject(x);
    const y = parseNumberField(yField, this.#columns.y);
    if (typeof y !== "number") return this.#reject(y);
    this.x = x;
    this.y = y;
    return true;
  }

  /**
   * Like `pair`, on two ranges of one string: `text[xa, xb)` and `text[ya, yb)`. Without slicing in
   * the common case (see {@linkcode exactDecimal}).
   *
   * @example
   * ```ts
   * parser.ranges("3,4.5", 0, 1, 2, 5); // true: parser.x = 3, parser.y = 4.5
   * ```
   */
  ranges(text: string, xa: number, xb: number, ya: number, yb: number): boolean {
    let x = this.#exactX ? exactDecimal(text, xa, xb) : NaN;
    if (x !== x) {
      this.#exactX = false; // (the values of a column tend to look alike: stop trying for now)
      const parsed = parseNumberField(text.slice(xa, xb), this.#columns.x);
      if (typeof parsed !== "number") return this.#reject(parsed);
      x = parsed;
    }
    let y = this.#exactY ? exactDecimal(text, ya, yb) : NaN;
    if (y !== y) {
      this.#exactY = false;
      const parsed = parseNumberField(text.slice(ya, yb), this.#columns.y);
      if (typeof parsed !== "number") return this.#reject(parsed);
      y = parsed;
    }
    this.x = x;
    this.y = y;
    return true;
  }

  /**
   * Tries {@linkcode exactDecimal} again for both columns in `ranges` (after a miss, `ranges` goes
   * straight to `Number` until this is called; the source calls it once per fetched batch).
   *
   * @example
   * ```ts
   * parser.retryExact();
   * ```
   */
  retryExact(): void {
    this.#exactX = true;
    this.#exactY = true;
  }

  /**
   * Parses a JSON object with numeric fields named by the columns.
   *
   * @example
   * ```ts
   * parser.json('{"x": 0, "y": 0.07, "id": "a"}'); // true
   * ```
   */
  json(text: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.#fail("bad_json", `not JSON: ${showField(text)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.#fail("bad_json", `not a JSON object: ${showField(text)}`);
    }
    const record = value as Record<string, unknown>;
    const x = record[this.#columns.x];
    const y = record[this.#columns.y];
    if (typeof x !== "number") return this.#fail("bad_json", jsonProblem(this.#columns.x, x));
    if (typeof y !== "number") return this.#fail("bad_json", jsonProblem(this.#columns.y, y));
    if (x === 0 || y === 0 || x - x !== 0 || y - y !== 0) {
      // A literal that does not fit a double reads as ±Infinity (1e400) or 0 (1e-400): judge the literals
      // as CSV fields are judged (overflow, out_of_range), so that no message reads as a point it is not.
      const literals = topLevelLiterals(text);
      for (const name of [this.#columns.x, this.#columns.y]) {
        const literal = literals.get(name);
        if (literal === undefined) continue;
        const parsed = parseNumberField(literal, name);
        if (typeof parsed !== "number") return this.#reject(parsed);
      }
    }
    this.x = x;
    this.y = y;
    return true;
  }

  /**
   * Records that the message is not UTF-8 (`invalid_utf8`); returns false.
   *
   * @example
   * ```ts
   * const ok = text === undefined ? parser.notUtf8() : parser.csv(text, layout);
   * ```
   */
  notUtf8(): false {
    return this.#fail("invalid_utf8", "the message is not valid UTF-8");
  }

  #fail(reason: RejectReason, detail: string): false {
    return this.#reject({ reason, detail });
  }

  #reject(why: SourceReject): false {
    this.rejected = why;
    return false;
  }
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A message's text, or undefined if its bytes are not UTF-8 (only a text with U+FFFD, the mark of a
 * replaced byte, is checked again strictly). A message without a value is "".
 *
 * @example
 * ```ts
 * messageText(Buffer.from("1,2")); // "1,2"
 * messageText(Buffer.from([0x31, 0x2c, 0x80])); // undefined
 * ```
 */
export function messageText(value: Uint8Array | null): string | undefined {
  if (value === null) return "";
  const text = Buffer.from(value.buffer, value.byteOffset, value.length).toString("utf8");
  if (text.indexOf("\uFFFD") < 0) return text;
  try {
    fatalUtf8.decode(value);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * The source text of each top-level member of a JSON object (`{"x": 1e-400}` → x: "1e-400"), where the
 * runtime tells it (JSON.parse source text access: Deno, Bun); else an empty map.
 */
function topLevelLiterals(text: string): Map<string, string> {
  const found = new Map<unknown, Map<string, string>>();
  const root = JSON.parse(
    text,
    function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
      if (typeof context?.source === "string") {
        let members = found.get(this);
        if (members === undefined) found.set(this, members = new Map());
        members.set(key, context.source);
      }
      return value;
    },
  );
  return found.get(root) ?? new Map();
}

function jsonProblem(name: string, value: unknown): string {
  if (value === undefined) return `no field "${name}"`;
  if (typeof value === "string") return `${name} is the string ${showField(value)}, not a number`;
  const json = JSON.stringify(value) ?? String(value);
  return `${name} is ${json.length > 40 ? `${json.slice(0, 40)}…` : json}, not a number`;
}

// ---------------------------------------------------------------------------------------------------
// The source

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
 * Settings of {@linkcode KafkaSource.open}.
 *
 * @example
 * ```ts
 * const options: KafkaSourceOptions = { connection, format: "json", columns: { x: "t", y: "v" }, exitAtEnd: true };
 * ```
 */
export interface KafkaSourceOptions {
  /** Brokers, credentials, topic and group (see `../kafka/connection.ts`). */
  readonly connection: KafkaConnection;
  /** A kafkajs client to use; default: one made by `createKafka` for the connection. */
  readonly kafka?: Kafka;
  /** Message format. Default "csv". */
  readonly format?: "csv" | "json";
  /** CSV only: the header to use instead of each partition's first message, e.g. "x,y". */
  readonly csvHeader?: string;
  /** Column (CSV) or field (JSON) names. Default x and y. */
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
   * the group's committed offsets and `start`), with its CSV header. See {@linkcode KafkaSource.position}.
   */
  readonly resume?: KafkaPosition;
}

/**
 * Where a reader stands after a batch ({@linkcode KafkaSource.position}): what a checkpoint keeps.
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

interface PartitionState {
  readonly partition: number;
  /** The earliest offset at the start: where the partition's header is. */
  low: number;
  /** The next offset to accept; messages before it have been read (or are skipped by the start). */
  next: number;
  /** Whether `next` was decided by this reader (false for partitions that appeared later). */
  known: boolean;
  /** Where the first assignment starts was decided at the start (a checkpoint, --from-beginning/-end). */
  forced: boolean;
  /** Counts the assignments of the partition to this reader (0: never assigned yet). */
  tenure: number;
  /** Newly assigned, paused: its start (the group's committed offset) is being looked up. */
  pending: boolean;
  /** The end offset at the start (for exitAtEnd). */
  end: number;
  /** The header is the partition's first message, before `next`: read it first, then seek to `next`. */
  probe: boolean;
  /** The CSV header's layout, once known. */
  layout: CsvLayout | undefined;
  /** The CSV header's text, once read (not for --csv-header). */
  header: string | undefined;
  /** The offset of the header message (-1: before every offset of this run, e.g. from a checkpoint). */
  headerAt: number;
  /** Where this reader started on the partition (-1: decided by the group, for partitions seen later). */
  start: number;
  /** `next` of the last chunk with points handed to the pipeline (-1: none). */
  pushed: number;
  /** The offset to commit: after the last message whose batch was written (-1: none yet). */
  committed: number;
  /** The last offset this reader committed successfully (-1: none). */
  sent: number;
  /** `next` after a fetched batch without points that no pushed chunk covers (-1: none). */
  empty: number;
}

/** What to do about a checkpoint the topic does not match. */
const RESUME_REMEDY = "restore the topic, or delete the --state directory to start over";

/** Checks that the topic still holds every message a checkpoint goes on from; throws an Error if not. */
function checkResume(
  position: KafkaPosition,
  topic: string,
  plan: readonly { partition: number; low: number; high: number }[],
): void {
  if (position.topic !== topic) {
    throw new Error(`the checkpoint is of topic "${position.topic}", not "${topic}": ${RESUME_REMEDY}`);
  }
  for (const { partition, next } of position.partitions) {
    const offsets = plan.find((p) => p.partition === partition);
    if (offsets === undefined) {
      throw new Error(
        `the checkpoint goes on from partition ${partition} of topic "${topic}", which has ${plan.length} ` +
          `partition${plan.length === 1 ? "" : "s"} now (deleted and created again?): ${RESUME_REMEDY}`,
      );
    }
    if (next > offsets.high) {
      throw new Error(
        `partition ${partition} of topic "${topic}" ends at offset ${offsets.high}, before offset ${next} where the ` +
          `checkpoint goes on (the topic was deleted and created again?): ${RESUME_REMEDY}`,
      );
    }
    if (next < offsets.low) {
      throw new Error(
        `partition ${partition} of topic "${topic}" starts at offset ${offsets.low} now: the messages from offset ` +
          `${next}, where the checkpoint goes on, are gone (retention): ${RESUME_REMEDY}`,
      );
    }
  }
}

/** While the pipeline is busy, heartbeat the group this often. */
const HEARTBEAT_WHILE_WAITING_MS = 2_000;
/** Say so if the group is not joined after this long. */
const JOIN_NOTICE_MS = 10_000;

/**
 * Fetch settings of the kafkajs consumer: up to 4 MiB per partition and 16 MiB per fetch (kafkajs's
 * defaults are 1 and 10 MiB), and at most 500 ms of waiting for new messages, so that stopping is quick.
 *
 * @example
 * ```ts
 * kafka.consumer({ groupId, ...KAFKA_FETCH_DEFAULTS }); // what a bare consumer needs to compare with
 * ```
 */
export const KAFKA_FETCH_DEFAULTS = {
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxBytes: 16 * 1024 * 1024,
  maxWaitTimeInMs: 500,
} as const;

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
    markUnsupportedCompression();
    const kafka = options.kafka ??
      createKafka(
        c,
        options.verbose || c.settings.debug ? { log: (line) => message(`streamreg: ${line}`) } : {},
      );
    const describe = (error: unknown) =>
      new Error(kafkaErrorMessage(error, { connection: c }), { cause: error });
    const guard = <T>(promise: Promise<T>): Promise<T> => {
      const signal = options.signal;
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(new Error("interrupted while connecting to Kafka"));
        signal?.addEventListener("abort", () => reject(new Error("interrupted while connecting to Kafka")));
      });
      return withDeadline(
        Promise.race([promise.catch((error) => Promise.reject(describe(error))), aborted]),
        SETUP_DEADLINE_MS,
        () =>
          `no answer from Kafka at ${c.brokers} within ${
            SETUP_DEADLINE_MS / 1000
          } s (check -b and the network)`,
      );
    };

    // 1. The topic, its offsets, and the group's committed offsets, with an admin client.
    const admin = kafka.admin();
    let plan: { partition: number; low: number; high: number; committed: number }[];
    try {
      plan = await guard((async () => {
        await admin.connect();
        const metadata = await admin.fetchTopicMetadata({ topics: [c.topic] });
        if (!metadata.topics.some((t) => t.name === c.topic)) {
          throw Object.assign(new Error("unknown topic"), { type: "UNKNOWN_TOPIC_OR_PARTITION" });
        }
        const offsets = await admin.fetchTopicOffsets(c.topic);
        const groupOffsets = await admin.fetchOffsets({ groupId: c.groupId, topics: [c.topic] });
        const committed = new Map(
          (groupOffsets.find((t) => t.topic === c.topic)?.partitions ?? []).map((p) => [
            p.partition,
            Number(p.offset),
          ]),
        );
        return offsets.map((o) => ({
          partition: o.partition,
          low: Number(o.low),
          high: Number(o.high),
          committed: committed.get(o.partition) ?? -1,
        })).sort((a, b) => a.partition - b.partition);
      })());
    } finally {
      await admin.disconnect().catch(() => {});
    }

    // 2. Where each partition starts: at the checkpoint's offset if resuming, else as the flags say.
    const resetToBeginning = c.settings.fromBeginning ?? true;
    const start = options.start ?? "committed";
    const resume = new Map((options.resume?.partitions ?? []).map((p) => [p.partition, p]));
    if (options.resume !== undefined) checkResume(options.resume, c.topic, plan);
    const states: PartitionState[] = plan.map(({ partition, low, high, committed }) => {
      let next: number;
      let why: string;
      const resumed = resume.get(partition);
      let partitionLayout = layout;
      if (resumed !== undefined) {
        next = resumed.next;
        why = `the checkpoint${
          committed >= 0 && committed !== next ? `; group "${c.groupId}" committed ${committed}` : ""
        }`;
        if (resumed.header !== undefined && format === "csv" && layout === undefined) {
          const l = csvLayout(resumed.header, columns);
          if (typeof l === "string") {
            throw new Error(
              `partition ${partition}: the checkpoint's CSV header ${preview(resumed.header)}: ${l}`,
            );
          }
          partitionLayout = l;
        }
      } else if (start === "beginning") [next, why] = [low, "--from-beginning"];
      else if (start === "end") [next, why] = [high, "--from-end"];
      else if (committed >= 0 && committed <= high) {
        [next, why] = [Math.max(committed, low), `group "${c.groupId}" committed offset ${committed}`];
      } else [next, why] = resetToBeginning ? [low, "no committed offset: earliest"] : [high, "latest"];
      const probe = format === "csv" && partitionLayout === undefined && next > low &&
        !(options.exitAtEnd && next >= high);
      if (options.verbose) {
        message(
          `streamreg: partition ${partition}: offsets ${low}..${high - 1}, reading from ${next} (${why})` +
            (probe ? `, header from offset ${low}` : ""),
        );
      }
      return {
        partition,
        low,
        next,
        known: true,
        forced: resumed !== undefined || start !== "committed",
        tenure: 0,
        pending: false,
        end: high,
        probe,
        layout: partitionLayout,
        header: partitionLayout !== layout ? resumed?.header : undefined,
        headerAt: -1,
        start: next,
        pushed: -1,
        // Resumed from a checkpoint: everything before `next` is written and persisted, so the group is
        // owed that offset even if this run reads nothing (a crash may have come before the commit).
        committed: resumed !== undefined ? next : -1,
        sent: -1,
        empty: -1,
      };
    });

    // 3. The consumer. Offsets are committed by `committed`, never automatically.
    // The fetch properties (fetch.max.bytes, ...) win over the defaults, options.fetch over both.
    const { groupId: _, sessionTimeout, heartbeatInterval, readUncommitted, ...configured } =
      c.settings.consumer;
    const fetch = { ...KAFKA_FETCH_DEFAULTS, ...configured, ...options.fetch };
    const consumer = kafka.consumer({
      groupId: c.groupId,
      sessionTimeout,
      heartbeatInterval,
      allowAutoTopicCreation: false,
      ...(readUncommitted ? { readUncommitted } : {}),
      ...fetch,
    });
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
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#onJoin(event.payload.memberAssignment));
    consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
      // A batch of transaction markers or aborted messages only: nothing to read up to its end.
      const { partition, batchSize, firstOffset, lastOffset } = event.payload;
      const state = this.#partitions.get(partition);
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
    this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#onBatch(payload),
    }).catch((error) => this.#fail(new Error(kafkaErrorMessage(error, { connection: this.#connection }))));
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

  #state(partition: number): PartitionState {
    let state = this.#partitions.get(partition);
    if (state === undefined) {
      // A partition added after the start: read from wherever the group says, header first.
      state = {
        partition,
        low: 0,
        next: 0,
        known: false,
        forced: false,
        tenure: 0,
        pending: false,
        end: 0,
        probe: false,
        layout: this.#fixedLayout,
        header: undefined,
        headerAt: -1,
        start: -1,
        pushed: -1,
        committed: -1,
        sent: -1,
        empty: -1,
      };
      this.#partitions.set(partition, state);
    }
    return state;
  }

  #onJoin(assignment: Record<string, number[]>): void {
    this.#joined = true;
    this.#crashed = false;
    clearTimeout(this.#joinTimer);
    if (this.#stopped) return;
    const first = this.#joins++ === 0;
    const previous = new Set(this.#assigned);
    this.#assigned = [...(assignment[this.#topic] ?? [])];
    // A partition lost is not the checkpoint's any more: whoever read it next committed its offsets.
    for (const partition of previous) {
      if (!this.#assigned.includes(partition)) this.#resumed.delete(partition);
    }
    const lookUp: PartitionState[] = [];
    for (const partition of this.#assigned) {
      const state = this.#state(partition);
      if (previous.has(partition) && !state.pending) {
        // Held before this rejoin too (a broker outage, another reader joining or leaving): go on where
        // this reader is, so that points already handed to the pipeline are not read twice.
        this.#seek(state);
        continue;
      }
      // Newly assigned: another reader may have read and committed it meanwhile.
      if (first && state.forced) {
        this.#newTenure(state);
        // The start decided when opening: the checkpoint's offset, --from-beginning, --from-end.
        // Resumed from a checkpoint: everything before `next` is written and persisted, so the group is
        // owed that offset even if this run reads nothing (a crash may have come before the commit).
        if (this.#resumed.has(partition)) state.committed = state.next;
        this.#seek(state);
      } else {
        state.pending = true;
        lookUp.push(state);
      }
    }
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

  /**
   * Starts a new assignment of the partition to this reader: what it did with the partition before is
   * not committed any more (see `#written`).
   */
  #newTenure(state: PartitionState): void {
    state.tenure++;
    state.pushed = -1;
    state.committed = -1;
    state.sent = -1;
    state.empty = -1;
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
      await admin.connect();
      const [group] = await admin.fetchOffsets({ groupId: this.#connection.groupId, topics: [this.#topic] });
      committed = new Map((group?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      offsets = new Map(
        (await admin.fetchTopicOffsets(this.#topic)).map((o) => [
          o.partition,
          { low: Number(o.low), high: Number(o.high) },
        ]),
      );
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (join !== this.#joins || this.#stopped) return; // a later join decides
    const resetToBeginning = this.#connection.settings.fromBeginning ?? true;
    for (const state of states) {
      const range = offsets.get(state.partition);
      if (range === undefined) continue;
      if (state.tenure > 0 && (committed.get(state.partition) ?? -1) === state.sent) {
        state.pending = false;
        this.#seek(state);
        continue;
      }
      this.#newTenure(state);
      state.low = range.low;
      if (!state.known) state.end = range.high;
      // The checkpoint's offset, for a partition that it names and another reader held until now: the
      // group's committed offset may lag behind it (a crash between checkpoint and commit).
      const c = Math.max(committed.get(state.partition) ?? -1, this.#resumed.get(state.partition) ?? -1);
      const next = c >= 0 && c <= range.high
        ? Math.max(c, range.low)
        : resetToBeginning
        ? range.low
        : range.high;
      state.next = next;
      state.start = next;
      state.known = true;
      state.probe = this.#format === "csv" && state.layout === undefined && next > state.low &&
        !(this.#exitAtEnd && next >= state.end);
      state.pending = false;
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

  async #onBatch({ batch, heartbeat, isStale }: EachBatchPayload): Promise<void> {
    if (this.#stopped) return;
    const partition = batch.partition;
    const state = this.#state(partition);
    const messages = batch.messages;
    if (messages.length === 0 || state.pending) return; // (pending: paused, and sought to its start later)

    if (state.probe) {
      const first = messages[0];
      const offset = Number(first.offset);
      state.probe = false;
      if (offset < state.next) {
        // The partition's first message: the header. Then back to where reading starts.
        this.#readHeader(state, first.value?.toString() ?? "", offset);
        if (!this.#stopped) {
          this.#consumer.seek({ topic: this.#topic, partition, offset: String(state.next) });
        }
        return;
      }
      // Nothing before `next` any more: this message is the first one read, and so the header.
    }

    const parser = this.#parser;
    const csv = this.#format === "csv";
    const n = messages.length;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    const index = new Int32Array(n); // the message of each point, for its offset
    const starts = new Int32Array(n); // and where its bytes are in the fetched buffer
    const lengths = new Int32Array(n);
    let elsewhere: Map<number, Uint8Array> | undefined; // (or a copy, if they are in another buffer)
    let count = 0;
    // Messages before `next` were read before (a rebalance restarts at the committed offset).
    let first = 0;
    while (first < n && Number(messages[first].offset) < state.next) first++;
    // Offsets are kept as numbers, not by holding kafkajs's messages (which would then outlive the
    // young generation of the garbage collector): one per batch when they are consecutive.
    const firstOffset = Number(messages[0].offset);
    let offsets: Float64Array | undefined;
    if (Number(messages[n - 1].offset) - firstOffset !== n - 1) {
      offsets = new Float64Array(n);
      for (let k = 0; k < n; k++) offsets[k] = Number(messages[k].offset);
    }
    let last = -1;
    // Messages that are not points keep their slot (NaN) and are listed here, for the pipeline.
    let rejects: Map<number, SourceReject> | undefined;
    const maxBytes = this.#maxRecordBytes;
    // CSV data rows are read from one latin1 string of the fetched bytes (one native call per batch, not
    // one per message; bytes map 1:1 to characters, so a value's bytes are its characters).
    let buffer: ArrayBufferLike | undefined;
    let text = "";
    let base = 0;
    let lastValue: Uint8Array | null = null;
    for (let k = n - 1; k >= first && lastValue === null; k--) lastValue = messages[k].value;
    const fetched = lastValue?.buffer;
    const maxMessages = this.#maxMessages;
    let read = this.#read;
    parser.retryExact();
    let stop = false;
    let complete = true;
    let unsupported: { codec: string; offset: number } | undefined;
    for (let k = first; k < n; k++) {
      const m = messages[k];
      if ((k & 255) === 255 && isStale()) {
        complete = false;
        break;
      }
      if (m.value === null && m.key !== null) {
        const codec = unsupportedCompression(m.key);
        if (codec !== undefined) {
          unsupported = { codec, offset: Number(m.offset) };
          complete = false;
          break;
        }
      }
      last = k;
      read++;
      const value = m.value;
      const length = value === null ? 0 : value.length;
      const where = value === null ? undefined : value.buffer;
      const at = value === null ? 0 : value.byteOffset;
      const layout = state.layout;
      let ok: boolean;
      if (length > maxBytes) {
        ok = false;
        parser.rejected = {
          reason: "too_large",
          detail: `the message has ${length} bytes, more than the limit of ${maxBytes} (--max-record-bytes)`,
          raw: value!.slice(0, TOO_LARGE_RAW_BYTES),
        };
        if (csv && layout === undefined) {
          this.#readHeader(state, `(${parser.rejected.detail})`, Number(m.offset));
          return;
        }
      } else if (length === 0 && (!csv || layout !== undefined)) {
        ok = false;
        parser.rejected = { reason: "empty_field", detail: "the message is empty" };
      } else if (!csv) {
        const t = messageText(value);
        ok = t === undefined ? parser.notUtf8() : parser.json(t);
      } else if (layout === undefined) {
        this.#readHeader(state, value === null ? "" : value.toString(), Number(m.offset));
        if (this.#stopped) return;
        ok = false;
      } else if (layout.width === 2) {
        // The common case: two fields, one comma. A quote, a non-ASCII character or anything unusual
        // makes a field not a number, and the message is then parsed again properly.
        if (where !== buffer) {
          buffer = where!;
          base = at;
          const end = fetched === buffer ? lastValue!.byteOffset + lastValue!.length : buffer.byteLength;
          text = Buffer.from(buffer, base, Math.max(end, at + length) - base).toString("latin1");
        }
        const a = at - base;
        const b = a + length;
        const comma = text.indexOf(",", a);
        const second = comma < 0 || comma >= b ? -1 : text.indexOf(",", comma + 1);
        ok = false;
        if (comma >= 0 && comma < b && (second < 0 || second >= b)) {
          ok = layout.x === 0
            ? parser.ranges(text, a, comma, comma + 1, b)
            : parser.ranges(text, comma + 1, b, a, comma);
        }
        if (!ok) {
          const t = messageText(value);
          ok = t === undefined ? parser.notUtf8() : parser.csv(t, layout);
        }
      } else {
        const t = messageText(value);
        ok = t === undefined ? parser.notUtf8() : parser.csv(t, layout);
      }
      if (ok) {
        xs[count] = parser.x;
        ys[count] = parser.y;
        index[count] = k;
        // Where its bytes are, should the pipeline reject the point (NaN, out of range) and need them.
        if (where === fetched) {
          starts[count] = at;
          lengths[count] = length;
        } else {
          (elsewhere ??= new Map()).set(count, value!.slice());
        }
        count++;
      } else if (layout !== undefined || !csv) {
        xs[count] = NaN;
        ys[count] = NaN;
        index[count] = k;
        const why = parser.rejected;
        (rejects ??= new Map()).set(
          count,
          why.raw ? why : { ...why, raw: value === null ? "" : value.slice() },
        );
        count++;
      }
      if (read >= maxMessages) {
        stop = true;
        complete = false;
        break;
      }
    }
    this.#read = read;
    if (last >= 0) state.next = Number(messages[last].offset) + 1;
    // Transaction markers after the last message: nothing more to read up to the batch's end.
    if (complete) state.next = Math.max(state.next, Number(batch.lastOffset()) + 1);

    if (count > 0) {
      const topic = this.#topic;
      const offset = offsets ? (i: number) => offsets[index[i]] : (i: number) => firstOffset + index[i];
      const diff = new Float64Array(count).fill(1);
      if (rejects) { for (const i of rejects.keys()) diff[i] = NaN; }
      const chunk: KafkaChunk = {
        x: xs.subarray(0, count),
        y: ys.subarray(0, count),
        diff,
        partition,
        offset,
        next: state.next,
        tenure: state.tenure,
        where: (i) => `${topic} partition ${partition} offset ${offset(i)}`,
        origin: (i): RecordOrigin => ({
          source: "kafka",
          location: `topic ${topic} partition ${partition} offset ${offset(i)}`,
          topic,
          partition,
          offset: String(offset(i)),
        }),
        raw: (i) =>
          rejects?.get(i)?.raw ?? elsewhere?.get(i) ?? new Uint8Array(fetched!, starts[i], lengths[i]),
        ...(rejects ? { rejects } : {}),
      };
      state.pushed = state.next;
      await this.#push(chunk, heartbeat);
    } else {
      state.empty = state.next;
    }
    if (unsupported !== undefined) {
      // After the chunk: the pipeline writes and commits what was read before, then stops.
      const { codec, offset } = unsupported;
      this.#fail(
        new Error(
          `${this.#topic} partition ${partition} offset ${offset}: the messages from here on are compressed with ${codec}, ` +
            `which streamreg cannot read (its Kafka client, kafkajs, reads uncompressed and gzip messages only): ` +
            `produce them uncompressed or with gzip (compression.type); the points before offset ${offset} are ` +
            `written and committed, so the next run goes on from there`,
        ),
      );
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
    while (!this.#released) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#release = resolve)),
        new Promise((resolve) => (timer = setTimeout(resolve, HEARTBEAT_WHILE_WAITING_MS))),
      ]);
      clearTimeout(timer);
      if (!this.#released) await heartbeat().catch(() => {});
    }
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
    while (!done) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([pushed, new Promise((r) => (timer = setTimeout(r, HEARTBEAT_WHILE_WAITING_MS)))]);
      clearTimeout(timer);
      if (!done) await heartbeat().catch(() => {});
    }
  }

  #readHeader(state: PartitionState, text: string, offset: number): void {
    const layout = csvLayout(text, this.#columns);
    if (typeof layout === "string") {
      this.#fail(
        new Error(
          `${this.#topic} partition ${state.partition} offset ${offset}: the partition's first message ${
            preview(text)
          } is not a CSV header naming the columns "${this.#columns.x}" and "${this.#columns.y}" (${layout}): ` +
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
    // In the background, one commit at a time: the pipeline does not wait for the broker (whose
    // connection may be busy with a fetch); `close` waits for the last commit.
    this.#commits = this.#commits.then(() => this.#commit(false));
  }

  /** Notes, per partition, the offset after the batch's last message (idempotent). */
  #written(batch: CommittedBatch<KafkaChunk>): void {
    for (const { chunk, end } of batch.spans) {
      const state = this.#state(chunk.partition);
      // Read before the partition was revoked (and maybe read by another reader since): not committed.
      if (chunk.tenure !== state.tenure) continue;
      const next = end === chunk.x.length ? chunk.next : chunk.offset(end - 1) + 1;
      state.committed = Math.max(state.committed, next);
    }
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
    const partitions: KafkaPartitionPosition[] = [];
    const assigned = this.#assigned.map((p) => this.#state(p)).filter((state) => !state.pending);
    for (const state of assigned.sort((p, q) => p.partition - q.partition)) {
      const next = state.committed >= 0 ? state.committed : state.start;
      if (next < 0) continue; // (a partition seen later, nothing of it written: the group decides)
      const header = state.header !== undefined && state.headerAt < next ? state.header : undefined;
      partitions.push({ partition: state.partition, next, ...(header !== undefined ? { header } : {}) });
    }
    return { topic: this.#topic, partitions };
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
    const p = value as Partial<KafkaPosition> | null;
    const ok = typeof p === "object" && p !== null && typeof p.topic === "string" &&
      Array.isArray(p.partitions) &&
      p.partitions.every((q: Partial<KafkaPartitionPosition> | null) =>
        typeof q === "object" && q !== null && Number.isSafeInteger(q.partition) && q.partition! >= 0 &&
        Number.isSafeInteger(q.next) && q.next! >= 0 &&
        (q.header === undefined || typeof q.header === "string")
      ) &&
      new Set(p.partitions.map((q) => q.partition)).size === p.partitions.length;
    if (!ok) {
      const json = JSON.stringify(value) ?? String(value);
      throw new Error(
        `not a Kafka position (topic, partitions with partition, next, header): ${
          json.length > 200 ? `${json.slice(0, 200)}…` : json
        }`,
      );
    }
    return p as KafkaPosition;
  }

  /** Commits what is due: points written, and batches without points after them. */
  async #commit(final: boolean): Promise<void> {
    const due: { topic: string; partition: number; offset: string }[] = [];
    // Only partitions assigned to this reader now: another reader may have gone on with the others.
    for (const state of this.#assigned.map((p) => this.#state(p))) {
      if (state.pending) continue; // (its start is being decided: the group's offset may be ahead)
      // Batches without points may be committed once every chunk before them has been.
      if (state.empty > state.committed && state.committed >= state.pushed) state.committed = state.empty;
      if (state.committed >= 0 && state.committed !== state.sent) {
        due.push({ topic: this.#topic, partition: state.partition, offset: String(state.committed) });
      }
    }
    if (due.length === 0) return;
    try {
      if (this.#dead) await this.#commitWithoutConsumer(due);
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
   * Commits offsets for a consumer that crashed for good (a fatal error: it has left the group), so that
   * the batch the pipeline writes after the error is committed too. The broker accepts it only while the
   * group has no other member.
   */
  async #commitWithoutConsumer(due: { partition: number; offset: string }[]): Promise<void> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.setOffsets({
        groupId: this.#connection.groupId,
        topic: this.#topic,
        partitions: due.map(({ partition, offset }) => ({ partition, offset })),
      });
    } finally {
      await admin.disconnect().catch(() => {});
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
    // Release an eachBatch waiting for the pipeline, so that the consumer can stop.
    this.#queue.end();
    await this.#queue[Symbol.asyncIterator]().return?.();
    let failure: unknown;
    try {
      await this.#commits;
      await this.#commit(true);
    } catch (error) {
      failure = error;
    }
    this.#released = true;
    this.#release();
    await withDeadline(this.#consumer.disconnect(), 5_000, () => "disconnect timed out").catch(() => {});
    if (failure) throw failure;
  }
}
