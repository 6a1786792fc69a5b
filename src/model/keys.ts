/**
 * Keys of a keyed run (`--key`): one regression per key. A key is the text of one column (or JSON
 * field, or the Kafka message key), or of several columns: then the fields are joined into one string
 * by {@linkcode joinKey} (and cut apart again by {@linkcode splitKey} for the change logs, which write
 * each key column on its own).
 *
 * @example
 * ```ts
 * import { joinKey, splitKey } from "./keys.ts";
 * const key = joinKey(["eu", "sensor-7"]);
 * splitKey(key); // ["eu", "sensor-7"]
 * ```
 * @module
 */

/**
 * The separator of the fields of a key of several columns: U+0000, which a key field may not hold.
 *
 * @example
 * ```ts
 * "eu\u0000sensor-7".split(KEY_SEPARATOR); // ["eu", "sensor-7"]
 * ```
 */
export const KEY_SEPARATOR = "\u0000";

/**
 * The name of the Kafka message key as a key "column": `--key @key`.
 *
 * @example
 * ```ts
 * MESSAGE_KEY === "@key"; // true
 * ```
 */
export const MESSAGE_KEY = "@key";

/**
 * One key from the fields of its columns (one field: itself).
 *
 * @example
 * ```ts
 * joinKey(["a"]); // "a"
 * joinKey(["a", "b"]); // "a\u0000b"
 * ```
 */
export function joinKey(fields: readonly string[]): string {
  return fields.length === 1 ? fields[0] : fields.join(KEY_SEPARATOR);
}

/**
 * The fields of a key, as {@linkcode joinKey} joined them.
 *
 * @example
 * ```ts
 * splitKey("a\u0000b"); // ["a", "b"]
 * ```
 */
export function splitKey(key: string): string[] {
  return key.split(KEY_SEPARATOR);
}

/**
 * Why a key field cannot be used, or undefined if it can: it must not be empty (a point needs its
 * key) nor hold U+0000. `column` names it in the message.
 *
 * @example
 * ```ts
 * keyProblem("", "sensor"); // 'sensor is empty: every point needs a key'
 * keyProblem("s1", "sensor"); // undefined
 * ```
 */
export function keyProblem(field: string, column: string): string | undefined {
  if (field === "") return `${column} is empty: every point needs a key`;
  if (field.includes(KEY_SEPARATOR)) return `${column} holds the character U+0000, which a key may not hold`;
  return undefined;
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * A key as the change logs write its columns: each field as a CSV field (quoted as RFC 4180 wants when it
 * holds a comma, a quote, a line break or surrounding spaces), joined by commas. The live page and the
 * `key` label of `/metrics` show keys this way too.
 *
 * @example
 * ```ts
 * keyCells("sensor-1"); // "sensor-1"
 * keyCells("eu\u0000sensor-7"); // "eu,sensor-7"
 * keyCells('eu\u0000a "b", c'); // 'eu,"a ""b"", c"'
 * ```
 */
export function keyCells(key: string): string {
  if (!key.includes(KEY_SEPARATOR)) return csvField(key);
  return splitKey(key).map(csvField).join(",");
}

function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
