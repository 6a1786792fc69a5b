/**
 * The exact state of every key of a keyed run (`--key`): per key, the net point count and the exact sums
 * Σx, Σy, Σx², Σxy, Σy² as floating-point expansions (`../core/expansion.ts`), a few doubles each, in
 * one growing arena; and the line last written for the key. A key's fit loads its sums into the core
 * (`RegressionCore.loadSums`), which rounds a and b once from the exact values, as for one line.
 *
 * Memory per key: the arena's record (8 bytes for the count, 5 for the lengths, 8 per component, 16
 * for the last line) plus the key's string in a `Map`; about 250–400 bytes in all for typical data (see
 * docs/keys.md). Components beyond {@linkcode INLINE} per statistic (sums over values spread over more
 * than about 300 bits) move that key's sums to a side record, transparently.
 *
 * @example
 * ```ts
 * import { KeyTable } from "./key_table.ts";
 * const table = new KeyTable();
 * const slot = table.slot("sensor-1");
 * table.add(slot, 1, 2, 1);
 * table.add(slot, 2, 4, 1);
 * table.fit(slot, core); // { a: 0, b: 2, degenerate: false, count: 2 }
 * ```
 * @module
 */

import { addProduct, addTerm, compress } from "../../core/expansion.ts";
import { fastFitSums } from "../../core/line_filter.ts";
import type { Fit, RegressionCore } from "../../core/regression_core.ts";

/** Components kept in the arena per statistic; more move the key's sums to a side record. */
export const INLINE = 5;
const STATS = 5; // Σx, Σy, Σx², Σxy, Σy²
const WIDE = 64; // components per statistic in a side record (the core takes up to 64)
const RECORD = STATS * INLINE;

/**
 * Per-key exact sums, compact and growing; keys are strings (several key columns: joined by the
 * caller, see `../../model/keys.ts`).
 *
 * @example
 * ```ts
 * const table = new KeyTable({ maxKeys: 1_000_000 });
 * ```
 */
export class KeyTable {
  readonly #slots = new Map<string, number>();
  #keys: string[] = [];
  #free: number[] = [];
  #capacity = 0;
  /** Net points per slot. */
  #count = new Float64Array(0);
  /** Components per statistic per slot (STATS bytes per slot). */
  #lengths = new Uint8Array(0);
  /** The components: RECORD doubles per slot. */
  #parts = new Float64Array(0);
  /** The line last written per slot (a, b) and whether there is one (1) or not (0). */
  #lastA = new Float64Array(0);
  #lastB = new Float64Array(0);
  #written = new Uint8Array(0);
  /** Slots whose sums outgrew the arena: their components, STATS × WIDE doubles. */
  readonly #wide = new Map<number, Float64Array>();
  readonly #maxKeys: number;
  #scratch = new Float64Array(STATS + STATS * WIDE);

