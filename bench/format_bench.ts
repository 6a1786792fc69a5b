/**
 * Micro benchmark: nanoseconds per number to write 10^6 fit-like doubles (intercepts and slopes: results
 * of divisions, 16–17 significant digits; half of them near 10^3, half near 10^-3) as text into a byte
 * buffer, side by side in one run: `String(n)` alone; `formatNumber` and a copy of its characters (what
 * `CsvWriter.appendNumber` did before the core formatted numbers); the core's `NumberText.write`
 * (`src/core/number_text.ts`, one call into WebAssembly per number); and `CsvWriter.appendNumber` both
 * ways, in turn round by round. Each is the best of `--rounds` rounds (default 7) in CPU time (user + system, as
 * `process.cpuUsage` gives it); the texts are checked to be the same bytes.
 * Then the keyed result log (`ResultLog` with `keys`) writing 10 batches of 63 000 changed keys (a −1 and
 * a +1 row each, as a run of 10^6 points over 10^5 keys writes, 1.26·10^6 rows), both ways: ns per row.
 *
 * Run: `./node_modules/deno/deno run --allow-read bench/format_bench.ts [--numbers N] [--rounds R]`
 *  or  `node_modules/.bin/bun run bench/format_bench.ts [...]`
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { NUMBER_TEXT_BYTES, NumberText, shareNumberText } from "../src/core/number_text.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { CsvWriter } from "../src/sinks/csv_writer.ts";
import { ResultLog } from "../src/sinks/result_log.ts";
import type { KeyChange } from "../src/model/sink.ts";

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    numbers: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "7" },
  },
});
const n = Number(flags.numbers), rounds = Number(flags.rounds);
if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(rounds) || rounds < 1) {
  console.error("format_bench: --numbers and --rounds must be integers ≥ 1");
  process.exit(2);
}

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const runtime = g.Deno ? `Deno ${g.Deno.version.deno}` : `Bun ${g.Bun?.version}`;
const numbers = await NumberText.load(await readFile(new URL("../build/streamreg.wasm", import.meta.url)));

let seed = 7;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const values = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const scale = i % 2 === 0 ? 1e3 : 1e-3; // an intercept, a slope
  values[i] = scale * (random() * 2 - 1 + random() / 3) / (0.5 + random());
}

const buffer = new Uint8Array(n * (NUMBER_TEXT_BYTES + 1));

/** The process's CPU milliseconds (user + system, all threads): steadier than wall time on a shared machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms of one call of `body` (which returns a checksum, so nothing is optimised away). */
let sink = 0;
function cpuOf(body: () => number): number {
  const start = cpuMs();
  sink += body();
  return cpuMs() - start;
}

const stringOnly = () => {
  let length = 0;
  for (let i = 0; i < n; i++) length += String(values[i]).length;
  return length;
};
const stringCopy = () => {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const text = formatNumber(values[i]);
    for (let k = 0; k < text.length; k++) buffer[at++] = text.charCodeAt(k);
    buffer[at++] = 0x2c;
  }
  return at;
};
const wasmWrite = () => {
  let at = 0;
  for (let i = 0; i < n; i++) {
    at = numbers.write(values[i], buffer, at);
    buffer[at++] = 0x2c;
  }
  return at;
};
/** A CsvWriter into a stream that drops what it gets, flushed every MiB as the change logs are. */
const writer = (options: { numbers?: NumberText }) => () => {
  const out = new CsvWriter(new WritableStream({ write() {} }), [], options);
  let total = 0;
  for (let i = 0; i < n; i++) {
    out.appendNumber(values[i], 0x2c);
    if (out.pending > 1 << 20) {
      total += out.pending;
      void out.flush(); // (the buffer is handed over at once; the write completes later)
    }
  }
  return total + out.pending;
};

// the same bytes both ways
const viaString = buffer.slice(0, stringCopy());
const viaWasm = buffer.slice(0, wasmWrite());
if (viaString.length !== viaWasm.length || viaString.some((b, i) => b !== viaWasm[i])) {
  console.error("format_bench: the core's text differs from String(n)");
  process.exit(1);
}

// every way once per round, in turn (the same load for all); the best round of each
const ways: [string, () => number][] = [
  ["String(n) alone", stringOnly],
  ["formatNumber + copy into bytes", stringCopy],
  ["NumberText.write into bytes (WASM)", wasmWrite],
  ["CsvWriter.appendNumber, formatNumber", writer({})],
  ["CsvWriter.appendNumber, NumberText", writer({ numbers })],
];
const best = ways.map(() => Infinity);
for (let r = 0; r < rounds; r++) ways.forEach(([, body], k) => best[k] = Math.min(best[k], cpuOf(body)));
if (sink === -1) console.log(sink);
const rows = ways.map(([name], k) => [name, best[k] * 1e6 / n] as const);
console.log(`${runtime}: ${n} fit-like doubles, best of ${rounds} rounds, CPU ns per number`);
for (const [name, ns] of rows) console.log(`  ${name.padEnd(40)} ${ns.toFixed(1).padStart(7)}`);

// The keyed result log: 10 batches of 63 000 key changes, each a -1 row and a +1 row of 2 numbers.
const BATCHES = 10, CHANGES = 63_000;
const batches = Array.from({ length: BATCHES }, (_, b) => {
  const keys: KeyChange[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const v = ((b * CHANGES + k) * 4) % (n - 3); // (no number twice in a row: the runtimes cache String(n))
    keys.push({
      key: `sensor-${k}`,
      old: { a: values[v], b: values[v + 1] },
      line: { a: values[v + 2], b: values[v + 3] },
    });
  }
  return {
    time: 1_700_000_000_000 + b,
    points: [],
    accepted: 0,
    refused: 0,
    count: 0,
    line: undefined,
    keys,
  };
});
/** CPU ms of one keyed result log, its CsvWriter with `shared` (or formatNumber), and the bytes written. */
async function resultLog(shared: NumberText | undefined): Promise<{ ms: number; bytes: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  shareNumberText(shared); // (what a run does in cli/main.ts; the ResultLog's writer takes it)
  const log = new ResultLog(new WritableStream({ write: (c) => void chunks.push(c) }), { keys: ["sensor"] });
  shareNumberText(undefined);
  const start = cpuMs();
  for (const batch of batches) await log.write(batch);
  const ms = cpuMs() - start;
  await log.close();
  const bytes = new Uint8Array(chunks.reduce((t, c) => t + c.length, 0));
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
  return { ms, bytes };
}

// both ways in turn, round by round (the same load for both); the best round of each
const before: number[] = [], after: number[] = [];
for (let r = 0; r < rounds; r++) {
  const old = await resultLog(undefined);
  const core = await resultLog(numbers);
  if (old.bytes.length !== core.bytes.length || old.bytes.some((b, i) => b !== core.bytes[i])) {
    console.error("format_bench: the keyed result log differs with the core's numbers");
    process.exit(1);
  }
  before.push(old.ms);
  after.push(core.ms);
}
const perRow = (ms: number[]) => (Math.min(...ms) * 1e6 / (BATCHES * CHANGES * 2)).toFixed(1).padStart(7);
console.log(`  ${"ResultLog keyed rows, formatNumber".padEnd(40)} ${perRow(before)}  (per row)`);
console.log(`  ${"ResultLog keyed rows, NumberText".padEnd(40)} ${perRow(after)}  (per row)`);
