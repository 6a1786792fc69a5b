import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import {
  decodePartitionRecord,
  encodePartitionRecord,
  isDesignatedWriter,
  keyOfStateKey,
  keyStateKey,
  partitionOfKey,
  partitionStateKey,
  partitionTransactionalId,
} from "./partition_records.ts";

test("partition records: keys, transactional ids, the designated writer", () => {
  assert.equal(partitionStateKey(0), "p/0");
  assert.equal(partitionStateKey(17), "p/17");
  assert.equal(partitionOfKey("p/17"), 17);
  for (const key of ["checkpoint", "e/p/1", "p/", "p/01", "p/-1", "p/1.5", "meta"]) {
    assert.equal(partitionOfKey(key), undefined, key);
  }
  assert.throws(() => partitionStateKey(-1), /whole number/);
  assert.equal(partitionTransactionalId("g", "points", 2), "g.streamreg-tx.points.2");
  assert.equal(isDesignatedWriter([3, 0]), true);
  assert.equal(isDesignatedWriter([1, 2]), false);
  assert.equal(isDesignatedWriter([]), false);
});

test("partition records: a record round-trips; other bytes are refused with the key named", () => {
  const state = Uint8Array.from({ length: 45 }, (_, i) => i * 7);
  for (const next of [0, 1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
    const value = encodePartitionRecord({ partition: 5, next, state });
    const back = decodePartitionRecord(value, "p/5");
    assert.deepEqual({ ...back, state: [...back.state] }, { partition: 5, next, state: [...state] });
  }
  const value = encodePartitionRecord({ partition: 5, next: 9, state });
  assert.throws(() => decodePartitionRecord(value, "p/4"), /p\/4 holds the state of partition 5/);
  assert.throws(
    () => decodePartitionRecord(value.subarray(0, 10), "p/5"),
    /p\/5 is not a partition state record/,
  );
  const later = value.slice();
  later[3] = 2;
  assert.throws(() => decodePartitionRecord(later, "p/5"), /not a partition state record of this version/);
  const negative = value.slice();
  new DataView(negative.buffer).setBigInt64(8, -1n, true);
  assert.throws(() => decodePartitionRecord(negative, "p/5"), /not a valid offset/);
  assert.throws(() => encodePartitionRecord({ partition: 0, next: -1, state }), /offset is a whole number/);
});

test("partition records: a key's record name, k/<partition>/<key>, and back", () => {
  assert.equal(keyStateKey(2, "sensor-7"), "k/2/sensor-7");
  for (const [partition, key] of [[0, ""], [3, "a/b"], [11, "k/1/x"], [4, 'ключ,"q"']] as const) {
    assert.deepEqual(keyOfStateKey(keyStateKey(partition, key)), { partition, key });
  }
  for (const name of ["p/2", "k/", "k/01/x", "k/-1/x", "k/1", "e/k/1/x", "checkpoint"]) {
    assert.equal(keyOfStateKey(name), undefined, name);
  }
  assert.throws(() => keyStateKey(-1, "x"), /whole number/);
});
