/**
 * Points from a CSV byte stream (a file, stdin), read incrementally: each complete line reaches the
 * pipeline as soon as it has been read (also when a slow producer writes to stdin).
 *
 * The first non-empty line is a header naming the columns. Columns `x` and `y` (other names with the
 * `x` and `y` options) hold the point; an optional `diff` column holds its weight, 1 to add it and -1
 * to retract it, so a change log written by the pipeline (`x,y,time,diff`) can be fed back in. Other
 * columns are ignored. Lines end with LF or CRLF; empty lines are skipped; a BOM at the start is
 * skipped.
 *
 * **One line is one record.** The input is split into lines first and every line is parsed on its own
 * (by csv-parse), so a quoted field cannot span lines: a stray or unterminated quote, invalid UTF-8
 * or binary garbage spoils its own line only, never the lines after it. A bad line is rejected
 * (listed in the chunk's `rejects`, see `./rejection.ts`) and reading goes on: `too_large` (longer than
 * `maxRecordBytes`; such a line is skipped as it streams by, never held in memory), `invalid_utf8`,
 * `bad_csv` (quotes), `missing_column`, `extra_fields` (a field count other than the header's),
 * `empty_field`, `not_a_number`, `overflow` (1e400), `out_of_range` (1e-400, which would read as 0),
 * `bad_diff`. NaN and ±Infinity are read as numbers; the pipeline rejects them for every source. Only a
 * bad header (or an empty input) stops the run with an error.
 *
 * @example
 * ```ts
 * import { CsvSource } from "./csv_source.ts";
 * const bytes = new Blob(["x,y\n0,1\n1,3\n"]).stream();
 * const source = new CsvSource(bytes, { name: "inline" });
 * for await (const chunk of source.chunks(new AbortController().signal)) console.log(chunk.x, chunk.y);
 * ```
 * @module
 */

import { parse } from "csv-parse/sync";
import { ChunkBuilder } from "../chunk_builder.ts";
import {
  DEFAULT_MAX_RECORD_BYTES,
  type RecordOrigin,
  showField,
  type SourceReject,
  TOO_LARGE_RAW_BYTES,
} from "../../model/rejection.ts";
import { headerColumns } from "../../model/csv.ts";
import { parseNumberField } from "../../model/numbers.ts";

export { DEFAULT_MAX_RECORD_BYTES, TOO_LARGE_RAW_BYTES };
import type { CommittedBatch, PointChunk, Source } from "../../model/source.ts";

/**
 * Settings of {@linkcode CsvSource}.
 *
 * @example
 * ```ts
 * const options: CsvSourceOptions = { name: "prices.csv", x: "time", y: "price" };
 * ```
 */
export interface CsvSourceOptions {
  /** How messages name the input, e.g. the path or "stdin". Default "input". */
  name?: string;
  /** Column holding x. Default "x". */
  x?: string;
  /** Column holding y. Default "y". */
  y?: string;
  /** Column holding the weight, if present. Default "diff". */
  diff?: string;
  /** Longest line in bytes, without its line end; longer lines are rejected (`too_large`). Default 1 MiB. */
  maxRecordBytes?: number;
  /**
   * Resume after a checkpoint: `input` must then start at byte {@linkcode CsvSource.startByte} of the
   * file; line numbers go on from `resume.line` and the columns are those of `resume.header`.
   */
  resume?: CsvPosition;
}

/**
 * Where a CSV input stands after a record ({@linkcode CsvSource.position}): what a checkpoint keeps.
 *
 * @example
 * ```ts
 * const position: CsvPosition = { offset: 1234, line: 57, header: "x,y,diff", lf: true };
 * ```
 */
export interface CsvPosition {
  /** The byte offset after the record's line (after its LF). */
  readonly offset: number;
  /** The record's line number. */
  readonly line: number;
  /** The header line, as read (without BOM and line end). */
  readonly header: string;
  /** False when the record's line was the last of the input and had no LF (offset is then the input's end). */
  readonly lf: boolean;
}

