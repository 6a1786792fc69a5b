import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { type Fit, RegressionCore } from "../core/regression_core.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { PartitionStates } from "./partition_states.ts";

const release = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));
const debug = await readFile(new URL("../../build/streamreg.debug.wasm", import.meta.url));

const PARTITIONS = 6;
const ROUNDS = 12;

/** A round's points of one partition: each partition its own shape (epoch-like, wide, small, extreme). */
function points(random: PythonRandom, partition: number, n: number): [Float64Array, Float64Array] {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = random.random();
    switch (partition % 4) {
      case 0:
        x[i] = (1_700_000_000_000 + Math.floor(u * 1e9)) / 1000;
        y[i] = 0.5 * x[i] + (random.random() - 0.5) * 100;
        break;
      case 1:
        x[i] = (u - 0.5) * 2 ** Math.floor(random.random() * 400 - 200);
        y[i] = (random.random() - 0.5) * 2 ** Math.floor(random.random() * 400 - 200);
        break;
      case 2:
        x[i] = Math.floor(u * 3);
        y[i] = random.random() < 0.2 ? 0 : u;
        break;
      default:
        x[i] = u * 2 ** -430 + 2 ** -439;
        y[i] = (u + 1) * 2 ** 430;
    }
  }
  return [x, y];
}

function same(got: Fit, want: Fit, what: string): void {
  assert.ok(
    Object.is(got.a, want.a) && Object.is(got.b, want.b) && got.count === want.count &&
      got.degenerate === want.degenerate,
    `${what}: ${got.a},${got.b} (${got.count}) ≠ ${want.a},${want.b} (${want.count})`,
  );
}

test("PartitionStates: the merged line of 6 partitions is bit for bit one core's line of all points", async () => {
  for (const bytes of [release, debug]) {
    const core = await RegressionCore.load(bytes);
    const reference = await RegressionCore.load(bytes);
    const random = new PythonRandom(14);
    const states = new PartitionStates();
    for (let round = 0; round < 4; round++) {
      // the partitions in a shuffled order each round, a few points retracted again
      const order = [...Array(PARTITIONS).keys()].sort(() => random.random() - 0.5);
      for (const p of order) {
        const [x, y] = points(random, p, 50 + Math.floor(random.random() * 100));
        states.add(p, x, y);
        reference.add(x, y);
        const k = Math.floor(random.random() * 10);
        states.add(p, x.subarray(0, k), y.subarray(0, k), -1);
        reference.retract(x.subarray(0, k), y.subarray(0, k));
      }
      same(states.fit(core), reference.fit(), `round ${round}`);
    }
    assert.deepEqual(states.partitions(), [0, 1, 2, 3, 4, 5]);
    // The saved states, restored elsewhere (and in another order), give the same line.
    const other = new PartitionStates();
    for (const p of [5, 3, 1, 0, 2, 4]) other.restore(p, states.save(p));
    same(other.fit(core), reference.fit(), "restored");
    other.drop(1);
    assert.deepEqual(other.partitions(), [0, 2, 3, 4, 5]);
    assert.equal(other.count(1), 0);
    assert.throws(() => other.restore(1, new Uint8Array(7)), RangeError);
    assert.throws(() => other.add(-1, Float64Array.of(1), Float64Array.of(1)), /whole number/);
  }
});

/**
 * N readers of 6 partitions: each owns some, adds their points, and after each batch saves its
 * partitions' states to a "state topic" (the last saved state of each partition); the reader holding
 * partition 0 merges the latest state of every partition. A reader killed before saving loses its
 * batch, which the partitions' next owners read again from the saved position; a reader added mid-stream
 * takes partitions over from the saved states. The merged line equals one reader's after every round.
 */
test("PartitionStates: 1, 2 and 3 readers, one killed and one added mid-stream, agree bit for bit with one", async () => {
  const core = await RegressionCore.load(release);
  const random = new PythonRandom(4);
  // The topic: each partition's points, round by round.
  const topic = Array.from(
    { length: PARTITIONS },
    (_, p) => Array.from({ length: ROUNDS }, () => points(random, p, 20 + Math.floor(random.random() * 60))),
  );
  const one = new PartitionStates();
  const reference = await RegressionCore.load(release);
  const wants: Fit[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let p = 0; p < PARTITIONS; p++) {
      one.add(p, ...topic[p][round]);
      reference.add(...topic[p][round]);
    }
    wants.push(one.fit(core));
    same(wants[round], reference.fit(), `one reader, round ${round}`);
  }

  for (const readers of [1, 2, 3]) {
    /** The state topic: partition → [its next round, its saved state]. */
    const saved = new Map<number, [number, Uint8Array]>();
    let members = Array.from({ length: readers }, () => new PartitionStates());
    /** Assigns the partitions round robin; a new owner restores the partition's saved state. */
    const assign = () => {
      members.forEach((m, i) => {
        for (const p of m.partitions()) m.drop(p);
        for (let p = i; p < PARTITIONS; p += members.length) {
          const state = saved.get(p);
          if (state !== undefined) m.restore(p, state[1]);
        }
      });
    };
    const owner = (p: number) => members[p % members.length];
    assign();
    for (let round = 0; round < ROUNDS; round++) {
      for (let p = 0; p < PARTITIONS; p++) {
        const next = saved.get(p)?.[0] ?? 0;
        for (let r = next; r <= round; r++) owner(p).add(p, ...topic[p][r]); // rounds not yet saved
      }
      const killed = readers > 1 && round === 4 ? members[1] : undefined;
      for (let p = 0; p < PARTITIONS; p++) {
        if (owner(p) !== killed) saved.set(p, [round + 1, owner(p).save(p)]);
      }
      if (killed !== undefined) { // SIGKILL before its batch was saved: its partitions move
        members = members.filter((m) => m !== killed);
        assign();
      }
      if (round === 7) { // a reader added: a rebalance
        members = [...members, new PartitionStates()];
        assign();
      }
      // The designated writer (partition 0's owner) merges the latest saved state of every partition.
      const writer = owner(0);
      const merged = new PartitionStates();
      for (const [p, [, state]] of saved) merged.restore(p, p === 0 ? writer.save(0) : state);
      if (killed === undefined) same(merged.fit(core), wants[round], `${readers} readers, round ${round}`);
    }
    same(
      (() => {
        const merged = new PartitionStates();
        for (const [p, [next, state]] of saved) {
          assert.equal(next, ROUNDS, `partition ${p} read to the end`);
          merged.restore(p, state);
        }
        return merged.fit(core);
      })(),
      wants[ROUNDS - 1],
      `${readers} readers, the end`,
    );
  }
});
