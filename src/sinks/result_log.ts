/**
 * The result change log: the fitted line as CSV rows `a,b,time,diff`.
 *
 * When a batch changes the line, the previous line is retracted (diff -1) and the new one inserted
 * (diff 1), both at the batch's time; the very first line has only its +1 row, and a batch that leaves
 * the line unchanged writes nothing. Lines are compared bit for bit (as written).
 *
 * @example
 * ```ts
 * import { ResultLog } from "./result_log.ts";
 * const log = new ResultLog(stream, { name: "regression_output_stream.csv" });
 * await log.write(update); // a,b,time,diff rows for this batch
 * await log.close();
 * ```
 * @module
 */

import { CsvWriter } from "./csv_writer.ts";
import { formatNumber } from "../model/format_number.ts";
import type { BatchUpdate, Line, Sink } from "../model/sink.ts";

/**
 * The header of the result change log.
 *
 * @example
 * ```ts
 * RESULT_HEADER.join(","); // "a,b,time,diff"
 * ```
 */
export const RESULT_HEADER: readonly string[] = ["a", "b", "time", "diff"];

/**
 * Writes the result change log.
 *
 * @example
 * ```ts
 * const log = new ResultLog(new WritableStream());
 * ```
 */
export class ResultLog implements Sink {
  readonly #out: CsvWriter;
  #line: Line | undefined;

  /**
   * `name` says in messages which output failed. A run resumed by `--state` passes `append` (the file
   * already has its header) and `line`, the line last written with diff 1, which the next change
   * retracts.
   */
  constructor(
    stream: WritableStream<Uint8Array>,
    options: { name?: string; append?: boolean; line?: Line } = {},
  ) {
    this.#out = new CsvWriter(stream, RESULT_HEADER, options);
    this.#line = options.line && { a: options.line.a, b: options.line.b };
  }

  /** Bytes written to the stream so far (see {@linkcode CsvWriter.bytesWritten}). */
  get bytesWritten(): number {
    return this.#out.bytesWritten;
  }

  /** The line last written (with diff 1), if any. */
  get line(): Line | undefined {
    return this.#line;
  }

  /**
   * Writes the rows for one batch, if its line differs from the last one.
   *
   * @example
   * ```ts
   * await log.write({ time: 1, points: [], accepted: 0, refused: 0, count: 1, line: { a: 0, b: 0 } });
   * ```
   */
  async write(update: BatchUpdate): Promise<void> {
    const next = update.line;
    if (sameLine(this.#line, next)) return;
    const time = formatNumber(update.time);
    if (this.#line) {
      this.#out.append(`${formatNumber(this.#line.a)},${formatNumber(this.#line.b)},${time},-1\n`);
    }
    if (next) this.#out.append(`${formatNumber(next.a)},${formatNumber(next.b)},${time},1\n`);
    this.#line = next && { a: next.a, b: next.b };
    await this.#out.flush();
  }

  /** Writes what is buffered (the header, if nothing else) and closes the stream. */
  close(): Promise<void> {
    return this.#out.close();
  }
}

function sameLine(p: Line | undefined, q: Line | undefined): boolean {
  if (p === undefined || q === undefined) return p === q;
  return Object.is(p.a, q.a) && Object.is(p.b, q.b);
}
