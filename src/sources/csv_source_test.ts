import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { type CsvChunk, CsvSource, parseNumber } from "./csv_source.ts";

/** A byte stream of `text` cut into pieces of `size` bytes. */
function pieces(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(off, off + size));
      off += size;
    },
  });
}

interface Row {
  x: number;
  y: number;
  diff: number;
  line: number;
}

async function read(text: string, size: number, options = {}): Promise<{ rows: Row[]; error?: string }> {
  const rows: Row[] = [];
  try {
    const source = new CsvSource(pieces(text, size), { name: "t.csv", ...options });
    for await (const c of source.chunks(new AbortController().signal)) {
      for (let i = 0; i < c.x.length; i++) {
        rows.push({ x: c.x[i], y: c.y[i], diff: c.diff[i], line: c.lines[i] });
      }
    }
  } catch (error) {
    return { rows, error: (error as Error).message };
  }
  return { rows };
}

/** Reads `text` cut at every piece size from 1 to 9 bytes and whole; all must agree. */
async function readAllWays(text: string, options = {}): Promise<{ rows: Row[]; error?: string }> {
  const whole = await read(text, 1 << 20, options);
  for (let size = 1; size <= 9; size++) {
    const cut = await read(text, size, options);
    assert.equal(cut.error, whole.error, `error with ${size}-byte pieces`);
    if (!whole.error) assert.deepEqual(cut.rows, whole.rows, `rows with ${size}-byte pieces`);
  }
  return whole;
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
  assert.equal(parseNumber(" 2.5 "), 2.5);
  assert.equal(parseNumber(""), undefined);
  assert.equal(parseNumber("  "), undefined);
  assert.equal(parseNumber("1,5"), undefined);
});

test("CsvSource errors name the input and the line, and points before them still arrive", async () => {
  const cases: [string, RegExp, number][] = [
    ["x,y\n1,2\n3,abc\n", /^t\.csv line 3: y is "abc", not a number$/, 1],
    ["x,y\n1,2\n,4\n", /^t\.csv line 3: x is empty: every point needs a number$/, 1],
    [
      "\n\nx,y\n1,2\n3,4,5\n",
      /^t\.csv line 5: 3 fields where the header has 2: fix the line or the header$/,
      1,
    ],
    [
      "x,y,diff\n1,2,1\n1,2,2\n",
      /^t\.csv line 3: diff is "2": it must be 1 \(add the point\) or -1 \(retract it\)$/,
      1,
    ],
    [
      "a,b\n1,2\n",
      /^t\.csv line 1: no column "x" in the header "a,b": name the x and y columns with --x and --y$/,
      0,
    ],
    ['x,y\n1,2\n3,"4\n', /^t\.csv: Quote Not Closed: .* at line 3$/, 1],
    ['x,y\n1,2\n"3"x,4\n', /^t\.csv: Invalid Closing Quote: got "x" at line 3/, 1],
    ["", /^t\.csv is empty: expected a header line naming the columns, such as "x,y"$/, 0],
  ];
  for (const [text, message, points] of cases) {
    const whole = await read(text, 1 << 20);
    assert.match(whole.error ?? "(no error)", message);
    assert.equal(whole.rows.length, points, text);
    for (let size = 1; size <= 5; size++) assert.match((await read(text, size)).error ?? "", message);
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
  for await (const chunk of new CsvSource(pieces(text, 100)).chunks(controller.signal)) {
    points += chunk.x.length;
    controller.abort();
  }
  assert.ok(points > 0 && points < 1000);
});
