/**
 * The result change log as Kafka messages (`--output-topic`): the rows the CSV result log writes
 * (`./result_log.ts`), one message each, with the same column names and the same number text.
 *
 * **Formats.** `json` (the default): `{"a":0.5,"b":2,"time":1700000000000,"diff":1}`, every column of the
 * CSV row by name, numbers exactly as the CSV writes them, key columns as strings, an empty cell (an
 * aliased coefficient, an undefined statistic) as null, a window bound written as an ISO time as a string.
 * `csv`: the value is the CSV row itself (no line break), and every message has a record header
 * `columns` holding the CSV header (`a,b,time,diff`).
 *
 * **Modes.** `changelog` (the default): every row, -1 rows included, in order; the message key is the
 * JSON of the row's key columns (and window bounds), e.g. `{"sensor":"s1"}`, or none (null) when the
 * run is not keyed. `upsert`, for a compacted topic: per batch, only the latest line of each key (and
 * window) — its +1 row — or, when the batch retracted the key's line and put nothing in its place, a
 * tombstone (a null value); the key is always set, `{}` when the run is not keyed.
 *
 * A sink: {@linkcode KafkaResults.write} only collects the batch's messages; whoever produces them
 * takes them with {@linkcode KafkaResults.take} (in one transaction with the batch's offsets, say).
 *
 * @example
 * ```ts
 * import { KafkaResults } from "./kafka_results.ts";
 * const results = new KafkaResults({ format: "json", mode: "changelog" });
 * await results.write(update);
 * results.take(); // [{ key: null, value: '{"a":0,"b":0,"time":1700000000000,"diff":1}' }]
 * ```
 * @module
 */

import type { BatchUpdate, Line, ModelResult, Sink } from "../model/sink.ts";
import { type ModelConfig, resultColumns } from "../model/model_config.ts";
import { splitCsvRecord } from "../model/csv.ts";
import type { TimeFormat } from "../model/windows.ts";
import { RESULT_HEADER, ResultLog } from "./result_log.ts";

/**
 * One result message: its key and value (text; a null value is a tombstone), and record headers.
 *
 * @example
 * ```ts
 * const message: ResultMessage = { key: '{"sensor":"s1"}', value: '{"sensor":"s1","a":1,"b":2,"time":5,"diff":1}' };
 * ```
 */
export interface ResultMessage {
  /** The message key, or null for none. */
  readonly key: string | null;
  /** The message value, or null for a tombstone (upsert mode). */
  readonly value: string | null;
  /** Record headers (`columns` with the CSV format). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Options of {@linkcode KafkaResults}: the message format and mode, and the result log's options.
 *
 * @example
 * ```ts
 * const options: KafkaResultsOptions = { format: "csv", mode: "upsert", keys: ["sensor"] };
 * ```
 */
export interface KafkaResultsOptions {
  /** `json` (default) or `csv`. */
  readonly format?: "json" | "csv";
  /** `changelog` (default) or `upsert`. */
  readonly mode?: "changelog" | "upsert";
  /** A resumed run: the line last written with diff 1 (as for `ResultLog`). */
  readonly line?: Line;
  /** A model other than the plain line, and its last fit written (a resumed run). */
  readonly model?: { readonly config: ModelConfig; readonly last?: ModelResult };
  /** With `--key`: the key columns. */
  readonly keys?: readonly string[];
  /** With `--window`: how window bounds are written. */
  readonly windows?: { readonly format?: TimeFormat };
}

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Collects each batch's result rows as Kafka messages.
 *
 * @example
 * ```ts
 * const results = new KafkaResults({ format: "csv" });
 * ```
 */
export class KafkaResults implements Sink {
  readonly #log: ResultLog;
  readonly #chunks: Uint8Array[] = [];
  readonly #columns: readonly string[];
  /** How many leading columns identify a row's line: the key columns and the window bounds. */
  readonly #identity: number;
  readonly #keyColumns: number;
  readonly #keyed: boolean;
  readonly #format: "json" | "csv";
  readonly #upsert: boolean;
  readonly #header: string;
  #pending: ResultMessage[] = [];

