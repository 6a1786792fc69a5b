/**
 * A buffered writer of CSV text to a Web `WritableStream` of bytes (a file, stdout). Text is encoded
 * into one byte buffer as it is appended (numbers straight from their digits, see
 * {@linkcode CsvWriter.appendNumber}), and the buffer goes to the stream whole, in one write per flush.
 *
 * @example
 * ```ts
 * import { CsvWriter } from "./csv_writer.ts";
 * const writer = new CsvWriter(stream, ["a", "b", "time", "diff"]);
 * writer.append("0,0,1700000000000,1\n");
 * await writer.flush();
 * await writer.close();
 * ```
 * @module
 */

import { formatNumber } from "../model/format_number.ts";
import { NUMBER_TEXT_BYTES, type NumberText, sharedNumberText } from "../core/number_text.ts";
import type { PointTexts } from "../model/source.ts";

const encoder = new TextEncoder();
const INITIAL_BYTES = 1 << 16;

/**
 * The size of the pieces {@linkcode CsvWriter.appendTextRows} fills: 1 MiB (a row longer than that
 * gets a piece of its own).
 *
 * @example
 * ```ts
 * if (writer.pending >= CHUNK_BYTES) await writer.flush();
 * ```
 */
export const CHUNK_BYTES = 1 << 20;

/**
 * Collects text and writes it in large pieces; the header line is written first.
 *
 * @example
 * ```ts
 * const writer = new CsvWriter(new WritableStream(), ["x", "y"]);
 * writer.append("1,2\n");
 * if (writer.pending > 1 << 20) await writer.flush();
 * ```
 */
