/**
 * The input change log: every point the core accepted, as CSV rows `x,y,time,diff` at its batch's time.
 * Feeding this file back in (`--source csv`) rebuilds the same model. With several x columns (the
 * `columns` option, from `inputColumns` of `../model/model_config.ts`), every x column is written, by
 * name, then y: `x1,x2,y,time,diff`.
 *
 * @example
 * ```ts
 * import { InputLog } from "./input_log.ts";
 * const log = new InputLog(stream, { name: "regression_input.csv" });
 * await log.write(update);
 * await log.close();
 * ```
 * @module
 */

import { CsvWriter } from "./csv_writer.ts";
import { formatNumber } from "../model/format_number.ts";
import { keyCells } from "../model/keys.ts";
import { formatTime, type TimeFormat } from "../model/windows.ts";
import type { BatchUpdate, Sink } from "../model/sink.ts";

/**
 * The header of the input change log.
 *
 * @example
 * ```ts
 * INPUT_HEADER.join(","); // "x,y,time,diff"
 * ```
 */
export const INPUT_HEADER: readonly string[] = ["x", "y", "time", "diff"];

const FLUSH_BYTES = 1 << 20;
const COMMA = 0x2c;
const encoder = new TextEncoder();

/**
 * Writes the input change log.
 *
 * @example
 * ```ts
 * const log = new InputLog(new WritableStream());
 * ```
 */
export class InputLog implements Sink {
  readonly #out: CsvWriter;

  /**
   * `name` says in messages which output failed; `append`: the file already has its header (a run
   * resumed by `--state`). `columns`: the names of the columns before `time,diff` (default `x,y`; with
   * several x columns, each x column's name and then `y`). `keys`: the key columns' names (`--key`),
   * written first; each row then starts with its point's key.
   */
  constructor(
    stream: WritableStream<Uint8Array>,
    options: {
      name?: string;
      append?: boolean;
      columns?: readonly string[];
      keys?: readonly string[];
      time?: { readonly column: string; readonly format: TimeFormat };
    } = {},
  ) {
    this.#time = options.time;
    this.#out = new CsvWriter(
      stream,
      [
        ...options.keys ?? [],
        ...(options.time ? [options.time.column] : []),
        ...(options.columns ? [...options.columns, "time", "diff"] : INPUT_HEADER),
      ],
      options,
    );
  }

  readonly #time: { readonly column: string; readonly format: TimeFormat } | undefined;

  /** Bytes written to the stream so far (see {@linkcode CsvWriter.bytesWritten}). */
  get bytesWritten(): number {
    return this.#out.bytesWritten;
  }

  /**
   * Writes one row per accepted point of the batch.
   *
   * @example
   * ```ts
   * await log.write(update);
   * ```
   */
  async write(update: BatchUpdate): Promise<void> {
    const time = formatNumber(update.time);
    const plus = encoder.encode(`,${time},1\n`);
    const minus = encoder.encode(`,${time},-1\n`);
    const out = this.#out;
    const timeFormat = this.#time?.format;
    for (const { x, xs, y, diff, texts, keys, times } of update.points) {
      if (xs !== undefined && xs.length > 1) {
        for (let i = 0; i < x.length; i++) {
          if (keys !== undefined) out.append(`${keyCells(keys[i])},`);
          if (times !== undefined && timeFormat !== undefined) {
            out.append(`${formatTime(times[i], timeFormat)},`);
          }
          for (const column of xs) out.appendNumber(column[i], COMMA);
          out.appendNumber(y[i]);
          out.appendBytes(diff[i] < 0 ? minus : plus);
          if (out.pending > FLUSH_BYTES) await out.flush();
        }
        continue;
      }
      const copy = texts !== undefined && keys === undefined && times === undefined;
      for (let i = 0; i < x.length; i++) {
        if (copy && texts.block[i] >= 0) { // rows "x,y" as written here, many at once
          const next = out.appendTextRows(texts, diff, { from: i, to: x.length, plus, minus });
          if (next < x.length && texts.block[next] >= 0) await out.flush(); // (the piece is full)
          i = next - 1;
          continue;
        }
        if (keys !== undefined) out.append(`${keyCells(keys[i])},`);
        if (times !== undefined && timeFormat !== undefined) {
          out.append(`${formatTime(times[i], timeFormat)},`);
        }
        const b = texts === undefined ? -1 : texts.block[i];
        if (b >= 0) out.appendRange(texts!.blocks[b], texts!.start[i], texts!.end[i]); // "x,y" as written here
        else {
          out.appendNumber(x[i], COMMA);
          out.appendNumber(y[i]);
        }
        out.appendBytes(diff[i] < 0 ? minus : plus);
        if (out.pending > FLUSH_BYTES) await out.flush();
      }
    }
    await out.flush();
  }

  /** Writes what is buffered (the header, if nothing else) and closes the stream. */
  close(): Promise<void> {
    return this.#out.close();
  }
}
