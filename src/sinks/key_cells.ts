/**
 * A key's cells in a change log: each key field (see `../model/keys.ts`) as a CSV field, quoted as RFC
 * 4180 wants when it holds a comma, a quote, a line break or surrounding spaces.
 *
 * @example
 * ```ts
 * import { keyCells } from "./key_cells.ts";
 * keyCells("sensor-1"); // "sensor-1"
 * keyCells('eu\u0000a "b", c'); // 'eu,"a ""b"", c"'
 * ```
 * @module
 */

import { splitKey } from "../model/keys.ts";

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * The key's fields as CSV cells, joined by commas.
 *
 * @example
 * ```ts
 * keyCells("a,b"); // '"a,b"'
 * ```
 */
export function keyCells(key: string): string {
  if (!key.includes("\u0000")) return field(key);
  return splitKey(key).map(field).join(",");
}

function field(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
