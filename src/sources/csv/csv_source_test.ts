import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { type CsvChunk, CsvSource, type CsvSourceOptions } from "./csv_source.ts";

interface Row {
  x: number;
  y: number;
  diff: number;
  line: number;
}

interface Reject {
  line: number;
  reason: string;
  detail: string;
  raw: string | Uint8Array;
}

interface Read {
  rows: Row[];
  rejects: Reject[];
  error?: string;
}

/** A byte stream of `bytes` cut into pieces of `size` bytes. */
function bytePieces(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(off, off + size));
      off += size;
    },
  });
}

async function readBytes(bytes: Uint8Array, size: number, options: CsvSourceOptions = {}): Promise<Read> {
  const rows: Row[] = [];
  const rejects: Reject[] = [];
  try {
    const source = new CsvSource(bytePieces(bytes, size), { name: "t.csv", ...options });
    for await (const c of source.chunks(new AbortController().signal)) {
      for (let i = 0; i < c.x.length; i++) {
        const why = c.rejects?.get(i);
        if (why) {
          assert.deepEqual(c.origin(i), {
            source: "t.csv",
            location: `line ${c.lines[i]}`,
            line: c.lines[i],
          });
          rejects.push({ line: c.lines[i], reason: why.reason, detail: why.detail, raw: c.raw(i) });
        } else {
          rows.push({ x: c.x[i], y: c.y[i], diff: c.diff[i], line: c.lines[i] });
        }
      }
    }
  } catch (error) {
    return { rows, rejects, error: (error as Error).message };
  }
  return { rows, rejects };
}

function read(text: string, size: number, options: CsvSourceOptions = {}): Promise<Read> {
  return readBytes(new TextEncoder().encode(text), size, options);
}

/** Reads `text` cut at every piece size from 1 to 9 bytes and whole; all must agree. */
async function readAllWays(text: string, options: CsvSourceOptions = {}): Promise<Read> {
  const whole = await read(text, 1 << 20, options);
  for (let size = 1; size <= 9; size++) {
    const cut = await read(text, size, options);
    assert.equal(cut.error, whole.error, `error with ${size}-byte pieces`);
    assert.deepEqual(cut.rows, whole.rows, `rows with ${size}-byte pieces`);
    assert.deepEqual(cut.rejects, whole.rejects, `rejects with ${size}-byte pieces`);
  }
  return whole;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Lines that are empty (or only a CR) after the header: they are skipped, not records. */
function countEmpty(bytes: Uint8Array): number {
  const text = new TextDecoder("latin1").decode(bytes);
  return text.split("\n").slice(1, -1).filter((l) => l === "" || l === "\r").length;
}

test("CsvSource reads x and y with line numbers, whatever the read sizes", async () => {
  const { rows, error } = await readAllWays('x,y\n1,2\n\n3,"4"\n-0.5,1e-3');
  assert.equal(error, undefined);
  assert.deepEqual(rows, [
    { x: 1, y: 2, diff: 1, line: 2 },
    { x: 3, y: 4, diff: 1, line: 4 },
    { x: -0.5, y: 0.001, diff: 1, line: 5 },
  ]);
});

test("CsvSource reads a change log back: diff column, extra columns, CRLF, BOM, spaces", async () => {
  const { rows } = await readAllWays("\uFEFFtime, y ,x,diff\r\n5, 2 ,1,1\r\n6,4,3,-1\r\n");
  assert.deepEqual(rows, [
    { x: 1, y: 2, diff: 1, line: 2 },
    { x: 3, y: 4, diff: -1, line: 3 },
  ]);
});

test("CsvSource takes other column names", async () => {
  const { rows } = await readAllWays("t,price,w\n1,2,-1\n", { x: "t", y: "price", diff: "w" });
  assert.deepEqual(rows, [{ x: 1, y: 2, diff: -1, line: 2 }]);
});

test("CsvSource keeps every double exactly", async () => {
  const values = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0, 123456789.123456789, 2 ** -440];
  const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
  const text = "x,y\n" + values.map((v) => `${show(v)},${show(v)}`).join("\n");
  const { rows } = await readAllWays(text);
  assert.equal(rows.length, values.length);
  rows.forEach((row, i) => {
    assert.ok(Object.is(row.x, values[i]));
    assert.ok(Object.is(row.y, values[i]));
  });
});

test("CsvSource passes NaN and Infinity on (the core refuses them) but stops at text that is no number", async () => {
  const { rows } = await readAllWays("x,y\nNaN,1\nInfinity,-Infinity\n");
  assert.ok(Number.isNaN(rows[0].x));
  assert.equal(rows[1].x, Infinity);
  assert.equal(rows[1].y, -Infinity);
});

