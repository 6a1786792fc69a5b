import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { ResultLog } from "./result_log.ts";
import type { BatchUpdate, KeyChange } from "../model/sink.ts";

function memory(): { stream: WritableStream<Uint8Array>; text: () => string } {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void writes.push(decoder.decode(chunk)),
  });
  return { stream, text: () => writes.join("") };
}

const batch = (time: number, keys: KeyChange[]): BatchUpdate => ({
  time,
  points: [],
  accepted: 0,
  refused: 0,
  count: 0,
  line: undefined,
  keys,
});

test("ResultLog with keys: -1 rows for old lines, +1 rows for new ones, keys quoted, numbers as formatNumber", async () => {
  const out = memory();
  const log = new ResultLog(out.stream, { keys: ["sensor"] });
  await log.write(
    batch(1, [{ key: "s,1", line: { a: -0, b: 0.1 }, n: 2 }, { key: "t", line: { a: 1, b: 2 }, n: 2 }]),
  );
  await log.write(batch(2, [{ key: "s,1", old: { a: -0, b: 0.1 }, line: { a: 1e21, b: -2.5e-7 }, n: 3 }]));
  // An old line other than the one written (a resumed run's): formatted from the change.
  await log.write(batch(3, [{ key: "t", old: { a: 5, b: 6 }, line: { a: 0, b: 0 }, n: 3 }]));
  // Retracted, then new again.
  await log.write(batch(4, [{ key: "s,1", old: { a: 1e21, b: -2.5e-7 } }]));
  await log.write(
    batch(5, [{ key: "s,1", line: { a: 3, b: 4 }, n: 1 }, { key: "ünï😀", line: { a: 1, b: 0 }, n: 2 }]),
  );
  await log.close();
  assert.equal(
    out.text(),
    [
      "sensor,a,b,time,diff",
      '"s,1",-0,0.1,1,1',
      "t,1,2,1,1",
      '"s,1",-0,0.1,2,-1',
      '"s,1",1e+21,-2.5e-7,2,1',
      "t,5,6,3,-1",
      "t,0,0,3,1",
      '"s,1",1e+21,-2.5e-7,4,-1',
      '"s,1",3,4,5,1',
      "ünï😀,1,0,5,1",
      "",
    ].join("\n"),
  );
});
