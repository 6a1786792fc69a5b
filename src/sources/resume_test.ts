import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { type CsvChunk, CsvSource } from "./csv/csv_source.ts";
import { DemoSource } from "./demo/demo_source.ts";

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

interface Seen {
  line: number;
  end: number;
  text: string;
}

/** Every record (point or rejected) of a CSV source, with its line, end offset and x/y/diff or reason. */
async function records(source: CsvSource): Promise<{ records: Seen[]; chunks: CsvChunk[] }> {
  const out: Seen[] = [];
  const chunks: CsvChunk[] = [];
  for await (const c of source.chunks(new AbortController().signal)) {
    chunks.push(c);
    for (let i = 0; i < c.x.length; i++) {
      const why = c.rejects?.get(i);
      out.push({
        line: c.lines[i],
        end: c.ends[i],
        text: why ? why.reason : `${c.x[i]},${c.y[i]},${c.diff[i]}`,
      });
    }
  }
  return { records: out, chunks };
}

const encoder = new TextEncoder();

function sample(final: string): Uint8Array {
  const parts: Uint8Array[] = [
    encoder.encode("\uFEFFx,y,diff\r\n\r\n"),
    encoder.encode('1,2,1\n2,3,1\r\n\n3,oops,1\n"4,5,1\n'),
    Uint8Array.of(0x35, 0x2c, 0xff, 0x2c, 0x31, 0x0a), // 5,\xFF,1: not UTF-8
    encoder.encode(`6,${"7".repeat(80)},1\n`), // too large (max 40)
    encoder.encode("é,1,1\n8,9,-1\n1,2,-1\n10,11,2\n"),
    encoder.encode(`${"9".repeat(100)}`), // too large and not ended, then more
    encoder.encode("\n12,13,1\n14,15,1"),
    encoder.encode(final),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

test("CsvSource: resuming after any record, read in any pieces, yields exactly the records after it", async () => {
  for (const final of ["", "\n", "\r\n", "\n\n"]) {
    const bytes = sample(final);
    const source = new CsvSource(bytePieces(bytes, 7), { name: "t.csv", maxRecordBytes: 40 });
    const whole = await records(source);
    assert.equal(whole.records.length, 13, JSON.stringify(whole.records));
    const lastEnd = whole.records.at(-1)!.end;
    assert.equal(
      lastEnd,
      final === "" ? bytes.length : bytes.indexOf(0x0a, bytes.length - final.length) + 1,
    );
    for (const [r, record] of whole.records.entries()) {
      // The end offset is right after the record's line.
      if (record.end < bytes.length || final !== "") assert.equal(bytes[record.end - 1], 0x0a, `record ${r}`);
      // What the source says after a batch ending with record r.
      let seen = 0;
      const chunk = whole.chunks.find((c) => (seen += c.x.length) > r)!;
      const index = r - (seen - chunk.x.length);
      const position = source.position({ time: 0, spans: [{ chunk, start: 0, end: index + 1 }] });
      assert.deepEqual(position, {
        offset: record.end,
        line: record.line,
        header: "x,y,diff",
        lf: !(final === "" && r === whole.records.length - 1),
      });
      for (const size of [1, 3, 1000]) {
        const resumed: CsvSource = new CsvSource(
          bytePieces(bytes.subarray(CsvSource.startByte(position)), size),
          {
            name: "t.csv",
            maxRecordBytes: 40,
            resume: CsvSource.checkPosition(JSON.parse(JSON.stringify(position))),
          },
        );
        assert.equal(resumed.retractions, true);
        const rest = await records(resumed);
        assert.deepEqual(rest.records, whole.records.slice(r + 1), `after record ${r}, pieces of ${size}`);
      }
    }
  }
});

test("CsvSource: a resumed input that is shorter or changed is refused; no diff column means no retractions", async () => {
  const bytes = encoder.encode("x,y\n1,2\n3,4\n5,6\n");
  const position = { offset: 12, line: 3, header: "x,y", lf: true };
  const read = (input: Uint8Array) =>
    records(new CsvSource(bytePieces(input, 4), { name: "p.csv", resume: position }));
  assert.deepEqual((await read(bytes.subarray(11))).records, [{ line: 4, end: 16, text: "5,6,1" }]);
  const message =
    /p\.csv does not match the checkpoint: line 3 should end at byte 12, but the file is shorter or was changed/;
  await assert.rejects(read(bytes.subarray(10)), message);
  await assert.rejects(read(new Uint8Array(0)), message);
  assert.throws(
    () => CsvSource.checkPosition({ offset: -1, line: 1, header: "x,y", lf: true }),
    /not a CSV position/,
  );

  const plain = new CsvSource(bytePieces(bytes, 100));
  assert.equal(plain.retractions, true, "unknown until the header is read");
  for await (const _ of plain.chunks(new AbortController().signal)) assert.equal(plain.retractions, false);
});

test("DemoSource: resuming at a point index gives the same points as the uninterrupted stream; position follows spans", async () => {
  const options = { rows: 500, rate: 0, seed: 4, slope: 2, noise: 0.7, chunkSize: 37 };
  const all = [];
  for await (const c of new DemoSource(options).chunks(new AbortController().signal)) all.push(c);
  const ys = all.flatMap((c) => [...c.y]);
  for (const start of [0, 1, 36, 37, 250, 499, 500]) {
    const rest = [];
    const source = new DemoSource({ ...options, start });
    assert.equal(source.retractions, false);
    for await (const c of source.chunks(new AbortController().signal)) rest.push(c);
    assert.deepEqual(rest.flatMap((c) => [...c.y]), ys.slice(start));
    assert.deepEqual(rest.flatMap((c) => [...c.x]), ys.slice(start).map((_, i) => start + i));
    if (rest.length > 0) {
      const c = rest[0];
      assert.deepEqual(source.position({ time: 1, spans: [{ chunk: c, start: 0, end: 5 }] }), {
        next: start + 5,
      });
    }
  }
  assert.throws(() => new DemoSource({ start: -1 }), /start must be an integer ≥ 0/);
});
