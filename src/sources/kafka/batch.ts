/**
 * Decoding one fetched batch of a partition into a chunk: every message after where the partition
 * stands becomes a point (x, y; with several x columns, every x) or a rejected slot with its reason and bytes; the partition's CSV header
 * is read from its first message when it has none yet. Offsets and the bytes of each message are kept
 * as numbers and positions in the fetched buffer, not by holding kafkajs's message objects.
 *
 * @example
 * ```ts
 * import { decodeBatch } from "./batch.ts";
 * const decoded = decodeBatch(batch, state, { topic, parser, csv: true, maxRecordBytes, maxMessages, read, isStale, readHeader });
 * if (decoded?.chunk) await queue.push(decoded.chunk);
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import type { Batch } from "kafkajs";
import { type CsvLayout, plainFields } from "../../model/csv.ts";
import { type RecordOrigin, type SourceReject, TOO_LARGE_RAW_BYTES } from "../../model/rejection.ts";
import { messageText, type PointParser } from "./messages.ts";
import type { KafkaChunk } from "./options.ts";
import type { PartitionState } from "./partitions.ts";
import { type Undecodable, undecodableBatch } from "./undecodable_batch.ts";
import { MESSAGE_KEY } from "../../model/keys.ts";
import { MESSAGE_TIMESTAMP } from "../../model/windows.ts";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A message key's text, or null if there is none or it is not UTF-8. */
function keyText(key: Uint8Array | null): string | null {
  if (key === null) return null;
  try {
    return fatalUtf8.decode(key);
  } catch {
    return null;
  }
}

/**
 * What {@linkcode decodeBatch} needs from the source.
 *
 * @example
 * ```ts
 * const ctx: BatchContext = { topic: "points", parser, csv: true, maxRecordBytes: 1 << 20, maxMessages: Infinity, read: 0, isStale: () => false, readHeader: () => false };
 * ```
 */
export interface BatchContext {
  /** The topic, for the chunk's origins. */
  readonly topic: string;
  /** The parser of the messages (reused for every message). */
  readonly parser: PointParser;
  /** CSV messages (else JSON). */
  readonly csv: boolean;
  /** Longer messages are rejected (`too_large`). */
  readonly maxRecordBytes: number;
  /** Stop once `read` reaches this many messages. */
  readonly maxMessages: number;
  /** Messages read so far by the source (every message counts). */
  readonly read: number;
  /** Whether kafkajs has dropped the batch (a rebalance): then stop decoding it. */
  isStale(): boolean;
  /** Reads `text` (the message at `offset`) as the partition's CSV header; returns true if that stopped the source. */
  readHeader(text: string, offset: number): boolean;
}

/**
 * A decoded batch.
 *
 * @example
 * ```ts
 * const { chunk, read, stop } = decoded;
 * ```
 */
export interface DecodedBatch {
  /** The points and rejected slots, if any. */
  readonly chunk: KafkaChunk | undefined;
  /** Messages read so far by the source, this batch's included. */
  readonly read: number;
  /** `maxMessages` is reached: stop reading. */
  readonly stop: boolean;
  /** The first message of a batch that could not be decompressed, where decoding stopped. */
  readonly undecodable?: Undecodable & { readonly offset: number };
}

