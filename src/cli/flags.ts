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

import { parseArgs } from "node:util";
import { UsageError } from "../model/usage_error.ts";

export { UsageError };

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
  /** Other long names without dashes (`bootstrap-server` for `--brokers`), e.g. as other tools spell it. */
  readonly aliases?: readonly string[];
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

/**
 * Reads `args` against the flag specs with `node:util` `parseArgs` (its tokens), strictly: a positional
 * argument, an unknown flag, a missing value, a value given to a switch or a flag with a value given
 * twice (only repeatable flags may be) throws {@linkcode UsageError}. `-b=VALUE` is `-b VALUE`, as
 * `--brokers=VALUE` is. Returns the values by flag name (repeatable flags as arrays) and the flag names
 * in the order given.
 *
 * @example
 * ```ts
 * const specs = new Map([["rate", { name: "rate", value: "N", default: "1", help: "points per second" }]]);
 * parseFlags(["--rate", "0"], specs).values.rate; // "0"
 * parseFlags(["--rate", "0", "--rate", "1"], specs); // throws: --rate is given twice ...
 * ```
 */
export function parseFlags(
  args: readonly string[],
  specs: ReadonlyMap<string, FlagSpec>,
): { values: Record<string, string | boolean | string[]>; given: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  const byName = new Map<string, FlagSpec>();
  for (const flag of specs.values()) {
    const type = flag.value ? "string" : "boolean";
    options[flag.name] = { type, ...(flag.short ? { short: flag.short } : {}) };
    byName.set(flag.name, flag);
    for (const alias of flag.aliases ?? []) {
      options[alias] = { type };
      byName.set(alias, flag);
    }
  }
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean | string[]> = {};
  const given: string[] = [];
  const spelled = new Map<string, string>(); // how each flag with a value was first written
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      throw new UsageError(`unexpected argument "${token.value}": flags start with -- (see --help)`);
    }
    const spec = byName.get(token.name);
    const short = spec?.short !== undefined && token.rawName === `-${spec.short}`;
    const known = spec !== undefined &&
      (token.rawName === `--${token.name}` || (token.name === spec.name && short));
    if (!known) throw new UsageError(`unknown flag ${token.rawName}: see --help for the flags`);
    if (spec.value) {
      // parseArgs reads -bVALUE as -b with the value VALUE, so -b=VALUE would be "=VALUE".
      const value = short && token.inlineValue && token.value?.startsWith("=")
        ? token.value.slice(1)
        : token.value;
      if (value === undefined) {
        throw new UsageError(`${token.rawName} needs a value: ${token.rawName} ${spec.value}`);
      }
      const before = values[spec.name];
      if (before !== undefined && !spec.repeatable) {
        const first = spelled.get(spec.name);
        const which = first === token.rawName
          ? `${first} is given twice`
          : `${first} and ${token.rawName} are the same flag, given twice`;
        throw new UsageError(`${which} ("${before}" and "${value}"): give it once`);
      }
      spelled.set(spec.name, token.rawName);
      values[spec.name] = spec.repeatable ? [...(Array.isArray(before) ? before : []), value] : value;
    } else {
      if (token.value !== undefined) {
        throw new UsageError(`${token.rawName} takes no value, got "${token.value}"`);
      }
      values[spec.name] = true;
    }
    given.push(spec.name);
  }
  return { values, given };
}
