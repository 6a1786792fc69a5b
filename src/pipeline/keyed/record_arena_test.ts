import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { RecordArena } from "./record_arena.ts";
import { seededRandom } from "../../../test/model_hard_cases.ts";

test("RecordArena: records of changing lengths, deletes and reuse, through growth and compaction", () => {
  const arena = new RecordArena();
  const want = new Map<string, Uint8Array>();
  const random = seededRandom(3);
  for (let step = 0; step < 60_000; step++) {
    const name = `k${Math.floor(random() * 3000)}`;
    if (random() < 0.1) {
      arena.delete(name);
      want.delete(name);
      continue;
    }
    const record = Uint8Array.from({ length: Math.floor(random() * 400) }, () => Math.floor(random() * 256));
    arena.set(name, record);
    want.set(name, record);
  }
  assert.equal(arena.size, want.size);
  for (const [name, record] of want) assert.deepEqual(arena.get(name), record, name);
  assert.deepEqual(new Set(arena.names()), new Set(want.keys()));
  let bytes = 0;
  for (const record of want.values()) bytes += record.length;
  assert.equal(arena.recordBytes, bytes);
  // Compaction keeps the arena within a small multiple of what it holds.
  assert.ok(arena.arenaBytes < 6 * bytes + 12 * 8192, `${arena.arenaBytes} bytes for ${bytes}`);
  assert.equal(arena.get("absent"), undefined);
  assert.equal(arena.has("absent"), false);
});
