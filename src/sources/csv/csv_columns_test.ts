// The CSV file source with several x columns: every x column is read (fast path and csv-parse alike), in
// order, and a bad field is rejected with today's reasons, naming its column.
import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { CsvSource, type CsvSourceOptions } from "./csv_source.ts";
import { joinKey } from "../../model/keys.ts";

async function read(text: string, options: CsvSourceOptions, piece = 7) {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (off >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(off, off + piece));
      off += piece;
    },
  });
  const rows: (number[] | string)[] = [];
  for await (
    const chunk of new CsvSource(stream, { name: "t.csv", ...options }).chunks(new AbortController().signal)
  ) {
    const xs = chunk.xs;
    if (options.xs !== undefined && options.xs.length > 1) {
      assert.ok(xs !== undefined && xs.length === options.xs.length && xs[0] === chunk.x);
    } else assert.equal(xs, undefined);
    for (let i = 0; i < chunk.x.length; i++) {
      const why = chunk.rejects?.get(i);
      rows.push(
        why
          ? `line ${chunk.lines[i]}: ${why.reason}: ${why.detail}`
          : [...(xs ?? [chunk.x]).map((x) => x[i]), chunk.y[i], chunk.diff[i]],
      );
    }
  }
  return rows;
}

const TEXT = [
  "note,x2,y,x1,x3,diff",
  "a,2,3,1,4,1",
  '"q, r",20,30,10,40,-1', // quotes: csv-parse
  "b,2.5e-3,-0,0x1,5,1", // 0x1: Number's hexadecimal, as for one x
  "c,abc,3,1,4,1",
  "d,2,3,,4,1",
  "e,2,3,1,1e400,1",
  "f,2,3,1,1e-400,1",
  "g,2,zz,1,4,1",
  "h,2,3,1,4,2",
  "i,2,3,1,4",
  '"j",2,3,1,"x",1',
  "k,NaN,3,1,4,1",
].join("\n") + "\n";

const EXPECTED = [
  [1, 2, 4, 3, 1],
  [10, 20, 40, 30, -1],
  [1, 0.0025, 5, -0, 1],
  'line 5: not_a_number: x2 is "abc", not a number',
  "line 6: empty_field: x1 is empty: every point needs a number",
  'line 7: overflow: x3 is "1e400": too large for a double (it would read as Infinity)',
  'line 8: out_of_range: x3 is "1e-400": too small for a double (it would read as 0)',
  'line 9: not_a_number: y is "zz", not a number',
  'line 10: bad_diff: diff is "2": it must be 1 (add the point) or -1 (retract it)',
  "line 11: missing_column: 5 fields where the header has 6",
  'line 12: not_a_number: x3 is "x", not a number',
  [1, NaN, 4, 3, 1],
];

test("CsvSource: several x columns are read in the order of --x, in any piece sizes", async () => {
  for (const piece of [1, 7, 1000]) {
    const rows = await read(TEXT, { xs: ["x1", "x2", "x3"] }, piece);
    assert.deepEqual(rows, EXPECTED, `pieces of ${piece}`);
  }
});

test("CsvSource: one x column keeps its chunks (no xs) and reads as before", async () => {
  const rows = await read("x,y\n1,2\n3,abc\n", { xs: ["x"] });
  assert.deepEqual(rows, [[1, 2, 1], 'line 3: not_a_number: y is "abc", not a number']);
});

test("CsvSource: a header without one of the x columns stops the run, naming it", async () => {
  await assert.rejects(
    read("x1,x3,y\n1,2,3\n", { xs: ["x1", "x2", "x3"] }),
    /t\.csv line 1: no column "x2" in the header "x1,x3,y": name the x and y columns with --x and --y/,
  );
});

test("csv several x: records read in one pass (every field a plain number) and the others agree", async () => {
  // No diff and no text column: plain lines take the one-pass reader; a bad or long number sends its line
  // (and, for the rest of its block, the lines after it) the general way; the numbers are the same.
  const lines = [
    "x2,y,x1",
    "2,3,1",
    "1.25,-7e-3,0.5",
    "2.5,1e22,-0",
    "0.06888437030500963,2,3",
    "x,1,2",
    "4,5,6",
  ];
  for (const piece of [3, 7, 1 << 16]) {
    const rows = await read(lines.join("\n") + "\n", { xs: ["x1", "x2"], y: "y" }, piece);
    assert.deepEqual(rows.slice(0, 4), [
      [1, 2, 3, 1],
      [0.5, 1.25, -7e-3, 1],
      [-0, 2.5, 1e22, 1],
      [3, 0.06888437030500963, 2, 1],
    ]);
    assert.ok(Object.is((rows[2] as number[])[0], -0));
    assert.match(rows[4] as string, /^line 6: not_a_number: x2 is "x"/);
    assert.deepEqual(rows[5], [6, 4, 5, 1]);
  }
});

test("CsvSource: several x columns with key and time columns, fast path and csv-parse alike", async () => {
  const text = [
    "ts,x2,site,y,x1,sensor,diff",
    "5000,2,n,3,1,s1,1",
    '6000,20,"n",30,10,"s,2",-1', // quotes: csv-parse
    "7000,2,n,3,1,,1", // an empty key field
    "oops,2,n,3,1,s1,1",
    "8000,4,m,5,6,s3,1",
  ].join("\n") + "\n";
  for (const piece of [1, 7, 1000]) {
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (off >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(off, off + piece));
        off += piece;
      },
    });
    const source = new CsvSource(stream, {
      name: "t.csv",
      xs: ["x1", "x2"],
      keys: ["sensor", "site"],
      time: { column: "ts", format: "ms" },
    });
    const rows: unknown[] = [];
    for await (const chunk of source.chunks(new AbortController().signal)) {
      for (let i = 0; i < chunk.y.length; i++) {
        const why = chunk.rejects?.get(i);
        rows.push(
          why
            ? why.reason
            : [chunk.keys![i], chunk.times![i], chunk.xs![0][i], chunk.xs![1][i], chunk.y[i], chunk.diff[i]],
        );
      }
    }
    assert.deepEqual(rows.map((r) => Array.isArray(r) ? [JSON.stringify(r[0]), ...r.slice(1)] : r), [
      [JSON.stringify(joinKey(["s1", "n"])), 5000, 1, 2, 3, 1],
      [JSON.stringify(joinKey(["s,2", "n"])), 6000, 10, 20, 30, -1],
      "missing_key",
      "bad_time",
      [JSON.stringify(joinKey(["s3", "m"])), 8000, 6, 4, 5, 1],
    ], `pieces of ${piece}`);
  }
});
