/**
 * The multiset of points currently added when a point has several x columns: how many times each exact
 * row (x₁, …, x_k, y) — compared bit for bit, so 0 and -0 differ — has been added minus retracted.
 * {@linkcode PointCounts} (`./point_counts.ts`) does this for (x, y) pairs and stays the one-x path; this
 * is the same design for rows of any width: adds are appended to a log until the first retraction (or
 * query), then an open-addressing hash table over one typed array (linear probing, backward-shift
 * deletion) holds each distinct row and its count, and a row whose count returns to 0 is removed.
 *
 * @example
 * ```ts
 * import { RowCounts } from "./row_counts.ts";
 * const counts = new RowCounts(3); // x1, x2, y
 * counts.add(Float64Array.of(1, 2, 3)); // true
 * counts.retract(Float64Array.of(1, 2, 3)); // true
 * counts.retract(Float64Array.of(1, 2, 3)); // false: no longer there, nothing changes
 * ```
 * @module
 */

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** Whether two doubles have the same bits (neither is NaN here). */
function same(p: number, q: number): boolean {
  return p === q && (p !== 0 || 1 / p === 1 / q);
}

/** Rows per block of the add log. */
const LOG_BLOCK = 1 << 14;

/**
 * Counts per exact row of `width` doubles.
 *
 * @example
 * ```ts
 * const counts = new RowCounts(6, { capacity: 1 << 16 });
 * ```
 */
export class RowCounts {
  /** Doubles per row (the x columns and y). */
  readonly width: number;
  /** Adds not yet in the table: blocks of rows; undefined once the table is in use. */
  #log: Float64Array[] | undefined = [];
  /** Rows in the last block of the log. */
  #logFill = LOG_BLOCK;
  /** `width + 1` doubles per slot: the row, then its count (0: empty slot). */
  #table: Float64Array;
  #mask: number;
  #size = 0;

  /** Rows of `width` doubles (2 or more); room for about `capacity` distinct rows to start with. */
  constructor(width: number, options: { capacity?: number } = {}) {
    if (!Number.isInteger(width) || width < 2) {
      throw new RangeError(`width must be an integer ≥ 2: got ${width}`);
    }
    this.width = width;
    let slots = 16;
    while (slots * 0.7 < (options.capacity ?? 1024)) slots *= 2;
    this.#table = new Float64Array(slots * (width + 1));
    this.#mask = slots - 1;
  }

