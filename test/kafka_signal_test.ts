/**
 * Ctrl-C through the documented commands. A terminal's Ctrl-C sends SIGINT to the whole process group,
 * and `deno task`, `bun run` and `npx` forward it to streamreg once more: both signals are one stop
 * request. Each wrapper here runs in a session of its own (`setsid`), reads a Kafka backlog, and gets
 * `kill -INT -PGID`; it must exit 0 with its last batch written and committed, and a second run must read
 * exactly the rest. Also: SIGINT while still connecting exits 0.
 * @module
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "./harness.ts";
import {
  broker,
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  type Ran,
  regress,
  rows,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";

const TIMEOUT = { timeoutMs: 120_000 };
const BACKLOG = 300_000;
const ROOT = new URL("..", import.meta.url).pathname;

/** The wrapper commands a user types, for the runtime running the tests. */
const WRAPPERS: Record<string, string[]> = CURRENT === "deno"
  ? {
    "deno task regress": [join(ROOT, "node_modules/deno/deno"), "task", "regress"],
    "npx deno task regress": ["npx", "--no-install", "deno", "task", "regress"],
  }
  : {
    "bun run regress": [join(ROOT, "node_modules/.bin/bun"), "run", "regress"],
  };

/**
 * Runs `command` in a new session (its pid is its process group's id) and sends SIGINT to the whole
 * group, as a terminal does, once `when` (polled every 20 ms) is true.
 */
function runInGroup(command: string[], when: () => Promise<boolean>): Promise<Ran> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KAFKA_") && v !== undefined) env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("setsid", command, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const group = (signal: string) => spawnSync("sh", ["-c", `kill -${signal} -${child.pid}`]);
    const timer = setTimeout(() => group("KILL"), 90_000);
    let ended = false;
    child.on("error", reject);
    child.on("close", (code) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    const poll = async () => {
      if (ended) return;
      if (await when().catch(() => false)) group("INT");
      else setTimeout(poll, 20);
    };
    setTimeout(poll, 20);
  });
}

/** The x values of an input change log (one per accepted point). */
const xs = async (path: string) => rows(await readFile(path, "utf8")).map((r) => r[0]);

for (const [name, command] of Object.entries(WRAPPERS)) {
  test(
    `kafka signals: Ctrl-C to the process group under '${name}': exit 0, last batch committed`,
    async () => {
      broker(); // fails at once when no broker runs
      const dir = await mkdtemp(join(tmpdir(), "streamreg-sig-"));
      try {
        const topic = unique("sigint");
        const group = unique("g");
        await createTopic(topic);
        const values = ["x,y", ...Array.from({ length: BACKLOG }, (_, i) => `${i},${(i * 7) % 13}`)];
        await sendMany(topic, values);
        const args = (n: number) => [
          ...kafkaReader(topic, group),
          "--commit-rows",
          "5000",
          "--output",
          join(dir, `out${n}.csv`),
          "--input-log",
          join(dir, `in${n}.csv`),
        ];
        // Interrupted once the first batch is written: mid-backlog, or (at worst) once caught up.
        const first = await runInGroup(
          [...command, ...args(1)],
          async () => (await stat(join(dir, "in1.csv"))).size > 100,
        );
        assert.equal(first.code, 0, `exit ${first.code}\n${first.stderr}`);
        assert.doesNotMatch(first.stderr, /without flushing/);
        const read = await xs(join(dir, "in1.csv"));
        assert.ok(read.length > 0);
        // Everything written is committed, and nothing more: the header plus the points.
        assert.deepEqual(await committedOffsets(group, topic), [read.length + 1]);
        // The result log ends on the line of the points written.
        assert.equal(rows(await readFile(join(dir, "out1.csv"), "utf8")).at(-1)?.at(-1), "1");

        const second = await run(regress(CURRENT), [...args(2), "--exit-at-end"]);
        ok(second, "second run");
        const rest = await xs(join(dir, "in2.csv"));
        const all = [...read, ...rest].map(Number).sort((p, q) => p - q);
        assert.equal(all.length, BACKLOG, `read ${read.length} + ${rest.length}`);
        assert.ok(all.every((x, i) => x === i), "every point exactly once");
        assert.deepEqual(await committedOffsets(group, topic), [BACKLOG + 1]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
}

test(`kafka signals (${CURRENT}): SIGINT while connecting exits 0`, async () => {
  const started = performance.now();
  const r = await run(regress(CURRENT), [
    "--source",
    "kafka",
    "-b",
    "127.0.0.1:1", // nothing listens: the reader retries for a few seconds (at least ~2 s), then fails
    "--output",
    "-",
    "--no-input-log",
  ], { interruptWhen: () => Promise.resolve(performance.now() - started > 1000) });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  assert.equal(r.stdout, "");
});