  /** See {@linkcode KafkaResultsOptions}. */
  constructor(options: KafkaResultsOptions = {}) {
    const chunks = this.#chunks;
    const capture = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk.slice()) });
    const keyed = options.keys !== undefined || options.windows !== undefined;
    this.#log = new ResultLog(capture, {
      name: "the output topic",
      append: true, // (no header row: it is the `columns` header of each message)
      ...(options.line ? { line: options.line } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(keyed ? { keys: options.keys ?? [] } : {}),
      ...(options.windows ? { windows: options.windows } : {}),
    });
    this.#keyColumns = options.keys?.length ?? 0;
    this.#keyed = keyed;
    const bounds = options.windows ? ["window_start", "window_end"] : [];
    this.#columns = [
      ...options.keys ?? [],
      ...bounds,
      ...(options.model ? [...resultColumns(options.model.config), "time", "diff"] : RESULT_HEADER),
    ];
    this.#identity = this.#keyColumns + bounds.length;
    this.#format = options.format ?? "json";
    this.#upsert = options.mode === "upsert";
    this.#header = this.#columns.join(",");
  }

  /** The column names, as in the CSV result log's header. */
  get columns(): readonly string[] {
    return this.#columns;
  }

  /**
   * Collects the batch's messages (nothing if its lines did not change).
   *
   * @example
   * ```ts
   * await results.write(update);
   * ```
   */
  async write(update: BatchUpdate): Promise<void> {
    await this.#log.write(update);
    if (this.#chunks.length === 0) return;
    const text = new TextDecoder().decode(concat(this.#chunks.splice(0)));
    const rows = text.split("\n");
    rows.pop(); // (after the last line break)
    if (!this.#upsert) {
      for (const row of rows) this.#pending.push(this.#message(row, this.#cells(row)));
      return;
    }
    // Upsert: the latest row of each line's identity (key and window) in this batch.
    const latest = new Map<string, { row: string; cells: string[] }>();
    for (const row of rows) {
      const cells = this.#cells(row);
      const id = JSON.stringify(cells.slice(0, this.#identity));
      latest.delete(id); // (re-inserted: the map keeps the order of each identity's last row)
      latest.set(id, { row, cells });
    }
    for (const { row, cells } of latest.values()) {
      if (cells[cells.length - 1] === "1") this.#pending.push(this.#message(row, cells));
      else this.#pending.push({ key: this.#key(cells), value: null });
    }
  }

  /**
   * The messages collected since the last call, in order; the sink forgets them.
   *
   * @example
   * ```ts
   * const messages = results.take();
   * ```
   */
  take(): ResultMessage[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Closes the internal log (nothing is produced here). */
  close(): Promise<void> {
    return this.#log.close();
  }

  #cells(row: string): string[] {
    // Key cells may be quoted (a comma in a key); numbers never are.
    return this.#keyColumns > 0 ? splitCsvRecord(row) ?? row.split(",") : row.split(",");
  }

  #message(row: string, cells: readonly string[]): ResultMessage {
    const key = this.#keyed || this.#upsert ? this.#key(cells) : null;
    if (this.#format === "csv") return { key, value: row, headers: { columns: this.#header } };
    return { key, value: this.#json(cells, 0, cells.length) };
  }

  #key(cells: readonly string[]): string {
    return this.#json(cells, 0, this.#identity);
  }

  /** The JSON object of columns `from` to `to` of a row. */
  #json(cells: readonly string[], from: number, to: number): string {
    const parts: string[] = [];
    for (let i = from; i < to; i++) {
      const cell = cells[i] ?? "";
      const value = i < this.#keyColumns
        ? JSON.stringify(cell)
        : cell === ""
        ? "null"
        : NUMBER.test(cell)
        ? cell
        : JSON.stringify(cell); // (an ISO window bound)
      parts.push(`${JSON.stringify(this.#columns[i])}:${value}`);
    }
    return `{${parts.join(",")}}`;
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
