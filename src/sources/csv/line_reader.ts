/**
 * The line and record reader of the CSV file source ({@linkcode LineReader}): bytes into lines, each line
 * one record (quotes balanced within the line), records into points or rejections with a reason code.
 *
 * First, the byte path: a line that is ASCII, without quotes or a stray CR, with the header's field count,
 * plain numbers for the x columns, y and an epoch time (read from the bytes by
 * {@linkcode DecimalReader.readField}), key fields that are not empty nor hold U+0000, and a diff of 1 or
 * -1 becomes a point without being decoded (its key string taken from a small cache of recent keys, or
 * cut from the block decoded once, joined as {@linkcode joinKey} joins them); every other line, and every line of a run with ISO times or with several
 * x columns and no diff, key or time (read in one pass of the decoded text, below), goes on as below, with
 * the outcome (point or rejection, line, raw text) it always had.
 *
 * Then two paths, one result: a line without quotes or stray CR (almost every line of a data file) is read in
 * place, in the decoded text of the whole block, by `indexOf` for the commas and
 * {@linkcode exactDecimal} for the numbers (falling back to `Number`, the same double either way); any
 * other line (quotes, CR inside, the header, a line that may be too long) goes to csv-parse, the full RFC
 * 4180 parser, several lines at once. A line's text is only cut out of the block when it is asked for
 * (`raw`, for a rejection).
 *
 * With several x columns (`names.xs`), each record gives every x column (in that order, then y, then
 * diff: the first bad field is the one reported), and the chunks carry `xs`; the one-x paths are unchanged.
 *
 * @example
 * ```ts
 * import { LineReader } from "./line_reader.ts";
 * const reader = new LineReader("data.csv", { x: "x", y: "y", diff: "diff" }, 1 << 20, undefined);
 * ```
 * @module
 */

import { parse } from "csv-parse/sync";
import { headerColumns, plainFields } from "../../model/csv.ts";
import { exactDecimal, parseNumberField, plainNumbers } from "../../model/numbers.ts";
import { DecimalReader } from "../../model/decimal_reader.ts";
import { joinKey, keyProblem } from "../../model/keys.ts";
import { parseTime, type TimeFormat } from "../../model/windows.ts";
import { showField, type SourceReject, TOO_LARGE_RAW_BYTES } from "../../model/rejection.ts";
import { ChunkBuilder } from "../chunk_builder.ts";
import type { CsvChunk, CsvPosition } from "./csv_types.ts";

const LF = 0x0a;
const CR = 0x0d;
/** Roles of a field on the byte path with several x, keys or time (`#roles`): a number (x, y, time). */
const NUMBER = 1;
/** ... the diff column. */
const DIFF = 2;
/** ... a key column. */
const KEY = 4;
/** ... a field whose range is kept (keys, x and y). */
const RANGE = 8;
/** Slots of the byte path's key cache (a power of 2). */
const KEY_CACHE = 4096;

interface Columns {
  x: number;
  y: number;
  diff: number;
  width: number;
  /**
   * x, y and diff (if any), for `plainFields`; with several x columns: x, y, diff (-1 if none), then the
   * x columns after the first.
   */
  wanted: Int32Array;
  /** With several x columns: the field of each (`xs[0]` is `x`). */
  xs?: Int32Array;
}

/**
 * The names of the columns the reader takes: x, y and diff, and with several x columns `xs`, every x
 * column in the model's order (`xs[0]` is `x`).
 *
 * @example
 * ```ts
 * const names: ColumnNames = { x: "x1", xs: ["x1", "x2"], y: "y", diff: "diff" };
 * ```
 */
export interface ColumnNames {
  /** The x column (the first, with several). */
  readonly x: string;
  /** With several x columns: all of them, in order; absent with one. */
  readonly xs?: readonly string[];
  /** The y column. */
  readonly y: string;
  /** The diff column, if the header has it. */
  readonly diff: string;
  /** With `--key`: the key column(s). */
  readonly keys?: readonly string[];
  /** With `--time`: the event time column, and how it writes times. */
  readonly time?: { readonly column: string; readonly format: TimeFormat };
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const ascii = new TextDecoder(); // (for lines of ASCII bytes)
/** One character per byte, whatever the bytes (windows-1252): a block's ASCII fields at their byte offsets. */
const bytewise = new TextDecoder("latin1");
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
  readonly #names: ColumnNames;
  readonly #max: number;
  readonly #builder: ChunkBuilder;
  /** The x columns (1, or several). */
  readonly #k: number;
  /** One record's x values (several x columns). */
  readonly #row: Float64Array;
  /**
   * The line text of each record in the builder (for `raw`): record i's text is
   * `#rawTexts[r].slice(#rawFrom[i], #rawTo[i])`, with r the last run such that `#rawRuns[r] <= i`.
   */
  #rawTexts: (string | Uint8Array)[] = [];
  #rawRuns: number[] = [];
  #rawFrom: number[] = [];
  #rawTo: number[] = [];
  /** Lines waiting for csv-parse (each one record, quotes balanced), and their numbers. */
  #run: string[] = [];
  #runLines: number[] = [];
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
  #blockLfs: number[] | undefined = [];
  #blockBytes: Uint8Array = new Uint8Array(0);
  /** The input's length if its last line had no LF (set by `end`). */
  endWithoutLf = -1;
  /** Bytes of the line in progress. */
  #carry: Uint8Array[] = [];
  #carryLength = 0;
  /** A too-large line being skipped: its number, length so far and first bytes. */
  #skipping: { line: number; length: number; head: Uint8Array; last: number } | undefined;

