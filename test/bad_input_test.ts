// deno-lint-ignore-file no-control-regex -- the tests look for control characters on purpose
/**
 * Bad input never changes the answer: the real Deno and Bun runners as subprocesses, fed a CSV stream
 * into which thousands of seeded random malformed records are mixed. Every bad record must be in the
 * dead-letter file (count, place, reason and exact bytes), the accepted points must be exactly the good
 * records, and the final line bit for bit that of a run on the good records alone. Also: `--on-error
 * fail`, `--max-record-bytes`, and refusing to write an output over the input file.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { link, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { unescapeRaw } from "../src/model/rejection.ts";
import { seededGenerator } from "./cli_helpers.ts";
import { test } from "./harness.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNNERS = ["deno", "bun"] as const;
type Runner = typeof RUNNERS[number];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `stdin` is bytes to pipe in, or a path to connect directly (a redirect `< path`). */
function run(
  runner: Runner,
  args: string[],
  cwd: string,
  stdin: Uint8Array | { path: string } = new Uint8Array(),
): Promise<Result> {
  const [exe, pre] = runner === "deno"
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", join(ROOT, "src/runtime/deno_main.ts")]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, "src/runtime/bun_main.ts")]];
  return new Promise((resolve, reject) => {
    const fd = "path" in stdin ? openSync(stdin.path, "r") : undefined;
    const child = spawn(exe, [...pre, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: [fd ?? "pipe", "pipe", "pipe"],
    });
    if (fd !== undefined) closeSync(fd);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (fd === undefined) child.stdin!.end(stdin as Uint8Array);
  });
}

const enc = new TextEncoder();
const lastLine = (csv: string) => csv.trim().split("\n").at(-1)!.split(",").slice(0, 2).join(",");

const generator = seededGenerator;

interface Bad {
  /** The line's bytes, without its line end. */
  bytes: Uint8Array;
  /** The expected reason code, or undefined for random garbage (any reason will do). */
  reason?: string;
}

interface Stream {
  /** The whole input, header first. */
  all: Uint8Array;
  /** Only the good records, header first. */
  good: Uint8Array;
  /** The good records' (x, y, diff) as written, in order. */
  goodRows: string[][];
  /** The bad records by line number in `all`. */
  bad: Map<number, Bad>;
}

/**
 * `goodCount` good records (points on a noisy line, some retracting earlier ones) with `badCount` bad
 * records of every kind mixed in at random places, plus a 10 MB line and a few just over 1 MiB.
 */
