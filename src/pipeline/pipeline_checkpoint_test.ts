import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { RegressionCore } from "../core/regression_core.ts";
import { ChunkBuilder } from "../sources/chunk_builder.ts";
import type { Rejection, RejectSink } from "../model/rejection.ts";
import type { PointChunk, Source } from "../model/source.ts";
import type { BatchUpdate, Sink } from "../model/sink.ts";
import { PointValidator } from "./validate/point_validator.ts";
import { runPipeline } from "./pipeline.ts";

const wasm = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));

type Item = [number, number, number] | string;

function listSource(chunks: Item[][], log: string[], retractions?: boolean): Source {
  return {
    name: "list",
    ...(retractions === undefined ? {} : { retractions }),
    async *chunks() {
      let first = 0;
      for (const items of chunks) {
        const b = new ChunkBuilder();
        items.forEach((item, k) => {
          if (typeof item === "string") b.reject(first + k, { reason: "not_a_number", detail: item });
          else b.push(item[0], item[1], item[2], first + k);
        });
        const { x, y, diff, origin, rejects } = b.take();
        yield { x, y, diff, ...(rejects ? { rejects } : {}), where: (i) => `record ${origin[i]}` };
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

class Log implements Sink, RejectSink {
  constructor(readonly log: string[]) {}
  write(update: BatchUpdate): Promise<void> {
    this.log.push(`write ${update.accepted} at ${update.time}`);
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  pending = 0;
  reject(_: Rejection): void {
    this.pending++;
  }
  flush(): Promise<void> {
    this.log.push(`flush ${this.pending}`);
    this.pending = 0;
    return Promise.resolve();
  }
}

test("runPipeline: the checkpoint hook comes after the writes and flushes, before committed, with exactly the batch's records validated", async () => {
  const log: string[] = [];
  const sink = new Log(log);
  const validator = new PointValidator({ source: "list" });
  const chunks: Item[][] = [
    [[1, 1, 1], [2, 2, 1], "a", [1, 1, -1], [3, 3, 1]],
    [[9, 9, -1], [4, 5, 1]],
  ];
  const stats = await runPipeline(listSource(chunks, log), await RegressionCore.load(wasm), [sink], {
    commitRows: 2,
    commitMs: 1e9,
    rejectSinks: [sink],
    validator,
    now: () => 100,
    resume: { time: 500, line: { a: 7, b: 8 }, totals: { points: 40, batches: 9, rejected: 1 } },
    checkpoint: (batch, update, s) => {
      const last = batch.spans.at(-1)!;
      log.push(
        `checkpoint ${last.chunk.where(last.end - 1)} ${validator.distinctPoints} points held, ` +
          `${s.points} accepted, ${s.batches} batches, ${s.rejected} rejected, line ${update.line?.a}`,
      );
      return Promise.resolve();
    },
  });
  assert.deepEqual(log, [
    "write 2 at 501",
    "flush 0",
    "checkpoint record 1 2 points held, 42 accepted, 10 batches, 1 rejected, line 0",
    "committed record 0..2",
    "write 1 at 502",
    "flush 1",
    "checkpoint record 3 1 points held, 43 accepted, 11 batches, 2 rejected, line 0",
    "committed record 2..2",
    "write 1 at 503",
    "flush 1",
    "checkpoint record 5 2 points held, 44 accepted, 12 batches, 3 rejected, line 0",
    "committed record 4..1 record 5..1",
    "write 1 at 504",
    "flush 0",
    "checkpoint record 6 3 points held, 45 accepted, 13 batches, 3 rejected, line -1.1666666666666667",
    "committed record 6..1",
    "flush 0",
  ]);
  assert.equal(stats.batches, 13);
  assert.equal(validator.tracking, true);
});

test("PointValidator: a source that never retracts keeps no multiset, and its diff -1 is an error", async () => {
  const log: string[] = [];
  const validator = new PointValidator({ retractions: () => false });
  await runPipeline(listSource([[[1, 1, 1], [2, 2, 1]]], log, false), await RegressionCore.load(wasm), [], {
    validator,
  });
  assert.equal(validator.tracking, false);
  assert.equal(validator.distinctPoints, 0);
  const fallback = await runPipeline(
    listSource([[[1, 1, 1], [1, 1, -1]]], log, false),
    await RegressionCore.load(wasm),
    [],
  ).then(() => undefined, (error: Error) => error.message);
  assert.equal(
    fallback,
    "record 1: diff -1 from a source that said it never retracts points (Source.retractions is false): please report this",
  );
  // Asked once, at the first chunk; ranges fill one mask.
  let asked = 0;
  const v = new PointValidator({ retractions: () => (asked++, true) });
  const chunk: PointChunk = {
    x: Float64Array.of(1, NaN, 2, 3),
    y: Float64Array.of(1, 1, 1, 1),
    diff: Float64Array.of(1, 1, -1, 1),
    where: (i) => `p${i}`,
  };
  const first = v.check(chunk, { from: 0, to: 2 })!;
  assert.deepEqual([...first.mask], [0, 1, 0, 0]);
  const second = v.check(chunk, { from: 2, to: 4, mask: first.mask })!;
  assert.equal(second.mask, first.mask);
  assert.deepEqual([...second.mask], [0, 1, 1, 0]);
  assert.deepEqual(second.rejected.map((r) => r.rejection.reason), ["unknown_retraction"]);
  assert.equal(asked, 1);
  assert.equal(v.distinctPoints, 2);
});
