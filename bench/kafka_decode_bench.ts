/**
 * Benchmark: decoding fetched Kafka batches into points, the client excluded: `decodeBatch` (what
 * `--source kafka` does with each batch kafkajs hands over) on batches of 10^4 messages whose values are
 * views of one buffer, as fetched. CSV messages of two fields, CSV messages of three (a note first), and
 * JSON messages; next to the bare loop (latin1 text of the buffer, `indexOf` + `parseFloat`).
 *
 * Run: `./node_modules/deno/deno run -A bench/kafka_decode_bench.ts [--messages N] [--runs R]`
 *  or  `node_modules/.bin/bun run bench/kafka_decode_bench.ts [--messages N] [--runs R]`
 *
 * Messages per second with the client included: `bench/kafka_bench.ts` (needs a broker).
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import { parseArgs } from "node:util";
import type { Batch } from "kafkajs";
import { type CsvLayout, csvLayout } from "../src/model/csv.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { decodeBatch } from "../src/sources/kafka/batch.ts";
import { PointParser } from "../src/sources/kafka/messages.ts";
import { newPartitionState } from "../src/sources/kafka/partitions.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { messages: { type: "string", default: "1000000" }, runs: { type: "string", default: "5" } },
});
const n = Number(values.messages);
const runs = Number(values.runs);
const perBatch = 10_000;
if (!Number.isSafeInteger(n) || n < perBatch || !Number.isSafeInteger(runs) || runs < 1) {
  console.error(`kafka_decode_bench: --messages must be an integer ≥ ${perBatch} and --runs an integer ≥ 1`);
  process.exit(2);
}

const columns = { x: "x", y: "y" };
const xs = Array.from({ length: perBatch }, (_, i) => (1_700_000_000_000 + 37 * i) / 1000);
const ys = xs.map((x, i) => 0.5 * x + Math.sin(i) * 50);

function batchOf(texts: string[]): Batch {
  const all = Buffer.from(texts.join(""));
  let at = 0;
  const messages = texts.map((t, k) => {
    const value = all.subarray(at, at + t.length);
    at += t.length;
    return { offset: String(k), value, key: null, timestamp: "0", attributes: 0, headers: {} };
  });
  return { partition: 0, messages, lastOffset: () => String(texts.length - 1) } as unknown as Batch;
}

const kinds: { name: string; batch: Batch; layout?: CsvLayout }[] = [
  {
    name: "CSV x,y",
    batch: batchOf(xs.map((x, i) => `${formatNumber(x)},${formatNumber(ys[i])}`)),
    layout: csvLayout("x,y", columns) as CsvLayout,
  },
  {
    name: "CSV note,x,y",
    batch: batchOf(xs.map((x, i) => `s${i % 10},${formatNumber(x)},${formatNumber(ys[i])}`)),
    layout: csvLayout("note,x,y", columns) as CsvLayout,
  },
  {
    name: "JSON {x, y}",
    batch: batchOf(xs.map((x, i) => `{"x":${formatNumber(x)},"y":${formatNumber(ys[i])}}`)),
  },
];

function decodeAll(kind: (typeof kinds)[number]): number {
  const parser = new PointParser(columns);
  let points = 0;
  for (let done = 0; done < n; done += perBatch) {
    const state = newPartitionState(0, kind.layout);
    const decoded = decodeBatch(kind.batch, state, {
      topic: "t",
      parser,
      csv: kind.layout !== undefined,
      maxRecordBytes: 1 << 20,
      maxMessages: Infinity,
      read: 0,
      isStale: () => false,
      readHeader: () => false,
    });
    points += decoded!.chunk!.x.length - (decoded!.chunk!.rejects?.size ?? 0);
  }
  return points;
}

function bare(batch: Batch): number {
  let points = 0;
  for (let done = 0; done < n; done += perBatch) {
    const first = batch.messages[0].value!;
    const text = Buffer.from(first.buffer, first.byteOffset, first.buffer.byteLength - first.byteOffset)
      .toString("latin1");
    let sum = 0;
    for (const m of batch.messages) {
      const a = m.value!.byteOffset - first.byteOffset;
      const b = a + m.value!.length;
      const comma = text.indexOf(",", a);
      sum += parseFloat(text.slice(a, comma)) + parseFloat(text.slice(comma + 1, b));
      points++;
    }
    if (sum !== sum) throw new Error("NaN");
  }
  return points;
}

const time = (f: () => number): number => {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const points = f();
    best = Math.min(best, performance.now() - t0);
    if (points !== n) throw new Error(`decoded ${points} points, expected ${n}`);
  }
  return best;
};

// deno-lint-ignore no-explicit-any
const runtime = (globalThis as any).Deno !== undefined
  ? `deno ${Deno.version.deno}`
  : `bun ${process.versions.bun}`;
console.log(
  `kafka_decode_bench: ${n} messages in fetched batches of ${perBatch}, best of ${runs}, ${runtime}`,
);
const bareMs = time(() => bare(kinds[0].batch));
const rate = (ms: number) => `${((n / ms) * 1000 / 1e6).toFixed(2)} M messages/s`.padStart(18);
console.log(`  bare loop over x,y (latin1 + indexOf + parseFloat)  ${rate(bareMs)}`);
for (const kind of kinds) {
  const ms = time(() => decodeAll(kind));
  console.log(
    `  decodeBatch, ${kind.name.padEnd(38)} ${rate(ms)}  (${
      ((bareMs / ms) * 100).toFixed(0)
    } % of the bare loop)`,
  );
}