function makeStream(seed: number, goodCount: number, badCount: number, huge = true): Stream {
  const g = generator(seed);
  const present: string[][] = []; // points currently added (with multiplicity)
  const retracted: string[][] = []; // points retracted to count 0 (for bad repeated retractions)
  const goodRows: string[][] = [];
  const kinds: (() => Bad)[] = [
    () => ({ bytes: enc.encode(`${g.int(100)},abc${g.int(9)},1`), reason: "not_a_number" }),
    () => ({ bytes: enc.encode(`0x1g,${g.int(100)},1`), reason: "not_a_number" }),
    () => ({ bytes: enc.encode(`,${g.int(100)},1`), reason: "empty_field" }),
    () => ({ bytes: enc.encode(`${g.int(100)}, ,1`), reason: "empty_field" }),
    () => ({ bytes: enc.encode(`${g.int(100)},${g.int(100)},`), reason: "empty_field" }),
    () => ({ bytes: enc.encode(`${g.int(100)},${g.int(100)}`), reason: "missing_column" }),
    () => ({ bytes: enc.encode(`${g.int(100)}`), reason: "missing_column" }),
    () => ({ bytes: enc.encode(`${g.int(100)},${g.int(100)},1,${g.int(9)}`), reason: "extra_fields" }),
    () => ({ bytes: enc.encode(`NaN,${g.int(100)},1`), reason: "nan" }),
    () => ({ bytes: enc.encode(`${g.int(100)},NaN,-1`), reason: "nan" }),
    () => ({ bytes: enc.encode(`Infinity,${g.int(100)},1`), reason: "infinite" }),
    () => ({ bytes: enc.encode(`${g.int(100)},-Infinity,1`), reason: "infinite" }),
    () => ({ bytes: enc.encode(`1e${400 + g.int(1000)},1,1`), reason: "overflow" }),
    () => ({ bytes: enc.encode(`1,-${g.int(9) + 1}e999,1`), reason: "overflow" }),
    () => ({ bytes: enc.encode(`1e-${140 + g.int(160)},1,1`), reason: "out_of_range" }),
    () => ({ bytes: enc.encode(`1,1e${140 + g.int(160)},1`), reason: "out_of_range" }),
    () => ({ bytes: enc.encode(`1e-${400 + g.int(100)},1,1`), reason: "out_of_range" }),
    () => ({ bytes: enc.encode(`1,5e-324,1`), reason: "out_of_range" }),
    () => ({ bytes: Uint8Array.of(0x31, 0x2c, 0x80 + g.int(64), 0x2c, 0x31), reason: "invalid_utf8" }),
    () => ({ bytes: Uint8Array.of(0x31, 0x2c, 0xed, 0xa0, 0x80, 0x2c, 0x31), reason: "invalid_utf8" }),
    () => ({
      bytes: enc.encode(`${g.int(100)},${g.int(100)},${g.pick(["2", "0", "-2", "0.5", "x", "1e400"])}`),
      reason: "bad_diff",
    }),
    () => ({ bytes: enc.encode(`"${g.int(100)},${g.int(100)},1`), reason: "bad_csv" }),
    () => ({ bytes: enc.encode(`"${g.int(100)}"x,${g.int(100)},1`), reason: "bad_csv" }),
    () => ({ bytes: enc.encode(`a"b",${g.int(100)},1`), reason: "bad_csv" }),
    // The retraction of a point never added (x out of the good points' range).
    () => ({ bytes: enc.encode(`${5000 + g.int(1000)}.5,${g.int(100)},-1`), reason: "unknown_retraction" }),
    // The retraction of a point already retracted as often as it was added.
    () => {
      const p = retracted.length > 0 ? g.pick(retracted) : undefined; // (x values are never reused)
      return p
        ? { bytes: enc.encode(`${p[0]},${p[1]},-1`), reason: "unknown_retraction" }
        : { bytes: enc.encode(`${7000 + g.int(1000)},1,-1`), reason: "unknown_retraction" };
    },
    // Binary garbage: random bytes (quotes, CRs, NULs, commas, anything but LF), with a NUL so that
    // no field of it can be a number, and no CR at the end (it would read as a CRLF line end).
    () => {
      const bytes = Uint8Array.from({ length: 1 + g.int(60) }, () => {
        const b = g.pick([0x22, 0x0d, 0x00, 0x2c, 0x5c, 0xff, 0x31, -1]);
        return b >= 0 ? b : g.int(256);
      }).map((b) => (b === 0x0a ? 0x00 : b));
      bytes[g.int(bytes.length)] = 0x00;
      if (bytes[bytes.length - 1] === 0x0d) bytes[bytes.length - 1] = 0x00;
      return { bytes };
    },
  ];
  const lines: Uint8Array[] = [enc.encode("x,y,diff")];
  const good: Uint8Array[] = [enc.encode("x,y,diff")];
  const bad = new Map<number, Bad>();
  let goods = 0;
  let bads = 0;
  const tooLarge: number[] = huge ? [10 << 20, (1 << 20) + 1, (1 << 20) + 100] : [];
  while (goods < goodCount || bads < badCount) {
    const line = lines.length + 1;
    if (bads < badCount && (goods >= goodCount || g.next() < badCount / (badCount + goodCount))) {
      bads++;
      let record: Bad;
      if (tooLarge.length > 0 && g.next() < 0.01) {
        const size = tooLarge.pop()!;
        const bytes = new Uint8Array(size).fill(0x37);
        bytes[1] = 0x2c; // "7,777...": a fine point, but far too long
        record = { bytes, reason: "too_large" };
      } else {
        record = g.pick(kinds)();
      }
      bad.set(line, record);
      lines.push(record.bytes);
      continue;
    }
    goods++;
    let row: string[];
    if (present.length > 10 && g.next() < 0.1) {
      const p = present.splice(g.int(present.length), 1)[0];
      row = [p[0], p[1], "-1"];
      if (!present.some((q) => q[0] === p[0] && q[1] === p[1])) retracted.push(p);
    } else {
      const x = goods + g.pick([0, 0.25, 0.5]);
      const y = String(2 * x + 1 + (2 * g.next() - 1) / 10);
      row = [String(x), y, "1"];
      present.push([row[0], row[1]]);
    }
    goodRows.push(row);
    lines.push(enc.encode(row.join(",")));
    good.push(enc.encode(row.join(",")));
  }
  const join = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      out[off + p.length] = 0x0a;
      off += p.length + 1;
    }
    return out;
  };
  return { all: join(lines), good: join(good), goodRows, bad };
}

