/**
 * Reports rejected records on stderr without flooding it: the first 10 one line each, then a summary at
 * most every 10 seconds while more arrive, and a final summary with the count per reason code.
 *
 * ```text
 * streamreg: rejected data.csv line 4: y is "oops", not a number [not_a_number]
 * ...
 * streamreg: rejected 1234 records so far (not_a_number 1000, nan 234)
 * streamreg: rejected 1234 records in all (not_a_number 1000, nan 234); the first 10 are shown above; every one is in bad.csv
 * ```
 *
 * Field values in the lines are escaped ({@linkcode showField}), so garbage cannot drive the terminal.
 *
 * @example
 * ```ts
 * import { RejectReporter } from "./reject_reporter.ts";
 * const reporter = new RejectReporter((line) => progress.message(line), { deadLetter: "bad.csv" });
 * await runPipeline(source, core, sinks, { rejectSinks: [reporter] });
 * reporter.finish();
 * ```
 * @module
 */

import { describeRejection, type Rejection, type RejectReason, type RejectSink } from "../model/rejection.ts";

/**
 * Options of {@linkcode RejectReporter}.
 *
 * @example
 * ```ts
 * const options: RejectReporterOptions = { shown: 10, intervalMs: 10_000, deadLetter: "bad.csv" };
 * ```
 */
export interface RejectReporterOptions {
  /** Records reported one by one. Default 10. */
  shown?: number;
  /** Least time between two running summaries, in ms. Default 10 000. */
  intervalMs?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** The dead-letter file's name, if any, for the final summary. */
  deadLetter?: string;
}

/**
 * Counts rejected records and reports them, rate-limited.
 *
 * @example
 * ```ts
 * const reporter = new RejectReporter((line) => console.error(line));
 * ```
 */
export class RejectReporter implements RejectSink {
  readonly #write: (line: string) => void;
  readonly #shown: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #deadLetter: string | undefined;
  readonly #byReason = new Map<RejectReason, number>();
  #count = 0;
  #last = -Infinity;

  /** `write` prints one line (without its line end) on stderr. */
  constructor(write: (line: string) => void, options: RejectReporterOptions = {}) {
    this.#write = write;
    this.#shown = options.shown ?? 10;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#deadLetter = options.deadLetter;
  }

  /** Records rejected so far. */
  get count(): number {
    return this.#count;
  }

  /** The count per reason code, most frequent first. */
  get byReason(): [RejectReason, number][] {
    return [...this.#byReason].sort((p, q) => q[1] - p[1]);
  }

  /** Counts the record; prints it if it is among the first `shown`, else maybe a running summary. */
  reject(r: Rejection): void {
    this.#count++;
    this.#byReason.set(r.reason, (this.#byReason.get(r.reason) ?? 0) + 1);
    if (this.#count <= this.#shown) {
      this.#write(`streamreg: rejected ${describeRejection(r)}`);
      if (this.#count === this.#shown) this.#last = this.#now();
      return;
    }
    const now = this.#now();
    if (now - this.#last >= this.#intervalMs) {
      this.#last = now;
      this.#write(`streamreg: rejected ${this.#summary()} so far`);
    }
  }

  /** Prints the final summary, if any record was rejected. */
  finish(): void {
    if (this.#count === 0) return;
    let text = `streamreg: rejected ${this.#summary()} in all`;
    if (this.#count > this.#shown) text += `; the first ${this.#shown} are shown above`;
    if (this.#deadLetter !== undefined) text += `; every one is in ${this.#deadLetter}`;
    this.#write(text);
  }

  #summary(): string {
    const reasons = this.byReason.map(([reason, n]) => `${reason} ${n}`).join(", ");
    return `${this.#count} ${this.#count === 1 ? "record" : "records"} (${reasons})`;
  }
}