/** A quote or a character that is not ASCII (in the latin1 text of the fetched bytes: a byte ≥ 0x80). */
const UNUSUAL = /["\x80-\xff]/g;

/**
 * Decodes the messages of `batch` from offset `state.next` on, and moves `state.next` past them.
 * Returns undefined when reading the header stopped the source (nothing else to do with the batch).
 *
 * @example
 * ```ts
 * const decoded = decodeBatch(batch, state, ctx);
 * ```
 */
export function decodeBatch(
  batch: Batch,
  state: PartitionState,
  ctx: BatchContext,
): DecodedBatch | undefined {
  const { parser, csv, maxMessages } = ctx;
  const partition = batch.partition;
  const messages = batch.messages;
  const n = messages.length;
  const xs = new Float64Array(n);
  // Several x columns: one array per x column after the first (the first is `xs`).
  const xColumns = Math.max(1, parser.xs.length);
  const more = Array.from({ length: xColumns - 1 }, () => new Float64Array(n));
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
  const maxBytes = ctx.maxRecordBytes;
  // CSV data rows are read from one latin1 string of the fetched bytes (one native call per batch, not
  // one per message; bytes map 1:1 to characters, so a value's bytes are its characters).
  let buffer: ArrayBufferLike | undefined;
  let text = "";
  let base = 0;
  // The next quote or non-ASCII character at or after a message's start in `text` (text.length: none).
  let unusual = -1;
  const keyNames = parser.keys;
  const keys: string[] | undefined = keyNames !== undefined ? [] : undefined;
  const messageKey = keyNames?.includes(MESSAGE_KEY) ?? false;
  const timed = parser.timeColumn !== undefined;
  const times = timed ? new Float64Array(n) : undefined;
  const messageTimestamp = parser.timeColumn?.column === MESSAGE_TIMESTAMP;
  const ranges = new Int32Array(2 * (xColumns + 2 + (keyNames?.length ?? 0)));
  let wantedFor: CsvLayout | undefined;
  let wanted = new Int32Array(2);
  let lastValue: Uint8Array | null = null;
  for (let k = n - 1; k >= first && lastValue === null; k--) lastValue = messages[k].value;
  const fetched = lastValue?.buffer;
  let read = ctx.read;
  /** Makes `text` the latin1 text of the fetched bytes of `where` from `at` on (one native call per buffer). */
  const viewBuffer = (where: ArrayBufferLike, at: number, length: number): void => {
    buffer = where;
    base = at;
    const end = fetched === buffer ? lastValue!.byteOffset + lastValue!.length : buffer.byteLength;
    text = Buffer.from(buffer, base, Math.max(end, at + length) - base).toString("latin1");
    unusual = -1;
  };
  parser.retryExact();
  let stop = false;
  let complete = true;
  let undecodable: (Undecodable & { offset: number }) | undefined;
  for (let k = first; k < n; k++) {
    const m = messages[k];
    if ((k & 255) === 255 && ctx.isStale()) {
      complete = false;
      break;
    }
    if (m.value === null && m.key !== null) {
      const why = undecodableBatch(m.key);
      if (why !== undefined) {
        undecodable = { ...why, offset: Number(m.offset) };
        complete = false;
        break;
      }
    }
    last = k;
    read++;
    if (messageKey) parser.messageKey = keyText(m.key);
    if (messageTimestamp) parser.messageTimestamp = Number(m.timestamp);
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
        ctx.readHeader(`(${parser.rejected.detail})`, Number(m.offset));
        return undefined;
      }
    } else if (length === 0 && (!csv || layout !== undefined)) {
      ok = false;
      parser.rejected = { reason: "empty_field", detail: "the message is empty" };
    } else if (!csv) {
      // The fast path: a plain JSON object (flat, ASCII, no escapes) is read in place in the latin1 text
      // of the fetched bytes; anything else, or a value that is not a point's, is parsed again properly.
      if (where !== buffer) viewBuffer(where!, at, length);
      ok = parser.plainJson(text, at - base, at - base + length);
      if (!ok) {
        const t = messageText(value);
        ok = t === undefined ? parser.notUtf8() : parser.json(t);
      }
    } else if (layout === undefined) {
      if (ctx.readHeader(value === null ? "" : value.toString(), Number(m.offset))) return undefined;
      ok = false;
    } else {
      // The fast path, the CSV file source's (`plainFields`): a message without quotes, all ASCII, is
      // read in place. Anything else, or a field that is not a number, is parsed again properly.
      if (where !== buffer) viewBuffer(where!, at, length);
      if (layout !== wantedFor) {
        wantedFor = layout;
        wanted = xColumns > 1
          ? Int32Array.of(layout.x, layout.y, ...layout.xs!.slice(1))
          : Int32Array.of(layout.x, layout.y);
        if (layout.keys !== undefined) {
          wanted = Int32Array.of(
            ...wanted,
            ...layout.keys.filter((i) => i >= 0),
          );
        }
        if (layout.time !== undefined && layout.time >= 0) wanted = Int32Array.of(...wanted, layout.time);
      }
      const a = at - base;
      const b = a + length;
      // With two fields, both x and y, a quote or a byte beyond ASCII fails them (see `ranges`): only
      // wider rows need the look-out for quotes and bytes beyond ASCII in their other fields.
      if (layout.width > 2 && unusual < a) {
        UNUSUAL.lastIndex = a;
        unusual = UNUSUAL.test(text) ? UNUSUAL.lastIndex - 1 : text.length;
      }
      ok = (layout.width <= 2 || unusual >= b) && plainFields(text, a, b, wanted, ranges) === layout.width &&
        (xColumns > 1
          ? parser.rangesRow(text, ranges)
          : parser.ranges(text, ranges[0], ranges[1], ranges[2], ranges[3])) &&
        (keyNames === undefined || parser.keyFromRanges(text, ranges, 2 * (xColumns + 1))) &&
        (!timed ||
          parser.timeFromRanges(
            text,
            ranges,
            2 * (xColumns + 1 + (layout.keys?.filter((i) => i >= 0).length ?? 0)),
          ));
      if (!ok) {
        const t = messageText(value);
        ok = t === undefined ? parser.notUtf8() : parser.csv(t, layout);
      }
    }
    if (ok) {
      xs[count] = parser.x;
      for (let c = 1; c < xColumns; c++) more[c - 1][count] = parser.xs[c];
      ys[count] = parser.y;
      if (keys !== undefined) keys[count] = parser.key;
      if (times !== undefined) times[count] = parser.time;
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
      for (let c = 1; c < xColumns; c++) more[c - 1][count] = NaN;
      ys[count] = NaN;
      if (keys !== undefined) keys[count] = "";
      if (times !== undefined) times[count] = NaN;
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
  if (last >= 0) state.next = Number(messages[last].offset) + 1;
  // Transaction markers after the last message: nothing more to read up to the batch's end.
  if (complete) state.next = Math.max(state.next, Number(batch.lastOffset()) + 1);

  let chunk: KafkaChunk | undefined;
  if (count > 0) {
    const topic = ctx.topic;
    const offset = offsets ? (i: number) => offsets[index[i]] : (i: number) => firstOffset + index[i];
    const diff = new Float64Array(count).fill(1);
    if (rejects) { for (const i of rejects.keys()) diff[i] = NaN; }
    const x = xs.subarray(0, count);
    chunk = {
      x,
      ...(xColumns > 1 ? { xs: [x, ...more.map((column) => column.subarray(0, count))] } : {}),
      y: ys.subarray(0, count),
      diff,
      ...(keys !== undefined ? { keys } : {}),
      ...(times !== undefined ? { times: times.subarray(0, count) } : {}),
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
  }
  return { chunk, read, stop, ...(undecodable !== undefined ? { undecodable } : {}) };
}