/** Checks the dead-letter file against the bad records: every one, in order, with its reason and bytes. */
function checkDeadLetter(text: string, stream: Stream, source: string, label: string): void {
  const rows = parse(text) as string[][];
  assert.deepEqual(rows[0], ["source", "location", "reason", "detail", "raw"], label);
  const body = rows.slice(1);
  const expected = [...stream.bad].sort((p, q) => p[0] - q[0]);
  assert.equal(body.length, expected.length, `${label}: one row per bad record`);
  for (const [i, [line, bad]] of expected.entries()) {
    const [src, location, reason, detail, raw] = body[i];
    const where = `${label}: dead-letter row ${i + 2} (line ${line})`;
    assert.equal(src, source, where);
    assert.equal(location, `line ${line}`, where);
    if (bad.reason) assert.equal(reason, bad.reason, `${where}: ${detail}`);
    else {
      assert.match(
        reason,
        /^(not_a_number|empty_field|missing_column|extra_fields|invalid_utf8|bad_csv|bad_diff|overflow|out_of_range)$/,
        where,
      );
    }
    assert.ok(detail.length > 0 && !/[\x00-\x1f]/.test(detail), where);
    const bytes = bad.reason === "too_large" ? bad.bytes.subarray(0, 1024) : bad.bytes;
    assert.deepEqual(unescapeRaw(raw), bytes, `${where}: raw`);
  }
}

test(
  "bad input fuzz: thousands of malformed records mixed into a CSV stream change nothing (Deno and Bun, file and stdin)",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-bad-"));
    const stream = makeStream(20240611, 4000, 4000);
    assert.ok(stream.bad.size === 4000);
    assert.ok(
      [...stream.bad.values()].filter((b) => b.reason === "too_large").length === 3,
      "the 10 MB line is in",
    );
    await writeFile(join(dir, "all.csv"), stream.all);
    await writeFile(join(dir, "good.csv"), stream.good);
    for (const runner of RUNNERS) {
      const reference = await run(runner, [
        "--source",
        "csv",
        "--input",
        "good.csv",
        "--output",
        "-",
        "--no-input-log",
      ], dir);
      assert.equal(reference.code, 0, reference.stderr);
      assert.equal(reference.stderr, "");
      for (const via of ["file", "stdin"] as const) {
        const label = `${runner} ${via}`;
        const r = await run(
          runner,
          [
            "--source",
            "csv",
            "--input",
            via === "file" ? "all.csv" : "-",
            "--output",
            "-",
            "--input-log",
            `${runner}_${via}_in.csv`,
            "--dead-letter",
            `${runner}_${via}_dead.csv`,
            "--commit-rows",
            "997",
          ],
          dir,
          via === "file" ? undefined : stream.all,
        );
        assert.equal(r.code, 0, `${label}: ${r.stderr.slice(0, 2000)}`);
        assert.equal(
          lastLine(r.stdout),
          lastLine(reference.stdout),
          `${label}: the fit of the good records, bit for bit`,
        );
        const accepted = (await readFile(join(dir, `${runner}_${via}_in.csv`), "utf8")).trim().split("\n")
          .slice(1)
          .map((l) => l.split(","));
        assert.deepEqual(
          accepted.map((row) => [row[0], row[1], row[3]]),
          stream.goodRows,
          `${label}: exactly the good records`,
        );
        checkDeadLetter(
          await readFile(join(dir, `${runner}_${via}_dead.csv`), "utf8"),
          stream,
          via === "file" ? "all.csv" : "stdin",
          label,
        );
        const messages = r.stderr.trim().split("\n");
        assert.equal(messages.length, 11, `${label}: the first 10 rejections and a summary`);
        assert.match(messages[0], /^streamreg: rejected (all\.csv|stdin) line \d+: .* \[[a-z_0-9]+\]$/);
        assert.match(
          messages[10],
          new RegExp(
            `^streamreg: rejected 4000 records \\(.*\\) in all; the first 10 are shown above; every one is in ${runner}_${via}_dead\\.csv$`,
          ),
        );
        assert.ok(!/[\x00-\x08\x0b-\x1f]/.test(r.stderr), `${label}: no control characters on stderr`);
      }
    }
    const deadLetters = await Promise.all(
      RUNNERS.map((runner) => readFile(join(dir, `${runner}_file_dead.csv`), "utf8")),
    );
    assert.equal(deadLetters[0], deadLetters[1], "Deno and Bun write the same dead-letter file");
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 240_000 },
);

