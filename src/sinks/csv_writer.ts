/**
 * A buffered writer of CSV text to a Web `WritableStream` of bytes (a file, stdout).
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

const encoder = new TextEncoder();

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
  #text: string;
  #closed = false;
  #bytes = 0;

  /**
   * `name` says in messages which output failed (e.g. the path). With `append`, the stream continues
   * a file that already has its header (a run resumed by `--state`): the header is not written again.
   */
  constructor(
    stream: WritableStream<Uint8Array>,
    header: readonly string[],
    options: { name?: string; append?: boolean } = {},
  ) {
    this.#writer = stream.getWriter();
    this.#text = options.append ? "" : `${header.join(",")}\n`;
    this.#name = options.name ?? "output";
  }

  /** Characters buffered and not yet written. */
  get pending(): number {
    return this.#text.length;
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
    this.#text += text;
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
    if (this.#text.length === 0) return;
    const bytes = encoder.encode(this.#text);
    this.#text = "";
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