/**
 * A chunk of CSV records; `lines[i]` is the line number of record i (the first line is line 1).
 *
 * @example
 * ```ts
 * for await (const chunk of source.chunks(signal)) console.log(chunk.lines[0]); // 2: the first point is on line 2
 * ```
 */
export interface CsvChunk extends PointChunk {
  /** Line number of each record in the input. */
  readonly lines: Float64Array;
  /** Byte offset in the input after each record's line (after its LF). */
  readonly ends: Float64Array;
  /** `{ source: name, location: "line N", line: N }`. */
  origin(i: number): RecordOrigin;
  /** The text of the line (its bytes for `invalid_utf8`, the first 1024 bytes for `too_large`). */
  raw(i: number): string | Uint8Array;
}

const LF = 0x0a;
const CR = 0x0d;

interface Columns {
  x: number;
  y: number;
  diff: number;
  width: number;
}

/**
 * Reads points from CSV text.
 *
 * @example
 * ```ts
 * const source = new CsvSource(stream, { name: "data.csv", x: "time", y: "price" });
 * ```
 */
export class CsvSource implements Source<CsvChunk> {
  readonly name: string;
  readonly #input: ReadableStream<Uint8Array>;
  readonly #names: { x: string; y: string; diff: string };
  readonly #max: number;
  readonly #resume: CsvPosition | undefined;
  #reader: LineReader | undefined;

  /** `input` is read once, by {@linkcode CsvSource.chunks}. */
  constructor(input: ReadableStream<Uint8Array>, options: CsvSourceOptions = {}) {
    this.#input = input;
    this.name = options.name ?? "input";
    this.#names = { x: options.x ?? "x", y: options.y ?? "y", diff: options.diff ?? "diff" };
    this.#max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) {
      throw new RangeError(`maxRecordBytes must be an integer ≥ 1: got ${this.#max}`);
    }
    this.#resume = options.resume;
  }

  /**
   * The byte of the file from which to read when resuming at `position`: the LF that ends the last
   * record's line (checked, so that a changed or shorter file is noticed), or the offset itself.
   *
   * @example
   * ```ts
   * const input = await host.openRead(path, { start: CsvSource.startByte(position) });
   * new CsvSource(input, { name: path, resume: position });
   * ```
   */
  static startByte(position: CsvPosition): number {
    return position.lf && position.offset > 0 ? position.offset - 1 : position.offset;
  }

  /**
   * Checks a position from a checkpoint (a JSON value); returns it typed, or throws an Error saying
   * what is wrong.
   *
   * @example
   * ```ts
   * const position = CsvSource.checkPosition(JSON.parse(text));
   * ```
   */
  static checkPosition(value: unknown): CsvPosition {
    const p = value as Partial<CsvPosition> | null;
    const ok = typeof p === "object" && p !== null && Number.isSafeInteger(p.offset) && p.offset! >= 0 &&
      Number.isSafeInteger(p.line) && p.line! >= 1 && typeof p.header === "string" &&
      typeof p.lf === "boolean";
    if (!ok) throw new Error(`not a CSV position (offset, line, header, lf): ${JSON.stringify(value)}`);
    return p as CsvPosition;
  }

  /** False once the header is known to have no diff column: the input then never retracts a point. */
  get retractions(): boolean {
    return this.#reader?.hasDiff ?? true;
  }

  /**
   * Where to resume after the batch: the byte offset and line number after its last record, and the
   * header.
   *
   * @example
   * ```ts
   * source.position({ time, spans: [{ chunk, start: 0, end: 10 }] }); // { offset: 57, line: 11, header: "x,y", lf: true }
   * ```
   */
  position(batch: CommittedBatch<CsvChunk>): CsvPosition {
    const last = batch.spans[batch.spans.length - 1];
    const reader = this.#reader!;
    const offset = last.chunk.ends[last.end - 1];
    return {
      offset,
      line: last.chunk.lines[last.end - 1],
      header: reader.header!,
      lf: offset !== reader.endWithoutLf,
    };
  }

  /**
   * Yields the records completed by each read of the input as one chunk.
   *
   * @example
   * ```ts
   * for await (const chunk of source.chunks(signal)) console.log(chunk.where(0)); // "data.csv line 2"
   * ```
   */
  async *chunks(signal: AbortSignal): AsyncGenerator<CsvChunk> {
    const reader = new LineReader(this.name, this.#names, this.#max, this.#resume);
    this.#reader = reader;
    let lineEnd = this.#resume !== undefined && CsvSource.startByte(this.#resume) < this.#resume.offset;
    for await (let bytes of this.#input) {
      if (signal.aborted) return;
      if (bytes.length === 0) continue;
      if (lineEnd) {
        if (bytes[0] !== LF) this.#changed();
        lineEnd = false;
        bytes = bytes.subarray(1);
        if (bytes.length === 0) continue;
      }
      reader.feed(bytes);
      if (reader.pending > 0) yield reader.take();
    }
    if (lineEnd) this.#changed();
    reader.end();
    if (reader.pending > 0) yield reader.take();
    if (!reader.sawHeader) {
      throw new Error(`${this.name} is empty: expected a header line naming the columns, such as "x,y"`);
    }
  }

  #changed(): never {
    const p = this.#resume!;
    throw new Error(
      `${this.name} does not match the checkpoint: line ${p.line} should end at byte ${p.offset}, but ` +
        `the file is shorter or was changed. Restore the input file, or start over with a new --state directory`,
    );
  }
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const PARSE_OPTIONS = { record_delimiter: "\n", relax_column_count: true } as const;

