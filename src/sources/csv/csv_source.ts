/**
 * Points from a CSV byte stream (a file, stdin), read incrementally: each complete line reaches the
 * pipeline as soon as it has been read (also when a slow producer writes to stdin).
 *
 * The first non-empty line is a header naming the columns. Columns `x` and `y` (other names with the
 * `x` and `y` options) hold the point; an optional `diff` column holds its weight, 1 to add it and -1
 * to retract it, so a change log written by the pipeline (`x,y,time,diff`) can be fed back in. Other
 * columns are ignored. With several x columns (the `xs` option), every one of them is read, and the chunks
 * carry them all (`PointChunk.xs`). Lines end with LF or CRLF; empty lines are skipped; a BOM at the start is
 * skipped.
 *
 * **One line is one record.** The input is split into lines first and every line is parsed on its own
 * (a plain line in place, a line with quotes by csv-parse: see `./line_reader.ts`), so a quoted field
 * cannot span lines: a stray or unterminated quote, invalid UTF-8
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

import { DEFAULT_MAX_RECORD_BYTES, TOO_LARGE_RAW_BYTES } from "../../model/rejection.ts";
import type { CommittedBatch, Source, SourceStatus } from "../../model/source.ts";
import type { CsvChunk, CsvPosition } from "./csv_types.ts";
import { type ColumnNames, LineReader } from "./line_reader.ts";
import type { TimeFormat } from "../../model/windows.ts";

export type { CsvChunk, CsvPosition };

export { DEFAULT_MAX_RECORD_BYTES, TOO_LARGE_RAW_BYTES };

const LF = 0x0a;

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
  /** Column holding x. Default "x" (with `xs`: `xs[0]`). */
  x?: string;
  /** Several x columns (2 or more), in the model's order; `x` is then ignored. */
  xs?: readonly string[];
  /** Column holding y. Default "y". */
  y?: string;
  /** Column holding the weight, if present. Default "diff". */
  diff?: string;
  /**
   * With `--key`: the key column(s); each point gets its key (`PointChunk.keys`), and a line whose key
   * field is empty is rejected (`missing_key`). With one x column or several.
   */
  keys?: readonly string[];
  /** With `--time`: the event time column and how it writes times; each point gets its time (`PointChunk.times`). */
  time?: { readonly column: string; readonly format: TimeFormat };
  /** Longest line in bytes, without its line end; longer lines are rejected (`too_large`). Default 1 MiB. */
  maxRecordBytes?: number;
  /**
   * Give each point's text as the input change log writes it (`PointChunk.texts`) where the line has it:
   * one x column, y the column right after it, both written as `formatNumber` writes them. Costs a
   * little reading time; spares the log formatting the numbers. Default false.
   */
  pointText?: boolean;
  /**
   * Resume after a checkpoint: `input` must then start at byte {@linkcode CsvSource.startByte} of the
   * file; line numbers go on from `resume.line` and the columns are those of `resume.header`.
   */
  resume?: CsvPosition;
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
  readonly #names: ColumnNames;
  readonly #max: number;
  readonly #resume: CsvPosition | undefined;
  readonly #pointText: boolean;
  #reader: LineReader | undefined;
  #bytesRead = 0;

  /** `input` is read once, by {@linkcode CsvSource.chunks}. */
  constructor(input: ReadableStream<Uint8Array>, options: CsvSourceOptions = {}) {
    this.#input = input;
    this.name = options.name ?? "input";
    const xs = options.xs !== undefined && options.xs.length > 1 ? options.xs : undefined;
    this.#names = {
      x: xs?.[0] ?? options.x ?? "x",
      ...(xs ? { xs } : {}),
      y: options.y ?? "y",
      diff: options.diff ?? "diff",
      ...(options.keys !== undefined && options.keys.length > 0 ? { keys: options.keys } : {}),
      ...(options.time !== undefined ? { time: options.time } : {}),
    };
    this.#max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) {
      throw new RangeError(`maxRecordBytes must be an integer ≥ 1: got ${this.#max}`);
    }
    this.#resume = options.resume;
    this.#pointText = options.pointText ?? false;
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
   * Ready from the start; the bytes read so far (from where reading started).
   *
   * @example
   * ```ts
   * source.status().bytesRead; // 1234
   * ```
   */
  status(): SourceStatus {
    return { ready: true, bytesRead: this.#bytesRead };
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
    const reader = new LineReader(this.name, this.#names, this.#max, this.#resume, {
      pointText: this.#pointText,
    });
    this.#reader = reader;
    let lineEnd = this.#resume !== undefined && CsvSource.startByte(this.#resume) < this.#resume.offset;
    for await (let bytes of this.#input) {
      if (signal.aborted) return;
      if (bytes.length === 0) continue;
      this.#bytesRead += bytes.length;
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
