/**
 * Replays a result change log (`--output-topic`'s rows, or the CSV result log's): every −1 row must
 * retract the line live then, and a +1 row must come when no line is live. A batch seen twice or lost
 * breaks that chain (its −1 row retracts a line that is not live), so a log that replays is one where
 * every batch is there exactly once. For the tests of `--output-topic`.
 * @module
 */
import assert from "node:assert/strict";

/** A row of the plain line's change log: its coefficients and its diff (+1 or −1). */
export interface ChangeRow {
  readonly a: number;
  readonly b: number;
  readonly diff: number;
}

/** Replays `rows`; returns the line live at the end (undefined if none), or fails naming the row that breaks the chain. */
export function replay(rows: readonly ChangeRow[]): { a: number; b: number } | undefined {
  let live: { a: number; b: number } | undefined;
  for (const [i, row] of rows.entries()) {
    if (row.diff === -1) {
      assert.ok(
        live && Object.is(live.a, row.a) && Object.is(live.b, row.b),
        `row ${i} retracts ${JSON.stringify(row)} but ${JSON.stringify(live)} is live`,
      );
      live = undefined;
    } else {
      assert.equal(row.diff, 1);
      assert.equal(live, undefined, `row ${i}: a second line while ${JSON.stringify(live)} is live`);
      live = { a: row.a, b: row.b };
    }
  }
  return live;
}
