/**
 * `--key`: one exact line per key, from a CSV file, under Deno and Bun. Every key's last line in the
 * result change log is the exact least-squares line of that key's points (an independent BigInt
 * reference), whatever the batch size; batches write rows only for the keys they changed; retractions,
 * keys with one point, keys emptied by retraction, several key columns, bad keys and --max-keys.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { test } from "./harness.ts";
import { runCli, type Runner } from "./cli_helpers.ts";
import { exactFit } from "./exact_reference.ts";
import { PythonRandom } from "../src/sources/demo/python_random.ts";
import { formatNumber } from "../src/model/format_number.ts";

const RUNNERS: Runner[] = ["deno", "bun"];

const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-keys-"));

/** The standing line of each key after the whole log: replays -1/+1 rows. */
function standing(rows: string[][], keyWidth: number): Map<string, [string, string]> {
  const lines = new Map<string, [string, string]>();
  for (const row of rows) {
    const key = JSON.stringify(row.slice(0, keyWidth));
    const [a, b] = row.slice(keyWidth, keyWidth + 2);
    if (row.at(-1) === "1") {
      assert.ok(!lines.has(key), `a +1 row for ${key} while its line stands`);
      lines.set(key, [a, b]);
    } else {
      assert.deepEqual(lines.get(key), [a, b], `the -1 row of ${key} retracts its standing line`);
      lines.delete(key);
    }
  }
  return lines;
}

test("cli --key: every key's line is the exact fit of its points, whatever the batch size, with retractions", async () => {
  const dir = await tempDir();
  const random = new PythonRandom(4);
  const keys = ["s1", "s2", "s3", "a,b", 'q"t', " sp", "one"];
  const rows: string[] = ["note,sensor,x,y,diff"];
  const held = new Map<string, [number, number][]>();
  for (let i = 0; i < 3000; i++) {
    const key = keys[Math.floor(random.random() * (keys.length - 1))];
    const list = held.get(key) ?? [];
    if (list.length > 5 && random.random() < 0.2) {
      const [[x, y]] = list.splice(Math.floor(random.random() * list.length), 1);
      rows.push(`r${i},${csvField(key)},${formatNumber(x)},${formatNumber(y)},-1`);
    } else {
      const x = (1_700_000_000_000 + Math.floor(random.random() * 1e9)) / 1000;
      const y = 0.5 * x + (random.random() - 0.5) * 100 + keys.indexOf(key);
      list.push([x, y]);
      rows.push(`r${i},${csvField(key)},${formatNumber(x)},${formatNumber(y)},1`);
    }
    held.set(key, list);
  }
  rows.push("last,one,3,4,1");
  held.set("one", [[3, 4]]);
  // "s3" is emptied by retraction at the end: its line is retracted and not replaced.
  for (const [x, y] of held.get("s3")!) rows.push(`end,s3,${formatNumber(x)},${formatNumber(y)},-1`);
  held.delete("s3");
  const input = join(dir, "keys.csv");
  await writeFile(input, rows.join("\n") + "\n");
  for (const runner of RUNNERS) {
    for (const commitRows of ["1", "97", "100000"]) {
      const output = join(dir, `${runner}_${commitRows}.csv`);
      const r = await runCli(runner, [
        "--source",
        "csv",
        "--input",
        input,
        "--key",
        "sensor",
        "--commit-rows",
        commitRows,
        "--output",
        output,
        "--no-input-log",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [header, ...body] = parse(await readFile(output, "utf8")) as string[][];
      assert.deepEqual(header, ["sensor", "a", "b", "time", "diff"]);
      const lines = standing(body, 1);
      assert.deepEqual([...lines.keys()].sort(), [...held.keys()].map((k) => JSON.stringify([k])).sort());
      for (const [key, points] of held) {
        const want = exactFit(points.map((p) => p[0]), points.map((p) => p[1]));
        const got = lines.get(JSON.stringify([key]))!;
        assert.deepEqual(
          got,
          [formatNumber(want.a), formatNumber(want.b)],
          `${runner} ${commitRows}: ${key}`,
        );
      }
      if (commitRows === "1") {
        // One point per batch: each batch writes the rows of that point's key only.
        const times = new Map<string, Set<string>>();
        for (const row of body) times.set(row[3], (times.get(row[3]) ?? new Set()).add(row[0]));
        assert.ok([...times.values()].every((set) => set.size === 1));
      }
    }
  }
  await rm(dir, { recursive: true });
});

test("cli --key: several key columns, the input log with keys, bad keys and --max-keys", async () => {
  const dir = await tempDir();
  const input = join(dir, "two.csv");
  await writeFile(
    input,
    [
      "region,x,y,sensor",
      "eu,1,2,a",
      "eu,2,4,a",
      "us,1,1,a",
      "us,2,3,a",
      ",3,3,a", // empty region
      "eu,5,5,b",
      "eu,6,7,b",
      "as,1,1,c", // a fourth key: more than --max-keys 3
      "eu,3,6,a",
    ].join("\n") + "\n",
  );
  for (const runner of RUNNERS) {
    const output = join(dir, `${runner}_out.csv`);
    const log = join(dir, `${runner}_in.csv`);
    const dead = join(dir, `${runner}_dead.csv`);
    const r = await runCli(runner, [
      "--source",
      "csv",
      "--input",
      input,
      "--key",
      "region,sensor",
      "--max-keys",
      "3",
      "--output",
      output,
      "--input-log",
      log,
      "--dead-letter",
      dead,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...body] = parse(await readFile(output, "utf8")) as string[][];
    assert.deepEqual(header, ["region", "sensor", "a", "b", "time", "diff"]);
    const lines = standing(body, 2);
    assert.deepEqual(Object.fromEntries(lines), {
      '["eu","a"]': ["0", "2"],
      '["us","a"]': ["-1", "2"],
      '["eu","b"]': ["-5", "2"],
    });
    const logRows = (parse(await readFile(log, "utf8")) as string[][]).map((row) => row.slice(0, 4));
    assert.deepEqual(logRows[0], ["region", "sensor", "x", "y"]);
    assert.equal(logRows.length, 1 + 7);
    assert.deepEqual(logRows.at(-1), ["eu", "a", "3", "6"]);
    const deadRows = (parse(await readFile(dead, "utf8")) as string[][]).slice(1);
    assert.deepEqual(deadRows.map((row) => [row[1], row[2]]), [["line 6", "missing_key"], [
      "line 9",
      "too_many_keys",
    ]]);
    assert.match(deadRows[0][3], /region is empty: every point needs a key/);
  }
  await rm(dir, { recursive: true });
});

test("cli --key: usage errors", async () => {
  for (
    const [args, message] of [
      [["--key", "x"], /--key: "x" is also x/],
      [["--key", "s,s"], /--key names "s" twice/],
      [
        ["--key", "s", "--degree", "2", "--serve", "0"],
        /--serve with --key or --window .* not supported yet/,
      ],
      [["--key", "@key"], /only Kafka messages have a message key/],
      [["--max-keys", "5"], /--max-keys applies with --key only/],
      [["--key", "s", "--max-keys", "0"], /--max-keys/],
    ] as const
  ) {
    const r = await runCli("bun", ["--source", "csv", "--input", "-", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
