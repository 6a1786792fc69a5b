/**
 * The result change log: the fitted line as CSV rows `a,b,time,diff`.
 *
 * When a batch changes the line, the previous line is retracted (diff -1) and the new one inserted
 * (diff 1), both at the batch's time; the very first line has only its +1 row, and a batch that leaves
 * the line unchanged writes nothing. Lines are compared bit for bit (as written).
 *
 * For another model (the `model` option: several x, a polynomial, no intercept, `--stats`) the rows are
 * the model's fit, with the columns `resultColumns` names (`../model/model_config.ts`), e.g.
 * `a,b_x1,b_x2,time,diff` or `a,b,n,r2,sigma,se_a,se_b,time,diff`. A cell is empty where the value is
 * undefined (an aliased coefficient and its `se_`, `r2` with no variation, `sigma` with no degree of
 * freedom). Rows change, and are compared, the same way: as written.
 *
 * With keys (the `keys` option, `--key`): the key columns come first, `sensor,a,b,time,diff`, and a batch
 * writes rows only for the keys whose line it changed (`BatchUpdate.keys`): -1 for the key's old line,
 * +1 for its new one; a key left with no points has only its -1 row. With windows (`windows`, `--window`),
 * `window_start,window_end` follow the key columns (written as the input writes times, `--time-format`),
 * and rows are per key and window.
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
import type { BatchUpdate, Line, ModelResult, Sink } from "../model/sink.ts";
import { type ModelConfig, resultColumns } from "../model/model_config.ts";
import { modelCells } from "../model/fit_cells.ts";

export { modelCells };
import { keyCells } from "../model/keys.ts";
import { formatTime, type TimeFormat } from "../model/windows.ts";

/**
 * The header of the result change log.
 *
 * @example
 * ```ts
 * RESULT_HEADER.join(","); // "a,b,time,diff"
 * ```
 */
export const RESULT_HEADER: readonly string[] = ["a", "b", "time", "diff"];

const encoder = new TextEncoder();
const COMMA_BYTE = Uint8Array.of(0x2c);

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
  /** With a model: its configuration, and the cells of the row last written with diff 1 (before time). */
  readonly #model: ModelConfig | undefined;
  #row: string | undefined;
  readonly #keyed: boolean;
  readonly #keyColumns: number;
  readonly #windows: { readonly format?: TimeFormat } | undefined;

  /**
   * `name` says in messages which output failed. A run resumed by `--state` passes `append` (the file
   * already has its header) and `line`, the line last written with diff 1, which the next change
   * retracts. With `model` (a model other than the plain line), the rows are its fits; `model.last` is
   * then the fit last written with diff 1, for a resumed run.
   */
  constructor(
    stream: WritableStream<Uint8Array>,
    options: {
      name?: string;
      append?: boolean;
      line?: Line;
      model?: { readonly config: ModelConfig; readonly last?: ModelResult };
      keys?: readonly string[];
      windows?: { readonly format?: TimeFormat };
    } = {},
  ) {
    const model = options.model;
    this.#keyed = options.keys !== undefined || options.windows !== undefined;
    this.#keyColumns = options.keys?.length ?? 0;
    this.#windows = options.windows;
    this.#out = new CsvWriter(
      stream,
      [
        ...options.keys ?? [],
        ...(options.windows ? ["window_start", "window_end"] : []),
        ...(model ? [...resultColumns(model.config), "time", "diff"] : RESULT_HEADER),
      ],
      options,
    );
    this.#line = options.line && { a: options.line.a, b: options.line.b };
    this.#model = model?.config;
    this.#row = model?.last && modelCells(model.config, model.last);
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
    if (this.#keyed) return this.#writeKeys(update);
    if (this.#model !== undefined) return this.#writeModel(this.#model, update);
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

  async #writeModel(config: ModelConfig, update: BatchUpdate): Promise<void> {
    const next = update.model && modelCells(config, update.model);
    if (next === this.#row) return;
    const time = formatNumber(update.time);
    if (this.#row !== undefined) this.#out.append(`${this.#row},${time},-1\n`);
    if (next !== undefined) this.#out.append(`${next},${time},1\n`);
    this.#row = next;
    await this.#out.flush();
  }

  async #writeKeys(update: BatchUpdate): Promise<void> {
    const changes = update.keys ?? [];
    if (changes.length === 0) return;
    const time = formatNumber(update.time);
    const out = this.#out;
    const windows = this.#windows;
    if (windows === undefined && this.#model === undefined) {
      // Lines (not models) straight into the writer's bytes: the key's cells, the numbers, then
      // ",time,±1\n" made once.
      const minus = encoder.encode(`,${time},-1\n`);
      const plus = encoder.encode(`,${time},1\n`);
      const keyed = this.#keyColumns > 0;
      for (const { key, old, line } of changes) {
        const cells = keyed ? keyCells(key) : "";
        if (old) {
          out.appendText(cells);
          out.appendBytes(COMMA_BYTE);
          out.appendNumber(old.a, 0x2c);
          out.appendNumber(old.b);
          out.appendBytes(minus);
        }
        if (line) {
          out.appendText(cells);
          out.appendBytes(COMMA_BYTE);
          out.appendNumber(line.a, 0x2c);
          out.appendNumber(line.b);
          out.appendBytes(plus);
        }
        if (out.pending > 1 << 20) await out.flush();
      }
      await out.flush();
      return;
    }
    let rows: string[] = []; // (appended a few thousand at a time: one encoding each, not one per row)
    for (const { key, old, line, windowStart, windowEnd, oldCells, cells: modelRow } of changes) {
      let cells = this.#keyColumns > 0 ? keyCells(key) : "";
      if (windows !== undefined) {
        const f = windows.format;
        const bounds = f === undefined
          ? `${windowStart},${windowEnd}`
          : `${formatTime(windowStart!, f)},${formatTime(windowEnd!, f)}`;
        cells = cells === "" ? bounds : `${cells},${bounds}`;
      }
      if (old) rows.push(`${cells},${formatNumber(old.a)},${formatNumber(old.b)},${time},-1\n`);
      if (line) rows.push(`${cells},${formatNumber(line.a)},${formatNumber(line.b)},${time},1\n`);
      const lead = cells === "" ? "" : `${cells},`;
      if (oldCells !== undefined) rows.push(`${lead}${oldCells},${time},-1\n`);
      if (modelRow !== undefined) rows.push(`${lead}${modelRow},${time},1\n`);
      if (rows.length >= 4096) {
        out.append(rows.join(""));
        rows = [];
        if (out.pending > 1 << 20) await out.flush();
      }
    }
    if (rows.length > 0) out.append(rows.join(""));
    await out.flush();
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
