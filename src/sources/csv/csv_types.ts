/**
 * The types the CSV file source and its line reader share: {@linkcode CsvChunk} and
 * {@linkcode CsvPosition}.
 *
 * @example
 * ```ts
 * import type { CsvPosition } from "./csv_types.ts";
 * const position: CsvPosition = { offset: 1234, line: 57, header: "x,y", lf: true };
 * ```
 * @module
 */

import type { RecordOrigin } from "../../model/rejection.ts";
import type { PointChunk } from "../../model/source.ts";

/**
 * Where a CSV input stands after a record (`CsvSource.position`): what a checkpoint keeps.
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