  /** `maxKeys`: the most keys held at once (default 10^7); `slot` refuses new keys beyond it. */
  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 10_000_000;
    this.#grow(1024);
  }

  /** Slots the arena has room for (slot numbers are below it). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Keys held. */
  get size(): number {
    return this.#slots.size;
  }

  /** The most keys held at once. */
  get maxKeys(): number {
    return this.#maxKeys;
  }

  #grow(capacity: number): void {
    const grow = <T extends Float64Array | Uint8Array>(old: T, per: number, make: (n: number) => T): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.#count = grow(this.#count, 1, (n) => new Float64Array(n));
    this.#lengths = grow(this.#lengths, STATS, (n) => new Uint8Array(n));
    this.#parts = grow(this.#parts, RECORD, (n) => new Float64Array(n));
    this.#lastA = grow(this.#lastA, 1, (n) => new Float64Array(n));
    this.#lastB = grow(this.#lastB, 1, (n) => new Float64Array(n));
    this.#written = grow(this.#written, 1, (n) => new Uint8Array(n));
    this.#capacity = capacity;
  }

  /**
   * The slot of `key`, created (empty) if the key is new; -1 if it is new and the table holds
   * `maxKeys` keys already.
   *
   * @example
   * ```ts
   * const slot = table.slot("sensor-1");
   * ```
   */
  slot(key: string): number {
    const found = this.#slots.get(key);
    if (found !== undefined) return found;
    if (this.#slots.size >= this.#maxKeys) return -1;
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#keys.length;
      if (slot >= this.#capacity) this.#grow(Math.min(2 * this.#capacity, Math.max(this.#maxKeys, 1024)));
      this.#keys.push(key);
    } else this.#keys[slot] = key;
    this.#slots.set(key, slot);
    return slot;
  }

  /**
   * The slot of `key`, or -1 if the table does not hold it.
   *
   * @example
   * ```ts
   * table.find("sensor-9"); // -1
   * ```
   */
  find(key: string): number {
    return this.#slots.get(key) ?? -1;
  }

  /**
   * The key of a slot.
   *
   * @example
   * ```ts
   * table.key(table.slot("a")); // "a"
   * ```
   */
  key(slot: number): string {
    return this.#keys[slot];
  }

  /**
   * Net points of a slot.
   *
   * @example
   * ```ts
   * table.count(slot); // 2
   * ```
   */
  count(slot: number): number {
    return this.#count[slot];
  }

  /**
   * Adds (w = 1) or retracts (w = -1) the point (x, y) to a slot's sums, exactly. x and y must be values
   * the core accepts (0, or a magnitude in [2^-440, 2^440]): the validator sees to it.
   *
   * @example
   * ```ts
   * table.add(slot, 1.5, 2, 1);
   * ```
   */
  add(slot: number, x: number, y: number, w: number): void {
    this.#count[slot] += w;
    let wide = this.#wide.get(slot);
    if (wide === undefined) {
      const full = this.#addInline(slot, x, y, w);
      if (full === STATS) return;
      wide = this.#spill(slot, full); // (statistic `full` is added; the ones after it are not yet)
      this.#addWide(slot, wide, x, y, w, full + 1);
      return;
    }
    this.#addWide(slot, wide, x, y, w, 0);
  }

  /**
   * Adds the point to a slot's arena record; returns STATS, or the first statistic that needs more than
   * INLINE components (its new components are in `#work`; the statistics after it are not added).
   */
  #addInline(slot: number, x: number, y: number, w: number): number {
    const lengths = this.#lengths;
    const at = slot * RECORD;
    const l = slot * STATS;
    let n = this.#term(at, lengths[l], w * x);
    if (n > INLINE) return 0;
    lengths[l] = n;
    n = this.#term(at + INLINE, lengths[l + 1], w * y);
    if (n > INLINE) return 1;
    lengths[l + 1] = n;
    n = this.#product(at + 2 * INLINE, lengths[l + 2], x, x, w);
    if (n > INLINE) return 2;
    lengths[l + 2] = n;
    n = this.#product(at + 3 * INLINE, lengths[l + 3], x, y, w);
    if (n > INLINE) return 3;
    lengths[l + 3] = n;
    n = this.#product(at + 4 * INLINE, lengths[l + 4], y, y, w);
    if (n > INLINE) return 4;
    lengths[l + 4] = n;
    return STATS;
  }

  /** Scratch room for one statistic while it grows: INLINE + 2 doubles, copied back if it fits. */
  readonly #work = new Float64Array(INLINE + 2 + 64);

  #term(at: number, length: number, t: number): number {
    if (t === 0) return length;
    const parts = this.#parts;
    const work = this.#work;
    for (let i = 0; i < length; i++) work[i] = parts[at + i];
    let n = addTerm(work, 0, length, t);
    if (n > INLINE) n = compress(work, 0, n);
    for (let i = 0; i < Math.min(n, INLINE); i++) parts[at + i] = work[i];
    this.#workLength = n;
    return n;
  }

  #product(at: number, length: number, a: number, b: number, w: number): number {
    if (a === 0 || b === 0) return length;
    const parts = this.#parts;
    const work = this.#work;
    for (let i = 0; i < length; i++) work[i] = parts[at + i];
    let n = addProduct(work, 0, length, a, b, w);
    if (n > INLINE) n = compress(work, 0, n);
    for (let i = 0; i < Math.min(n, INLINE); i++) parts[at + i] = work[i];
    this.#workLength = n;
    return n;
  }

  /** The count of components statistic `s` has in `#work` after `#addInline` stopped at it. */
  #workLength = 0;

  /**
   * Statistic `s` of a slot needs more than INLINE components (held in `#work`): the slot's sums move
   * to a side record, which is returned.
   */
  #spill(slot: number, s: number): Float64Array {
    const wide = new Float64Array(STATS * WIDE);
    const lengths = this.#lengths;
    const at = slot * RECORD;
    const l = slot * STATS;
    for (let t = 0; t < STATS; t++) {
      if (t === s) {
        const n = this.#workLength;
        for (let i = 0; i < n; i++) wide[t * WIDE + i] = this.#work[i];
        lengths[l + t] = n;
      } else for (let i = 0; i < lengths[l + t]; i++) wide[t * WIDE + i] = this.#parts[at + t * INLINE + i];
    }
    this.#wide.set(slot, wide);
    return wide;
  }

  #addWide(slot: number, wide: Float64Array, x: number, y: number, w: number, from = 0): void {
    const lengths = this.#lengths;
    const l = slot * STATS;
    const grow = (s: number, n: number) => {
      if (n > WIDE - 2) n = compress(wide, s * WIDE, n);
      if (n > WIDE - 2) {
        throw new RangeError(
          `the sums of key ${JSON.stringify(this.#keys[slot])} need more than ${WIDE} parts`,
        );
      }
      lengths[l + s] = n;
    };
    if (from <= 0) grow(0, addTerm(wide, 0, lengths[l], w * x));
    if (from <= 1) grow(1, addTerm(wide, WIDE, lengths[l + 1], w * y));
    if (from <= 2) grow(2, addProduct(wide, 2 * WIDE, lengths[l + 2], x, x, w));
    if (from <= 3) grow(3, addProduct(wide, 3 * WIDE, lengths[l + 3], x, y, w));
    if (from <= 4) grow(4, addProduct(wide, 4 * WIDE, lengths[l + 4], y, y, w));
  }

  /**
   * Fits a slot's line in `core` (its state is replaced by the slot's sums).
   *
   * @example
   * ```ts
   * const { a, b, count } = table.fit(slot, core);
   * ```
   */
  fit(slot: number, core: Pick<RegressionCore, "fitSums">): Fit {
    const sums = this.#sums(slot);
    return fastFitSums(this.#count[slot], sums) ?? core.fitSums(this.#count[slot], sums);
  }

  /** A slot's sums laid out for the core: the five lengths, then the components (in a scratch array). */
  #sums(slot: number): Float64Array {
    const scratch = this.#scratch;
    const lengths = this.#lengths;
    const l = slot * STATS;
    const wide = this.#wide.get(slot);
    let at = STATS;
    for (let s = 0; s < STATS; s++) {
      const n = lengths[l + s];
      scratch[s] = n;
      for (let i = 0; i < n; i++) {
        scratch[at++] = wide !== undefined ? wide[s * WIDE + i] : this.#parts[slot * RECORD + s * INLINE + i];
      }
    }
    return scratch.subarray(0, at);
  }
  /**
   * Puts a slot's sums into `core` as its state (`RegressionCore.loadSums`): then `sum(i)`, `fit()` and
   * `snapshot()` work on them.
   *
   * @example
   * ```ts
   * table.loadInto(slot, core);
   * core.sum("xx"); // the slot's Σx², correctly rounded
   * ```
   */
  loadInto(slot: number, core: Pick<RegressionCore, "loadSums">): void {
    core.loadSums(this.#count[slot], this.#sums(slot));
  }

  /**
   * Adds (`sign` 1) or subtracts (-1) a slot's exact sums and count to `sums`, exactly.
   *
   * @example
   * ```ts
   * const window = new ExactSums();
   * table.addTo(slot, window, 1);
   * ```
   */
  addTo(slot: number, sums: ExactSums, sign: number): void {
    const wide = this.#wide.get(slot);
    const l = slot * STATS;
    for (let s = 0; s < STATS; s++) {
      const n = this.#lengths[l + s];
      if (wide !== undefined) sums.add(s, wide, s * WIDE, n, sign);
      else sums.add(s, this.#parts, slot * RECORD + s * INLINE, n, sign);
    }
    sums.count += sign * this.#count[slot];
  }

  /**
   * The line last written for a slot, or undefined if none is (a new key, or one whose line was
   * retracted).
   *
   * @example
   * ```ts
   * const old = table.written(slot);
   * ```
   */
  written(slot: number): { a: number; b: number } | undefined {
    return this.#written[slot] ? { a: this.#lastA[slot], b: this.#lastB[slot] } : undefined;
  }

  /**
   * Records the line written for a slot (undefined: its line was retracted, none stands).
   *
   * @example
   * ```ts
   * table.write(slot, { a: 1, b: 2 });
   * ```
   */
  write(slot: number, line: { a: number; b: number } | undefined): void {
    this.#written[slot] = line ? 1 : 0;
    this.#lastA[slot] = line?.a ?? 0;
    this.#lastB[slot] = line?.b ?? 0;
  }

  /**
   * A slot's exact state as bytes, for a checkpoint: its count, its last line (if any) and its sums
   * (see `restore`). Little endian: f64 count, u8 has-line, f64 a, f64 b, u8 × 5 lengths, f64 components.
   *
   * @example
   * ```ts
   * const bytes = table.save(slot);
   * other.restore("sensor-1", bytes); // the same sums, count and last line
   * ```
   */
  save(slot: number): Uint8Array {
    const l = slot * STATS;
    let parts = 0;
    for (let s = 0; s < STATS; s++) parts += this.#lengths[l + s];
    const bytes = new Uint8Array(8 + 1 + 16 + STATS + 8 * parts);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.#count[slot], true);
    view.setUint8(8, this.#written[slot]);
    view.setFloat64(9, this.#lastA[slot], true);
    view.setFloat64(17, this.#lastB[slot], true);
    const wide = this.#wide.get(slot);
    let at = 25 + STATS;
    for (let s = 0; s < STATS; s++) {
      const n = this.#lengths[l + s];
      view.setUint8(25 + s, n);
      for (let i = 0; i < n; i++) {
        view.setFloat64(
          at,
          wide !== undefined ? wide[s * WIDE + i] : this.#parts[slot * RECORD + s * INLINE + i],
          true,
        );
        at += 8;
      }
    }
    return bytes;
  }

  /**
   * Sets `key`'s state from `save`'s bytes (creating the key); returns its slot. Throws a RangeError if
   * the bytes are not such a state.
   *
   * @example
   * ```ts
   * const slot = table.restore("sensor-1", bytes);
   * ```
   */
  restore(key: string, bytes: Uint8Array): number {
    if (bytes.length < 25 + STATS) throw new RangeError(`not a key state: ${bytes.length} bytes`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let parts = 0;
    for (let s = 0; s < STATS; s++) parts += view.getUint8(25 + s);
    if (bytes.length !== 25 + STATS + 8 * parts) {
      throw new RangeError(`not a key state: ${bytes.length} bytes`);
    }
    const slot = this.slot(key);
    if (slot < 0) throw new RangeError(`more keys than ${this.#maxKeys}`);
    this.#count[slot] = view.getFloat64(0, true);
    this.#written[slot] = view.getUint8(8);
    this.#lastA[slot] = view.getFloat64(9, true);
    this.#lastB[slot] = view.getFloat64(17, true);
    const l = slot * STATS;
    let at = 25 + STATS;
    let wide: Float64Array | undefined;
    for (let s = 0; s < STATS; s++) if (view.getUint8(25 + s) > INLINE) wide = new Float64Array(STATS * WIDE);
    this.#wide.delete(slot);
    if (wide !== undefined) this.#wide.set(slot, wide);
    for (let s = 0; s < STATS; s++) {
      const n = view.getUint8(25 + s);
      if (n > WIDE - 2) throw new RangeError("not a key state: too many parts");
      this.#lengths[l + s] = n;
      for (let i = 0; i < n; i++) {
        const v = view.getFloat64(at, true);
        if (!Number.isFinite(v)) throw new RangeError("not a key state: a part is not finite");
        if (wide !== undefined) wide[s * WIDE + i] = v;
        else this.#parts[slot * RECORD + s * INLINE + i] = v;
        at += 8;
      }
    }
    return slot;
  }

  /**
   * Forgets a slot (a key with no points and no line left): its slot is reused.
   *
   * @example
   * ```ts
   * if (table.count(slot) === 0) table.remove(slot);
   * ```
   */
  remove(slot: number): void {
    this.#slots.delete(this.#keys[slot]);
    this.#keys[slot] = "";
    this.#count[slot] = 0;
    this.#lengths.fill(0, slot * STATS, slot * STATS + STATS);
    this.#written[slot] = 0;
    this.#wide.delete(slot);
    this.#free.push(slot);
  }
}

/**
 * Exact sums outside the table (a window's: the sum of its panes' sums), with its net count; fitted
 * with {@linkcode ExactSums.fit}.
 *
 * @example
 * ```ts
 * const sums = new ExactSums();
 * table.addTo(paneSlot, sums, 1);
 * sums.fit(core);
 * ```
 */
export class ExactSums {
  /** Net points. */
  count = 0;
  readonly #parts = new Float64Array(STATS * WIDE);
  readonly #lengths = new Int32Array(STATS);
  readonly #scratch = new Float64Array(STATS + STATS * WIDE);

  /** Empties the sums. */
  clear(): void {
    this.count = 0;
    this.#lengths.fill(0);
  }

  /**
   * Adds `sign` times the expansion `from[at, at + n)` to statistic `s`.
   *
   * @example
   * ```ts
   * sums.add(0, Float64Array.of(1.5), 0, 1, 1); // Σx += 1.5
   * ```
   */
  add(s: number, from: Float64Array, at: number, n: number, sign: number): void {
    const parts = this.#parts;
    let length = this.#lengths[s];
    for (let i = 0; i < n; i++) {
      length = addTerm(parts, s * WIDE, length, sign * from[at + i]);
      if (length > WIDE - 2) {
        length = compress(parts, s * WIDE, length);
        if (length > WIDE - 2) throw new RangeError(`window sums need more than ${WIDE} parts`);
      }
    }
    this.#lengths[s] = length > 8 ? compress(parts, s * WIDE, length) : length;
  }

  /**
   * The line of these sums, fitted in `core` (its state is replaced).
   *
   * @example
   * ```ts
   * const { a, b } = sums.fit(core);
   * ```
   */
  fit(core: Pick<RegressionCore, "fitSums">): Fit {
    const scratch = this.#scratch;
    let at = STATS;
    for (let s = 0; s < STATS; s++) {
      const n = this.#lengths[s];
      scratch[s] = n;
      for (let i = 0; i < n; i++) scratch[at++] = this.#parts[s * WIDE + i];
    }
    const sums = scratch.subarray(0, at);
    return fastFitSums(this.count, sums) ?? core.fitSums(this.count, sums);
  }
}
