/**
 * Bad input: records that are not valid points, why they were rejected and where they came from.
 *
 * Bad input never changes the fit. A record that cannot become a point is *rejected*: it never reaches
 * the core nor the input change log; it is counted, reported on stderr (rate-limited) and written to the
 * dead-letter file (`--dead-letter PATH`). With `--on-error fail` the first one stops the run instead.
 *
 * Two places reject records, both reporting through the same {@linkcode Rejection} type:
 *
 * - **the source**, for records it cannot parse (bad UTF-8, a bad CSV line, text that is not a number,
 *   a message of the wrong shape...): it keeps the record's slot in its chunk with placeholder values
 *   and lists it in {@linkcode PointChunk.rejects} (`ChunkBuilder.reject` does both);
 * - **the pipeline** (`src/pipeline/validate/point_validator.ts`), for every source alike: NaN, ±Infinity,
 *   magnitudes outside the core's exact range, weights other than ±1, and retractions of points that
 *   are not currently added.
 *
 * @example
 * ```ts
 * import { parseNumberField, type SourceReject } from "./rejection.ts";
 * const x = parseNumberField("1e400", "x"); // { reason: "overflow", detail: 'x is "1e400": too large for a double ...' }
 * if (typeof x !== "number") builder.reject(lineNumber, x);
 * ```
 * @module
 */

/**
 * Default longest record, in bytes (`--max-record-bytes`): 1 MiB. Longer records are rejected as
 * `too_large`, and sources should not hold more than this of one record in memory.
 *
 * @example
 * ```ts
 * if (message.value.length > (context.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES)) reject("too_large");
 * ```
 */
export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;

/**
 * How many bytes of a `too_large` record are kept for the dead-letter file: the first 1024.
 *
 * @example
 * ```ts
 * const raw = bytes.subarray(0, TOO_LARGE_RAW_BYTES);
 * ```
 */
export const TOO_LARGE_RAW_BYTES = 1024;

/**
 * The reason codes, each with a one-line description (shown by `--help`). The codes are stable: scripts
 * may rely on them (they are the `reason` column of the dead-letter file).
 *
 * @example
 * ```ts
 * Object.keys(REJECT_REASONS); // ["not_a_number", "empty_field", ...]
 * ```
 */
export const REJECT_REASONS = {
  not_a_number: "a field that must hold a number holds other text",
  empty_field: "a field that must hold a number is empty",
  missing_column: "fewer fields than the header names",
  extra_fields: "more fields than the header names",
  nan: "x or y is NaN",
  infinite: "x or y is Infinity or -Infinity",
  overflow: "a decimal too large for a double, e.g. 1e400 (it would read as ±Infinity)",
  out_of_range: "non-zero |x| or |y| outside [2^-440, 2^440] (the core's exact range), e.g. 1e-200 or 1e-400",
  invalid_utf8: "bytes that are not valid UTF-8",
  too_large: "a record longer than --max-record-bytes",
  bad_csv: "a line that is not valid CSV (an unterminated or misplaced quote)",
  bad_json: "a message that is not JSON of the expected shape",
  bad_diff: "a weight other than 1 (add the point) or -1 (retract it)",
  unknown_retraction: "diff -1 for a point (same x and y bits) that is not currently added",
  missing_key: "with --key: the key column or field is absent or empty, or the message has no key",
  too_many_keys: "with --key: a new key while --max-keys keys are held",
  bad_time: "with --time: the time column or field is absent, empty or not a time of --time-format",
  late: "with --window: a point for a window that is final (its end is at or before the watermark)",
} as const;

/**
 * A reason code: why a record was rejected.
 *
 * @example
 * ```ts
 * const reason: RejectReason = "not_a_number";
 * ```
 */
export type RejectReason = keyof typeof REJECT_REASONS;

/**
 * Where a record came from: the `source` and `location` columns of the dead-letter file, plus the same
 * in structured form for programs.
 *
 * @example
 * ```ts
 * const fromFile: RecordOrigin = { source: "data.csv", location: "line 12", line: 12 };
 * const fromKafka: RecordOrigin = {
 *   source: "kafka", location: "topic points partition 0 offset 41", topic: "points", partition: 0, offset: "41",
 * };
 * ```
 */
export interface RecordOrigin {
  /** The input: a path, "stdin", "demo", "kafka"... */
  readonly source: string;
  /** Where in it, for people: "line 12", "topic points partition 0 offset 41". */
  readonly location: string;
  /** Line number (1-based) in a text input. */
  readonly line?: number;
  /** Kafka topic. */
  readonly topic?: string;
  /** Kafka partition. */
  readonly partition?: number;
  /** Kafka offset (a string, as kafkajs gives it: offsets may exceed 2^53). */
  readonly offset?: string;
}

/**
 * A source's verdict on a record it could not turn into a point.
 *
 * @example
 * ```ts
 * const why: SourceReject = { reason: "bad_json", detail: "expected an object with numbers x and y", raw: bytes };
 * ```
 */
export interface SourceReject {
  /** The reason code. */
  readonly reason: RejectReason;
  /** One short line for people, naming the field: `y is "abc", not a number`. */
  readonly detail: string;
  /**
   * The record's content when {@linkcode PointChunk.raw} cannot give it (a too-large record of which
   * only the start was kept, say).
   */
  readonly raw?: string | Uint8Array;
}

/**
 * A rejected record, as the dead-letter file and the stderr reports see it.
 *
 * @example
 * ```ts
 * const r: Rejection = {
 *   origin: { source: "data.csv", location: "line 4", line: 4 },
 *   reason: "not_a_number",
 *   detail: 'y is "oops", not a number',
 *   raw: "3,oops",
 * };
 * ```
 */