  constructor(
    name: string,
    names: ColumnNames,
    max: number,
    resume?: CsvPosition,
    options: { pointText?: boolean; bytePath?: boolean } = {},
  ) {
    this.#pointText = options.pointText ?? false;
    this.#name = name;
    this.#names = names;
    this.#max = max;
    this.#k = names.xs !== undefined && names.xs.length > 1 ? names.xs.length : 1;
    this.#builder = new ChunkBuilder({ xColumns: this.#k });
    this.#row = new Float64Array(this.#k);
    // (bytePath: false, for tests that compare the two ways)
    this.#bytePath = (options.bytePath ?? true) && names.time?.format !== "iso";
    this.#wide = this.#k > 1 || names.keys !== undefined || names.time !== undefined;
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
    this.#blockLfs ??= lineFeeds(this.#blockBytes);
    return Math.min(this.#blockStart + this.#blockLfs[line - this.#blockFirst] + 1, this.#consumed);
  }

  /**
   * Keeps where record `this.#builder.length - 1`'s text is: `text[from, to)`; with point texts, where
   * its numbers end as the input log writes them (bytes `from` to `textTo` of the block, which is ASCII;
   * -1: not so written).
   */
  #rawText(text: string, from: number, to: number, textTo = -1, key = "", textFrom = from, time = NaN): void {
    if (this.#keyColumns !== undefined) this.#keys.push(key);
    if (this.#timeColumn >= 0) this.#times.push(time);
    if (this.#textOk) {
      if (textTo < 0) this.#textBlock.push(-1);
      else {
        if (this.#blockIndex < 0) { // a copy: the stream may reuse its buffer
          this.#blockIndex = this.#textBlocks.push(this.#blockBytes.slice()) - 1;
        }
        this.#textBlock.push(this.#blockIndex);
      }
      this.#textStart.push(textFrom);
      this.#textEnd.push(textTo);
    }
    const texts = this.#rawTexts;
    if (texts.length === 0 || texts[texts.length - 1] !== text) {
      texts.push(text);
      this.#rawRuns.push(this.#builder.length - 1);
    }
    this.#rawFrom.push(from);
    this.#rawTo.push(to);
  }

  get pending(): number {
    return this.#builder.length;
  }

  take(): CsvChunk {
    const { x, xs, y, diff, origin: lines, rejects } = this.#builder.take();
    const rawLines = this.#rawTexts;
    const runs = this.#rawRuns;
    const from = this.#rawFrom;
    const to = this.#rawTo;
    const keys = this.#keyColumns !== undefined ? { keys: this.#keys } : {};
    this.#keys = [];
    const times = this.#timeColumn >= 0 ? { times: Float64Array.from(this.#times) } : {};
    this.#times = [];
    const texts = this.#textOk
      ? {
        texts: {
          blocks: this.#textBlocks,
          block: Int32Array.from(this.#textBlock),
          start: Int32Array.from(this.#textStart),
          end: Int32Array.from(this.#textEnd),
        },
      }
      : {};
    this.#textBlocks = [];
    this.#blockIndex = -1;
    this.#textBlock = [];
    this.#textStart = [];
    this.#textEnd = [];
    this.#rawTexts = [];
    this.#rawRuns = [];
    this.#rawFrom = [];
    this.#rawTo = [];
    const text = (i: number): string => {
      let lo = 0;
      let hi = runs.length - 1;
      while (lo < hi) { // the last run starting at or before i
        const mid = (lo + hi + 1) >> 1;
        if (runs[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      const line = rawLines[lo];
      return typeof line === "string"
        ? line.slice(from[i], to[i])
        : ascii.decode(line.subarray(from[i], to[i]));
    };
    const ends = Float64Array.from(this.#ends);
    this.#ends = [];
    const name = this.#name;
    return {
      x,
      ...(xs ? { xs } : {}),
      y,
      diff,
      lines,
      ends,
      ...(rejects ? { rejects } : {}),
      ...texts,
      ...keys,
      ...times,
      where: (i) => `${name} line ${lines[i]}`,
      origin: (i) => ({ source: name, location: `line ${lines[i]}`, line: lines[i] }),
      raw: (i) => rejects?.get(i)?.raw ?? text(i),
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
    const owned = this.#carryLength > 0; // (a new array, which no stream reuses)
    if (owned) {
      block = concat([...this.#carry, block], this.#carryLength + block.length);
      this.#carry = [];
      this.#carryLength = 0;
    }
    this.#block(block, start, owned);
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
      this.#block(block, start, true);
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
    this.#rawText("", 0, 0);
    this.#ends.push(end);
  }

  #fatal(line: number, message: string): never {
    throw new Error(`${this.#name} line ${line}: ${message}`);
  }

  /** Handles complete lines: `block` ends with LF and starts at input offset `start`. */
  #block(block: Uint8Array, start: number, owned: boolean): void {
    if (this.#bytePath) this.#byteBlock(block, start, owned);
    else this.#generalBlock(block, start);
  }

  /**
   * The byte path (with several x columns, keys or a time column, each field read by its role): each
   * line that is ASCII, without quotes or a CR but the one of its CRLF, with the header's field count,
   * plain numbers in x and y (and the other x columns and the time), key fields that are not empty and a
   * diff of 1 or -1 becomes a point straight from the bytes; any other line (the header, an empty line kept out of
   * this path too, a bad row) goes through `#generalBlock` on its own, which gives it the outcome it
   * always had. A record's raw text is cut from a copy of the block, when asked for (from the block
   * itself when it is `owned`: a new array, made to join a line carried over from the last read).
   */
  #byteBlock(block: Uint8Array, start: number, owned: boolean): void {
    const longest = Math.floor((this.#max + 1) / 3); // (as `#text`: longer lines go the general way)
    const consumed = this.#consumed;
    const builder = this.#builder;
    let textOk = this.#textOk;
    let decimal = textOk ? this.#decimal : this.#values;
    const wide = this.#wide;
    const timeInSeconds = this.#names.time?.format === "s";
    let roles = this.#roles, fields = this.#fields, from = this.#fieldFrom, to = this.#fieldTo;
    const row = this.#row;
    this.#interning = true;
    this.#internHits = this.#internMisses = 0;
    this.#blockOf = undefined; // (a stream may reuse its buffer: the same array, new bytes)
    let copy: Uint8Array | undefined; // the block's bytes, kept for raw texts and point texts
    let copyIndex = -1; // its index in #textBlocks
    let number = this.#line;
    const length = block.length;
    let pending = -1; // the start of the lines waiting to go the general way (-1: none)
    let misses = 0; // lines of this block that went the general way, and those that did not
    let hits = 0;
    let s = 0;
    while (s < length) {
      if (misses > 64 && misses > 4 * hits) { // (a block unlike this path: the rest goes the general way)
        if (pending < 0) pending = s;
        break;
      }
      number++;
      const columns = this.#columns;
      // One pass over the line: its fields, x and y read as they go, up to its LF (CRLF).
      let ok = false;
      let lf = -1;
      let e = s; // the line's end, before its CR if any
      let x = NaN, y = NaN, diff = 1, canonical = true, xa = s, yb = s, time = NaN;
      if (columns !== undefined && number !== 1 && wide) {
        // Several x, keys or time: each field by its role (see `#roles`), its range kept.
        const width = columns.width, cx = columns.x, cy = columns.y;
        let pos = s;
        for (let f = 0;; f++) {
          const role = roles![f];
          const at = pos;
          if ((role & NUMBER) !== 0) {
            const v = decimal.readField(block, pos, length);
            if (v !== v) break;
            if (f === cx || f === cy) canonical &&= decimal.canonical;
            fields[f] = v;
            pos = decimal.end;
            if ((role & DIFF) !== 0) {
              if (v === 1 || v === -1) diff = v;
              else break;
            }
          } else if ((role & DIFF) !== 0) {
            if (block[pos] === 49) pos++, diff = 1; // 1
            else if (block[pos] === 45 && block[pos + 1] === 49) pos += 2, diff = -1; // -1
            else break;
          } else if ((role & KEY) !== 0) {
            for (; pos < length; pos++) { // up to a comma or line end (a quote, non-ASCII or U+0000: not here)
              const c = block[pos];
              if (c === 44 || c === LF || c === CR || c === 34 || c >= 0x80 || c === 0) break;
            }
            if (pos === at || block[pos] === 0) break; // (empty: the general way's missing_key)
          } else {
            for (; pos < length; pos++) { // another field: up to a comma, line end, quote or non-ASCII
              const c = block[pos];
              if (c === 44 || c === LF || c === CR || c === 34 || c >= 0x80) break;
            }
          }
          if ((role & RANGE) !== 0) from[f] = at, to[f] = pos;
          const c = block[pos];
          if (c === 44) { // ,
            pos++;
            if (f + 1 >= width) break; // (more fields than the header's)
            continue;
          }
          if (c === CR) {
            if (block[pos + 1] !== LF) break;
            lf = pos + 1;
          } else if (c === LF) lf = pos;
          else break; // (a quote, a byte that is not ASCII, or a field that is not a plain number)
          e = pos;
          ok = f + 1 === width && e > s && lf - s <= longest;
          break;
        }
        if (ok) {
          x = fields[cx], y = fields[cy], xa = from[cx], yb = to[cy];
          if (this.#timeColumn >= 0) { // (out of range: the general way's bad_time)
            const t = fields[this.#timeColumn];
            time = timeInSeconds ? t * 1000 : t;
            ok = Math.abs(time) <= 8.64e15;
          }
        }
      } else if (columns !== undefined && number !== 1) {
        const width = columns.width, cx = columns.x, cy = columns.y, cd = columns.diff;
        let pos = s;
        for (let f = 0;; f++) {
          if (f === cx) {
            xa = pos;
            x = decimal.readField(block, pos, length);
            if (x !== x) break;
            canonical = decimal.canonical;
            pos = decimal.end;
          } else if (f === cy) {
            y = decimal.readField(block, pos, length);
            if (y !== y) break;
            canonical &&= decimal.canonical;
            yb = pos = decimal.end;
          } else if (f === cd) {
            if (block[pos] === 49) pos++, diff = 1; // 1
            else if (block[pos] === 45 && block[pos + 1] === 49) pos += 2, diff = -1; // -1
            else break;
          } else {
            for (; pos < length; pos++) { // another column's field: up to a comma, line end, quote or non-ASCII
              const c = block[pos];
              if (c === 44 || c === LF || c === CR || c === 34 || c >= 0x80) break;
            }
          }
          const c = block[pos];
          if (c === 44) { // ,
            pos++;
            if (f + 1 >= width) break; // (more fields than the header's)
            continue;
          }
          if (c === CR) {
            if (block[pos + 1] !== LF) break;
            lf = pos + 1;
          } else if (c === LF) lf = pos;
          else break; // (a quote, a byte that is not ASCII, or a field that is not a plain number)
          e = pos;
          ok = f + 1 === width && e > s && lf - s <= longest;
          break;
        }
      }
      if (ok) {
        if (pending >= 0) {
          this.#generalBlock(block.subarray(pending, s), start + pending);
          pending = -1;
        }
        hits++;
        this.#line = number;
        if (wide) {
          const xs = columns!.xs;
          if (xs !== undefined) {
            for (let c = 0; c < xs.length; c++) row[c] = fields[xs[c]];
            builder.pushRow(row, y, diff, number);
          } else builder.push(x, y, diff, number);
          if (this.#keyColumns !== undefined) this.#keys.push(this.#wideKey(block));
          if (this.#timeColumn >= 0) this.#times.push(time);
        } else builder.push(x, y, diff, number);
        if (copy === undefined) {
          copy = owned ? block : block.slice(); // a copy: the stream may reuse its buffer
          this.#rawTexts.push(copy);
          this.#rawRuns.push(builder.length - 1);
        } else if (this.#rawTexts[this.#rawTexts.length - 1] !== copy) {
          this.#rawTexts.push(copy);
          this.#rawRuns.push(builder.length - 1);
        }
        this.#rawFrom.push(s);
        this.#rawTo.push(e);
        if (textOk) {
          if (canonical) {
            if (copyIndex < 0) copyIndex = this.#textBlocks.push(copy) - 1;
            this.#textBlock.push(copyIndex);
          } else this.#textBlock.push(-1);
          this.#textStart.push(xa);
          this.#textEnd.push(canonical ? yb : -1);
        }
        const end = start + lf + 1;
        this.#ends.push(end < consumed ? end : consumed);
        s = lf + 1;
        continue;
      }
      // The general way, with the lines around it that go that way too (an empty line is skipped there).
      misses++;
      if (pending < 0) {
        pending = s;
        this.#line = number - 1;
      }
      s = (lf < 0 ? block.indexOf(LF, s) : lf) + 1;
      if (this.#columns === undefined) { // (the header: read it now, for the lines after it)
        this.#generalBlock(block.subarray(pending, s), start + pending);
        pending = -1;
        textOk = this.#textOk;
        decimal = textOk ? this.#decimal : this.#values;
        roles = this.#roles, fields = this.#fields, from = this.#fieldFrom, to = this.#fieldTo;
      }
    }
    if (pending >= 0) this.#generalBlock(block.subarray(pending), start + pending);
  }

  /**
   * The key of the line the byte path read last, as the general way builds it (the same string). Through a
   * small cache from the key bytes' hash to the key string, while it hits (in each block, it stops after
   * 256 lookups if more than half of them missed: many keys).
   */
  #wideKey(block: Uint8Array): string {
    const keys = this.#keyColumns!;
    const from = this.#fieldFrom, to = this.#fieldTo;
    if (!this.#interning) return this.#newKey(block);
    let h = 0x811c9dc5; // FNV-1a over the key fields, U+0000 between them
    for (let c = 0; c < keys.length; c++) {
      if (c > 0) h = Math.imul(h, 0x01000193);
      for (let i = from[keys[c]], e = to[keys[c]]; i < e; i++) h = Math.imul(h ^ block[i], 0x01000193);
    }
    const slot = (h ^ (h >>> 15)) & (KEY_CACHE - 1);
    const cached = this.#keyCache[slot];
    if (cached !== undefined && sameKey(cached, block, keys, from, to)) {
      this.#internHits++;
      return cached;
    }
    const key = this.#newKey(block);
    this.#keyCache[slot] = key;
    if (++this.#internMisses > 128 && this.#internMisses + this.#internHits <= 256) this.#interning = false;
    return key;
  }

  #newKey(block: Uint8Array): string {
    const keys = this.#keyColumns!;
    const from = this.#fieldFrom, to = this.#fieldTo;
    if (this.#blockOf !== block) {
      this.#blockOf = block;
      // (as UTF-8 when that gives one character per byte, as it does for ASCII: the strings the general
      // way makes; else one character per byte whatever the bytes)
      const text = ascii.decode(block);
      this.#blockString = text.length === block.length ? text : bytewise.decode(block);
    }
    const text = this.#blockString;
    if (keys.length === 1) return text.slice(from[keys[0]], to[keys[0]]);
    const fields: string[] = [];
    for (let c = 0; c < keys.length; c++) fields.push(text.slice(from[keys[c]], to[keys[c]]));
    return joinKey(fields);
  }

  /** `#block` the general way: the whole block decoded, each line by `#text` (or `#lines`). */
  #generalBlock(block: Uint8Array, start: number): void {
    const first = this.#line + 1;
    this.#blockStart = start;
    this.#blockFirst = first;
    this.#blockBytes = block;
    this.#blockLfs = undefined;
    this.#blockIndex = -1;
    const text = decode(block);
    if (text !== undefined) {
      this.#text(text, first, text.length === block.length);
      return;
    }
    // Not all UTF-8: look at each line on its own.
    const lfs = this.#blockLfs = lineFeeds(block);
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
    for (let k = 0; k < count; k++) {
      const number = first + k;
      this.#line = number;
      this.#slowLine(number, get(k));
    }
    this.#flush();
  }

  /**
   * Goes through the lines of `text`, a whole block decoded (`ascii`: one byte per character), from
   * line `first` on: the fast path for plain data lines, `#slowLine` for the others.
   */
  #text(text: string, first: number, ascii: boolean): void {
    const limit = this.#max + 1; // + 1: a CR
    const longest = Math.floor(limit / 3); // a line this long is short enough whatever its characters
    let number = first - 1;
    let quote = -1; // the next quote at or after the line's start (text.length if none)
    let cr = -1; // the next CR likewise
    this.#exactX = this.#exactY = true;
    this.#fused = true;
    this.#blockAscii = ascii;
    for (let s = 0, lf = text.indexOf("\n"); lf >= 0; s = lf + 1, lf = text.indexOf("\n", s)) {
      this.#line = ++number;
      const columns = this.#columns;
      if (quote < s) quote = indexOr(text, '"', s);
      if (cr < s) cr = indexOr(text, "\r", s);
      const e = cr === lf - 1 ? lf - 1 : lf; // without a CR before the LF
      if (lf - s <= longest && quote >= e && cr >= e && number !== 1 && columns !== undefined) {
        if (e === s) continue; // an empty line
        this.#flush();
        this.#fastRecord(
          text,
          s,
          e,
          number,
          ascii ? Math.min(this.#blockStart + lf + 1, this.#consumed) : -1,
        );
        continue;
      }
      let got: string | { tooLarge: Uint8Array; length: number } = text.slice(s, lf);
      if (lf - s > longest) {
        const bytes = encoder.encode(got);
        const length = bytes.length - (e < lf ? 1 : 0);
        if (length > this.#max) got = { tooLarge: bytes.subarray(0, TOO_LARGE_RAW_BYTES), length };
      }
      this.#slowLine(number, got);
    }
    this.#flush();
  }

  /** One line the fast path does not take: parsed by csv-parse with the lines around it. */
  #slowLine(
    number: number,
    got: string | { tooLarge: Uint8Array; length: number } | { invalid: Uint8Array },
  ): void {
    if (typeof got !== "string") {
      this.#flush();
      if ("tooLarge" in got) this.#tooLarge(number, got.length, got.tooLarge);
      else this.#invalidUtf8(number, got.invalid);
      return;
    }
    let line = got;
    if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    if (number === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.length === 0) return;
    if (this.#columns === undefined) {
      this.#header(line, number);
      return;
    }
    if (line.includes('"') && oddQuotes(line)) {
      this.#flush();
      this.#reject(number, line, {
        reason: "bad_csv",
        detail: "not valid CSV: a quoted field is not closed on its line",
      });
      return;
    }
    this.#run.push(line);
    this.#runLines.push(number);
  }

  /** Parses the lines waiting for csv-parse. */
  #flush(): void {
    if (this.#run.length === 0) return;
    const run = this.#run;
    const lines = this.#runLines;
    this.#run = [];
    this.#runLines = [];
    this.#parseRun(run, lines);
  }

  /** Where `#fastRecord`'s fields are (see `plainFields`). */
  #ranges = new Int32Array(6);

  /** Whether to try {@linkcode exactDecimal} on the x (y) field: until it misses, in each block. */
  #exactX = true;
  #exactY = true;
  /** With several x and no diff column: every field's number, read by {@linkcode plainNumbers}. */
  #numbers: Float64Array | undefined;
  /** Whether to try {@linkcode plainNumbers} on a record: until it misses, in each block. */
  #fused = true;
  /** Point texts were asked for (`pointText`), and the columns allow them: one x, then y next to it. */
  readonly #pointText: boolean;
  #textOk = false;
  /** Where each record's numbers are as the input log writes them (see `#rawText`, `PointTexts`). */
  #textBlocks: Uint8Array[] = [];
  #textBlock: number[] = [];
  #textStart: number[] = [];
  #textEnd: number[] = [];
  /** The index in `#textBlocks` of the block being parsed, once a point text is in it; else -1. */
  #blockIndex = -1;
  /** Whether the block being parsed is ASCII (its text's positions are its bytes'). */
  #blockAscii = false;
  readonly #decimal = new DecimalReader();
  /** The same, without the canonical check (the byte path without point texts). */
  readonly #values = new DecimalReader({ canonical: false });
  /**
   * Whether lines may go the byte path (`#byteBlock`): all but ISO times, and but several x columns
   * without diff, key or time (then every field is a number, read in one pass of the decoded text).
   */
  #bytePath: boolean;
  /** Several x columns, key columns or a time column: the byte path reads each field by its role. */
  readonly #wide: boolean;
  /** With `#wide`: each field's role (`NUMBER`, `DIFF`, `KEY` bits), from the header. */
  #roles: Uint8Array | undefined;
  /** With `#wide`: the numbers of the line read last (by field), and each field's range. */
  #fields = new Float64Array(0);
  #fieldFrom = new Int32Array(0);
  #fieldTo = new Int32Array(0);
  /** Key strings by their bytes' hash (see `#wideKey`), whether to look there, and this block's lookups. */
  #keyCache: (string | undefined)[] = new Array(KEY_CACHE);
  #interning = true;
  #blockOf: Uint8Array | undefined;
  #blockString = "";
  #internHits = 0;
  #internMisses = 0;
  /** With `--key`: the key columns' fields, and each record's key (see `#rawText`). */
  #keyColumns: Int32Array | undefined;
  #keys: string[] = [];
  /** With `--time`: the time column's field (-1: none), and each record's time (see `#rawText`). */
  #timeColumn = -1;
  #times: number[] = [];

  /**
   * A data line without quotes or CR, `text[s, e)` (not empty), line `number`, ending at input offset
   * `end` (-1: not known here). What `#record` does for csv-parse's fields, with the same outcomes.
   */
  #fastRecord(text: string, s: number, e: number, number: number, end: number): void {
    const columns = this.#columns!;
    if (this.#fused && this.#numbers !== undefined) {
      // Several x, no diff column: every field a plain number, read in one pass.
      const v = this.#numbers;
      if (plainNumbers(text, s, e, v) === columns.width) {
        const row = this.#row;
        const xs = columns.xs!;
        for (let c = 0; c < xs.length; c++) row[c] = v[xs[c]];
        this.#builder.pushRow(row, v[columns.y], 1, number);
        this.#rawText(text, s, e);
        this.#ends.push(end < 0 ? this.#endOf(number) : end);
        return;
      }
      this.#fused = false; // (the lines of a file tend to look alike: stop trying in this block)
    }
    const r = this.#ranges;
    if (plainFields(text, s, e, columns.wanted, r) !== columns.width) {
      return this.#record(text.slice(s, e).split(","), number, text.slice(s, e));
    }
    const xa = r[0], xb = r[1], ya = r[2], yb = r[3], da = r[4], db = r[5];
    let x: number;
    if (this.#textOk) { // one x; x and y are the line's first two fields
      const decimal = this.#decimal;
      x = decimal.read(text, xa, xb);
      let canonical = decimal.canonical;
      const y = decimal.read(text, ya, yb);
      canonical &&= decimal.canonical;
      if (x === x && y === y) {
        const diff = columns.diff < 0 ? 1 : this.#fastDiff(text, da, db);
        if (typeof diff !== "number") return this.#reject(number, text.slice(s, e), diff);
        const key = this.#keyColumns === undefined ? "" : this.#fastKey(text, r);
        if (typeof key !== "string") return this.#reject(number, text.slice(s, e), key);
        const time = this.#timeColumn < 0 ? NaN : this.#fastTime(text, r);
        if (typeof time !== "number") return this.#reject(number, text.slice(s, e), time);
        this.#builder.push(x, y, diff, number);
        this.#rawText(text, s, e, canonical && this.#blockAscii ? yb : -1, key, xa, time);
        this.#ends.push(end < 0 ? this.#endOf(number) : end);
        return;
      }
      x = NaN; // (read the general way below)
    } else x = this.#exactX ? exactDecimal(text, xa, xb) : NaN;
    if (x !== x) {
      this.#exactX = false; // (the values of a column tend to look alike: stop trying in this block)
      const parsed = parseNumberField(text.slice(xa, xb), this.#names.x);
      if (typeof parsed !== "number") return this.#reject(number, text.slice(s, e), parsed);
      x = parsed;
    }
    const k = this.#k;
    if (k > 1) {
      const row = this.#row;
      row[0] = x;
      const names = this.#names.xs!;
      for (let c = 1; c < k; c++) {
        const a = r[4 + 2 * c], b = r[5 + 2 * c];
        let v = exactDecimal(text, a, b);
        if (v !== v) {
          const parsed = parseNumberField(text.slice(a, b), names[c]);
          if (typeof parsed !== "number") return this.#reject(number, text.slice(s, e), parsed);
          v = parsed;
        }
        row[c] = v;
      }
    }
    let y = this.#exactY ? exactDecimal(text, ya, yb) : NaN;
    if (y !== y) {
      this.#exactY = false;
      const parsed = parseNumberField(text.slice(ya, yb), this.#names.y);
      if (typeof parsed !== "number") return this.#reject(number, text.slice(s, e), parsed);
      y = parsed;
    }
    let diff = 1;
    if (columns.diff >= 0) {
      const why = this.#fastDiff(text, da, db);
      if (typeof why !== "number") return this.#reject(number, text.slice(s, e), why);
      diff = why;
    }
    const key = this.#keyColumns === undefined ? "" : this.#fastKey(text, r);
    if (typeof key !== "string") return this.#reject(number, text.slice(s, e), key);
    const time = this.#timeColumn < 0 ? NaN : this.#fastTime(text, r);
    if (typeof time !== "number") return this.#reject(number, text.slice(s, e), time);
    if (k > 1) this.#builder.pushRow(this.#row, y, diff, number);
    else this.#builder.push(x, y, diff, number);
    this.#rawText(text, s, e, -1, key, s, time);
    this.#ends.push(end < 0 ? this.#endOf(number) : end);
  }

  /** A record's key from its fields' ranges (`#ranges`, after x, y and diff), or why it has none. */
  #fastKey(text: string, r: Int32Array): string | SourceReject {
    const names = this.#names.keys!;
    const at = 6 + 2 * (this.#k - 1); // (after x, y, diff and the other x columns)
    if (names.length === 1) return this.#keyField(text.slice(r[at], r[at + 1]), names[0]);
    const fields: string[] = [];
    for (let c = 0; c < names.length; c++) {
      const field = this.#keyField(text.slice(r[at + 2 * c], r[at + 1 + 2 * c]), names[c]);
      if (typeof field !== "string") return field;
      fields.push(field);
    }
    return joinKey(fields);
  }

  /** A record's event time from its field's range (after the key columns'), or why it has none. */
  #fastTime(text: string, r: Int32Array): number | SourceReject {
    const at = 6 + 2 * (this.#k - 1) + 2 * (this.#keyColumns?.length ?? 0);
    return this.#timeField(text.slice(r[at], r[at + 1]));
  }

  /** A time field in epoch milliseconds, or why it is not a time. */
  #timeField(field: string): number | SourceReject {
    const time = this.#names.time!;
    const ms = parseTime(field, time.format);
    if (ms !== undefined) return ms;
    return {
      reason: "bad_time",
      detail: `${time.column} is ${showField(field)}: not a time in ${
        time.format === "iso"
          ? "ISO 8601 (2026-12-02T10:00:00Z)"
          : time.format === "s"
          ? "epoch seconds"
          : "epoch milliseconds"
      } (--time-format)`,
    };
  }

  /** A key field as it is, or why it cannot be a key. */
  #keyField(field: string, name: string): string | SourceReject {
    const problem = keyProblem(field, name);
    return problem === undefined ? field : { reason: "missing_key", detail: problem };
  }

  /** The weight in `text[da, db)`: 1 or -1, or why it is not one. */
  #fastDiff(text: string, da: number, db: number): number | SourceReject {
    const n = db - da;
    if (n === 1 && text.charCodeAt(da) === 49) return 1;
    if (n === 2 && text.charCodeAt(da) === 45 && text.charCodeAt(da + 1) === 49) return -1;
    return badDiff(text.slice(da, db), this.#names.diff);
  }

  #invalidUtf8(line: number, bytes: Uint8Array): void {
    if (this.#columns === undefined) this.#fatal(line, "the header line is not valid UTF-8");
    this.#builder.reject(line, {
      reason: "invalid_utf8",
      detail: "the line is not valid UTF-8",
      raw: bytes.slice(),
    });
    this.#rawText("", 0, 0);
    this.#ends.push(this.#endOf(line));
  }

  #reject(line: number, text: string, why: SourceReject): void {
    this.#builder.reject(line, why);
    this.#rawText(text, 0, text.length);
    this.#ends.push(this.#endOf(line));
  }

  #header(text: string, line: number): void {
    let record: string[];
    try {
      [record] = parse(text, PARSE_OPTIONS);
    } catch (error) {
      this.#fatal(line, `the header is not valid CSV: ${csvProblem(error)}`);
    }
    const names = this.#k > 1 ? this.#names.xs! : [this.#names.x];
    const found = headerColumns(record, [...names, this.#names.y, this.#names.diff]);
    const xs = found.slice(0, names.length);
    const [y, diff] = found.slice(names.length);
    const absent = xs.findIndex((i) => i < 0);
    if (absent >= 0 || y < 0) {
      const missing = absent >= 0 ? names[absent] : this.#names.y;
      this.#fatal(
        line,
        `no column "${missing}" in the header ${showField(record.map((head) => head.trim()).join(","))}: ` +
          `name the x and y columns with --x and --y`,
      );
    }
    const x = xs[0];
    let extra: number[] = []; // with --key or --time: their fields, after x, y, diff and the other x's
    if (this.#names.keys !== undefined || this.#names.time !== undefined) {
      const keys = headerColumns(record, this.#names.keys ?? []);
      const absent = keys.findIndex((i) => i < 0);
      if (absent >= 0) {
        this.#fatal(
          line,
          `no column "${this.#names.keys![absent]}" in the header ${
            showField(record.map((head) => head.trim()).join(","))
          }: name the key columns with --key`,
        );
      }
      if (this.#names.keys !== undefined) this.#keyColumns = Int32Array.from(keys);
      const time = this.#names.time;
      if (time !== undefined) {
        [this.#timeColumn] = headerColumns(record, [time.column]);
        if (this.#timeColumn < 0) {
          this.#fatal(
            line,
            `no column "${time.column}" in the header ${
              showField(record.map((head) => head.trim()).join(","))
            }: name the time column with --time`,
          );
        }
      }
      extra = [...keys, ...(time !== undefined ? [this.#timeColumn] : [])];
    }
    if (this.#k > 1) {
      const wanted = Int32Array.of(x, y, diff, ...xs.slice(1), ...extra);
      this.#ranges = new Int32Array(2 * wanted.length);
      this.#columns = { x, y, diff, width: record.length, wanted, xs: Int32Array.from(xs) };
      // (the fused path reads numbers only: not with key or time columns)
      if (diff < 0 && record.length <= 64 && extra.length === 0) {
        this.#numbers = new Float64Array(record.length);
        this.#bytePath = false; // (the fused path was as fast under Deno and faster under Bun, measured)
      }
    } else if (extra.length > 0) {
      const wanted = Int32Array.of(x, y, diff, ...extra);
      this.#ranges = new Int32Array(2 * wanted.length);
      this.#columns = { x, y, diff, width: record.length, wanted };
      this.#textOk = this.#pointText && y === x + 1;
    } else {
      const wanted = diff >= 0 ? Int32Array.of(x, y, diff) : Int32Array.of(x, y);
      this.#columns = { x, y, diff, width: record.length, wanted };
      this.#textOk = this.#pointText && y === x + 1;
    }
    if (this.#wide) {
      const width = record.length;
      const roles = new Uint8Array(width);
      for (const c of this.#columns!.xs ?? [x]) roles[c] |= NUMBER;
      roles[y] |= NUMBER;
      if (diff >= 0) roles[diff] |= DIFF;
      for (const c of this.#keyColumns ?? []) roles[c] |= KEY | RANGE;
      roles[x] |= RANGE;
      roles[y] |= RANGE;
      if (this.#timeColumn >= 0) roles[this.#timeColumn] |= NUMBER;
      this.#roles = roles;
      this.#fields = new Float64Array(width);
      this.#fieldFrom = new Int32Array(width);
      this.#fieldTo = new Int32Array(width);
    }
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
    const k = this.#k;
    if (k > 1) {
      const row = this.#row;
      row[0] = x;
      for (let c = 1; c < k; c++) {
        const v = parseNumberField(record[columns.xs![c]], this.#names.xs![c]);
        if (typeof v !== "number") return this.#reject(line, text, v);
        row[c] = v;
      }
    }
    const y = parseNumberField(record[columns.y], this.#names.y);
    if (typeof y !== "number") return this.#reject(line, text, y);
    let diff = 1;
    if (columns.diff >= 0) {
      const why = badDiff(record[columns.diff], this.#names.diff);
      if (typeof why !== "number") return this.#reject(line, text, why);
      diff = why;
    }
    let key = "";
    if (this.#keyColumns !== undefined) {
      const names = this.#names.keys!;
      const fields: string[] = [];
      for (let c = 0; c < names.length; c++) {
        const field = this.#keyField(record[this.#keyColumns[c]], names[c]);
        if (typeof field !== "string") return this.#reject(line, text, field);
        fields.push(field);
      }
      key = joinKey(fields);
    }
    let time = NaN;
    if (this.#timeColumn >= 0) {
      const t = this.#timeField(record[this.#timeColumn]);
      if (typeof t !== "number") return this.#reject(line, text, t);
      time = t;
    }
    if (k > 1) this.#builder.pushRow(this.#row, y, diff, line);
    else this.#builder.push(x, y, diff, line);
    this.#rawText(text, 0, text.length, -1, key, 0, time);
    this.#ends.push(this.#endOf(line));
  }
}

/** The text of a block, if it is valid UTF-8. */
function decode(block: Uint8Array): string | undefined {
  try {
    return fatal.decode(block);
  } catch {
    return undefined;
  }
}

/** Whether `key` is the key of the fields `block[from[c], to[c])` of the columns `keys` (as `joinKey`). */
function sameKey(
  key: string,
  block: Uint8Array,
  keys: Int32Array,
  from: Int32Array,
  to: Int32Array,
): boolean {
  let k = 0;
  for (let c = 0; c < keys.length; c++) {
    if (c > 0 && key.charCodeAt(k++) !== 0) return false;
    const a = from[keys[c]], e = to[keys[c]];
    if (k + e - a > key.length) return false;
    for (let i = a; i < e; i++) if (key.charCodeAt(k++) !== block[i]) return false;
  }
  return k === key.length;
}

/** The index of each LF of `block`. */
function lineFeeds(block: Uint8Array): number[] {
  const lfs: number[] = [];
  for (let s = block.indexOf(LF); s >= 0; s = block.indexOf(LF, s + 1)) lfs.push(s);
  return lfs;
}

/** `text.indexOf(what, from)`, or `text.length` if not found. */
function indexOr(text: string, what: string, from: number): number {
  const i = text.indexOf(what, from);
  return i < 0 ? text.length : i;
}

/** A diff field's weight (1 or -1; `Number` allows spaces, like the numbers), or why it is not one. */
function badDiff(field: string, name: string): number | SourceReject {
  const diff = Number(field);
  if (diff === 1 || diff === -1) return diff;
  return field.trim() === ""
    ? { reason: "empty_field", detail: `${name} is empty: it must be 1 (add the point) or -1 (retract it)` }
    : {
      reason: "bad_diff",
      detail: `${name} is ${showField(field)}: it must be 1 (add the point) or -1 (retract it)`,
    };
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