test("CsvSource: only a bad header or an empty input stops the run, naming the input and the line", async () => {
  const cases: [string, RegExp][] = [
    [
      "a,b\n1,2\n",
      /^t\.csv line 1: no column "x" in the header "a,b": name the x and y columns with --x and --y$/,
    ],
    [
      '\n\nx,"y\n1,2\n',
      /^t\.csv line 3: the header is not valid CSV: a quoted field is not closed on its line$/,
    ],
    ["x,y\xff\n1,2\n", /^t\.csv line 1: the header line is not valid UTF-8$/],
    ["", /^t\.csv is empty: expected a header line naming the columns, such as "x,y"$/],
    ["\r\n\n", /^t\.csv is empty/],
  ];
  for (const [text, message] of cases) {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0)); // one byte per character
    for (const size of [1, 2, 3, 5, 1 << 20]) {
      const { rows, error } = await readBytes(bytes, size);
      assert.match(error ?? "(no error)", message, `${JSON.stringify(text)} in ${size}-byte pieces`);
      assert.equal(rows.length, 0);
    }
  }
});

test("CsvSource rejects bad lines with a reason code and goes on, whatever the read sizes", async () => {
  const text = [
    "x,y,diff", // 1
    "1,2,1", // 2
    "3,abc,1", // 3
    ",4,1", // 4
    "5,6", // 5
    "5,6,1,7", // 6
    "1e400,1,1", // 7
    "1,-1e400,1", // 8
    "1e-400,1,1", // 9
    "0e-400,1,1", // 10: zero is fine
    "1,2,2", // 11
    "1,2,", // 12
    '3,"4', // 13
    '"3"x,4,1', // 14
    'a"b",4,1', // 15
    "NaN,1,1", // 16: a number here; the pipeline rejects it
    "-Infinity,1,1", // 17: likewise
    " 7 , 8 ,-1", // 18
    "", // 19
    "9,10,1", // 20
  ].join("\n");
  const { rows, rejects } = await readAllWays(text);
  assert.deepEqual(rows.map((r) => r.line), [2, 10, 16, 17, 18, 20]);
  assert.deepEqual(rows[3], { x: -Infinity, y: 1, diff: 1, line: 17 });
  assert.deepEqual(rows[4], { x: 7, y: 8, diff: -1, line: 18 });
  assert.deepEqual(rejects, [
    { line: 3, reason: "not_a_number", detail: 'y is "abc", not a number', raw: "3,abc,1" },
    { line: 4, reason: "empty_field", detail: "x is empty: every point needs a number", raw: ",4,1" },
    { line: 5, reason: "missing_column", detail: "2 fields where the header has 3", raw: "5,6" },
    { line: 6, reason: "extra_fields", detail: "4 fields where the header has 3", raw: "5,6,1,7" },
    {
      line: 7,
      reason: "overflow",
      detail: 'x is "1e400": too large for a double (it would read as Infinity)',
      raw: "1e400,1,1",
    },
    {
      line: 8,
      reason: "overflow",
      detail: 'y is "-1e400": too large for a double (it would read as -Infinity)',
      raw: "1,-1e400,1",
    },
    {
      line: 9,
      reason: "out_of_range",
      detail: 'x is "1e-400": too small for a double (it would read as 0)',
      raw: "1e-400,1,1",
    },
    {
      line: 11,
      reason: "bad_diff",
      detail: 'diff is "2": it must be 1 (add the point) or -1 (retract it)',
      raw: "1,2,2",
    },
    {
      line: 12,
      reason: "empty_field",
      detail: "diff is empty: it must be 1 (add the point) or -1 (retract it)",
      raw: "1,2,",
    },
    {
      line: 13,
      reason: "bad_csv",
      detail: "not valid CSV: a quoted field is not closed on its line",
      raw: '3,"4',
    },
    {
      line: 14,
      reason: "bad_csv",
      detail: "not valid CSV: text after the closing quote of a quoted field",
      raw: '"3"x,4,1',
    },
    {
      line: 15,
      reason: "bad_csv",
      detail: "not valid CSV: a quote inside an unquoted field",
      raw: 'a"b",4,1',
    },
  ]);
});

