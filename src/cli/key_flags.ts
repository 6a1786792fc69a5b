/**
 * The flags of a keyed run: `--key COL[,COL…]` (a source flag: a CSV column, a JSON field, or the Kafka
 * message key `@key`) and `--max-keys N` (a general flag), and their checks.
 *
 * @example
 * ```ts
 * import { keyColumns } from "./key_flags.ts";
 * keyColumns("region,sensor", { x: ["x"], y: "y" }); // ["region", "sensor"]
 * ```
 * @module
 */

import { type FlagSpec, UsageError } from "./flags.ts";
import { MESSAGE_KEY } from "../model/keys.ts";

/**
 * The default of `--max-keys`.
 *
 * @example
 * ```ts
 * DEFAULT_MAX_KEYS; // 10000000
 * ```
 */
export const DEFAULT_MAX_KEYS = 10_000_000;

/**
 * `--key`, for the sources that have keys (csv, kafka); `messageKey`: the source has a message key
 * (`@key`).
 *
 * @example
 * ```ts
 * const flag = keyFlag({ messageKey: true });
 * ```
 */
export function keyFlag(options: { messageKey?: boolean } = {}): FlagSpec {
  return {
    name: "key",
    value: "COLS",
    help:
      `one fit per key (the line, or the model of --x/--degree/--stats): its column(s), separated by commas${
        options.messageKey ? ` (${MESSAGE_KEY}: the message key)` : ""
      }; key columns come first in the change logs`,
  };
}

/**
 * `--max-keys`, a general flag.
 *
 * @example
 * ```ts
 * MAX_KEYS_FLAG.name; // "max-keys"
 * ```
 */
export const MAX_KEYS_FLAG: FlagSpec = {
  name: "max-keys",
  value: "N",
  default: String(DEFAULT_MAX_KEYS),
  help: "with --key: reject points of new keys once N keys hold points (reason too_many_keys)",
};

/**
 * The key columns `--key` names, checked: names separated by commas, none empty or twice, none an x
 * or the y column; `@key` (the message key) only where `messageKey` allows it.
 *
 * @example
 * ```ts
 * keyColumns("sensor", { x: ["x"], y: "y" }); // ["sensor"]
 * keyColumns("x", { x: ["x"], y: "y" }); // throws UsageError
 * ```
 */
export function keyColumns(
  text: string,
  columns: { readonly x: readonly string[]; readonly y: string },
  options: { messageKey?: boolean } = {},
): string[] {
  const names = text.split(",").map((name) => name.trim());
  if (names.some((name) => name === "")) {
    throw new UsageError(
      `--key: expected a column name, or names separated by commas (region,sensor), got "${text}"`,
    );
  }
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--key names "${twice}" twice: name each key column once`);
  for (const name of names) {
    if (name === columns.y || columns.x.includes(name)) {
      throw new UsageError(
        `--key: "${name}" is also ${name === columns.y ? "y" : "x"}: a key column holds the key only`,
      );
    }
    if (name === MESSAGE_KEY && !options.messageKey) {
      throw new UsageError(`--key ${MESSAGE_KEY}: only Kafka messages have a message key`);
    }
  }
  return names;
}
