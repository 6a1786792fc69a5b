import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { CsvSource } from "./csv_source.ts";
import { formatNumber } from "../../model/format_number.ts";
import { PythonRandom } from "../demo/python_random.ts";
import { type ColumnNames, LineReader } from "./line_reader.ts";
import type { CsvChunk } from "./csv_types.ts";

/** A stream of `text`'s bytes in pieces of `size`. */
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

interface Out {
  x: number[];
  y: number[];
  rejects: { line: number; reason: string; detail: string; raw: string | Uint8Array }[];
}

async function read(text: string, size = 1 << 16, pointText = false): Promise<Out> {
  const out: Out = { x: [], y: [], rejects: [] };
  const source = new CsvSource(pieces(text, size), { name: "t.csv", pointText });
  for await (const c of source.chunks(new AbortController().signal)) {
    for (let i = 0; i < c.x.length; i++) {
      const why = c.rejects?.get(i);
      if (why) out.rejects.push({ line: c.lines[i], reason: why.reason, detail: why.detail, raw: c.raw(i) });
      else {
        out.x.push(c.x[i]);
        out.y.push(c.y[i]);
      }
    }
  }
  return out;
}

// --- The double nearest a decimal, checked with exact integer arithmetic (BigInt) ---

/** `d` (finite, ≥ 0) as m·2^k exactly. */
function rational(d: number): [bigint, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const e = Number(bits >> 52n);
  const f = bits & ((1n << 52n) - 1n);
  return e === 0 ? [f, -1074] : [f | (1n << 52n), e - 1075];
}

/** The next double up from `d` as m·2^k (2^1024 past the largest). */
function up(d: number): [bigint, number] {
  if (d === Number.MAX_VALUE) return [1n, 1024];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return rational(view.getFloat64(0));
}

function down(d: number): [bigint, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return rational(view.getFloat64(0));
}

/** The midpoint of two rationals m·2^k, as M·2^K. */
function mid([ma, ka]: [bigint, number], [mb, kb]: [bigint, number]): [bigint, number] {
  const k = Math.min(ka, kb);
  return [(ma << BigInt(ka - k)) + (mb << BigInt(kb - k)), k - 1];
}

