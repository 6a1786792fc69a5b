/**
 * Points from a CSV byte stream (a file, stdin), parsed incrementally with csv-parse.
 *
 * The first record is a header naming the columns. Columns `x` and `y` (other names with the `x` and `y`
 * options) hold the point; an optional `diff` column holds its weight, 1 to add it and -1 to retract it,
 * so a change log written by the pipeline (`x,y,time,diff`) can be fed back in. Other columns are
 * ignored. A value that is not a number, a missing field or a diff other than 1 or -1 stops the run
 * with an error naming the line.
 *
 * Each chunk holds the records parsed from one read of the input, so points reach the pipeline as soon
 * as their line is complete (also when a slow producer writes to stdin).
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

import { parse } from "csv-parse/stream";
import { ChunkBuilder } from "./chunk_builder.ts";
import type { PointChunk, Source } from "./source.ts";

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
}

/**
 * A chunk of CSV records; `lines[i]` is the line number of point i (the header is line 1).
 *
 * @example
 * ```ts
 * for await (const chunk of source.chunks(signal)) console.log(chunk.lines[0]); // 2: the first point is on line 2
 * ```
 */
export interface CsvChunk extends PointChunk {
  /** Line number of each point in the input. */
  readonly lines: Float64Array;
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/**
 * Parses a field as a number: what `Number()` accepts, except an empty or blank field.
 *
 * @example
 * ```ts
 * parseNumber("1e-3"); // 0.001
 * parseNumber("abc"); // undefined
 * ```
 */
export function parseNumber(field: string): number | undefined {
  const v = Number(field);
  if (Number.isNaN(v)) return field.trim() === "NaN" ? NaN : undefined;
  if (v === 0 && field.trim() === "") return undefined;
  return v;
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
  readonly #columns: { x: string; y: string; diff: string };

  /** `input` is read once, by {@linkcode CsvSource.chunks}. */
  constructor(input: ReadableStream<Uint8Array>, options: CsvSourceOptions = {}) {
    this.#input = input;
    this.name = options.name ?? "input";
    this.#columns = { x: options.x ?? "x", y: options.y ?? "y", diff: options.diff ?? "diff" };
  }

  /**
   * Yields the records of each read of the input as one chunk.
   *
   * @example
   * ```ts
   * for await (const chunk of source.chunks(signal)) console.log(chunk.where(0)); // "data.csv line 2"
   * ```
   */
  async *chunks(signal: AbortSignal): AsyncGenerator<CsvChunk> {
    const name = this.name;
    const names = this.#columns;
    const builder = new ChunkBuilder();
    let index: { x: number; y: number; diff: number; width: number } | undefined;
    let failure: { error: unknown } | undefined;
    // Marker lines we add after reads (see below); csv-parse counts them as lines, we subtract them.
    let added = 0;

    const header = (record: string[], line: number) => {
      const heads = record.map((head) => head.trim());
      const find = (column: string) => heads.indexOf(column);
      const x = find(names.x);
      const y = find(names.y);
      const shown = heads.join(",");
      if (x < 0 || y < 0) {
        const missing = x < 0 ? names.x : names.y;
        throw new Error(
          `${name} line ${line}: no column "${missing}" in the header "${shown}": ` +
            `name the x and y columns with --x and --y`,
        );
      }
      index = { x, y, diff: find(names.diff), width: record.length };
    };

    const onRecord = (record: string[], info: { lines: number }) => {
      if (failure) return null;
      if (record.length === 1 && record[0] === MARKER) {
        added++;
        return null;
      }
      try {
        const line = info.lines - added;
        if (index === undefined) {
          header(record, line);
          return null;
        }
        if (record.length !== index.width) {
          throw new Error(
            `${name} line ${line}: ${record.length} fields where the header has ${index.width}: ` +
              `fix the line or the header`,
          );
        }
        const x = parseNumber(record[index.x]);
        if (x === undefined) throw new Error(notNumber(name, line, names.x, record[index.x]));
        const y = parseNumber(record[index.y]);
        if (y === undefined) throw new Error(notNumber(name, line, names.y, record[index.y]));
        let diff = 1;
        if (index.diff >= 0) {
          const field = record[index.diff];
          diff = Number(field); // allows spaces, like parseNumber
          if (diff !== 1 && diff !== -1) {
            throw new Error(
              `${name} line ${line}: ${names.diff} is "${field}": it must be 1 (add the point) or -1 (retract it)`,
            );
          }
        }
        builder.push(x, y, diff, line);
      } catch (error) {
        failure = { error };
      }
      return null;
    };

    const parser = parse({
      bom: true, // (no `trim`: it costs 10%; numbers allow spaces anyway and header names are trimmed here)
      skip_empty_lines: true,
      relax_column_count: true,
      // Report csv-parse's own errors (quotes) synchronously, while `added` is that of their line.
      skip_records_with_error: true,
      on_skip: (error) => {
        failure ??= { error: fixLines(error, name, added) };
        return undefined;
      },
      on_record: onRecord,
    }) as TransformStream<Uint8Array, never>;
    const writer = parser.writable.getWriter();
    const reader = parser.readable.getReader();
    reader.closed.catch((error) => failure ??= { error: fixLines(error, name, added) });

    const take = (): CsvChunk => {
      const { x, y, diff, origin } = builder.take();
      return { x, y, diff, lines: origin, where: (i) => `${name} line ${origin[i]}` };
    };

    // csv-parse holds back a record until it has seen a few bytes past its line end. After a read that
    // ends a line outside quotes we therefore add a marker line, which on_record recognises, counts and
    // drops: a live producer's last line then reaches the pipeline without waiting for the next line.
    let quotes = 0;
    let crlf: boolean | undefined;
    let last = 0;
    let beforeLast = 0;
    try {
      for await (const bytes of this.#input) {
        if (signal.aborted) return;
        if (bytes.length === 0) continue;
        for (let i = 0; i < bytes.length; i++) {
          const c = bytes[i];
          if (c === QUOTE) quotes++;
          else if (c === LF && crlf === undefined) crlf = (i > 0 ? bytes[i - 1] : last) === CR;
        }
        beforeLast = bytes.length > 1 ? bytes[bytes.length - 2] : last;
        last = bytes[bytes.length - 1];
        await writer.write(bytes);
        if (!failure && last === LF && quotes % 2 === 0 && (!crlf || beforeLast === CR)) {
          await writer.write(crlf ? CRLF_MARKER : LF_MARKER);
        }
        if (builder.length > 0) yield take(); // the points before an error still count
        if (failure) throw failure.error;
      }
      await writer.close().catch(() => {});
      if (builder.length > 0) yield take();
      if (failure) throw failure.error;
      if (index === undefined) {
        throw new Error(`${name} is empty: expected a header line naming the columns, such as "x,y"`);
      }
    } finally {
      reader.releaseLock();
    }
  }
}

const MARKER = "\u0000streamreg:end-of-read\u0000";
const LF_MARKER = new TextEncoder().encode(`${MARKER}\n`);
const CRLF_MARKER = new TextEncoder().encode(`${MARKER}\r\n`);

function notNumber(name: string, line: number, column: string, field: string | undefined): string {
  return field === undefined || field === ""
    ? `${name} line ${line}: ${column} is empty: every point needs a number`
    : `${name} line ${line}: ${column} is "${field}", not a number`;
}

/** Names the input in csv-parse's own messages, with the input's line numbers (not counting markers). */
function fixLines(error: unknown, name: string, added: number): Error {
  const message = error instanceof Error ? error.message : String(error);
  const fixed = message.replace(/line (\d+)/g, (_, n) => `line ${Number(n) - added}`);
  return new Error(`${name}: ${fixed}`, { cause: error });
}