/** Splits bytes into lines and lines into records; fills a ChunkBuilder. */
class LineReader {
  readonly #name: string;
  readonly #names: { x: string; y: string; diff: string };
  readonly #max: number;
  readonly #builder = new ChunkBuilder();
  /** The line text of each record in the builder (for `raw`). */
  #texts: string[] = [];
  #columns: Columns | undefined;
  /** The number of the last line completed. */
  #line = 0;
  /** The header line, once read. */
  #headerText: string | undefined;
  /** Byte offset after each record's line, for each record in the builder. */
  #ends: number[] = [];
  /** Bytes of the input before those fed since (the absolute offset of the next byte fed). */
  #consumed = 0;
  /** The block being parsed: its first byte's offset, its first line's number, and the index of each LF. */
  #blockStart = 0;
  #blockFirst = 0;
  #blockLfs: number[] = [];
  /** The input's length if its last line had no LF (set by `end`). */
  endWithoutLf = -1;
  /** Bytes of the line in progress. */
  #carry: Uint8Array[] = [];
  #carryLength = 0;
  /** A too-large line being skipped: its number, length so far and first bytes. */
  #skipping: { line: number; length: number; head: Uint8Array; last: number } | undefined;

  constructor(
    name: string,
    names: { x: string; y: string; diff: string },
    max: number,
    resume?: CsvPosition,
  ) {
    this.#name = name;
    this.#names = names;
    this.#max = max;
    if (resume) {
      this.#line = resume.line;
      this.#consumed = resume.offset;
      this.#header(resume.header, 1);
    }
  }

  get sawHeader(): boolean {
    return this.#columns !== undefined;
  }

  /** The header line, once read. */
  get header(): string | undefined {
    return this.#headerText;
  }

  /** Whether the header has a diff column (true until it is known). */
  get hasDiff(): boolean {
    return this.#columns === undefined || this.#columns.diff >= 0;
  }

  /** The offset after line `line` of the current block (clamped to the input's end: a last line without LF). */
  #endOf(line: number): number {
    return Math.min(this.#blockStart + this.#blockLfs[line - this.#blockFirst] + 1, this.#consumed);
  }

  get pending(): number {
    return this.#builder.length;
  }