export class CsvWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #name: string;
  /** The bytes not yet written: `#buffer[0, #length)`. */
  #buffer = new Uint8Array(INITIAL_BYTES);
  #length = 0;
  #closed = false;
  #bytes = 0;
  /** The core's formatter of numbers, if a run shared one (else `formatNumber`, the same text). */
  readonly #numbers: NumberText | undefined;

  /**
   * `name` says in messages which output failed (e.g. the path). With `append`, the stream continues
   * a file that already has its header (a run resumed by `--state`): the header is not written again.
   * `numbers` writes {@linkcode CsvWriter.appendNumber}'s text (default: the instance a run shared,
   * `sharedNumberText`; with none, `formatNumber`).
   */
  constructor(
    stream: WritableStream<Uint8Array>,
    header: readonly string[],
    options: { name?: string; append?: boolean; numbers?: NumberText } = {},
  ) {
    this.#numbers = options.numbers ?? sharedNumberText();
    this.#writer = stream.getWriter();
    if (!options.append) this.append(`${header.join(",")}\n`);
    this.#name = options.name ?? "output";
  }

  /** Bytes buffered and not yet written. */
  get pending(): number {
    return this.#length;
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): void {
    const need = this.#length + n;
    if (need <= this.#buffer.length) return;
    const bigger = new Uint8Array(Math.max(need, 2 * this.#buffer.length));
    bigger.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = bigger;
  }

  /** Bytes written to the stream so far (by writes that resolved), the header included. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /**
   * Buffers text (whole lines, each ending with "\n").
   *
   * @example
   * ```ts
   * writer.append(`${x},${y},${time},1\n`);
   * ```
   */
  append(text: string): void {
    this.#room(3 * text.length); // UTF-8: at most 3 bytes per UTF-16 code unit
    this.#length += encoder.encodeInto(text, this.#buffer.subarray(this.#length)).written;
  }

  /**
   * Buffers text that need not end a line (a cell, say): ASCII byte by byte, else as UTF-8.
   *
   * @example
   * ```ts
   * writer.appendText("sensor-7"); writer.appendBytes(rowEnd);
   * ```
   */
  appendText(text: string): void {
    const length = text.length;
    this.#room(3 * length); // UTF-8: at most 3 bytes per UTF-16 code unit
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.#length = at + encoder.encodeInto(text.slice(i), buffer.subarray(at)).written;
        return;
      }
      buffer[at++] = c;
    }
    this.#length = at;
  }

  /**
   * Buffers a number as {@linkcode formatNumber} writes it (shortest round-trip decimal, "-0" for
   * negative zero), followed by the ASCII character `after` (e.g. 0x2c, a comma), if given. The text
   * comes from the core's formatter (`NumberText`, the same bytes as `formatNumber`) when there is one.
   *
   * @example
   * ```ts
   * writer.appendNumber(x, 0x2c); // "0.1,"
   * ```
   */
  appendNumber(n: number, after = -1): void {
    const numbers = this.#numbers;
    if (numbers !== undefined) {
      this.#room(NUMBER_TEXT_BYTES + 1);
      let at = numbers.write(n, this.#buffer, this.#length);
      if (after >= 0) this.#buffer[at++] = after;
      this.#length = at;
      return;
    }
    const text = formatNumber(n); // ASCII: digits, ".", "-", "+", "e", "NaN", "Infinity"
    const length = text.length;
    this.#room(length + 1);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < length; i++) buffer[at++] = text.charCodeAt(i);
    if (after >= 0) buffer[at++] = after;
    this.#length = at;
  }

  /**
   * Buffers `bytes[from, to)` as they are (e.g. numbers already written as {@linkcode formatNumber}
   * writes them, in the input's bytes).
   *
   * @example
   * ```ts
   * writer.appendRange(new TextEncoder().encode("0.1,2\n"), 0, 5); // "0.1,2"
   * ```
   */
  appendRange(bytes: Uint8Array, from: number, to: number): void {
    this.#room(to - from);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = from; i < to; i++) buffer[at++] = bytes[i];
    this.#length = at;
  }

  /**
   * Buffers rows whose text is already written: for each point `i` from `from` on, its text's bytes
   * (`texts`) and then `plus` (or `minus` when `diff[i]` is negative), as long as the points have a
   * text (`texts.block[i] >= 0`) and the rows fit in the piece being filled (1 MiB,
   * {@linkcode CHUNK_BYTES}). Returns the first point not buffered (`to` once all are): if that point
   * has a text, the piece is full and must be flushed before going on. A row is always buffered into an
   * empty buffer, however long, so a flush always lets the rows go on (also when a row filled the
   * piece exactly).
   *
   * @example
   * ```ts
   * for (let i = from; i < to && texts.block[i] >= 0;) {
   *   i = writer.appendTextRows(texts, diff, { from: i, to, plus, minus });
   *   if (i < to && texts.block[i] >= 0) await writer.flush();
   * }
   * ```
   */
  appendTextRows(
    texts: PointTexts,
    diff: ArrayLike<number>,
    rows: { from: number; to: number; plus: Uint8Array; minus: Uint8Array },
  ): number {
    const { blocks, block, start, end } = texts;
    const { to, plus, minus } = rows;
    if (this.#buffer.length < CHUNK_BYTES) this.#room(CHUNK_BYTES - this.#length);
    let buffer = this.#buffer;
    let limit = Math.max(CHUNK_BYTES, buffer.length);
    let at = this.#length;
    let i = rows.from;
    for (; i < to; i++) {
      const b = block[i];
      if (b < 0) break;
      const bytes = blocks[b];
      const s = start[i], e = end[i];
      const tail = diff[i] < 0 ? minus : plus;
      const n = e - s + tail.length;
      if (at + n > limit) {
        if (at > 0) break; // (full: the caller flushes)
        this.#length = at;
        this.#room(n); // a row longer than a piece, into an empty buffer
        buffer = this.#buffer;
        limit = buffer.length;
      }
      for (let k = s; k < e; k++) buffer[at++] = bytes[k];
      for (let k = 0; k < tail.length; k++) buffer[at++] = tail[k];
    }
    this.#length = at;
    return i;
  }

  /**
   * Buffers bytes as they are (e.g. an ASCII line end prepared once).
   *
   * @example
   * ```ts
   * writer.appendBytes(new TextEncoder().encode(",1\n"));
   * ```
   */
  appendBytes(bytes: Uint8Array): void {
    const length = bytes.length;
    this.#room(length);
    const buffer = this.#buffer;
    const at = this.#length;
    if (length > 64) buffer.set(bytes, at);
    else for (let i = 0; i < length; i++) buffer[at + i] = bytes[i]; // (short: faster than a native call)
    this.#length = at + length;
  }

  /**
   * Writes the buffered text; resolves once the destination accepted it.
   *
   * @example
   * ```ts
   * await writer.flush();
   * ```
   */
  async flush(): Promise<void> {
    if (this.#length === 0) return;
    // The buffer goes to the stream as it is (no copy), and a new one takes its place.
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#buffer = new Uint8Array(Math.max(INITIAL_BYTES, Math.min(this.#buffer.length, 2 * this.#length)));
    this.#length = 0;
    try {
      await this.#writer.write(bytes);
      this.#bytes += bytes.length;
    } catch (error) {
      throw new Error(`cannot write ${this.#name}: ${error instanceof Error ? error.message : error}`, {
        cause: error,
      });
    }
  }

  /**
   * Flushes, then closes the stream. Safe to call more than once.
   *
   * @example
   * ```ts
   * await writer.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      await this.#writer.close().catch(() => {});
    }
  }
}
