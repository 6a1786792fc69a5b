/**
 * Per-partition exact partial states of the one-x line, and their exact merge: the groundwork of many
 * readers in one consumer group agreeing bit for bit with one reader (docs/kafka.md, "Many readers").
 *
 * Each partition's points are kept as a {@linkcode KeyTable} entry of its own (the partition number as
 * the key): its net count and the exact sums Σx, Σy, Σx², Σxy, Σy² as floating-point expansions. A
 * partition's state is saved as bytes (`KeyTable.save`), so that another reader can restore it, or merge
 * it without owning the partition. The global line is fitted from the exact sum of every partition's
 * sums ({@linkcode ExactSums}), rounded once by the core (`RegressionCore.fitSums`): bit for bit the line
 * of one core fed every point, in any order and however the partitions were split between readers.
 *
 * Only the one-x line (`y = a + b·x`) has such sums outside the core; models with several x or a degree
 * above one keep their exact sums inside the core, which has no operation adding another state to its own.
 *
 * @example
 * ```ts
 * import { PartitionStates } from "./partition_states.ts";
 * const mine = new PartitionStates();
 * mine.add(0, Float64Array.of(1, 2), Float64Array.of(2, 4));
 * const theirs = new PartitionStates();
 * theirs.add(1, Float64Array.of(3), Float64Array.of(6));
 * mine.restore(1, theirs.save(1)); // partition 1's state, as its owner last saved it
 * mine.fit(core); // { a: 0, b: 2, degenerate: false, count: 3 }
 * ```
 * @module
 */

import type { Fit, RegressionCore } from "../core/regression_core.ts";
import { ExactSums, KeyTable } from "./keyed/key_table.ts";

/**
 * The exact partial states of some partitions of a topic, and the line of all of them together.
 *
 * @example
 * ```ts
 * const states = new PartitionStates();
 * states.add(3, Float64Array.of(0, 1), Float64Array.of(1, 3));
 * states.fit(core).b; // 2
 * ```
 */
export class PartitionStates {
  readonly #table = new KeyTable();
  readonly #sums = new ExactSums();
  readonly #held = new Set<number>();

  /**
   * Adds (weight 1, the default) or retracts (-1) points of `partition`, exactly; `weights` is one
   * weight for all, or each point's (a change log's `diff`). The points must be ones the core accepts
   * (0, or a magnitude in [2^-440, 2^440]), as the validator ensures.
   *
   * @example
   * ```ts
   * states.add(0, Float64Array.of(1.5, 3), Float64Array.of(2, 4));
   * states.add(0, Float64Array.of(3), Float64Array.of(4), -1); // (3, 4) retracted
   * ```
   */
  add(partition: number, x: Float64Array, y: Float64Array, weights: number | Float64Array = 1): void {
    if (x.length !== y.length || (typeof weights !== "number" && weights.length !== x.length)) {
      throw new RangeError(`x, y and the weights must have the same length: got ${x.length} and ${y.length}`);
    }
    const slot = this.#slot(partition);
    const table = this.#table;
    if (typeof weights === "number") {
      for (let i = 0; i < x.length; i++) {
        table.add(slot, x[i], y[i], weights);
      }
    } else for (let i = 0; i < x.length; i++) table.add(slot, x[i], y[i], weights[i]);
  }

  /**
   * The partitions held, ascending.
   *
   * @example
   * ```ts
   * states.partitions(); // [0, 3]
   * ```
   */
  partitions(): number[] {
    return [...this.#held].sort((p, q) => p - q);
  }

  /**
   * Net points of a partition (0 if not held).
   *
   * @example
   * ```ts
   * states.count(0); // 2
   * ```
   */
  count(partition: number): number {
    const slot = this.#table.find(String(partition));
    return slot < 0 ? 0 : this.#table.count(slot);
  }

  /**
   * A partition's exact state as bytes (`KeyTable.save`'s form); an empty state if not held.
   *
   * @example
   * ```ts
   * const bytes = states.save(0);
   * ```
   */
  save(partition: number): Uint8Array {
    return this.#table.save(this.#slot(partition));
  }

  /**
   * Replaces a partition's state by bytes from {@linkcode PartitionStates.save} (its owner's, or a
   * record of the state topic). Throws a RangeError if the bytes are not such a state.
   *
   * @example
   * ```ts
   * other.restore(0, states.save(0));
   * ```
   */
  restore(partition: number, bytes: Uint8Array): void {
    checkPartition(partition);
    this.#table.restore(String(partition), bytes);
    this.#held.add(partition);
  }

  /**
   * Forgets a partition (it moved to another reader).
   *
   * @example
   * ```ts
   * states.drop(3);
   * ```
   */
  drop(partition: number): void {
    const slot = this.#table.find(String(partition));
    if (slot >= 0) this.#table.remove(slot);
    this.#held.delete(partition);
  }

  /**
   * The line of all the partitions held: their exact sums added exactly, fitted in `core` (rounded
   * once). Bit for bit the line of one core fed all their points.
   *
   * @example
   * ```ts
   * const { a, b, count } = states.fit(core);
   * ```
   */
  fit(core: Pick<RegressionCore, "fitSums">): Fit {
    const sums = this.#sums;
    sums.clear();
    for (const partition of this.partitions()) {
      this.#table.addTo(this.#table.find(String(partition)), sums, 1);
    }
    return sums.fit(core);
  }

  #slot(partition: number): number {
    checkPartition(partition);
    const slot = this.#table.slot(String(partition));
    if (slot < 0) throw new RangeError(`more partitions than ${this.#table.maxKeys}`);
    this.#held.add(partition);
    return slot;
  }
}

function checkPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0) {
    throw new RangeError(`a partition is a whole number ≥ 0: got ${partition}`);
  }
}
