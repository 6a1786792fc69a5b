import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { RegressionCore } from "../core/regression_core.ts";
import { ChunkQueue } from "../sources/kafka/chunk_queue.ts";
import { DemoSource } from "../sources/demo/demo_source.ts";
import type { Rejection } from "../model/rejection.ts";
import type { CommittedBatch, PointChunk, Source } from "../model/source.ts";
import type { BatchUpdate, Sink } from "../model/sink.ts";
import { runPipeline } from "./pipeline.ts";

const loadCore = async () =>
  RegressionCore.load(await readFile(new URL("../../build/streamreg.wasm", import.meta.url)));

async function expectedPrefixes(): Promise<{ a: number; b: number }[]> {
  const text = await readFile(
    new URL("../../test/fixtures/seed_expected_exact.csv", import.meta.url),
    "utf8",
  );
  return text.trim().split("\n").slice(1).map((l) => l.split(",").map(Number)).map(([, a, b]) => ({ a, b }));
}

/** A sink that keeps every update (copying the point views) and logs events. */
class Recorder implements Sink {
  updates: (BatchUpdate & { xs: number[] })[] = [];
  closed = false;
  constructor(readonly events: string[] = []) {}
  write(update: BatchUpdate): Promise<void> {
    this.updates.push({ ...update, xs: update.points.flatMap((r) => [...r.x]) });
    this.events.push(`write ${update.accepted}`);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const chunkOf = (xs: number[]): PointChunk => ({
  x: Float64Array.from(xs),
  y: Float64Array.from(xs, (x) => 2 * x + 1),
  diff: new Float64Array(xs.length).fill(1),
  where: (i) => `point ${xs[i]}`,
});

test("runPipeline: the tutorial's stream, one point per batch, gives every exact prefix line", async () => {
  const sink = new Recorder();
  let wall = 1000;
  const stats = await runPipeline(new DemoSource({ rate: 0 }), await loadCore(), [sink], {
    commitRows: 1,
    now: () => wall, // a clock that does not move: times must still increase
  });
  const expected = await expectedPrefixes();
  assert.deepEqual(sink.updates.map((u) => u.line), expected);
  assert.deepEqual(sink.updates.map((u) => u.time), [
    1000,
    1001,
    1002,
    1003,
    1004,
    1005,
    1006,
    1007,
    1008,
    1009,
  ]);
  assert.deepEqual(sink.updates.map((u) => u.xs), [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]);
  assert.equal(stats.points, 10);
  assert.equal(stats.batches, 10);
  assert.equal(stats.changes, 10);
  assert.equal(stats.ended, "source");
  assert.deepEqual(stats.line, { a: 0.025649728471302445, b: 0.9958341214647296 });
  wall = 0;
});

test("runPipeline: batches follow the commitMs windows in which chunks arrive", async () => {
  let now = 0;
  const arrivals = [[0, [0, 1]], [400, [2]], [999, [3]], [1000, [4, 5]], [3500, [6]], [3600, [7]]] as const;
  const source: Source = {
    name: "timed",
    async *chunks() {
      for (const [at, xs] of arrivals) {
        now = at;
        yield chunkOf([...xs]);
      }
    },
  };
  const sink = new Recorder();
  await runPipeline(source, await loadCore(), [sink], {
    commitMs: 1000,
    commitRows: 0,
    monotonic: () => now,
  });
  assert.deepEqual(sink.updates.map((u) => u.xs), [[0, 1, 2, 3], [4, 5], [6, 7]]);
});

test("runPipeline closes a batch when its window ends, without waiting for more points", async () => {
  const events: string[] = [];
  const source: Source = {
    name: "slow",
    async *chunks() {
      yield chunkOf([1]);
      await new Promise((r) => setTimeout(r, 300));
      events.push("second point");
      yield chunkOf([2]);
    },
    committed: (batch) => void events.push(`committed ${batch.spans.length}`),
  };
  await runPipeline(source, await loadCore(), [new Recorder(events)], { commitMs: 50 });
  assert.deepEqual(events, ["write 1", "committed 1", "second point", "write 1", "committed 1"]);
});

test("runPipeline splits chunks at commitRows and reports each batch's exact spans after its writes", async () => {
  const events: string[] = [];
  const commits: CommittedBatch[] = [];
  const a = chunkOf([0, 1, 2, 3, 4]);
  const b = chunkOf([5, 6, 7]);
  const source: Source = {
    name: "two chunks",
    async *chunks() {
      yield a;
      yield b;
    },
    committed(batch) {
      commits.push(batch);
      events.push("committed");
    },
  };
  const sink = new Recorder(events);
  await runPipeline(source, await loadCore(), [sink], { commitRows: 3, commitMs: 1e9 });
  assert.deepEqual(sink.updates.map((u) => u.xs), [[0, 1, 2], [3, 4, 5], [6, 7]]);
  assert.deepEqual(
    commits.map((c) => c.spans.map((s) => [s.chunk === a ? "a" : "b", s.start, s.end])),
    [[["a", 0, 3]], [["a", 3, 5], ["b", 0, 1]], [["b", 1, 3]]],
  );
  assert.deepEqual(commits.map((c) => c.time), sink.updates.map((u) => u.time));
  assert.deepEqual(events, ["write 3", "committed", "write 3", "committed", "write 2", "committed"]);
});

test("runPipeline: on abort, the open batch is written and the run ends", async () => {
  const controller = new AbortController();
  const sink = new Recorder();
  const source = new DemoSource({ rows: 0, rate: 0, chunkSize: 100 });
  setTimeout(() => controller.abort(), 100);
  const stats = await runPipeline(source, await loadCore(), [sink], {
    signal: controller.signal,
    commitMs: 1e9,
    commitRows: 0,
  });
  assert.equal(stats.ended, "signal");
  assert.equal(sink.updates.length, 1, "the one open batch");
  assert.ok(stats.points > 0);
  assert.equal(sink.updates[0].accepted, stats.points);
});

test("runPipeline: an abort inside a large chunk stops at the next batch boundary, not at the chunk's end", async () => {
  const controller = new AbortController();
  const sink = new Recorder();
  const big = chunkOf(Array.from({ length: 10_000 }, (_, i) => i));
  const committed: number[] = [];
  const source: Source = {
    name: "one big chunk",
    async *chunks() {
      yield big;
    },
    committed: (batch) => void committed.push(...batch.spans.map((s) => s.end)),
  };
  const writes: Sink = {
    write: async (update) => {
      await sink.write(update);
      if (sink.updates.length === 3) controller.abort(); // SIGTERM while the third batch is written
    },
    close: () => Promise.resolve(),
  };
  const stats = await runPipeline(source, await loadCore(), [writes], {
    signal: controller.signal,
    commitMs: 1e9,
    commitRows: 100,
  });
  assert.equal(stats.ended, "signal");
  assert.equal(stats.points, 300, "three batches, and not the other 9700 points of the chunk");
  assert.deepEqual(committed, [100, 200, 300], "only what was written is reported");
});

test("runPipeline: a failing source still gets the points before the failure written, then throws", async () => {
  const sink = new Recorder();
  const source: Source = {
    name: "broken",
    async *chunks() {
      yield chunkOf([1, 2, 3]);
      throw new Error('data.csv line 5: y is "?", not a number');
    },
  };
  await assert.rejects(
    runPipeline(source, await loadCore(), [sink], { commitMs: 1e9 }),
    /data\.csv line 5: y is "\?", not a number/,
  );
  assert.deepEqual(sink.updates.map((u) => u.xs), [[1, 2, 3]]);
});

test("runPipeline: a failing sink stops the run with its error; NaN is rejected before the core", async () => {
  const failing: Sink = {
    write: () => Promise.reject(new Error("cannot write out.csv: disk full")),
    close: () => Promise.resolve(),
  };
  await assert.rejects(runPipeline(new DemoSource({ rate: 0 }), await loadCore(), [failing]), /disk full/);
  const refused: string[] = [];
  const rejected: Rejection[] = [];
  const source: Source = {
    name: "with NaN",
    async *chunks() {
      yield { ...chunkOf([1, 2, 3]), y: Float64Array.from([1, NaN, 3]) };
    },
  };
  const sink = new Recorder();
  const stats = await runPipeline(source, await loadCore(), [sink], {
    onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
    rejectSinks: [{ reject: (r) => void rejected.push(r) }],
  });
  assert.deepEqual(refused, [], "the core never sees it");
  assert.deepEqual(rejected, [{
    origin: { source: "with NaN", location: "point 2" },
    reason: "nan",
    detail: "y is NaN",
    raw: "2,NaN,1",
  }]);
  assert.equal(stats.points, 2);
  assert.equal(stats.refused, 0);
  assert.equal(stats.rejected, 1);
  assert.deepEqual(sink.updates[0].xs, [1, 3]);
});

test("runPipeline with a push-based, Kafka-like source: offsets are committed only after the batch is written", async () => {
  // What a Kafka source looks like: a consumer callback pushes one chunk per fetched batch (one
  // partition, consecutive offsets) into a ChunkQueue; `committed` commits the next offset per partition.
  interface KafkaChunk extends PointChunk {
    partition: number;
    offsets: number[];
  }
  const queue = new ChunkQueue<KafkaChunk>({ limit: 0 });
  const events: string[] = [];
  const commits: string[] = [];
  const toChunk = (partition: number, first: number, xs: number[]): KafkaChunk => ({
    ...chunkOf(xs),
    partition,
    offsets: xs.map((_, i) => first + i),
    where: (i) => `partition ${partition} offset ${first + i}`,
  });
  const source: Source<KafkaChunk> = {
    name: "kafka-like",
    chunks: () => queue,
    committed(batch) {
      const next = new Map<number, number>();
      for (const { chunk, end } of batch.spans) next.set(chunk.partition, chunk.offsets[end - 1] + 1);
      const text = [...next].map(([p, o]) => `p${p}@${o}`).join(" ");
      commits.push(text);
      events.push(`commit ${text}`);
    },
  };
  const consumer = (async () => {
    await queue.push(toChunk(0, 0, [0, 1, 2]));
    await queue.push(toChunk(1, 10, [3, 4, 5, 6]));
    await queue.push(toChunk(0, 3, [7, 8]));
    queue.end();
  })();
  await runPipeline(source, await loadCore(), [new Recorder(events)], { commitRows: 4, commitMs: 1e9 });
  await consumer;
  assert.deepEqual(commits, ["p0@3 p1@11", "p1@14 p0@4", "p0@5"]);
  assert.deepEqual(events, [
    "write 4",
    "commit p0@3 p1@11",
    "write 4",
    "commit p1@14 p0@4",
    "write 1",
    "commit p0@5",
  ]);
});
