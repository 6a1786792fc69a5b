import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { test } from "../../test/harness.ts";
import { unescapeRaw } from "../model/rejection.ts";
import { DeadLetterLog } from "./dead_letter.ts";

function collector() {
  const state = { text: "", writes: 0, closed: false };
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      state.writes++;
      state.text += decoder.decode(chunk, { stream: true });
    },
    close() {
      state.closed = true;
    },
  });
  return { stream, state };
}

test("DeadLetterLog writes one CSV row per rejected record; raw bytes come back exactly", async () => {
  const { stream, state } = collector();
  const log = new DeadLetterLog(stream, { name: "bad.csv" });
  await log.flush();
  assert.equal(state.text, "source,location,reason,detail,raw\n", "the header at once");
  const garbage = Uint8Array.of(0x22, 0x2c, 0x0d, 0x00, 0xff, 0x5c, 0x78, 0x0a);
  log.reject({
    origin: { source: "data.csv", location: "line 4", line: 4 },
    reason: "not_a_number",
    detail: 'y is "oops", not a number',
    raw: "3,oops",
  });
  log.reject({
    origin: { source: "da,ta.csv", location: "line 5", line: 5 },
    reason: "invalid_utf8",
    detail: "the line is not valid UTF-8",
    raw: garbage,
  });
  assert.equal(log.count, 2);
  await log.flush();
  await log.close();
  assert.ok(state.closed);
  const rows = parse(state.text) as string[][];
  assert.deepEqual(rows, [
    ["source", "location", "reason", "detail", "raw"],
    ["data.csv", "line 4", "not_a_number", 'y is "oops", not a number', "3,oops"],
    ["da,ta.csv", "line 5", "invalid_utf8", "the line is not valid UTF-8", '",\\x0D\\x00\\xFF\\\\x\\x0A'],
  ]);
  assert.deepEqual(unescapeRaw(rows[2][4]), garbage);
  assert.equal(state.text.split("\n").length, 4, "one line per row");
});

test("DeadLetterLog writes the header even when nothing is rejected", async () => {
  const { stream, state } = collector();
  await new DeadLetterLog(stream).close();
  assert.equal(state.text, "source,location,reason,detail,raw\n");
});
