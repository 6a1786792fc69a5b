import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { RegressionCore } from "../core/regression_core.ts";
import { ChunkBuilder } from "../sources/chunk_builder.ts";
import { RejectedRecordError, type Rejection, type RejectSink } from "../model/rejection.ts";
import type { PointChunk, Source } from "../model/source.ts";
import type { BatchUpdate, Sink } from "../model/sink.ts";
import { runPipeline } from "./pipeline.ts";

const wasm = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));

type Item = [number, number, number] | string; // a point (x, y, diff), or a record the source rejects

function chunkOf(items: Item[], first: number): PointChunk {
  const b = new ChunkBuilder();
  items.forEach((item, k) => {
    if (typeof item === "string") b.reject(first + k, { reason: "not_a_number", detail: item });
    else b.push(item[0], item[1], item[2], first + k);
  });
  const { x, y, diff, origin, rejects } = b.take();
  return {
    x,
    y,
    diff,
    ...(rejects ? { rejects } : {}),
    where: (i) => `record ${origin[i]}`,
    origin: (i) => ({ source: "list", location: `record ${origin[i]}` }),
    raw: (i) => `raw ${origin[i]}`,
  };
}

function listSource(chunks: Item[][], log: string[] = []): Source {
  return {
    name: "list",
    async *chunks() {
      let first = 0;
      for (const items of chunks) {
        yield chunkOf(items, first);
        first += items.length;
      }
    },
    committed(batch) {
      log.push(
        `committed ${batch.spans.map((s) => `${s.chunk.where(s.start)}..${s.end - s.start}`).join(" ")}`,
      );
    },
  };
}

class Lines implements Sink {
  updates: BatchUpdate[] = [];
  points: number[][] = [];
  constructor(readonly log: string[] = []) {}
  write(update: BatchUpdate): Promise<void> {
    this.updates.push(update);
    for (const run of update.points) {
      for (let i = 0; i < run.x.length; i++) this.points.push([run.x[i], run.y[i], run.diff[i]]);
    }
    this.log.push(`write ${update.accepted}`);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class Collect implements RejectSink {
  rejections: Rejection[] = [];
  pending = 0;
  constructor(readonly log: string[] = []) {}
  reject(r: Rejection): void {
    this.rejections.push(r);
    this.pending++;
  }
  flush(): Promise<void> {
    if (this.pending > 0) this.log.push(`flush ${this.pending}`);
    this.pending = 0;
    return Promise.resolve();
  }
}

test("runPipeline leaves bad records out: the fit is bit for bit that of the good ones; spans cover every record", async () => {
  const chunks: Item[][] = [
    [[1, 1, 1], "a", [2, 3, 1], [NaN, 1, 1]],
    [[9, 9, -1], [1, 1, -1], [1, 1, -1], [5, 7, 1]], // a never-added point, then (1, 1) twice: once too many
    ["b", "c"], // only bad records
    [[3, Infinity, 1], [3, 4, 1], [1e300, 1, 1], [7, 1, 2]],
  ];
  const log: string[] = [];
  const lines = new Lines(log);
  const bad = new Collect(log);
  const stats = await runPipeline(listSource(chunks, log), await RegressionCore.load(wasm), [lines], {
    commitRows: 3,
    rejectSinks: [bad],
  });
  assert.deepEqual(bad.rejections.map((r) => `${r.origin.location} ${r.reason} ${r.raw}`), [
    "record 1 not_a_number raw 1",
    "record 3 nan raw 3",
    "record 4 unknown_retraction raw 4",
    "record 6 unknown_retraction raw 6",
    "record 8 not_a_number raw 8",
    "record 9 not_a_number raw 9",
    "record 10 infinite raw 10",
    "record 12 out_of_range raw 12",
    "record 13 bad_diff raw 13",
  ]);
  assert.equal(stats.rejected, 9);
  assert.equal(stats.refused, 0);
  assert.deepEqual(lines.points, [[1, 1, 1], [2, 3, 1], [1, 1, -1], [5, 7, 1], [3, 4, 1]]);

  const good = await runPipeline(
    listSource([[[2, 3, 1], [5, 7, 1], [3, 4, 1]]]),
    await RegressionCore.load(wasm),
    [],
  );
  assert.ok(Object.is(stats.line!.a, good.line!.a) && Object.is(stats.line!.b, good.line!.b), "bit for bit");
  assert.equal(stats.count, 3);

  // Batches of 3 records (bad ones included). Records are checked one batch's worth at a time, so each
  // batch flushes the rejections of its own records, no more, no fewer (what a checkpoint needs).
  assert.deepEqual(log, [
    "write 2",
    "flush 1", // record 1
    "committed record 0..3",
    "write 1",
    "flush 2", // records 3 and 4
    "committed record 3..1 record 4..2",
    "write 1",
    "flush 2", // records 6 and 8
    "committed record 6..2 record 8..1",
    "write 1",
    "flush 2", // records 9 and 10
    "committed record 9..1 record 10..2",
    "write 0",
    "flush 2", // records 12 and 13
    "committed record 12..2",
  ]);
});

test("runPipeline with onError fail: the points before the first bad record are committed, then it throws", async () => {
  const log: string[] = [];
  const lines = new Lines(log);
  const bad = new Collect(log);
  const chunks: Item[][] = [[[1, 1, 1], [2, 2, 1]], [[3, 3, 1], "not a point", [4, 4, 1]], [[5, 5, 1]]];
  let pulled = 0;
  const source = listSource(chunks, log);
  const counting: Source = {
    ...source,
    async *chunks(signal) {
      for await (const c of source.chunks(signal)) {
        pulled++;
        yield c;
      }
    },
  };
  const error = await runPipeline(counting, await RegressionCore.load(wasm), [lines], {
    rejectSinks: [bad],
    onError: "fail",
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof RejectedRecordError);
  assert.equal(
    error.message,
    "list record 3: not a point [not_a_number] (stopped at the first bad record: --on-error fail)",
  );
  assert.deepEqual(lines.points, [[1, 1, 1], [2, 2, 1], [3, 3, 1]]);
  assert.deepEqual(log, ["write 3", "flush 1", "committed record 0..2 record 2..1"]);
  assert.ok(pulled <= 3);

  const nan = await runPipeline(listSource([[[1, 1, 1], [NaN, 2, 1]]]), await RegressionCore.load(wasm), [], {
    onError: "fail",
  }).then(() => undefined, (e) => e);
  assert.match(nan.message, /^list record 1: x is NaN \[nan\]/);
});