export interface Rejection {
  /** Where it came from. */
  readonly origin: RecordOrigin;
  /** The reason code. */
  readonly reason: RejectReason;
  /** One short line for people (field values in it are escaped and shortened). */
  readonly detail: string;
  /** The record's content: text, or the bytes as received (see {@linkcode escapeRaw}). */
  readonly raw: string | Uint8Array;
}

/**
 * A consumer of rejected records: the dead-letter file, the stderr reporter, a test's list.
 *
 * @example
 * ```ts
 * const seen: Rejection[] = [];
 * const collect: RejectSink = { reject: (r) => void seen.push(r) };
 * await runPipeline(source, core, sinks, { rejectSinks: [collect] });
 * ```
 */
export interface RejectSink {
  /** Takes one rejected record, synchronously (buffer it); called in stream order. */
  reject(rejection: Rejection): void;
  /**
   * Makes the records taken so far durable. The pipeline awaits it before each batch is reported to
   * the source as committed, so a Kafka offset is never committed past a record not yet dead-lettered.
   */
  flush?(): Promise<void>;
}

/**
 * Thrown by the pipeline with `--on-error fail` at the first rejected record; the CLI exits with 1.
 *
 * @example
 * ```ts
 * try { await runPipeline(source, core, sinks, { onError: "fail" }); }
 * catch (e) { if (e instanceof RejectedRecordError) console.error(e.rejection.origin.location); }
 * ```
 */
export class RejectedRecordError extends Error {
  /** The first bad record. */
  readonly rejection: Rejection;

  /** The message names the record, the detail and the reason code. */
  constructor(rejection: Rejection) {
    super(`${describeRejection(rejection)} (stopped at the first bad record: --on-error fail)`);
    this.name = "RejectedRecordError";
    this.rejection = rejection;
  }
}

/**
 * One line for people: where, what, and the reason code.
 *
 * @example
 * ```ts
 * describeRejection(r); // 'data.csv line 4: y is "oops", not a number [not_a_number]'
 * ```
 */
export function describeRejection(r: Rejection): string {
  const { source, location } = r.origin;
  const where = location.startsWith(source) ? location : `${source} ${location}`; // a where(i) names both
  return `${where}: ${r.detail} [${r.reason}]`;
}

const encoder = new TextEncoder();
const HEX = "0123456789ABCDEF";

/**
 * A record's content as one line of printable text, for the dead-letter file: its bytes (a string is
 * taken as its UTF-8 encoding) read as UTF-8, except that a backslash becomes `\\`, and each byte of a
 * control character (C0, DEL, C1: so CR, LF, NUL, ESC...) or of a sequence that is not valid UTF-8
 * becomes `\xNN`. {@linkcode unescapeRaw} gives the bytes back exactly.
 *
 * @example
 * ```ts
 * escapeRaw("1,a\\b"); // "1,a\\\\b"
 * escapeRaw(new Uint8Array([0x31, 0x2c, 0xff, 0x00])); // "1,\\xFF\\x00"
 * ```
 */
export function escapeRaw(raw: string | Uint8Array): string {
  const b = typeof raw === "string" ? encoder.encode(raw) : raw;
  let out = "";
  let i = 0;
  const hex = (byte: number) => `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      out += c === 0x5c ? "\\\\" : c < 0x20 || c === 0x7f ? hex(c) : String.fromCharCode(c);
      i++;
      continue;
    }
    const n = utf8Length(b, i);
    if (n === 0) {
      out += hex(c);
      i++;
      continue;
    }
    const cp = n === 2
      ? ((c & 0x1f) << 6) | (b[i + 1] & 0x3f)
      : n === 3
      ? ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f)
      : ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
    if (cp >= 0x80 && cp <= 0x9f) out += hex(b[i]) + hex(b[i + 1]); // C1 controls
    else out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at b[i] (a non-ASCII lead byte), or 0 if invalid. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i];
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const d = b[i + 1];
    if (c === 0xe0 && d < 0xa0) return 0; // overlong
    if (c === 0xed && d >= 0xa0) return 0; // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const d = b[i + 1];
    if (c === 0xf0 && d < 0x90) return 0; // overlong
    if (c === 0xf4 && d >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

/**
 * The bytes that {@linkcode escapeRaw} escaped.
 *
 * @example
 * ```ts
 * unescapeRaw("1,\\xFF\\x00"); // Uint8Array [0x31, 0x2c, 0xff, 0x00]
 * ```
 */
export function unescapeRaw(text: string): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text[i] === "\\" && text[i + 1] === "\\") {
      parts.push(0x5c);
      i += 2;
    } else if (text[i] === "\\" && text[i + 1] === "x") {
      parts.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const byte of encoder.encode(ch)) parts.push(byte);
      i += ch.length;
    }
  }
  return Uint8Array.from(parts);
}

/** Longest field text shown in a detail, in characters after escaping. */
const SHOWN_CHARS = 40;

/**
 * A field's text for a message: escaped like {@linkcode escapeRaw} (and `"` as `\"`), shortened to 40
 * characters, in double quotes. Safe to print on a terminal.
 *
 * @example
 * ```ts
 * showField("oops"); // '"oops"'
 * showField("\x1b[31m"); // '"\\x1B[31m"'
 * ```
 */
export function showField(text: string): string {
  const escaped = escapeRaw(text).replaceAll('"', '\\"');
  const chars = [...escaped];
  return `"${chars.length > SHOWN_CHARS ? `${chars.slice(0, SHOWN_CHARS).join("")}…` : escaped}"`;
}
