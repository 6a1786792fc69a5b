/**
 * The line and record reader of the CSV file source ({@linkcode LineReader}): bytes into lines, each line
 * one record (quotes balanced within the line), records into points or rejections with a reason code.
 *
 * @example
 * ```ts
 * import { LineReader } from "./line_reader.ts";
 * const reader = new LineReader("data.csv", { x: "x", y: "y", diff: "diff" }, 1 << 20, undefined);
 * ```
 * @module
 */

import { parse } from "csv-parse/sync";
import { headerColumns } from "../../model/csv.ts";
import { parseNumberField } from "../../model/numbers.ts";
import { showField, type SourceReject, TOO_LARGE_RAW_BYTES } from "../../model/rejection.ts";
import { ChunkBuilder } from "../chunk_builder.ts";
import type { CsvChunk, CsvPosition } from "./csv_types.ts";

const LF = 0x0a;
const CR = 0x0d;

interface Columns {
  x: number;
  y: number;
  diff: number;
  width: number;
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const PARSE_OPTIONS = { record_delimiter: "\n", relax_column_count: true } as const;

/**
 * Splits bytes into lines and lines into records; fills a ChunkBuilder. The reading half of
 * `CsvSource`: see `./csv_source.ts` for the semantics.
 *
 * @example
 * ```ts
 * const reader = new LineReader("data.csv", { x: "x", y: "y", diff: "diff" }, 1 << 20, undefined);
 * reader.feed(new TextEncoder().encode("x,y\n1,2\n"));
 * const chunk = reader.take();
 * ```
 */
export class LineReader {
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