test(
  "--on-error fail stops at the first bad record with exit 1, naming it; the points before it count",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-bad-"));
    const stream = makeStream(7, 300, 40, false);
    await writeFile(join(dir, "all.csv"), stream.all);
    const first = Math.min(...stream.bad.keys());
    const before = stream.goodRows.slice(0, first - 2); // lines 2 .. first-1 are all good
    await writeFile(
      join(dir, "before.csv"),
      ["x,y,diff", ...before.map((r) => r.join(","))].join("\n") + "\n",
    );
    for (const runner of RUNNERS) {
      const r = await run(runner, [
        "--source",
        "csv",
        "--input",
        "all.csv",
        "--output",
        "-",
        "--no-input-log",
        "--on-error",
        "fail",
        "--dead-letter",
        "dead.csv",
      ], dir);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^streamreg: all\\.csv line ${first}: .* \\[[a-z_0-9]+\\] \\(stopped at the first bad record: --on-error fail\\)\\n$`,
        ),
      );
      const dead = parse(await readFile(join(dir, "dead.csv"), "utf8")) as string[][];
      assert.equal(dead.length, 2, "the one bad record");
      assert.equal(dead[1][1], `line ${first}`);
      if (before.length > 0) {
        const reference = await run(runner, [
          "--source",
          "csv",
          "--input",
          "before.csv",
          "--output",
          "-",
          "--no-input-log",
        ], dir);
        assert.equal(lastLine(r.stdout), lastLine(reference.stdout), "the fit of the records before it");
      }
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 60_000 },
);

test("--max-record-bytes: longer lines are rejected as too_large, the others kept", async () => {
  const dir = await mkdtemp(join(tmpdir(), "streamreg-bad-"));
  await writeFile(join(dir, "p.csv"), "x,y\n1,2\n12345678,1\n3,4\n");
  for (const runner of RUNNERS) {
    const r = await run(runner, [
      "--source",
      "csv",
      "--input",
      "p.csv",
      "--output",
      "-",
      "--input-log",
      "in.csv",
      "--max-record-bytes",
      "8",
    ], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "streamreg: rejected p.csv line 3: the line has 10 bytes, more than the limit of 8 (--max-record-bytes) [too_large]\n" +
        "streamreg: rejected 1 record (too_large 1) in all\n",
    );
    assert.deepEqual(
      (await readFile(join(dir, "in.csv"), "utf8")).trim().split("\n").slice(1).map((l) =>
        l.split(",").slice(0, 2).join(",")
      ),
      ["1,2", "3,4"],
    );
    const bad = await run(runner, ["--max-record-bytes", "0"], dir);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'streamreg: --max-record-bytes: expected an integer ≥ 1, got "0"\n');
  }
  await rm(dir, { recursive: true });
}, { timeoutMs: 60_000 });

test(
  "the CLI refuses to write an output over its input file (also via links, ./, stdin), exit 2",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-bad-"));
    const data = "x,y\n1,2\n2,3\n";
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "data.csv"), data);
    await symlink(join(dir, "data.csv"), join(dir, "sub", "alias.csv"));
    await link(join(dir, "data.csv"), join(dir, "hard.csv"));
    const csv = ["--source", "csv", "--input", "data.csv"];
    const cases: [string[], string, { path: string }?][] = [
      [
        [...csv, "--output", "data.csv"],
        'streamreg: --output "data.csv" is the input file "data.csv": refusing to overwrite it; write to another path\n',
      ],
      [
        [...csv, "--output", "-", "--input-log", "./sub/../data.csv"],
        `streamreg: --input-log "./sub/../data.csv" is the input file "data.csv" (both are ${await realpath(
          join(dir, "data.csv"),
        )}): refusing to overwrite it`,
      ],
      [
        [...csv, "--dead-letter", join(dir, "sub", "alias.csv")],
        `streamreg: --dead-letter "${
          join(dir, "sub", "alias.csv")
        }" is the input file "data.csv" (both are ${await realpath(join(dir, "data.csv"))}): refusing`,
      ],
      [
        [...csv, "--output", "hard.csv"],
        'streamreg: --output "hard.csv" is the input file "data.csv" (a hard link to it): refusing to overwrite it',
      ],
      [
        ["--source", "csv", "--input", "-", "--output", "-", "--input-log", "data.csv"],
        'streamreg: --input-log "data.csv" is the file on standard input: refusing to overwrite it',
        { path: join(dir, "data.csv") },
      ],
      [
        [...csv, "--output", "out.csv", "--dead-letter", "./out.csv"],
        `streamreg: --output "out.csv" and --dead-letter "./out.csv" are the same file (both are ${await realpath(
          dir,
        )}/out.csv): give them different paths\n`,
      ],
    ];
    for (const runner of RUNNERS) {
      for (const [args, message, stdin] of cases) {
        const r = await run(runner, args, dir, stdin);
        assert.equal(r.code, 2, `${runner} ${args.join(" ")}: ${r.stderr}`);
        assert.ok(r.stderr.startsWith(message), `${runner}: ${r.stderr}`);
        assert.equal(r.stderr.split("\n").length, 2, "one line");
        assert.equal(r.stdout, "");
        assert.equal(await readFile(join(dir, "data.csv"), "utf8"), data, "the input is untouched");
      }
      const ok = await run(runner, [
        ...csv,
        "--output",
        "-",
        "--no-input-log",
        "--dead-letter",
        "sub/dead.csv",
      ], dir);
      assert.equal(ok.code, 0, ok.stderr);
    }
    await rm(dir, { recursive: true });
  },
  { timeoutMs: 120_000 },
);