  take(): CsvChunk {
    const { x, y, diff, origin: lines, rejects } = this.#builder.take();
    const texts = this.#texts;
    this.#texts = [];
    const ends = Float64Array.from(this.#ends);
    this.#ends = [];
    const name = this.#name;
    return {
      x,
      y,
      diff,
      lines,
      ends,
      ...(rejects ? { rejects } : {}),
      where: (i) => `${name} line ${lines[i]}`,
      origin: (i) => ({ source: name, location: `line ${lines[i]}`, line: lines[i] }),
      raw: (i) => rejects?.get(i)?.raw ?? texts[i],
    };
  }

  feed(bytes: Uint8Array): void {
    let pos = 0;
    const base = this.#consumed;
    this.#consumed += bytes.length;
    if (this.#skipping) {
      const lf = bytes.indexOf(LF);
      this.#growHead(bytes.subarray(0, lf < 0 ? bytes.length : lf));
      if (lf < 0) {
        this.#skipping.length += bytes.length;
        this.#skipping.last = bytes[bytes.length - 1];
        return;
      }
      this.#endSkip(base + lf + 1, bytes, lf);
      pos = lf + 1;
    }
    const last = bytes.lastIndexOf(LF);
    if (last < pos) {
      this.#hold(bytes.subarray(pos));
      return;
    }
    let block = bytes.subarray(pos, last + 1);
    const start = base + pos - this.#carryLength;
    if (this.#carryLength > 0) {
      block = concat([...this.#carry, block], this.#carryLength + block.length);
      this.#carry = [];
      this.#carryLength = 0;
    }
    this.#block(block, start);
    this.#hold(bytes.subarray(last + 1));
  }

  end(): void {
    if (this.#skipping) {
      this.endWithoutLf = this.#consumed;
      this.#endSkip(this.#consumed);
    } else if (this.#carryLength > 0) {
      this.endWithoutLf = this.#consumed;
      const block = concat([...this.#carry, Uint8Array.of(LF)], this.#carryLength + 1);
      const start = this.#consumed - this.#carryLength;
      this.#carry = [];
      this.#carryLength = 0;
      this.#block(block, start);
    }
  }

  /** Keeps the start of a line; switches to skipping it once it is certainly too large. */
  #hold(part: Uint8Array): void {
    if (part.length === 0) return;
    const length = this.#carryLength + part.length;
    if (length > this.#max + 1) { // + 1: the CR of a CRLF
      const head = concat([...this.#carry, part], Math.min(length, TOO_LARGE_RAW_BYTES));
      this.#skipping = { line: this.#line + 1, length, head, last: part[part.length - 1] };
      this.#carry = [];
      this.#carryLength = 0;
      return;
    }
    this.#carry.push(part.slice()); // a copy: the stream may reuse its buffer
    this.#carryLength = length;
  }

  /** Keeps the first bytes of a skipped line, for the dead-letter file. */
  #growHead(part: Uint8Array): void {
    const skip = this.#skipping!;
    if (skip.head.length >= TOO_LARGE_RAW_BYTES) return;
    const n = Math.min(TOO_LARGE_RAW_BYTES, skip.head.length + part.length);
    skip.head = concat([skip.head, part], n);
  }

  /** The skipped line ends (its LF at `lf` of `bytes`, or the input's end), at input offset `end`. */
  #endSkip(end: number, bytes?: Uint8Array, lf = 0): void {
    const skip = this.#skipping!;
    this.#skipping = undefined;
    let length = skip.length + lf;
    if (bytes && (lf > 0 ? bytes[lf - 1] : skip.last) === CR) length--;
    this.#line = skip.line;
    this.#tooLarge(skip.line, length, skip.head, end);
  }

  #tooLarge(line: number, length: number, head: Uint8Array, end = this.#endOf(line)): void {
    const why: SourceReject = {
      reason: "too_large",
      detail: `the line has ${length} bytes, more than the limit of ${this.#max} (--max-record-bytes)`,
      raw: head.slice(0, TOO_LARGE_RAW_BYTES),
    };
    if (this.#columns === undefined) this.#fatal(line, `the header line is too long: ${why.detail}`);
    this.#builder.reject(line, why);
    this.#texts.push("");
    this.#ends.push(end);
  }

  #fatal(line: number, message: string): never {
    throw new Error(`${this.#name} line ${line}: ${message}`);
  }

  /** Handles complete lines: `block` ends with LF and starts at input offset `start`. */
  #block(block: Uint8Array, start: number): void {
    const first = this.#line + 1;
    const lfs: number[] = [];
    for (let s = block.indexOf(LF); s >= 0; s = block.indexOf(LF, s + 1)) lfs.push(s);
    this.#blockStart = start;
    this.#blockFirst = first;
    this.#blockLfs = lfs;
    const texts = decode(block);
    if (texts !== undefined) {
      const limit = this.#max + 1; // + 1: a CR
      this.#lines(first, texts.length - 1, (k) => {
        const text = texts[k];
        if (text.length * 3 <= limit) return text; // short enough whatever its characters
        const bytes = encoder.encode(text);
        const length = bytes.length - (text.charCodeAt(text.length - 1) === CR ? 1 : 0);
        return length > this.#max ? { tooLarge: bytes.subarray(0, TOO_LARGE_RAW_BYTES), length } : text;
      });
      return;
    }
    // Not all UTF-8: look at each line on its own.
    this.#lines(first, lfs.length, (k) => {
      const line = block.subarray(k === 0 ? 0 : lfs[k - 1] + 1, lfs[k]);
      const length = line.length - (line[line.length - 1] === CR ? 1 : 0);
      if (length > this.#max) return { tooLarge: line.subarray(0, TOO_LARGE_RAW_BYTES), length };
      try {
        return fatal.decode(line);
      } catch {
        return { invalid: line.subarray(0, length) };
      }
    });
  }

  /**
   * Goes through `count` lines numbered from `first`: `get(k)` gives line k's text (with its CR, if
   * any), or says that it is too long or not UTF-8.
   */
  #lines(
    first: number,
    count: number,
    get: (k: number) => string | { tooLarge: Uint8Array; length: number } | { invalid: Uint8Array },
  ): void {
    let run: string[] = [];
    let runLines: number[] = [];
    const flush = () => {
      if (run.length === 0) return;
      this.#parseRun(run, runLines);
      run = [];
      runLines = [];
    };
    for (let k = 0; k < count; k++) {
      const number = first + k;
      this.#line = number;
      const got = get(k);
      if (typeof got !== "string") {
        flush();
        if ("tooLarge" in got) this.#tooLarge(number, got.length, got.tooLarge);
        else this.#invalidUtf8(number, got.invalid);
        continue;
      }
      let line = got;
      if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
      if (number === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.length === 0) continue;
      if (this.#columns === undefined) {
        this.#header(line, number);
        continue;
      }
      if (line.includes('"') && oddQuotes(line)) {
        flush();
        this.#reject(number, line, {
          reason: "bad_csv",
          detail: "not valid CSV: a quoted field is not closed on its line",
        });
        continue;
      }
      run.push(line);
      runLines.push(number);
    }
    flush();
  }

  #invalidUtf8(line: number, bytes: Uint8Array): void {
    if (this.#columns === undefined) this.#fatal(line, "the header line is not valid UTF-8");
    this.#builder.reject(line, {
      reason: "invalid_utf8",
      detail: "the line is not valid UTF-8",
      raw: bytes.slice(),
    });
    this.#texts.push("");
    this.#ends.push(this.#endOf(line));
  }

  #reject(line: number, text: string, why: SourceReject): void {
    this.#builder.reject(line, why);
    this.#texts.push(text);
    this.#ends.push(this.#endOf(line));
  }

  #header(text: string, line: number): void {
    let record: string[];
    try {
      [record] = parse(text, PARSE_OPTIONS);
    } catch (error) {
      this.#fatal(line, `the header is not valid CSV: ${csvProblem(error)}`);
    }
    const [x, y, diff] = headerColumns(record, [this.#names.x, this.#names.y, this.#names.diff]);
    if (x < 0 || y < 0) {
      const missing = x < 0 ? this.#names.x : this.#names.y;
      this.#fatal(
        line,
        `no column "${missing}" in the header ${showField(record.map((head) => head.trim()).join(","))}: ` +
          `name the x and y columns with --x and --y`,
      );
    }
    this.#columns = { x, y, diff, width: record.length };
    this.#headerText = text;
  }

  /** Parses lines (each one record, quotes balanced) with csv-parse, several at once. */
  #parseRun(lines: string[], numbers: number[]): void {
    let from = 0;
    while (from < lines.length) {
      let delivered = 0;
      const base = from;
      try {
        parse(base === 0 ? lines.join("\n") : lines.slice(base).join("\n"), {
          ...PARSE_OPTIONS,
          on_record: (record: string[]) => {
            const k = base + delivered++;
            this.#record(record, numbers[k], lines[k]);
            return null;
          },
        });
        from = lines.length;
      } catch (error) {
        // One record per line: the line after those delivered is the bad one.
        const k = base + delivered;
        this.#reject(numbers[k], lines[k], {
          reason: "bad_csv",
          detail: `not valid CSV: ${csvProblem(error)}`,
        });
        from = k + 1;
      }
    }
  }

  #record(record: string[], line: number, text: string): void {
    const columns = this.#columns!;
    if (record.length !== columns.width) {
      const fewer = record.length < columns.width;
      this.#reject(line, text, {
        reason: fewer ? "missing_column" : "extra_fields",
        detail: `${record.length} ${
          record.length === 1 ? "field" : "fields"
        } where the header has ${columns.width}`,
      });
      return;
    }
    const x = parseNumberField(record[columns.x], this.#names.x);
    if (typeof x !== "number") return this.#reject(line, text, x);
    const y = parseNumberField(record[columns.y], this.#names.y);
    if (typeof y !== "number") return this.#reject(line, text, y);
    let diff = 1;
    if (columns.diff >= 0) {
      const field = record[columns.diff];
      diff = Number(field); // allows spaces, like the numbers
      if (diff !== 1 && diff !== -1) {
        const name = this.#names.diff;
        return this.#reject(
          line,
          text,
          field.trim() === ""
            ? {
              reason: "empty_field",
              detail: `${name} is empty: it must be 1 (add the point) or -1 (retract it)`,
            }
            : {
              reason: "bad_diff",
              detail: `${name} is ${showField(field)}: it must be 1 (add the point) or -1 (retract it)`,
            },
        );
      }
    }
    this.#builder.push(x, y, diff, line);
    this.#texts.push(text);
    this.#ends.push(this.#endOf(line));
  }
}

/** The lines of a block that is valid UTF-8 (the last element is the "" after the final LF), or undefined. */
function decode(block: Uint8Array): string[] | undefined {
  try {
    return fatal.decode(block).split("\n");
  } catch {
    return undefined;
  }
}

function oddQuotes(line: string): boolean {
  let n = 0;
  for (let i = line.indexOf('"'); i >= 0; i = line.indexOf('"', i + 1)) n++;
  return n % 2 === 1;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const part of parts) {
    const n = Math.min(part.length, length - off);
    out.set(part.subarray(0, n), off);
    off += n;
  }
  return out;
}

/** csv-parse's complaint, without its line numbers (those of the fragment parsed) or field text. */
function csvProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "CSV_INVALID_CLOSING_QUOTE") return "text after the closing quote of a quoted field";
  if (code === "CSV_INVALID_OPENING_QUOTE" || code === "INVALID_OPENING_QUOTE") {
    return "a quote inside an unquoted field";
  }
  if (code === "CSV_QUOTE_NOT_CLOSED") return "a quoted field is not closed on its line";
  const message = error instanceof Error ? error.message : String(error);
  return showField(message.split(":")[0]).slice(1, -1);
}