test("CsvSource rejects invalid UTF-8 and too-large lines without holding them, and keeps every other line", async () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const big = "9".repeat(5000);
  const bytes = concatBytes([
    enc("x,y\r\n1,2\r\n"),
    Uint8Array.of(0x33, 0x2c, 0xff, 0x0d, 0x0a), // line 3: "3,\xFF"
    enc(`${big},1\r\n`), // line 4: 5002 bytes
    enc("é,1\n"), // line 5: valid UTF-8, not a number
    Uint8Array.of(0x34, 0x2c, 0xc3, 0x0a), // line 6: a truncated sequence
    enc(`5,${big}`), // line 7, at the end without a line end
  ]);
  for (const size of [1, 7, 100, 4096, 1 << 20]) {
    const { rows, rejects, error } = await readBytes(bytes, size, { maxRecordBytes: 1000 });
    assert.equal(error, undefined);
    assert.deepEqual(rows, [{ x: 1, y: 2, diff: 1, line: 2 }], `${size}-byte reads`);
    const head = (s: string) => enc(s).slice(0, 1024);
    assert.deepEqual(rejects, [
      {
        line: 3,
        reason: "invalid_utf8",
        detail: "the line is not valid UTF-8",
        raw: Uint8Array.of(0x33, 0x2c, 0xff),
      },
      {
        line: 4,
        reason: "too_large",
        detail: "the line has 5002 bytes, more than the limit of 1000 (--max-record-bytes)",
        raw: head(`${big},1`),
      },
      { line: 5, reason: "not_a_number", detail: 'x is "é", not a number', raw: "é,1" },
      {
        line: 6,
        reason: "invalid_utf8",
        detail: "the line is not valid UTF-8",
        raw: Uint8Array.of(0x34, 0x2c, 0xc3),
      },
      {
        line: 7,
        reason: "too_large",
        detail: "the line has 5002 bytes, more than the limit of 1000 (--max-record-bytes)",
        raw: head(`5,${big}`),
      },
    ], `${size}-byte reads`);
  }
});

test("CsvSource: a 10 MB line streams by without being kept (at most the limit plus one read is held)", async () => {
  const lineBytes = 10 << 20;
  let sent = 0;
  const filler = new Uint8Array(65536).fill(0x37);
  const input = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode("x,y\n1,1\n"));
      if (sent < lineBytes) {
        controller.enqueue(filler);
        sent += filler.length;
      } else {
        controller.enqueue(new TextEncoder().encode("\n2,2\n"));
        controller.close();
      }
    },
  });
  const got: { x: number[]; reasons: string[]; lines: number[] } = { x: [], reasons: [], lines: [] };
  for await (const c of new CsvSource(input, { name: "t.csv" }).chunks(new AbortController().signal)) {
    for (let i = 0; i < c.x.length; i++) {
      const why = c.rejects?.get(i);
      if (why) {
        got.reasons.push(why.reason);
        assert.equal((c.raw(i) as Uint8Array).length, 1024);
      } else got.x.push(c.x[i]);
      got.lines.push(c.lines[i]);
    }
  }
  assert.deepEqual(got, { x: [1, 2], reasons: ["too_large"], lines: [2, 3, 4] });
});

test("CsvSource: binary garbage spoils its own lines only", async () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const parts: Uint8Array[] = [new TextEncoder().encode("x,y\n")];
  const good: number[] = [];
  for (let i = 0; i < 400; i++) {
    if (random() < 0.5) {
      const garbage = Uint8Array.from(
        { length: 1 + Math.floor(random() * 40) },
        () => Math.floor(random() * 256),
      )
        .map((b) => (b === 0x0a ? 0x22 : b)); // quotes, CRs, NULs, but no line end inside
      parts.push(garbage, Uint8Array.of(0x0a));
    } else {
      good.push(i);
      parts.push(new TextEncoder().encode(`${i},${i * 2}\n`));
    }
  }
  const bytes = concatBytes(parts);
  for (const size of [1, 13, 1 << 20]) {
    const { rows, rejects, error } = await readBytes(bytes, size);
    assert.equal(error, undefined);
    // A garbage line may happen to be a valid point (e.g. "5,6"), never anything else; good lines all survive.
    const xs = new Set(rows.map((r) => r.x));
    for (const i of good) assert.ok(xs.has(i), `point ${i} with ${size}-byte reads`);
    assert.equal(rows.length + rejects.length, 400 - countEmpty(bytes));
  }
});

test("CsvSource hands over each line as soon as it is complete (a live producer is not one line late)", async () => {
  const encoder = new TextEncoder();
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
  const chunks = new CsvSource(input, { name: "stdin" }).chunks(new AbortController().signal);
  const iterator = chunks[Symbol.asyncIterator]();
  feed.enqueue(encoder.encode("x,y\n"));
  feed.enqueue(encoder.encode("1,2\n"));
  const first = await iterator.next();
  assert.deepEqual([...(first.value as CsvChunk).x], [1]);
  feed.enqueue(encoder.encode("3,"));
  feed.enqueue(encoder.encode('"4"\r\n'.replace("\r", "")));
  const second = await iterator.next();
  assert.deepEqual([...(second.value as CsvChunk).y], [4]);
  assert.equal((second.value as CsvChunk).where(0), "stdin line 3");
  feed.close();
  assert.equal((await iterator.next()).done, true);
});

test("CsvSource stops reading when the signal aborts", async () => {
  const controller = new AbortController();
  const text = "x,y\n" + Array.from({ length: 1000 }, (_, i) => `${i},${i}`).join("\n");
  let points = 0;
  for await (
    const chunk of new CsvSource(bytePieces(new TextEncoder().encode(text), 100)).chunks(controller.signal)
  ) {
    points += chunk.x.length;
    controller.abort();
  }
  assert.ok(points > 0 && points < 1000);
});