/** Sign of n·10^e − m·2^k. */
function compare(n: bigint, e: number, [m, k]: [bigint, number]): number {
  const left = n * 10n ** BigInt(Math.max(e, 0)) * 2n ** BigInt(Math.max(-k, 0));
  const right = m * 2n ** BigInt(Math.max(k, 0)) * 10n ** BigInt(Math.max(-e, 0));
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The double nearest the decimal `text` (ties to even), proved with integers: a candidate is taken from
 * `Number` and accepted only if the decimal lies between its midpoints with its lower and upper
 * neighbours (on a midpoint only if its significand is even). Throws otherwise.
 */
function nearest(text: string): number {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const digits = (match[2] + (match[3] ?? "")).replace(/^0+/, "") || "0";
  const n = BigInt(digits);
  const e = Number(match[4] ?? 0) - (match[3] ?? "").length;
  const candidate = Math.abs(Number(text));
  const sign = match[1] === "-" ? -1 : 1;
  if (n === 0n) return sign * 0;
  const c = rational(candidate);
  const lo = candidate === 0 ? undefined : mid(down(candidate), c);
  const hi = mid(c, up(candidate));
  const even = (c[0] & 1n) === 0n;
  const above = lo === undefined ? 1 : compare(n, e, lo);
  const below = compare(n, e, hi);
  if (above < 0 || below > 0 || ((above === 0 || below === 0) && !even)) {
    throw new Error(`${text}: ${candidate} is not the nearest double`);
  }
  return sign * candidate;
}

const HARD = [
  // 17 and more significant digits
  "1700000000.1234567890123456789",
  "0.30000000000000004",
  "0.3000000000000000444089209850062616169452667236328125",
  "850000000.06156563",
  "123456789012345678901234567890e-20",
  "2.2250738585072011e-308",
  "2.2250738585072012e-308",
  "1.7976931348623157e308",
  "1.7976931348623158e308",
  // subnormals
  "5e-324",
  "4.9406564584124654e-324",
  "2.4703282292062328e-324",
  "1e-310",
  "-1.5e-323",
  "4.4501477170144023e-308",
  // halfway cases (ties to even) and their neighbours
  "9007199254740993",
  "9007199254740995",
  "-9007199254740993",
  "1.00000000000000011102230246251565404236316680908203125",
  "1.00000000000000011102230246251565404236316680908203124",
  "1.00000000000000011102230246251565404236316680908203126",
  "1.000000000000000333066907387546962127089500427246093750",
  "0.5000000000000000277555756156289135105907917022705078125",
  // the fast path's edges: 15 digits and 10^±22, just past them
  "123456789012345e22",
  "123456789012345e-22",
  "1234567890123456e22",
  "1e23",
  "0.0000000000000000000001234",
  "-0",
  "0.000",
];

test("CsvSource reads hard decimals as the double nearest them, plain, quoted and with CRLF", async () => {
  const rows: string[] = ["x,y"];
  for (const h of HARD) rows.push(`${h},${h}`, `"${h}",${h}`, `${h},"${h}"\r`, `${h}, ${h}`);
  for (const [size, pointText] of [[7, false], [1 << 16, false], [7, true], [1 << 16, true]] as const) {
    const out = await read(rows.join("\n") + "\n", size, pointText);
    assert.deepEqual(out.rejects, []);
    assert.equal(out.x.length, HARD.length * 4);
    for (let i = 0; i < out.x.length; i++) {
      const want = nearest(HARD[i >> 2]);
      assert.ok(Object.is(out.x[i], want), `x of ${HARD[i >> 2]}: ${out.x[i]}, not ${want}`);
      assert.ok(Object.is(out.y[i], want), `y of ${HARD[i >> 2]}: ${out.y[i]}, not ${want}`);
    }
  }
});

test("CsvSource rejects decimals beyond a double alike on the fast path and through csv-parse", async () => {
  const cases = [
    ["1e-400", "out_of_range", 'x is "1e-400": too small for a double (it would read as 0)'],
    [
      "2.4703282292062327e-324",
      "out_of_range",
      'x is "2.4703282292062327e-324": too small for a double (it would read as 0)',
    ],
    ["1e400", "overflow", 'x is "1e400": too large for a double (it would read as Infinity)'],
    [
      "1.7976931348623159e308",
      "overflow",
      'x is "1.7976931348623159e308": too large for a double (it would read as Infinity)',
    ],
    ["-1e400", "overflow", 'x is "-1e400": too large for a double (it would read as -Infinity)'],
  ];
  const text = "x,y\n" + cases.map(([v]) => `${v},1\n"${v}",1\n`).join("");
  for (const pointText of [false, true]) {
    const out = await read(text, 1 << 16, pointText);
    assert.equal(out.x.length, 0);
    assert.deepEqual(
      out.rejects,
      cases.flatMap(([v, reason, detail], k) => [
        { line: 2 + 2 * k, reason, detail, raw: `${v},1` },
        { line: 3 + 2 * k, reason, detail, raw: `"${v}",1` },
      ]),
    );
  }
});

test("CsvSource with pointText: each point's text is x,y as formatNumber writes them, or none", async () => {
  const values = [...HARD, "1700000000.123", "850000001.3153778", "0.1", "1.50", "+2", ".5", "1e3", "7"];
  const rows = ["x,y,diff"];
  for (const a of values) for (const b of ["2.5", "0.30000000000000004", "3.0"]) rows.push(`${a},${b},1`);
  rows.push('"1",2,1', "1,2,-1", "4,5", "0.25,0.5,1\r");
  const text = rows.join("\n") + "\n";
  for (const size of [5, 1 << 16]) {
    let withText = 0;
    let shouldHave = 0;
    let points = 0;
    const source = new CsvSource(pieces(text, size), { name: "t.csv", pointText: true });
    for await (const c of source.chunks(new AbortController().signal)) {
      const texts = c.texts!;
      assert.equal(texts.block.length, c.x.length);
      for (let i = 0; i < c.x.length; i++) {
        if (c.rejects?.has(i)) continue;
        points++;
        const b = texts.block[i];
        const expected = `${formatNumber(c.x[i])},${formatNumber(c.y[i])}`;
        const line = String(c.raw!(i));
        const written = line.startsWith(`${expected},`) && !expected.includes("e");
        if (written) shouldHave++;
        if (b < 0) { // (none: the log formats the numbers)
          assert.ok(!written || line.startsWith('"'), `line ${c.lines[i]} "${line}" should have its text`);
          continue;
        }
        withText++;
        const got = new TextDecoder().decode(texts.blocks[b].subarray(texts.start[i], texts.end[i]));
        assert.equal(got, expected, `line ${c.lines[i]}`);
      }
    }
    assert.equal(withText, shouldHave, `${withText} of ${points} points had their text`);
    assert.ok(withText >= 10);
  }
  // A block that is not all ASCII (text positions are not byte positions there): no texts in it.
  const source = new CsvSource(pieces("x,y,note\n1,2,é\n", 64), { name: "t.csv", pointText: true });
  for await (const c of source.chunks(new AbortController().signal)) {
    assert.deepEqual([...c.texts!.block], [-1]);
  }
  // Other column orders, or several x: no texts.
  for (const [header, options] of [["y,x", {}], ["x1,x2,y", { xs: ["x1", "x2"] }]] as const) {
    const source = new CsvSource(pieces(`${header}\n1,2,3\n`, 64), {
      name: "t.csv",
      pointText: true,
      ...options,
    });
    for await (const c of source.chunks(new AbortController().signal)) assert.equal(c.texts, undefined);
  }
});

// Speed lives in bench/csv_bench.ts (side-by-side ratios), not in a timed test; this checks the values.
test("CsvSource reads a data file to the same doubles as a bare indexOf + parseFloat loop", async () => {
  const lines = ["x,y"];
  for (let i = 0; i < 200_000; i++) {
    const x = (1_700_000_000_000 + 37 * i) / 1000;
    lines.push(`${x},${0.5 * x + Math.sin(i)}`);
  }
  const text = lines.join("\n") + "\n";
  const expected: number[] = [];
  for (let i = text.indexOf("\n") + 1; i < text.length;) {
    const lf = text.indexOf("\n", i);
    const comma = text.indexOf(",", i);
    expected.push(parseFloat(text.slice(i, comma)), parseFloat(text.slice(comma + 1, lf)));
    i = lf + 1;
  }
  const got: number[] = [];
  const source = new CsvSource(pieces(text, 1 << 16), { name: "t.csv" });
  for await (const c of source.chunks(new AbortController().signal)) {
    for (let i = 0; i < c.x.length; i++) got.push(c.x[i], c.y[i]);
  }
  assert.equal(got.length, expected.length);
  for (let i = 0; i < got.length; i++) {
    assert.ok(Object.is(got[i], expected[i]), `value ${i}: ${got[i]} ≠ ${expected[i]}`);
  }
});

test("LineReader: the byte path gives what the general way gives, line by line, for any mix of lines", () => {
  const random = new PythonRandom(5);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.random() * list.length)];
  const numbers = [
    "1",
    "-2.5",
    "1700000000.064",
    "849999995.8970132",
    "0.30000000000000004",
    "1.50",
    "+3",
    ".5",
    "1e5",
    "1e-400",
    "1e400",
    "12345678901234567890",
    "",
    " 7",
    "abc",
    "é",
    '"4"',
    "9007199254740993",
    "4.9e-324",
  ];
  const headers = ["x,y", "x,y,diff", "y,x", "a,x,b,y", "x,y,note", "\ufeffx,y"];
  const encoder = new TextEncoder();
  for (let t = 0; t < 300; t++) {
    const header = pick(headers);
    const names = header.replace("\ufeff", "").split(",");
    const lines = [header];
    const count = 1 + Math.floor(random.random() * 30);
    for (let k = 0; k < count; k++) {
      const kind = random.random();
      if (kind < 0.05) lines.push("");
      else if (kind < 0.1) lines.push("1,2,3,4,5");
      else if (kind < 0.15) lines.push("1");
      else if (kind < 0.2) lines.push('"1,2"');
      else {
        const fields = names.map((name) =>
          name === "diff"
            ? pick(["1", "-1", "2", " 1", ""])
            : name === "note" || name === "a" || name === "b"
            ? pick(["n", "", "é", '"q,r"', "z\rz"])
            : random.random() < 0.7
            ? pick(numbers.slice(0, 5))
            : pick(numbers)
        );
        lines.push(fields.join(","));
      }
    }
    const ends = ["\n", "\r\n"];
    let text = lines.map((line) => line + pick(ends)).join("");
    if (random.random() < 0.2) text = text.slice(0, -1); // no LF at the end (a CR may stay)
    const bytes = encoder.encode(text);
    const size = pick([1, 3, 7, 64, 1 << 16]);
    const max = pick([1 << 20, 12]);
    const results = [true, false].map((bytePath) =>
      [false, true].map((pointText) => {
        const reader = new LineReader("t.csv", { x: "x", y: "y", diff: "diff" }, max, undefined, {
          pointText,
          bytePath,
        });
        const got: unknown[] = [];
        try {
          for (let off = 0; off < bytes.length; off += size) {
            reader.feed(bytes.slice(off, off + size));
            got.push(describe(reader.take()));
          }
          reader.end();
          got.push(describe(reader.take()), reader.endWithoutLf);
        } catch (error) {
          got.push(String(error));
        }
        return got;
      })
    );
    assert.deepEqual(results[0], results[1], JSON.stringify(text));
  }
});

