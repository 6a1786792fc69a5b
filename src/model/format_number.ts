/**
 * Numbers in change logs: the shortest decimal that reads back as the same double.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format_number.ts";
 * formatNumber(0.1 + 0.2); // "0.30000000000000004"
 * formatNumber(-0); // "-0"
 * ```
 * @module
 */

/**
 * `String(n)` — the shortest round-tripping decimal in JavaScript — except that -0 keeps its sign, so
 * `Number(formatNumber(n))` is `n` bit for bit for every double but NaN.
 *
 * @example
 * ```ts
 * formatNumber(1e21); // "1e+21"
 * Number(formatNumber(0.025649728471302445)) === 0.025649728471302445; // true
 * ```
 */
export function formatNumber(n: number): string {
  return n === 0 && 1 / n < 0 ? "-0" : String(n);
}
