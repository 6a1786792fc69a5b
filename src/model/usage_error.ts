/**
 * The error for a mistake in what the user gave (a flag, a Kafka property, a properties file): the CLI
 * prints its message on one line and exits with code 2. Shared by every layer that checks user input;
 * `../cli/flags.ts` re-exports it.
 *
 * @example
 * ```ts
 * import { UsageError } from "./usage_error.ts";
 * throw new UsageError("-X: expected KEY=VALUE (a Kafka property), got \"oops\"");
 * ```
 * @module
 */

/**
 * A mistake on the command line: the CLI prints its message on one line and exits with code 2.
 *
 * @example
 * ```ts
 * throw new UsageError("--rate: expected a number ≥ 0, got \"fast\"");
 * ```
 */
export class UsageError extends Error {
  /** `message` should name the flag and say what is expected. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