test("LineReader: the byte path gives what the general way gives with several x, keys and times", () => {
  const random = new PythonRandom(7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.random() * list.length)];
  const numbers = ["1", "-2.5", "1700000000.064", "0.30000000000000004", "1.50", "+3", "1e5", "", " 7", "é"];
  const times = [
    "1764669600000",
    "1764669600.5",
    "-5",
    "0",
    "8640000000000000",
    "8640000000000001",
    "9e15",
    "",
    " 12",
    "abc",
    "2026-12-02T10:00:00Z",
  ];
  const keys = ["s1", "sensor-7", "a b", " s", "", "é", "k\u0000z", '"q"', "12", "1700000000.064"];
  const configs: { header: string; names: ColumnNames }[] = [
    { header: "x,y,k", names: { x: "x", y: "y", diff: "diff", keys: ["k"] } },
    { header: "k,x,y,diff", names: { x: "x", y: "y", diff: "diff", keys: ["k"] } },
    { header: "x,y,k,k2", names: { x: "x", y: "y", diff: "diff", keys: ["k", "k2"] } },
    { header: "ts,x,y", names: { x: "x", y: "y", diff: "diff", time: { column: "ts", format: "ms" } } },
    {
      header: "x,y,ts,k",
      names: { x: "x", y: "y", diff: "diff", keys: ["k"], time: { column: "ts", format: "s" } },
    },
    {
      header: "ts,y,k",
      names: { x: "ts", y: "y", diff: "diff", keys: ["k"], time: { column: "ts", format: "ms" } },
    },
    { header: "x,y,ts", names: { x: "x", y: "y", diff: "diff", time: { column: "ts", format: "iso" } } },
    { header: "x1,x2,x3,y", names: { x: "x1", xs: ["x1", "x2", "x3"], y: "y", diff: "diff" } },
    { header: "x1,x2,y,diff", names: { x: "x1", xs: ["x1", "x2"], y: "y", diff: "diff" } },
    { header: "k,x2,x1,y,note", names: { x: "x1", xs: ["x1", "x2"], y: "y", diff: "diff", keys: ["k"] } },
    {
      header: "x1,x2,y,diff,k,ts",
      names: {
        x: "x1",
        xs: ["x1", "x2"],
        y: "y",
        diff: "diff",
        keys: ["k"],
        time: { column: "ts", format: "ms" },
      },
    },
  ];
  const encoder = new TextEncoder();
  for (let t = 0; t < 300; t++) {
    const { header, names } = pick(configs);
    const columns = header.split(",");
    const lines = [header];
    const count = 1 + Math.floor(random.random() * 30);
    for (let k = 0; k < count; k++) {
      const kind = random.random();
      if (kind < 0.05) lines.push("");
      else if (kind < 0.1) lines.push("1,2,3,4,5,6,7");
      else if (kind < 0.15) lines.push("1");
      else {
        const fields = columns.map((name) =>
          name === "diff"
            ? pick(["1", "-1", "1", "2", " 1", ""])
            : name === "note"
            ? pick(["n", "", "é", '"q,r"', "z\rz"])
            : name === "k" || name === "k2"
            ? random.random() < 0.7 ? pick(keys.slice(0, 2)) : pick(keys)
            : name === "ts" && names.time !== undefined
            ? names.time.format === "iso" || random.random() < 0.4 ? pick(times) : pick(times.slice(0, 2))
            : random.random() < 0.7
            ? pick(numbers.slice(0, 4))
            : pick(numbers)
        );
        lines.push(fields.join(","));
      }
    }
    const ends = ["\n", "\r\n"];
    let text = lines.map((line) => line + pick(ends)).join("");
    if (random.random() < 0.2) text = text.slice(0, -1); // no LF at the end (a CR may stay)
    const bytes = encoder.encode(text);
    const size = pick([1, 3, 7, 64, 1 << 16]);
    const max = pick([1 << 20, 12]);
    const results = [true, false].map((bytePath) =>
      [false, true].map((pointText) => {
        const reader = new LineReader("t.csv", names, max, undefined, { pointText, bytePath });
        const got: unknown[] = [];
        try {
          for (let off = 0; off < bytes.length; off += size) {
            reader.feed(bytes.slice(off, off + size));
            got.push(describe(reader.take()));
          }
          reader.end();
          got.push(describe(reader.take()), reader.endWithoutLf);
        } catch (error) {
          got.push(String(error));
        }
        return got;
      })
    );
    assert.deepEqual(results[0], results[1], JSON.stringify(text));
  }
});

