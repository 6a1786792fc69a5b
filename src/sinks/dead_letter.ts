/**
 * The dead-letter file (`--dead-letter PATH`): one CSV row per rejected record, in stream order, with
 * the columns `source,location,reason,detail,raw`:
 *
 * - `source`, `location`: where the record came from ("data.csv", "line 12"; for Kafka the topic,
 *   partition and offset), see {@linkcode RecordOrigin};
 * - `reason`: the stable reason code (`not_a_number`, `nan`, `too_large`... see `REJECT_REASONS`);
 * - `detail`: one line for people;
 * - `raw`: the record's content as received, escaped by {@linkcode escapeRaw} (`\\` for a backslash,
 *   `\xNN` for control bytes and bytes that are not valid UTF-8: `unescapeRaw` gives the exact bytes
 *   back). A `too_large` record keeps only its first 1024 bytes.
 *
 * Fields are quoted by csv-stringify where needed. The file is created (with its header) when the run
 * starts, also if no record is ever rejected, so "no bad input" and "did not run" look different.
 * Rows are flushed before each batch is committed to the source.
 *
 * @example
 * ```ts
 * import { DeadLetterLog } from "./dead_letter.ts";
 * const log = new DeadLetterLog(stream, { name: "bad.csv" });
 * await runPipeline(source, core, sinks, { rejectSinks: [log] });
 * await log.close();
 * ```
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { escapeRaw, type Rejection, type RejectSink } from "../model/rejection.ts";
import { CsvWriter } from "./csv_writer.ts";

/**
 * The header of the dead-letter file.
 *
 * @example
 * ```ts
 * DEAD_LETTER_HEADER.join(","); // "source,location,reason,detail,raw"
 * ```
 */
export const DEAD_LETTER_HEADER: readonly string[] = ["source", "location", "reason", "detail", "raw"];

/**
 * Writes rejected records as CSV.
 *
 * @example
 * ```ts
 * const log = new DeadLetterLog(new WritableStream());
 * log.reject({ origin: { source: "stdin", location: "line 3" }, reason: "nan", detail: "x is NaN", raw: "NaN,1" });
 * await log.flush();
 * ```
 */
export class DeadLetterLog implements RejectSink {
  readonly #out: CsvWriter;
  #count = 0;

  /**
   * `name` says in messages which output failed; `append`: the file already has its header (a run
   * resumed by `--state`).
   */
  constructor(stream: WritableStream<Uint8Array>, options: { name?: string; append?: boolean } = {}) {
    this.#out = new CsvWriter(stream, DEAD_LETTER_HEADER, options);
  }

  /** Bytes written to the stream so far (see {@linkcode CsvWriter.bytesWritten}). */
  get bytesWritten(): number {
    return this.#out.bytesWritten;
  }

  /** Records written (or buffered) so far. */
  get count(): number {
    return this.#count;
  }

  /** Buffers one row. */
  reject(r: Rejection): void {
    this.#count++;
    this.#out.append(stringify([[r.origin.source, r.origin.location, r.reason, r.detail, escapeRaw(r.raw)]]));
  }

  /** Writes the buffered rows (the header first). */
  flush(): Promise<void> {
    return this.#out.flush();
  }

  /** Flushes and closes the stream. */
  close(): Promise<void> {
    return this.#out.close();
  }
}
