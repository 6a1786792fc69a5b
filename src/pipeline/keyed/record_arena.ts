/**
 * Variable-length byte records by name, packed in one growing byte array outside the WebAssembly core: the
 * exact sums of each key (or pane) of a keyed model run, as the model core's sparse records
 * (`ModelCore.saveSparse`). A record rewritten no longer than its room stays in place; a longer one moves
 * to the end (with a quarter more room), and the arena is compacted when a third of it is abandoned. Per name: the name in a `Map`, and 12 bytes of offset, length and room.
 *
 * @example
 * ```ts
 * import { RecordArena } from "./record_arena.ts";
 * const arena = new RecordArena();
 * arena.set("sensor-1", Uint8Array.of(1, 2, 3));
 * arena.get("sensor-1"); // Uint8Array [1, 2, 3] (a view: copy it to keep it past the next set)
 * ```
 * @module
 */

/**
 * Named byte records in one arena.
 *
 * @example
 * ```ts
 * const arena = new RecordArena();
 * ```
 */
export class RecordArena {
  readonly #slots = new Map<string, number>();
  #names: string[] = [];
  #free: number[] = [];
  #offset = new Uint32Array(1024);
  #length = new Uint32Array(1024);
  #room = new Uint32Array(1024);
  #bytes = new Uint8Array(1 << 16);
  #top = 0;
  #abandoned = 0;

  /** Records held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Bytes of the records held (their lengths). */
  get recordBytes(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += this.#length[slot];
    return n;
  }

  /** Bytes the arena has allocated: its byte array and its per-record tables. */
  get arenaBytes(): number {
    return this.#bytes.length + 12 * this.#offset.length;
  }

  /**
   * The record of `name` (a view into the arena, valid until the next `set` or `delete`), or undefined.
   *
   * @example
   * ```ts
   * const record = arena.get("sensor-1");
   * ```
   */
  get(name: string): Uint8Array | undefined {
    const slot = this.#slots.get(name);
    if (slot === undefined) return undefined;
    const at = this.#offset[slot];
    return this.#bytes.subarray(at, at + this.#length[slot]);
  }

  /**
   * Whether `name` has a record.
   *
   * @example
   * ```ts
   * arena.has("sensor-1"); // true
   * ```
   */
  has(name: string): boolean {
    return this.#slots.has(name);
  }

  /**
   * The names held, in no particular order.
   *
   * @example
   * ```ts
   * for (const name of arena.names()) console.log(name);
   * ```
   */
  names(): IterableIterator<string> {
    return this.#slots.keys();
  }

  /**
   * Sets `name`'s record to a copy of `record`.
   *
   * @example
   * ```ts
   * arena.set("sensor-1", core.saveSparse());
   * ```
   */
  set(name: string, record: Uint8Array): void {
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = this.#free.pop();
      if (slot === undefined) {
        slot = this.#names.length;
        this.#names.push(name);
        if (slot >= this.#offset.length) this.#growSlots();
      } else this.#names[slot] = name;
      this.#slots.set(name, slot);
      this.#room[slot] = 0;
      this.#length[slot] = 0;
    }
    const n = record.length;
    if (n > this.#room[slot]) {
      this.#abandoned += this.#room[slot];
      this.#room[slot] = 0;
      this.#length[slot] = 0;
      const room = n + (n >> 2);
      if (this.#top + room > this.#bytes.length) this.#makeRoom(room);
      this.#offset[slot] = this.#top;
      this.#room[slot] = room;
      this.#top += room;
    }
    this.#bytes.set(record, this.#offset[slot]);
    this.#length[slot] = n;
  }

  /**
   * Forgets `name`'s record.
   *
   * @example
   * ```ts
   * arena.delete("sensor-1");
   * ```
   */
  delete(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    this.#slots.delete(name);
    this.#abandoned += this.#room[slot];
    this.#room[slot] = 0;
    this.#length[slot] = 0;
    this.#names[slot] = "";
    this.#free.push(slot);
  }

  #growSlots(): void {
    const grow = (old: Uint32Array) => {
      const next = new Uint32Array(2 * old.length);
      next.set(old);
      return next;
    };
    this.#offset = grow(this.#offset);
    this.#length = grow(this.#length);
    this.#room = grow(this.#room);
  }

  /**
   * Room for `need` more bytes at the top: compacts (each record keeping a quarter more room) when a third
   * of the arena is abandoned, else doubles it.
   */
  #makeRoom(need: number): void {
    const live = this.#top - this.#abandoned;
    if (2 * this.#abandoned > live) {
      let size = need;
      for (const slot of this.#slots.values()) size += this.#length[slot] + (this.#length[slot] >> 2);
      const next = new Uint8Array(Math.max(1 << 16, 2 * size));
      let top = 0;
      for (const slot of this.#slots.values()) {
        const at = this.#offset[slot];
        const n = this.#length[slot];
        next.set(this.#bytes.subarray(at, at + n), top);
        this.#offset[slot] = top;
        this.#room[slot] = n + (n >> 2);
        top += this.#room[slot];
      }
      this.#bytes = next;
      this.#top = top;
      this.#abandoned = 0;
      return;
    }
    const next = new Uint8Array(Math.max(2 * this.#bytes.length, this.#top + need));
    next.set(this.#bytes.subarray(0, this.#top));
    this.#bytes = next;
  }
}
