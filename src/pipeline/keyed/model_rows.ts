/**
 * A closed batch's points grouped by name (a key, or a key's pane), for the keyed model stages: each
 * group's points are consecutive in `run` and `row` (in arrival order), so one group goes to the model
 * core with one `ModelCore.updateRows` call per chunk it spans, between one load and one save of its
 * record. Also the batch's accepted points as the sinks take them ({@linkcode PointRun}s, with every x
 * column, the keys and the times).
 *
 * @example
 * ```ts
 * import { groupRows } from "./model_rows.ts";
 * const grouped = groupRows(spans, skip, (chunk, i) => chunk.keys![i]);
 * for (let g = 0; g < grouped.names.length; g++) console.log(grouped.names[g], grouped.starts[g + 1] - grouped.starts[g]);
 * ```
 * @module
 */

import type { PointRun } from "../../model/sink.ts";
import type { BatchSpan, PointChunk } from "../../model/source.ts";
import { type ApplyOptions, forEachRun } from "../core_stage.ts";
import type { ModelCore } from "../../core/model_core.ts";

/**
 * The batch's points by group.
 *
 * @example
 * ```ts
 * const { names, starts, run, row, runs } = groupRows(spans, skip, nameOf);
 * ```
 */
export interface GroupedRows {
  /** The groups, in the order the batch first touched them. */
  readonly names: string[];
  /** Group g's points are entries starts[g] … starts[g + 1] - 1 of `run` and `row`. */
  readonly starts: Int32Array;
  /** Each point's run (index into `runs`). */
  readonly run: Int32Array;
  /** Each point's index in its run's chunk. */
  readonly row: Int32Array;
  /** The runs of accepted records, in order. */
  readonly runs: { readonly chunk: PointChunk; readonly start: number; readonly end: number }[];
  /** The accepted points for the sinks. */
  readonly points: PointRun[];
  /** How many points were accepted. */
  readonly accepted: number;
}

/**
 * Groups the spans' accepted points (those `skip` leaves in) by `nameOf(chunk, index)`.
 *
 * @example
 * ```ts
 * const grouped = groupRows(spans, options.skip, (chunk, i) => chunk.keys?.[i] ?? "");
 * ```
 */
export function groupRows(
  spans: readonly BatchSpan[],
  skip: ApplyOptions["skip"],
  nameOf: (chunk: PointChunk, index: number) => string,
): GroupedRows {
  const runs: { chunk: PointChunk; start: number; end: number }[] = [];
  const points: PointRun[] = [];
  let total = 0;
  forEachRun(spans, skip, (chunk, start, end) => {
    runs.push({ chunk, start, end });
    total += end - start;
    const xs = chunk.xs;
    points.push({
      x: chunk.x.subarray(start, end),
      ...(xs !== undefined && xs.length > 1 ? { xs: xs.map((column) => column.subarray(start, end)) } : {}),
      y: chunk.y.subarray(start, end),
      diff: chunk.diff.subarray(start, end),
      ...(chunk.keys !== undefined ? { keys: chunk.keys.slice(start, end) } : {}),
      ...(chunk.times !== undefined ? { times: chunk.times.subarray(start, end) } : {}),
      chunk, // (e.g. a Kafka chunk's partition and offsets, for many readers)
    });
  });
  const ids = new Map<string, number>();
  const names: string[] = [];
  const groupOf = new Int32Array(total);
  let counts = new Int32Array(16);
  let at = 0;
  for (const { chunk, start, end } of runs) {
    for (let i = start; i < end; i++) {
      const name = nameOf(chunk, i);
      let id = ids.get(name);
      if (id === undefined) {
        id = names.length;
        ids.set(name, id);
        names.push(name);
        if (id >= counts.length) {
          const bigger = new Int32Array(2 * counts.length);
          bigger.set(counts);
          counts = bigger;
        }
      }
      counts[id]++;
      groupOf[at++] = id;
    }
  }
  const starts = new Int32Array(names.length + 1);
  for (let g = 0; g < names.length; g++) starts[g + 1] = starts[g] + counts[g];
  const next = starts.slice(0, names.length);
  const run = new Int32Array(total);
  const row = new Int32Array(total);
  at = 0;
  for (let r = 0; r < runs.length; r++) {
    const { start, end } = runs[r];
    for (let i = start; i < end; i++) {
      const p = next[groupOf[at++]]++;
      run[p] = r;
      row[p] = i;
    }
  }
  return { names, starts, run, row, runs, points, accepted: total };
}

/**
 * Adds (or retracts, by their diff) group g's points to `core`: one `updateRows` per chunk they span.
 *
 * @example
 * ```ts
 * core.loadSparse(record);
 * updateGroup(core, grouped, g);
 * ```
 */
export function updateGroup(
  core: Pick<ModelCore, "updateRows">,
  grouped: GroupedRows,
  g: number,
): void {
  const { starts, run, row, runs } = grouped;
  const to = starts[g + 1];
  for (let from = starts[g]; from < to;) {
    const r = run[from];
    let end = from + 1;
    while (end < to && run[end] === r) end++;
    const chunk = runs[r].chunk;
    core.updateRows(chunk.xs ?? [chunk.x], chunk.y, chunk.diff, row, from, end);
    from = end;
  }
}
