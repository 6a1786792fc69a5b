import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { CHUNK_BYTES, CsvWriter } from "./csv_writer.ts";
import { InputLog } from "./input_log.ts";
import { ResultLog } from "./result_log.ts";
import { formatNumber } from "../model/format_number.ts";
import { NumberText } from "../core/number_text.ts";
import { readFile } from "node:fs/promises";
import type { BatchUpdate, Line, PointRun } from "../model/sink.ts";

/** A WritableStream that records what is written, write by write. */
function memory(): {
  stream: WritableStream<Uint8Array>;
  writes: string[];
  text: () => string;
  closed: () => boolean;
} {
  const writes: string[] = [];
  let closed = false;
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void writes.push(decoder.decode(chunk)),
    close: () => void (closed = true),
  });
  return { stream, writes, text: () => writes.join(""), closed: () => closed };
}

function update(time: number, line: Line | undefined, points: PointRun[] = []): BatchUpdate {
  const accepted = points.reduce((n, run) => n + run.x.length, 0);
  return { time, points, accepted, refused: 0, count: line ? 1 : 0, line };
}

const run = (x: number[], y: number[], diff: number[]): PointRun => ({
  x: Float64Array.from(x),
  y: Float64Array.from(y),
  diff: Float64Array.from(diff),
});

test("ResultLog: first line +1 only, then -1 old / +1 new at the batch time, nothing when unchanged", async () => {
  const out = memory();
  const log = new ResultLog(out.stream);
  await log.write(update(10, { a: 0, b: 0 }));
  await log.write(update(11, { a: 0.06888437030500963, b: 0.9827065102830509 }));
  await log.write(update(12, { a: 0.06888437030500963, b: 0.9827065102830509 }));
  await log.write(update(13, { a: -0, b: 1 }));
  await log.write(update(14, undefined)); // every point retracted
  await log.write(update(15, { a: 2, b: 3 }));
  await log.close();
  assert.equal(
    out.text(),
    [
      "a,b,time,diff",
      "0,0,10,1",
      "0,0,11,-1",
      "0.06888437030500963,0.9827065102830509,11,1",
      "0.06888437030500963,0.9827065102830509,13,-1",
      "-0,1,13,1",
      "-0,1,14,-1",
      "2,3,15,1",
      "",
    ].join("\n"),
  );
  assert.ok(out.closed());
  assert.deepEqual(log.line, { a: 2, b: 3 });
});

test("ResultLog writes each batch's rows in one write, handed to the stream before write() resolves", async () => {
  const out = memory();
  const log = new ResultLog(out.stream);
  await log.write(update(1, { a: 1, b: 2 }));
  assert.deepEqual(out.writes, ["a,b,time,diff\n1,2,1,1\n"]);
  await log.write(update(2, { a: 1, b: 3 }));
  assert.deepEqual(out.writes.slice(1), ["1,2,2,-1\n1,3,2,1\n"]);
  await log.close();
});

test("ResultLog with no batches writes the header only", async () => {
  const out = memory();
  await new ResultLog(out.stream).close();
  assert.equal(out.text(), "a,b,time,diff\n");
});

test("InputLog writes every accepted point with its batch time and diff", async () => {
  const out = memory();
  const log = new InputLog(out.stream);
  await log.write(
    update(7, { a: 0, b: 0 }, [run([0, 1], [0.06888437030500963, -0], [1, 1]), run([5e-324], [1e21], [-1])]),
  );
  await log.write(update(8, { a: 0, b: 0 }, []));
  await log.close();
  assert.equal(
    out.text(),
    "x,y,time,diff\n0,0.06888437030500963,7,1\n1,-0,7,1\n5e-324,1e+21,7,-1\n",
  );
});

test("InputLog flushes big batches in pieces", async () => {
  const out = memory();
  const log = new InputLog(out.stream);
  const n = 200_000;
  const x = Array.from({ length: n }, (_, i) => i + 0.123456789);
  await log.write(update(1, undefined, [run(x, x, x.map(() => 1))]));
  await log.close();
  assert.ok(out.writes.length > 2, `${out.writes.length} writes`);
  const lines = out.text().split("\n");
  assert.equal(lines.length, n + 2);
  assert.equal(lines[n], `${x[n - 1]},${x[n - 1]},1,1`);
});

test("CsvWriter reports a failing destination by name and closes only once", async () => {
  const broken = new WritableStream<Uint8Array>({
    write: () => Promise.reject(new Error("disk full")),
  });
  const writer = new CsvWriter(broken, ["a"], { name: "out.csv" });
  writer.append("1\n");
  await assert.rejects(writer.flush(), /^Error: cannot write out\.csv: disk full$/);
  const out = memory();
  const ok = new CsvWriter(out.stream, ["a", "b"]);
  assert.equal(ok.pending, 4);
  await ok.close();
  await ok.close();
  assert.equal(out.text(), "a,b\n");
});

