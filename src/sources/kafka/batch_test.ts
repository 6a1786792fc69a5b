import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Batch } from "kafkajs";
import { test } from "../../../test/harness.ts";
import { type CsvLayout, csvLayout } from "../../model/csv.ts";
import { decodeBatch } from "./batch.ts";
import { messageText, PointParser } from "./messages.ts";
import { newPartitionState } from "./partitions.ts";

const columns = { x: "x", y: "y" };

/** A fetched batch as kafkajs hands it over: every value a view of one buffer. */
function batchOf(values: Uint8Array[]): Batch {
  const all = Buffer.concat(values.map((v) => Buffer.from(v)));
  let at = 0;
  const messages = values.map((v, k) => {
    const value = all.subarray(at, at + v.length);
    at += v.length;
    return { offset: String(k), value, key: null, timestamp: "0", attributes: 0, headers: {} };
  });
  return {
    partition: 0,
    messages,
    lastOffset: () => String(values.length - 1),
  } as unknown as Batch;
}

/** What each message should give: the proper parse of its text (no fast path). */
function expected(value: Uint8Array, layout: CsvLayout) {
  const parser = new PointParser(columns);
  const text = messageText(value);
  const ok = text === undefined ? parser.notUtf8() : parser.csv(text, layout);
  return ok
    ? { x: parser.x, y: parser.y }
    : { reason: parser.rejected.reason, detail: parser.rejected.detail };
}

function decoded(values: Uint8Array[], layout: CsvLayout) {
  const state = newPartitionState(0, layout);
  const out = decodeBatch(batchOf(values), state, {
    topic: "t",
    parser: new PointParser(columns),
    csv: true,
    maxRecordBytes: 1 << 20,
    maxMessages: Infinity,
    read: 0,
    isStale: () => false,
    readHeader: () => false,
  })!;
  const chunk = out.chunk!;
  return values.map((_, i) => {
    const why = chunk.rejects?.get(i);
    return why ? { reason: why.reason, detail: why.detail } : { x: chunk.x[i], y: chunk.y[i] };
  });
}

const bytes = (text: string, ...extra: number[]) =>
  Uint8Array.of(...new TextEncoder().encode(text), ...extra);

test("Kafka CSV messages: the in-place fast path gives what the full parse gives, for any width", () => {
  const two = [
    bytes("1,2"),
    bytes("1700000000.037,850000000.5627292"),
    bytes("1,2", 0xa0), // not UTF-8: U+00A0 in latin1, a space to Number
    bytes("1,", 0xa0, 0x32),
    bytes("1,2\r\n"),
    bytes("1,2\n"),
    bytes('"1",2'),
    bytes('1,2"'),
    bytes("1,2,3"),
    bytes("1"),
    bytes(" 1, 2 "),
    bytes("1,abc"),
    bytes("1e-400,1"),
    bytes("0x10,1"),
    bytes("NaN,1"),
    bytes("-0,5"),
    bytes("9007199254740993,2.2250738585072011e-308"),
    bytes("é,1"),
  ];
  const layoutTwo = csvLayout("x,y", columns) as CsvLayout;
  assert.deepEqual(decoded(two, layoutTwo), two.map((v) => expected(v, layoutTwo)));
  assert.deepEqual(decoded(two, layoutTwo)[2], {
    reason: "invalid_utf8",
    detail: "the message is not valid UTF-8",
  });

  const three = [
    bytes("a,1,2"),
    bytes("é,1.5,2.5"),
    bytes("a", 0xa0, ...bytes(",1,2")), // not UTF-8 in a field that is neither x nor y
    bytes("a,1,2", 0xa0),
    bytes('"a,b",1,2'),
    bytes('a"b,1,2'),
    bytes("a,1,2,3"),
    bytes("a,1"),
    bytes("a,850000000.5627292,1700000000.037\r\n"),
    bytes(",,"),
  ];
  const layoutThree = csvLayout("note,y,x", columns) as CsvLayout;
  assert.deepEqual(decoded(three, layoutThree), three.map((v) => expected(v, layoutThree)));
  assert.deepEqual(decoded(three, layoutThree)[2], {
    reason: "invalid_utf8",
    detail: "the message is not valid UTF-8",
  });
  assert.deepEqual(decoded(three, layoutThree)[0], { x: 2, y: 1 });
});
