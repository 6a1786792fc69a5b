/**
 * The multiset of points currently added: how many times each exact (x, y) — compared bit for bit, so
 * 0 and -0 differ — has been added minus retracted. The pipeline uses it to reject the retraction of a
 * point that is not there (`unknown_retraction`), which the core cannot detect from its sums.
 *
 * Until the first retraction, adds are only appended to a log (16 bytes per point, written in order:
 * an add-only stream pays almost nothing). The first retraction (or query) builds an open-addressing
 * hash table over typed arrays from the log (linear probing, backward-shift deletion; no allocation per
 * point, about 35–70 bytes per distinct point held); from then on a point whose count returns to 0 is
 * removed, so memory follows the points currently in the model.
 *
 * @example
 * ```ts
 * import { PointCounts } from "./point_counts.ts";
 * const counts = new PointCounts();
 * counts.add(1, 2); // true
 * counts.retract(1, 2); // true
 * counts.retract(1, 2); // false: (1, 2) is no longer there, nothing changes
 * ```
 * @module
 */

const bits = new Float64Array(2);
const words = new Uint32Array(bits.buffer);

/** Whether two doubles have the same bits (neither is NaN here): like `Object.is`, but faster. */
function same(p: number, q: number): boolean {
  return p === q && (p !== 0 || 1 / p === 1 / q);
}

/** Points per block of the add log. */
const LOG_BLOCK = 1 << 16;

/**
 * Counts per exact (x, y).
 *
 * @example
 * ```ts
 * const counts = new PointCounts({ capacity: 1 << 20 });
 * ```
 */
export class PointCounts {
  /** Adds not yet in the table: blocks of (x, y) pairs; undefined once the table is in use. */
  #log: Float64Array[] | undefined = [];
  /** Pairs in the last block of the log. */
  #logFill = LOG_BLOCK;
  /** Three doubles per slot, next to each other (one cache line): x, y and the count (0: empty slot). */
  #table: Float64Array;
  #mask: number;
  #size = 0;

  /** Starts with room for about `capacity` distinct points (default 1024); grows as needed. */
  constructor(options: { capacity?: number } = {}) {
    let slots = 16;
    while (slots * 0.7 < (options.capacity ?? 1024)) slots *= 2;
    this.#table = new Float64Array(slots * 3);
    this.#mask = slots - 1;
  }