  /** Distinct rows held (with a count > 0). */
  get size(): number {
    if (this.#log) this.#build();
    return this.#size;
  }

  /**
   * How many times `row` is held.
   *
   * @example
   * ```ts
   * counts.count(Float64Array.of(1, 2, 3)); // 0 for a row never added
   * ```
   */
  count(row: ArrayLike<number>): number {
    if (this.#log) this.#build();
    const slot = this.#find(row);
    return slot < 0 ? 0 : this.#table[slot * (this.width + 1) + this.width];
  }

  /**
   * Adds one copy of `row` (no NaN in it); returns true.
   *
   * @example
   * ```ts
   * counts.add(Float64Array.of(0.5, -3, 7));
   * ```
   */
  add(row: ArrayLike<number>): true {
    const w = this.width;
    const log = this.#log;
    if (log) {
      if (this.#logFill === LOG_BLOCK) {
        log.push(new Float64Array(w * LOG_BLOCK));
        this.#logFill = 0;
      }
      const block = log[log.length - 1];
      const at = w * this.#logFill;
      for (let c = 0; c < w; c++) block[at + c] = row[c];
      this.#logFill++;
      return true;
    }
    const slot = this.#find(row);
    if (slot >= 0) {
      this.#table[slot * (w + 1) + w]++;
      return true;
    }
    if (this.#size + 1 > (this.#mask + 1) * 0.7) this.#grow();
    this.#insert(row, 1);
    this.#size++;
    return true;
  }

  /**
   * Removes one copy of `row` if there is one; returns false (changing nothing) if there is none.
   *
   * @example
   * ```ts
   * if (!counts.retract(row)) reject("unknown_retraction");
   * ```
   */
  retract(row: ArrayLike<number>): boolean {
    if (this.#log) this.#build();
    const slot = this.#find(row);
    if (slot < 0) return false;
    const at = slot * (this.width + 1) + this.width;
    if (--this.#table[at] === 0) {
      this.#remove(slot);
      this.#size--;
    }
    return true;
  }

  /**
   * The multiset as rows followed by their count (`width + 1` doubles each), for a checkpoint: the
   * table's rows, then each add still in the log with count 1.
   *
   * @example
   * ```ts
   * const copy = new RowCounts(counts.width);
   * copy.addTuples(counts.toTuples());
   * ```
   */
  toTuples(): Float64Array {
    const w = this.width;
    const log = this.#log;
    const logged = log === undefined || log.length === 0 ? 0 : (log.length - 1) * LOG_BLOCK + this.#logFill;
    const out = new Float64Array((w + 1) * (this.#size + logged));
    let o = 0;
    const table = this.#table;
    for (let k = 0; k < table.length; k += w + 1) {
      if (table[k + w] === 0) continue;
      out.set(table.subarray(k, k + w + 1), o);
      o += w + 1;
    }
    if (log) {
      for (const [b, block] of log.entries()) {
        const n = b === log.length - 1 ? this.#logFill : LOG_BLOCK;
        for (let i = 0; i < n; i++) {
          out.set(block.subarray(i * w, i * w + w), o);
          out[o + w] = 1;
          o += w + 1;
        }
      }
    }
    return out;
  }

  /**
   * Adds `count` copies of each (row…, count) tuple (from {@linkcode RowCounts.toTuples}); throws a
   * `RangeError`, changing nothing, if a count is not a positive integer or a value is NaN.
   *
   * @example
   * ```ts
   * counts.addTuples(Float64Array.of(1, 2, 3, 2)); // (1, 2, 3) twice, for a width of 3
   * ```
   */
  addTuples(tuples: Float64Array): void {
    const w = this.width;
    if (tuples.length % (w + 1) !== 0) {
      throw new RangeError(`${tuples.length} values are not rows of ${w} values and a count`);
    }
    for (let k = 0; k < tuples.length; k += w + 1) {
      const count = tuples[k + w];
      let bad = !Number.isSafeInteger(count) || count < 1;
      for (let c = 0; c < w && !bad; c++) bad = Number.isNaN(tuples[k + c]);
      if (bad) {
        throw new RangeError(
          `tuple ${k / (w + 1)} is not a row with a count ≥ 1: ${tuples.subarray(k, k + w + 1)}`,
        );
      }
    }
    for (let k = 0; k < tuples.length; k += w + 1) {
      const row = tuples.subarray(k, k + w);
      for (let c = tuples[k + w]; c > 0; c--) this.add(row);
    }
  }

  /** Forgets every row. */
  clear(): void {
    this.#table.fill(0);
    this.#size = 0;
    this.#log = [];
    this.#logFill = LOG_BLOCK;
  }

  /** Moves the logged adds into the table and stops logging. */
  #build(): void {
    const log = this.#log!;
    this.#log = undefined;
    const w = this.width;
    const adds = log.length === 0 ? 0 : (log.length - 1) * LOG_BLOCK + this.#logFill;
    let slots = this.#mask + 1;
    while (slots * 0.7 < this.#size + adds) slots *= 2;
    if (slots > this.#mask + 1) this.#rehash(slots);
    for (const [b, block] of log.entries()) {
      const n = b === log.length - 1 ? this.#logFill : LOG_BLOCK;
      for (let i = 0; i < n; i++) this.add(block.subarray(i * w, i * w + w));
      log[b] = new Float64Array(0);
    }
  }

  #home(row: ArrayLike<number>): number {
    let h = 0x9e3779b9;
    for (let c = 0; c < this.width; c++) {
      bits[0] = row[c];
      h = Math.imul(h ^ words[0], 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 15) ^ words[1], 0xc2b2ae35);
    }
    h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
    return (h ^ (h >>> 13)) & this.#mask;
  }

  #find(row: ArrayLike<number>): number {
    const table = this.#table;
    const w = this.width;
    for (let slot = this.#home(row);; slot = (slot + 1) & this.#mask) {
      const k = slot * (w + 1);
      if (table[k + w] === 0) return -1;
      let c = 0;
      while (c < w && same(table[k + c], row[c])) c++;
      if (c === w) return slot;
    }
  }

  /** Puts `row` with `count` into an empty slot. */
  #insert(row: ArrayLike<number>, count: number): void {
    const table = this.#table;
    const w = this.width;
    let slot = this.#home(row);
    while (table[slot * (w + 1) + w] !== 0) slot = (slot + 1) & this.#mask;
    const k = slot * (w + 1);
    for (let c = 0; c < w; c++) table[k + c] = row[c];
    table[k + w] = count;
  }

  /** Empties `hole`, moving later entries of its probe run back so that every entry stays findable. */
  #remove(hole: number): void {
    const table = this.#table;
    const mask = this.#mask;
    const s = this.width + 1;
    for (let j = (hole + 1) & mask; table[j * s + s - 1] !== 0; j = (j + 1) & mask) {
      const home = this.#home(table.subarray(j * s, j * s + s - 1));
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      table.copyWithin(hole * s, j * s, j * s + s);
      hole = j;
    }
    table[hole * s + s - 1] = 0;
  }

  #grow(): void {
    this.#rehash((this.#mask + 1) * 2);
  }

  #rehash(slots: number): void {
    const old = this.#table;
    const s = this.width + 1;
    this.#table = new Float64Array(slots * s);
    this.#mask = slots - 1;
    for (let k = 0; k < old.length; k += s) {
      if (old[k + s - 1] !== 0) this.#insert(old.subarray(k, k + s - 1), old[k + s - 1]);
    }
  }
}
