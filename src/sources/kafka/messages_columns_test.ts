// Kafka messages with several x columns: CSV rows (full parse and the in-place fast path of decodeBatch)
// and JSON objects give every x, in the order of --x, or the reason of the first bad field.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Batch } from "kafkajs";
import { test } from "../../../test/harness.ts";
import { type CsvLayout, csvLayout } from "../../model/csv.ts";
import { decodeBatch } from "./batch.ts";
import { messageText, PointParser } from "./messages.ts";
import { newPartitionState } from "./partitions.ts";

const columns = { x: "a", xs: ["a", "b", "c"], y: "y" };

function parsed(parser: PointParser, ok: boolean) {
  return ok ? [...parser.xs, parser.y] : `${parser.rejected.reason}: ${parser.rejected.detail}`;
}

test("PointParser, several x: CSV rows give every x in --x order, or the first bad field's reason", () => {
  const parser = new PointParser(columns);
  const layout = csvLayout("c,y,note,b,a", columns) as CsvLayout;
  assert.deepEqual(layout, { x: 4, xs: [4, 3, 0], y: 1, width: 5 });
  const csv = (text: string) => parsed(parser, parser.csv(text, layout));
  assert.deepEqual(csv("3,4,n,2,1"), [1, 2, 3, 4]);
  assert.equal(parser.x, 1);
  assert.deepEqual(csv('"3",4,"n, m",2,1'), [1, 2, 3, 4]);
  assert.equal(csv("3,4,n,x,1"), 'not_a_number: b is "x", not a number');
  assert.equal(csv("zz,4,n,x,1"), 'not_a_number: b is "x", not a number'); // b comes before c
  assert.equal(csv("3,,n,2,1"), "empty_field: y is empty: every point needs a number");
  assert.equal(
    csv("1e400,4,n,2,1"),
    'overflow: c is "1e400": too large for a double (it would read as Infinity)',
  );
  assert.equal(csv("3,4,n,2"), "missing_column: 4 fields where the header has 5");
  assert.equal(csvLayout("a,b,y", columns), 'no column "c"');
  assert.equal(csvLayout("a,b,c", columns), 'no column "y"');
});

test("PointParser, several x: JSON objects", () => {
  const parser = new PointParser(columns);
  const json = (text: string) => parsed(parser, parser.json(text));
  assert.deepEqual(json('{"y": 4, "c": 3, "b": 2, "a": 1, "note": "n"}'), [1, 2, 3, 4]);
  assert.deepEqual(json('{"y": 0, "c": -0, "b": 0, "a": 0}'), [0, 0, -0, 0]);
  assert.equal(json('{"y": 4, "c": 3, "a": 1}'), 'bad_json: no field "b"');
  assert.equal(json('{"y": 4, "c": "3", "b": 2, "a": 1}'), 'bad_json: c is the string "3", not a number');
  assert.equal(json('{"y": "4", "c": 3, "b": 2, "a": 1}'), 'bad_json: y is the string "4", not a number');
  assert.equal(
    json('{"y": 4, "c": 3, "b": 1e400, "a": 1}'),
    'overflow: b is "1e400": too large for a double (it would read as Infinity)',
  );
  assert.equal(json('{"y": 1e-400, "c": 3, "b": 2, "a": 1}').slice(0, 13), "out_of_range:");
});

/** A fetched batch as kafkajs hands it over: every value a view of one buffer. */
function batchOf(values: Uint8Array[]): Batch {
  const all = Buffer.concat(values.map((v) => Buffer.from(v)));
  let at = 0;
  const messages = values.map((v, k) => {
    const value = all.subarray(at, at + v.length);
    at += v.length;
    return { offset: String(k), value, key: null, timestamp: "0", attributes: 0, headers: {} };
  });
  return { partition: 0, messages, lastOffset: () => String(values.length - 1) } as unknown as Batch;
}

test("decodeBatch, several x: the in-place fast path gives what the full parse gives; chunks carry xs", () => {
  const layout = csvLayout("c,y,note,b,a", columns) as CsvLayout;
  const texts = [
    "3,4,n,2,1",
    "3.5,4e-3,n,-0,1700000000.037",
    '3,4,"n, m",2,1',
    "3,4,n,2,1\r\n",
    "3,4,é,2,1",
    "3,4,n,x,1",
    "3,4,n,2",
    "3,4,n,2,1,0",
    "1e-400,4,n,2,1",
    "NaN,4,n,2,1",
    " 3 ,4,n, 2,1",
  ];
  const values = texts.map((t) => new TextEncoder().encode(t));
  const decoded = decodeBatch(batchOf(values), newPartitionState(0, layout), {
    topic: "t",
    parser: new PointParser(columns),
    csv: true,
    maxRecordBytes: 1 << 20,
    maxMessages: Infinity,
    read: 0,
    isStale: () => false,
    readHeader: () => false,
  })!;
  const chunk = decoded.chunk!;
  assert.equal(chunk.xs!.length, 3);
  assert.equal(chunk.xs![0], chunk.x);
  const got = values.map((_, i) => {
    const why = chunk.rejects?.get(i);
    return why ? `${why.reason}: ${why.detail}` : [...chunk.xs!.map((x) => x[i]), chunk.y[i]];
  });
  const reference = new PointParser(columns);
  const expected = values.map((v) => {
    const text = messageText(v);
    return parsed(reference, text === undefined ? reference.notUtf8() : reference.csv(text, layout));
  });
  assert.deepEqual(got, expected);
  assert.deepEqual(got[1], [1700000000.037, -0, 3.5, 0.004]);
  assert.ok(chunk.rejects!.get(5) && !chunk.xs!.some((x) => !Number.isNaN(x[5])));
});
