import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { KafkaResults } from "./kafka_results.ts";
import type { BatchUpdate, KeyChange, ModelResult } from "../model/sink.ts";

const update = (time: number, more: Partial<BatchUpdate>): BatchUpdate => ({
  time,
  points: [],
  accepted: 1,
  refused: 0,
  count: 1,
  line: undefined,
  ...more,
});

test("KafkaResults: JSON rows of a model with --stats, an aliased column as null", async () => {
  const config = { x: ["x1", "x2"], y: "y", degree: 1, intercept: true, stats: true };
  const results = new KafkaResults({ model: { config } });
  assert.deepEqual(results.columns, [
    "a",
    "b_x1",
    "b_x2",
    "n",
    "r2",
    "sigma",
    "se_a",
    "se_b_x1",
    "se_b_x2",
    "time",
    "diff",
  ]);
  const fit: ModelResult = {
    n: 3,
    coefficients: Float64Array.of(0.5, 2, NaN),
    aliased: [false, false, true],
    se: Float64Array.of(0.25, 1e-20, NaN),
    r2: 1,
    sigma: NaN,
    rank: 2,
  };
  await results.write(update(1700000000000, { model: fit }));
  assert.deepEqual(results.take(), [{
    key: null,
    value:
      '{"a":0.5,"b_x1":2,"b_x2":null,"n":3,"r2":1,"sigma":null,"se_a":0.25,"se_b_x1":1e-20,"se_b_x2":null,"time":1700000000000,"diff":1}',
  }]);
  assert.deepEqual(results.take(), [], "taken once");
  await results.write(update(1700000000001, { model: fit }));
  assert.deepEqual(results.take(), [], "an unchanged fit sends nothing");
  await results.close();
});

test("KafkaResults: keyed and windowed, ISO bounds, keys with commas and quotes, upsert with a tombstone", async () => {
  const results = new KafkaResults({ keys: ["site", "id"], windows: { format: "iso" }, mode: "upsert" });
  const w = { windowStart: 0, windowEnd: 60_000 };
  const first: KeyChange[] = [
    { key: 'eu,1\u0000a "b"', line: { a: 1, b: 2 }, n: 2, ...w },
    { key: "us\u00002", line: { a: -0, b: 0.1 }, n: 2, ...w },
  ];
  await results.write(update(10, { keys: first }));
  const key1 =
    '{"site":"eu,1","id":"a \\"b\\"","window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:01:00.000Z"}';
  const key2 =
    '{"site":"us","id":"2","window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:01:00.000Z"}';
  assert.deepEqual(results.take(), [
    { key: key1, value: `${key1.slice(0, -1)},"a":1,"b":2,"time":10,"diff":1}` },
    { key: key2, value: `${key2.slice(0, -1)},"a":-0,"b":0.1,"time":10,"diff":1}` },
  ]);
  const second: KeyChange[] = [
    { key: 'eu,1\u0000a "b"', old: { a: 1, b: 2 }, line: { a: 3, b: 4 }, n: 3, ...w },
    { key: "us\u00002", old: { a: -0, b: 0.1 }, ...w },
  ];
  await results.write(update(11, { keys: second }));
  assert.deepEqual(results.take(), [
    { key: key1, value: `${key1.slice(0, -1)},"a":3,"b":4,"time":11,"diff":1}` },
    { key: key2, value: null },
  ]);
  await results.close();
});

test("KafkaResults: CSV rows with the columns header; changelog keeps the -1 rows", async () => {
  const results = new KafkaResults({ format: "csv" });
  await results.write(update(5, { line: { a: 0, b: 0 } }));
  await results.write(update(6, { line: { a: 1.5, b: -2 } }));
  const headers = { columns: "a,b,time,diff" };
  assert.deepEqual(results.take(), [
    { key: null, value: "0,0,5,1", headers },
    { key: null, value: "0,0,6,-1", headers },
    { key: null, value: "1.5,-2,6,1", headers },
  ]);
  await results.close();
});