/**
 * Everything a chunk says, as plain values; a point's text, where it has one, must be x,y as
 * `formatNumber` writes them (a whole block decoded gives none when the block is not all ASCII, the byte
 * path gives it for each ASCII line: the input log writes the same bytes either way).
 */
function describe(c: CsvChunk): unknown {
  const rows = [];
  if (c.texts !== undefined) assert.equal(c.texts.block.length, c.x.length);
  for (let i = 0; i < c.x.length; i++) {
    const b = c.texts?.block[i] ?? -1;
    if (b >= 0) {
      const text = new TextDecoder().decode(c.texts!.blocks[b].subarray(c.texts!.start[i], c.texts!.end[i]));
      assert.equal(text, `${formatNumber(c.x[i])},${formatNumber(c.y[i])}`);
    }
    rows.push({
      ...(c.xs ? { xs: c.xs.map((column) => column[i]) } : {}),
      ...(c.keys ? { key: c.keys[i] } : {}),
      ...(c.times ? { time: c.times[i] } : {}),
      x: c.x[i],
      y: c.y[i],
      diff: c.diff[i],
      line: c.lines[i],
      end: c.ends[i],
      reject: c.rejects?.get(i),
      raw: c.raw(i),
      origin: c.origin(i),
    });
  }
  return rows;
}
