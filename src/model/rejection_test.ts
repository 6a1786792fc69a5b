// deno-lint-ignore-file no-control-regex -- the tests look for control characters on purpose
import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import {
  describeRejection,
  escapeRaw,
  REJECT_REASONS,
  RejectedRecordError,
  showField,
  unescapeRaw,
} from "./rejection.ts";

test("escapeRaw shows any bytes as one printable line, and unescapeRaw gives them back exactly", () => {
  assert.equal(escapeRaw("1,2"), "1,2");
  assert.equal(escapeRaw('a"b,é,€,𝄞'), 'a"b,é,€,𝄞');
  assert.equal(escapeRaw("a\\b\r\n\t\x00\x7f\x85"), "a\\\\b\\x0D\\x0A\\x09\\x00\\x7F\\xC2\\x85");
  assert.equal(escapeRaw(Uint8Array.of(0x31, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xac)), "1\\xFF\\xC3(€");
  assert.equal(
    escapeRaw(Uint8Array.of(0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80)),
    "\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80",
  );
  assert.equal(
    escapeRaw(Uint8Array.of(0xc0, 0xaf, 0xe0, 0x80, 0xaf)),
    "\\xC0\\xAF\\xE0\\x80\\xAF",
    "overlong",
  );
  let seed = 1;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let round = 0; round < 2000; round++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(random() * 30) },
      () =>
        random() < 0.5
          ? Math.floor(random() * 256)
          : [0x5c, 0x78, 0x22, 0x0a, 0xe2, 0x82, 0xac][Math.floor(random() * 7)],
    );
    const text = escapeRaw(bytes);
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(text), `printable: ${text}`);
    assert.deepEqual(unescapeRaw(text), bytes);
  }
});

test("showField quotes, escapes and shortens; describeRejection and RejectedRecordError name the record", () => {
  assert.equal(showField("oops"), '"oops"');
  assert.equal(showField('\x1b[31m"'), '"\\x1B[31m\\""');
  assert.equal(showField("9".repeat(100)), `"${"9".repeat(40)}…"`);
  const r = {
    origin: { source: "data.csv", location: "line 4", line: 4 },
    reason: "not_a_number" as const,
    detail: 'y is "oops", not a number',
    raw: "3,oops",
  };
  assert.equal(describeRejection(r), 'data.csv line 4: y is "oops", not a number [not_a_number]');
  assert.equal(
    describeRejection({ ...r, origin: { source: "mine", location: "mine record 3" } }),
    'mine record 3: y is "oops", not a number [not_a_number]',
  );
  const error = new RejectedRecordError(r);
  assert.equal(
    error.message,
    'data.csv line 4: y is "oops", not a number [not_a_number] (stopped at the first bad record: --on-error fail)',
  );
  assert.equal(error.rejection, r);
  assert.ok(Object.keys(REJECT_REASONS).every((code) => /^[a-z0-9_]+$/.test(code)));
});
