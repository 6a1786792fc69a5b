/**
 * Per-partition records of the state topic, and per-partition transactional ids: the groundwork of
 * many readers in one group (docs/kafka.md, "Many readers").
 *
 * - **`p/<partition>`**: a partition's exact partial state (bytes of `PartitionStates.save`, see
 *   `../../pipeline/partition_states.ts`) and the offset of its next message, written in the same
 *   transaction as the partition's consumed offset, so that whoever is assigned the partition next
 *   restores exactly the state of the offset it starts from. With keys (`--key @key`) its state is empty.
 * - **`k/<partition>/<key>`** (with keys): a key's exact state (its sums and the line last written) in
 *   that partition, in the same transaction; a tombstone once the key holds no points.
 * - **`<group>.streamreg-tx.<topic>.<partition>`**: the transactional id of the producer that commits a
 *   partition's batches (the scheme of Kafka Streams' first exactly-once mode). kafkajs 2.2.4 sends
 *   offsets with TxnOffsetCommit v0–v1, without the group's generation and member (KIP-447), so the
 *   broker cannot refuse a zombie reader's offsets by group membership: fencing has to come from the
 *   transactional id, and a per-partition id lets a partition's new owner fence its old owner (on
 *   `initTransactions`) without fencing the group's other readers.
 *
 * @example
 * ```ts
 * import { decodePartitionRecord, encodePartitionRecord, partitionStateKey } from "./partition_records.ts";
 * const value = encodePartitionRecord({ partition: 3, next: 1200, state });
 * partitionStateKey(3); // "p/3"
 * decodePartitionRecord(value, "p/3"); // { partition: 3, next: 1200, state }
 * ```
 * @module
 */

/** The prefix of the partition records' keys. */
export const PARTITION_PREFIX = "p/";
/** The first bytes of a partition record: "SRP" and the format's version, 1. */
const MAGIC = [0x53, 0x52, 0x50, 1];
const HEADER = MAGIC.length + 4 + 8;

/**
 * A partition's record: its exact partial state up to (not including) offset `next`.
 *
 * @example
 * ```ts
 * const record: PartitionRecord = { partition: 0, next: 42, state: new Uint8Array(30) };
 * ```
 */
export interface PartitionRecord {
  /** The partition of the topic read. */
  readonly partition: number;
  /** The offset of the partition's next message to read. */
  readonly next: number;
  /** The exact partial state (`PartitionStates.save`'s bytes). */
  readonly state: Uint8Array;
}

/**
 * The key of a partition's record in the state topic: `p/<partition>`.
 *
 * @example
 * ```ts
 * partitionStateKey(5); // "p/5"
 * ```
 */
export function partitionStateKey(partition: number): string {
  checkWhole(partition, "a partition");
  return `${PARTITION_PREFIX}${partition}`;
}

/**
 * The partition of a record key, or undefined if the key is not a partition record's.
 *
 * @example
 * ```ts
 * partitionOfKey("p/5"); // 5
 * partitionOfKey("checkpoint"); // undefined
 * ```
 */
export function partitionOfKey(key: string): number | undefined {
  if (!key.startsWith(PARTITION_PREFIX)) return undefined;
  const text = key.slice(PARTITION_PREFIX.length);
  return /^(0|[1-9][0-9]{0,9})$/.test(text) ? Number(text) : undefined;
}

/** The prefix of the keyed records of many readers (`k/<partition>/<key>`). */
export const KEY_PREFIX = "k/";

/**
 * The key of a key's record in the state topic with many keyed readers: `k/<partition>/<key>` (the
 * key's exact state, a tombstone once it holds no points).
 *
 * @example
 * ```ts
 * keyStateKey(2, "sensor-7"); // "k/2/sensor-7"
 * ```
 */
export function keyStateKey(partition: number, key: string): string {
  checkWhole(partition, "a partition");
  return `${KEY_PREFIX}${partition}/${key}`;
}

/**
 * The partition and key of a `k/<partition>/<key>` record key, or undefined if it is not one.
 *
 * @example
 * ```ts
 * keyOfStateKey("k/2/sensor-7"); // { partition: 2, key: "sensor-7" }
 * keyOfStateKey("p/2"); // undefined
 * ```
 */
export function keyOfStateKey(name: string): { partition: number; key: string } | undefined {
  const match = /^k\/(0|[1-9][0-9]{0,9})\//.exec(name);
  return match === null ? undefined : { partition: Number(match[1]), key: name.slice(match[0].length) };
}

/**
 * The transactional id of the producer committing one partition's batches:
 * `<group>.streamreg-tx.<topic>.<partition>`.
 *
 * @example
 * ```ts
 * partitionTransactionalId("g", "points", 2); // "g.streamreg-tx.points.2"
 * ```
 */
export function partitionTransactionalId(groupId: string, topic: string, partition: number): string {
  checkWhole(partition, "a partition");
  return `${groupId}.streamreg-tx.${topic}.${partition}`;
}

/**
 * A partition record's value: "SRP" 1, the partition (u32), the next offset (i64), then the state, all
 * little endian.
 *
 * @example
 * ```ts
 * const value = encodePartitionRecord({ partition: 0, next: 42, state });
 * ```
 */
export function encodePartitionRecord(record: PartitionRecord): Uint8Array {
  checkWhole(record.partition, "a partition");
  checkWhole(record.next, "an offset");
  const bytes = new Uint8Array(HEADER + record.state.length);
  bytes.set(MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(MAGIC.length, record.partition, true);
  view.setBigInt64(MAGIC.length + 4, BigInt(record.next), true);
  bytes.set(record.state, HEADER);
  return bytes;
}

/**
 * Reads a partition record's value; `where` names it in errors. Throws a RangeError if the bytes are
 * not such a record (or a later version's), or if `where` is a `p/<n>` key of another partition.
 *
 * @example
 * ```ts
 * const { partition, next, state } = decodePartitionRecord(value, "p/0");
 * ```
 */
export function decodePartitionRecord(value: Uint8Array, where: string): PartitionRecord {
  if (value.length < HEADER || MAGIC.some((b, i) => value[i] !== b)) {
    throw new RangeError(`${where} is not a partition state record of this version of streamreg`);
  }
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  const partition = view.getUint32(MAGIC.length, true);
  const next = Number(view.getBigInt64(MAGIC.length + 4, true));
  if (!Number.isSafeInteger(next) || next < 0) throw new RangeError(`${where}: not a valid offset (${next})`);
  const named = partitionOfKey(where);
  if (named !== undefined && named !== partition) {
    throw new RangeError(`${where} holds the state of partition ${partition}`);
  }
  return { partition, next, state: value.slice(HEADER) };
}

/**
 * Whether the reader holding `assigned` partitions writes the global (unkeyed) result: the one that
 * holds partition 0. Exactly one reader of a group does at any time (between rebalances).
 *
 * @example
 * ```ts
 * isDesignatedWriter([0, 3]); // true
 * isDesignatedWriter([1, 4]); // false
 * ```
 */
export function isDesignatedWriter(assigned: readonly number[]): boolean {
  return assigned.includes(0);
}

function checkWhole(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} is a whole number ≥ 0: got ${value}`);
  }
}
