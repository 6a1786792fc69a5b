/**
 * Command-line flag descriptions and the checks of their values, shared by the CLI and the sources.
 *
 * @example
 * ```ts
 * import { numberFlag, type FlagSpec } from "./flags.ts";
 * const rate: FlagSpec = { name: "rate", value: "N", default: "1", help: "points per second" };
 * numberFlag("rate", "2.5", { min: 0 }); // 2.5
 * ```
 * @module
 */

/**
 * One flag: `--name VALUE` (string) or `--name` (boolean, when `value` is absent).
 *
 * @example
 * ```ts
 * const flag: FlagSpec = { name: "input", value: "PATH", help: "CSV file; - reads stdin" };
 * ```
 */
export interface FlagSpec {
  /** Long name without dashes. */
  readonly name: string;
  /** Placeholder of the value in the help ("N", "PATH"); absent for a boolean flag. */
  readonly value?: string;
  /** Default value as typed on the command line; shown by --help. */
  readonly default?: string;
  /** One-letter alias. */
  readonly short?: string;
  /** The flag may be given several times (`-X a=1 -X b=2`); its value is then the list of values. */
  readonly repeatable?: boolean;
  /** One line of help. */
  readonly help: string;
}

/**
 * Flag values as parsed: strings for flags with a value, `true` for boolean flags, the list of values
 * (in command-line order) for repeatable flags.
 *
 * @example
 * ```ts
 * const values: FlagValues = { rows: "10", verbose: true, property: ["client.id=me", "group.id=g"] };
 * ```
 */
export type FlagValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

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

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a flag's decimal number, checking bounds; throws {@linkcode UsageError} naming the flag.
 *
 * @example
 * ```ts
 * numberFlag("rows", "10", { min: 0, integer: true }); // 10
 * numberFlag("rate", "-1", { min: 0 }); // throws: --rate: expected a number ≥ 0, got "-1"
 * ```
 */
export function numberFlag(
  name: string,
  text: string,
  options: { min?: number; above?: number; integer?: boolean } = {},
): number {
  const value = NUMBER.test(text) ? Number(text) : NaN;
  const kind = options.integer ? "an integer" : "a number";
  const bound = options.above !== undefined
    ? ` > ${options.above}`
    : options.min !== undefined
    ? ` ≥ ${options.min}`
    : "";
  const ok = Number.isFinite(value) &&
    (!options.integer || Number.isSafeInteger(value)) &&
    (options.min === undefined || value >= options.min) &&
    (options.above === undefined || value > options.above);
  if (!ok) throw new UsageError(`--${name}: expected ${kind}${bound}, got "${text}"`);
  return value;
}
