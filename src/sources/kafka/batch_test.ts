import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Batch } from "kafkajs";
import { test } from "../../../test/harness.ts";
import { type Columns, type CsvLayout, csvLayout } from "../../model/csv.ts";
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

test("Kafka JSON messages: the in-place fast path gives what JSON.parse gives, with several x, keys and times", async () => {
  const { PythonRandom } = await import("../demo/python_random.ts");
  const random = new PythonRandom(3);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.random() * list.length)];
  const setups: { columns: Columns; names: string[] }[] = [
    { columns: { x: "x", y: "y" }, names: ["x", "y"] },
    { columns: { x: "a", xs: ["a", "b", "c"], y: "y" }, names: ["a", "b", "c", "y"] },
    { columns: { x: "x", y: "y", keys: ["@key", "sensor"] }, names: ["x", "y", "sensor"] },
    {
      columns: { x: "x", y: "y", keys: ["sensor"], time: { column: "ts", format: "ms" } },
      names: ["x", "y", "sensor", "ts"],
    },
    { columns: { x: "x", y: "y", time: { column: "ts", format: "iso" } }, names: ["x", "y", "ts"] },
    {
      columns: { x: "x", y: "y", keys: ["@key"], time: { column: "@timestamp", format: "ms" } },
      names: ["x", "y"],
    },
  ];
  const values = [
    "1",
    "-0",
    "0",
    "1700000000.037",
    "850000000.5627292",
    "1e-400",
    "1e400",
    "5e-324",
    "2.5E3",
    "123456789012345678901234567890",
    '"1"',
    "true",
    "null",
    "[1]",
    "01",
  ];
  const keys = ['"s1"', '""', '" s"', "17", "-3", "1.5", "1e3", "true", '"\\u0073"', '"é"'];
  const times = [
    "1764669600000",
    '"1764669600000"',
    '"2026-12-02T10:00:00Z"',
    '"yesterday"',
    "1.5",
    "-1",
    '""',
  ];
  for (const { columns, names } of setups) {
    const texts: string[] = [];
    const messageKeys: (string | null)[] = [];
    for (let i = 0; i < 400; i++) {
      const members = names.map((name) => {
        const good = random.random() < 0.7; // (mostly values that make a point)
        const value = name === "sensor"
          ? pick(good ? keys.slice(0, 1) : keys)
          : name === "ts"
          ? pick(good ? times.slice(0, 3) : times)
          : pick(good ? values.slice(0, 5) : values);
        return `"${name}":${random.random() < 0.1 ? " " : ""}${value}`;
      });
      if (random.random() < 0.2) members.push(`"note":${pick(['"n"', "[1,2]", "{}", "7"])}`);
      if (random.random() < 0.1) members.splice(Math.floor(random.random() * members.length), 1);
      if (random.random() < 0.05) members.push(`"${pick(names)}":1`);
      for (let j = members.length - 1; j > 0; j--) {
        const k = Math.floor(random.random() * (j + 1));
        [members[j], members[k]] = [members[k], members[j]];
      }
      texts.push(random.random() < 0.03 ? `{${members.join(",")}` : `{${members.join(",")}}`);
      messageKeys.push(random.random() < 0.1 ? null : pick(["k1", "k2", ""]));
    }
    const encoded = texts.map((t) => new TextEncoder().encode(t));
    const all = Buffer.concat(encoded.map((v) => Buffer.from(v)));
    let at = 0;
    const messages = encoded.map((v, k) => {
      const value = all.subarray(at, at + v.length);
      at += v.length;
      const key = messageKeys[k] === null ? null : Buffer.from(messageKeys[k]!);
      return {
        offset: String(k),
        value,
        key,
        timestamp: String(1764669600000 + k),
        attributes: 0,
        headers: {},
      };
    });
    const batch = { partition: 0, messages, lastOffset: () => String(texts.length - 1) } as unknown as Batch;
    const chunk = decodeBatch(batch, newPartitionState(0, undefined), {
      topic: "t",
      parser: new PointParser(columns),
      csv: false,
      maxRecordBytes: 1 << 20,
      maxMessages: Infinity,
      read: 0,
      isStale: () => false,
      readHeader: () => false,
    })!.chunk!;
    const xColumns = columns.xs?.length ?? 1;
    let fast = 0;
    for (let i = 0; i < texts.length; i++) {
      const parser = new PointParser(columns);
      parser.messageKey = messageKeys[i];
      parser.messageTimestamp = 1764669600000 + i;
      const want = parser.json(texts[i])
        ? {
          xs: xColumns > 1 ? [...parser.xs] : [parser.x],
          y: parser.y,
          key: columns.keys ? parser.key : undefined,
          time: columns.time ? parser.time : undefined,
        }
        : { reason: parser.rejected.reason, detail: parser.rejected.detail };
      const why = chunk.rejects?.get(i);
      const got = why ? { reason: why.reason, detail: why.detail } : {
        xs: xColumns > 1 ? chunk.xs!.map((column) => column[i]) : [chunk.x[i]],
        y: chunk.y[i],
        key: columns.keys ? chunk.keys![i] : undefined,
        time: columns.time ? chunk.times![i] : undefined,
      };
      assert.deepEqual(got, want, `${JSON.stringify(columns)}: ${texts[i]}`);
      const probe = new PointParser(columns);
      probe.messageKey = messageKeys[i];
      probe.messageTimestamp = 1764669600000 + i;
      if (probe.plainJson(texts[i], 0, texts[i].length)) fast++;
    }
    assert.ok(fast > 20, `${JSON.stringify(columns)}: only ${fast} of ${texts.length} took the fast path`);
  }
});