const numbers = await NumberText.load(await readFile(new URL("../../build/streamreg.wasm", import.meta.url)));
for (const [how, options] of [["by default", {}], ["by the core's NumberText", { numbers }]] as const) {
  test(`CsvWriter writes numbers (${how}) as formatNumber does, text as UTF-8, in one write per flush`, async () => {
    const values = [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      5e-324,
      1e21,
      1e-7,
      123456789012345680000,
      1.2345678901234567e-300,
      -0.025649728471302445,
      0.1 + 0.2,
      -1700000000.037,
      2 ** 53 + 2,
      Number.MAX_VALUE,
    ];
    const out = memory();
    const writer = new CsvWriter(out.stream, ["é", "b"], options);
    let want = "é,b\n";
    for (const v of values) {
      writer.appendNumber(v, 0x2c);
      writer.appendNumber(-v);
      writer.appendBytes(new TextEncoder().encode("\n"));
      writer.append("«x»,\uD800\n"); // a lone surrogate: U+FFFD, as TextEncoder writes it
      want += `${formatNumber(v)},${formatNumber(-v)}\n«x»,\uFFFD\n`;
    }
    assert.equal(writer.pending, new TextEncoder().encode(want).length);
    await writer.flush();
    await writer.close();
    assert.equal(out.writes.length, 1);
    assert.equal(out.text(), want);
  });
}

test("InputLog writes the rows of a large batch in writes of about 1 MiB, bytes as formatNumber", async () => {
  const out = memory();
  const log = new InputLog(out.stream);
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => (1_700_000_000_000 + 37 * i) / 1000);
  const y = x.map((v, i) => 0.5 * v + Math.sin(i));
  const diff = x.map((_, i) => (i % 3 === 0 ? -1 : 1));
  await log.write(update(1700000000000, undefined, [run(x, y, diff)]));
  await log.close();
  let want = "x,y,time,diff\n";
  for (let i = 0; i < n; i++) {
    want += `${formatNumber(x[i])},${formatNumber(y[i])},1700000000000,${diff[i]}\n`;
  }
  assert.equal(out.text(), want);
  const sizes = out.writes.map((w) => new TextEncoder().encode(w).length);
  assert.ok(
    sizes.length >= 2 && sizes.slice(0, -1).every((s) => s > 1 << 20),
    `writes of ${sizes.join(", ")}`,
  );
});

test("CsvWriter.appendTextRows fills pieces of 1 MiB, also exactly, and takes a row longer than a piece", async () => {
  const encoder = new TextEncoder();
  const plus = encoder.encode(",1\n");
  const minus = encoder.encode(",-1\n");
  // 65 536 rows of 13 + 3 bytes fill a piece exactly; then more rows, a row without text, a huge row.
  const rows = [
    ...Array.from({ length: 65_536 }, (_, i) => String(1e12 + i)),
    ...Array.from({ length: 1000 }, (_, i) => String(-i)),
    "none",
    "9".repeat(CHUNK_BYTES + 5),
    "0.5",
  ];
  const diff = rows.map((_, i) => (i >= 65_536 && i % 7 === 3 ? -1 : 1));
  const blocks = [encoder.encode(rows.join("\n"))];
  const start = new Int32Array(rows.length);
  const end = new Int32Array(rows.length);
  for (let i = 0, at = 0; i < rows.length; at += rows[i].length + 1, i++) {
    start[i] = at;
    end[i] = at + rows[i].length;
  }
  const block = Int32Array.from(rows, (row) => (row === "none" ? -1 : 0));
  const texts = { blocks, block, start, end };
  const out = memory();
  const writer = new CsvWriter(out.stream, ["x"], { append: true });
  let calls = 0;
  for (let i = 0; i < rows.length;) {
    if (block[i] < 0) {
      writer.append(`none${diff[i] < 0 ? ",-1" : ",1"}\n`);
      i++;
      continue;
    }
    const next = writer.appendTextRows(texts, diff, { from: i, to: rows.length, plus, minus });
    assert.ok(++calls < 10, "appendTextRows goes on after each flush");
    if (next < rows.length && block[next] >= 0) {
      assert.ok(writer.pending > 0, "stopped with rows buffered: a flush makes room");
      await writer.flush();
    }
    i = next;
  }
  await writer.close();
  const want = rows.map((row, i) => `${row}${diff[i] < 0 ? ",-1" : ",1"}\n`).join("");
  assert.equal(out.text(), want);
  const sizes = out.writes.map((w) => encoder.encode(w).length);
  assert.equal(sizes[0], CHUNK_BYTES, `writes of ${sizes.join(", ")}`); // the first piece, exactly full
  assert.ok(
    sizes.every((size, k) => size <= CHUNK_BYTES || rows.some((r) => r.length > CHUNK_BYTES) && k > 0),
  );
});

test("InputLog copies the points' texts where they have one: the same bytes as formatting them", async () => {
  const encoder = new TextEncoder();
  const x = [1700000000.064, 0.1, 2, -0, 3.5];
  const y = [849999995.8970132, 0.30000000000000004, 1.5, 7, 1e21];
  const diff = [1, -1, 1, 1, -1];
  const lines = x.map((v, i) => `${formatNumber(v)},${formatNumber(y[i])}`);
  const blocks = [encoder.encode(lines.join("\n") + "\n")];
  const start = new Int32Array(x.length);
  const end = new Int32Array(x.length);
  for (let i = 0, at = 0; i < x.length; at += lines[i].length + 1, i++) {
    start[i] = at;
    end[i] = at + lines[i].length;
  }
  const texts = { blocks, block: Int32Array.of(0, 0, -1, 0, -1), start, end };
  const withTexts = memory();
  const plain = memory();
  for (
    const [out, points] of [[withTexts, { ...run(x, y, diff), texts }], [plain, run(x, y, diff)]] as const
  ) {
    const log = new InputLog(out.stream);
    await log.write(update(1700000000123, undefined, [points]));
    await log.close();
  }
  assert.equal(withTexts.text(), plain.text());
  assert.equal(plain.text().split("\n")[1], "1700000000.064,849999995.8970132,1700000000123,1");
});