  /** Distinct points held (with a count > 0). */
  get size(): number {
    if (this.#log) this.#build();
    return this.#size;
  }

  /**
   * How many times (x, y) is held.
   *
   * @example
   * ```ts
   * counts.count(1, 2); // 0 for a point never added
   * ```
   */
  count(x: number, y: number): number {
    if (this.#log) this.#build();
    const slot = this.#find(x, y);
    return slot < 0 ? 0 : this.#table[slot * 3 + 2];
  }

  /**
   * Adds one copy of (x, y) (not NaN); returns true.
   *
   * @example
   * ```ts
   * counts.add(0.5, -3);
   * ```
   */
  add(x: number, y: number): true {
    const log = this.#log;
    if (log) {
      if (this.#logFill === LOG_BLOCK) {
        log.push(new Float64Array(2 * LOG_BLOCK));
        this.#logFill = 0;
      }
      const block = log[log.length - 1];
      block[2 * this.#logFill] = x;
      block[2 * this.#logFill + 1] = y;
      this.#logFill++;
      return true;
    }
    const table = this.#table;
    const mask = this.#mask;
    for (let slot = this.#home(x, y);; slot = (slot + 1) & mask) {
      const k = slot * 3;
      const count = table[k + 2];
      if (count === 0) {
        if (this.#size + 1 > (mask + 1) * 0.7) {
          this.#grow();
          this.#insert(x, y, 1);
        } else {
          table[k] = x;
          table[k + 1] = y;
          table[k + 2] = 1;
        }
        this.#size++;
        return true;
      }
      if (same(table[k], x) && same(table[k + 1], y)) {
        table[k + 2] = count + 1;
        return true;
      }
    }
  }

  /**
   * Removes one copy of (x, y) if there is one; returns false (changing nothing) if there is none.
   *
   * @example
   * ```ts
   * if (!counts.retract(x, y)) reject("unknown_retraction");
   * ```
   */
  retract(x: number, y: number): boolean {
    if (this.#log) this.#build();
    const slot = this.#find(x, y);
    if (slot < 0) return false;
    if (--this.#table[slot * 3 + 2] === 0) {
      this.#remove(slot);
      this.#size--;
    }
    return true;
  }

  /**
   * The multiset as (x, y, count) triples, for a checkpoint: the table's points, then each add still in
   * the log with count 1 (a point may then appear more than once; {@linkcode PointCounts.addTriples}
   * sums them).
   *
   * @example
   * ```ts
   * const copy = new PointCounts();
   * copy.addTriples(counts.toTriples()); // copy holds what counts holds
   * ```
   */
  toTriples(): Float64Array {
    const log = this.#log;
    const logged = log === undefined || log.length === 0 ? 0 : (log.length - 1) * LOG_BLOCK + this.#logFill;
    const out = new Float64Array(3 * (this.#size + logged));
    let o = 0;
    const table = this.#table;
    for (let k = 0; k < table.length; k += 3) {
      if (table[k + 2] === 0) continue;
      out[o++] = table[k];
      out[o++] = table[k + 1];
      out[o++] = table[k + 2];
    }
    if (log) {
      for (const [b, block] of log.entries()) {
        const n = b === log.length - 1 ? this.#logFill : LOG_BLOCK;
        for (let i = 0; i < n; i++) {
          out[o++] = block[2 * i];
          out[o++] = block[2 * i + 1];
          out[o++] = 1;
        }
      }
    }
    return out;
  }

  /**
   * Adds `count` copies of each (x, y, count) triple (from {@linkcode PointCounts.toTriples}); throws a
   * `RangeError`, changing nothing, if a count is not a positive integer or a value is NaN.
   *
   * @example
   * ```ts
   * counts.addTriples(Float64Array.of(1, 2, 3)); // (1, 2) three times
   * ```
   */
  addTriples(triples: Float64Array): void {
    if (triples.length % 3 !== 0) {
      throw new RangeError(`${triples.length} values are not (x, y, count) triples`);
    }
    for (let k = 0; k < triples.length; k += 3) {
      const count = triples[k + 2];
      if (
        !Number.isSafeInteger(count) || count < 1 || Number.isNaN(triples[k]) || Number.isNaN(triples[k + 1])
      ) {
        throw new RangeError(
          `triple ${k / 3} is not a point with a count ≥ 1: ${triples.subarray(k, k + 3)}`,
        );
      }
    }
    for (let k = 0; k < triples.length; k += 3) {
      for (let c = triples[k + 2]; c > 0; c--) this.add(triples[k], triples[k + 1]);
    }
  }

  /** Forgets every point. */
  clear(): void {
    this.#table.fill(0);
    this.#size = 0;
    this.#log = [];
    this.#logFill = LOG_BLOCK;
  }

  /** Moves the logged adds into the table (sized for them at once) and stops logging. */
  #build(): void {
    const log = this.#log!;
    this.#log = undefined;
    const adds = log.length === 0 ? 0 : (log.length - 1) * LOG_BLOCK + this.#logFill;
    let slots = this.#mask + 1;
    while (slots * 0.7 < this.#size + adds) slots *= 2;
    if (slots > this.#mask + 1) {
      const old = this.#table;
      this.#table = new Float64Array(slots * 3);
      this.#mask = slots - 1;
      for (let k = 0; k < old.length; k += 3) {
        if (old[k + 2] !== 0) this.#insert(old[k], old[k + 1], old[k + 2]);
      }
    }
    for (const [b, block] of log.entries()) {
      const n = b === log.length - 1 ? this.#logFill : LOG_BLOCK;
      for (let i = 0; i < n; i++) this.add(block[2 * i], block[2 * i + 1]);
      log[b] = new Float64Array(0); // free it as we go
    }
  }

  #home(x: number, y: number): number {
    bits[0] = x;
    bits[1] = y;
    let h = Math.imul(words[0] ^ 0x9e3779b9, 0x85ebca6b) ^ words[1];
    h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35) ^ words[2];
    h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) ^ words[3];
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.#mask;
  }

  #find(x: number, y: number): number {
    const table = this.#table;
    for (let slot = this.#home(x, y);; slot = (slot + 1) & this.#mask) {
      const k = slot * 3;
      if (table[k + 2] === 0) return -1;
      if (same(table[k], x) && same(table[k + 1], y)) return slot;
    }
  }

  #insert(x: number, y: number, count: number): void {
    const table = this.#table;
    let slot = this.#home(x, y);
    while (table[slot * 3 + 2] !== 0) slot = (slot + 1) & this.#mask;
    table[slot * 3] = x;
    table[slot * 3 + 1] = y;
    table[slot * 3 + 2] = count;
  }

  /** Empties `hole`, moving later entries of its probe run back so that every entry stays findable. */
  #remove(hole: number): void {
    const table = this.#table;
    const mask = this.#mask;
    for (let j = (hole + 1) & mask; table[j * 3 + 2] !== 0; j = (j + 1) & mask) {
      const home = this.#home(table[j * 3], table[j * 3 + 1]);
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      table.copyWithin(hole * 3, j * 3, j * 3 + 3);
      hole = j;
    }
    table[hole * 3 + 2] = 0;
  }

  #grow(): void {
    const old = this.#table;
    const slots = (old.length / 3) * 2;
    this.#table = new Float64Array(slots * 3);
    this.#mask = slots - 1;
    for (let k = 0; k < old.length; k += 3) {
      if (old[k + 2] !== 0) this.#insert(old[k], old[k + 1], old[k + 2]);
    }
  }
}
