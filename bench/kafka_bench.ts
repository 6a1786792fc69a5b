/**
 * Benchmark: `--source kafka --exit-at-end` over a topic of 10^6 CSV messages, from the start of the
 * process to its exit after the final line, in messages per second, next to (in the same run) a bare
 * kafkajs consumer that only reads the same topic (`bench/kafka_bare_consumer.ts`: stock kafkajs, whose
 * record decoding is slower than the decoder streamreg puts into kafkajs, so streamreg can pass it), and
 * their ratio. Both are fresh processes of the runtime that runs this file, each in a new
 * consumer group, with the same kafkajs client and fetch settings.
 *
 * Run (broker from `bash scripts/kafka/start.sh`, or pass -b):
 *   `./node_modules/deno/deno run -A bench/kafka_bench.ts [--messages N] [--runs R] [-b HOST:PORT]`
 *   `node_modules/.bin/bun run bench/kafka_bench.ts [--messages N] [--runs R] [-b HOST:PORT]`
 *
 * The topic `streamreg-bench-N` (one partition: the header x,y, then N points of the demo stream) is
 * produced once and reused while it holds exactly those messages. Prints the best of R runs (default 3)
 * of each, run alternately; the streamreg runs write the result change log to a file and, with
 * `--input-log`, also the input change log (by default `--no-input-log`).
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RegressionCore } from "../src/core/regression_core.ts";
import { parseProperties } from "../src/sources/kafka/config.ts";
import { createKafka, resolveConnection } from "../src/sources/kafka/connection.ts";
import { parseConnectionFlags } from "../src/cli/kafka_flags.ts";
import { sendPoints } from "../src/cli/produce.ts";
import { DemoSource } from "../src/sources/demo/demo_source.ts";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";
import { holdsOrEmpty } from "./bench_topics.ts";

silenceTimeoutWarnings();

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// deno-lint-ignore no-explicit-any
const isDeno = (globalThis as any).Deno !== undefined;
const runtime = isDeno ? "deno" : "bun";
const command = (script: string, args: string[]): [string, string[]] =>
  isDeno
    ? [join(ROOT, "node_modules/deno/deno"), ["run", "-A", join(ROOT, script), ...args]]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, script), ...args]];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    messages: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    brokers: { type: "string", short: "b" },
    "input-log": { type: "boolean", default: false },
  },
});
const n = Number(values.messages);
const runs = Number(values.runs);
if (!Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(runs) || runs < 1) {
  console.error("kafka_bench: --messages must be an integer ≥ 2 and --runs an integer ≥ 1");
  process.exit(2);
}
let brokers = values.brokers;
const clientEnv = join(ROOT, ".cache/kafka/run/client.env");
if (brokers === undefined && existsSync(clientEnv)) {
  brokers = parseProperties(readFileSync(clientEnv, "utf8")).KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS;
}
if (!brokers) {
  console.error("kafka_bench: pass -b HOST:PORT or start the test broker (bash scripts/kafka/start.sh)");
  process.exit(2);
}
const topic = `streamreg-bench-${n}`;
const demo = {
  count: n,
  rate: 0,
  slope: 2,
  intercept: 1,
  noise: 1,
  seed: 1,
  format: "csv",
  header: true,
} as const;

// The topic: reused if it holds exactly the header and the n points.
const connection = await resolveConnection(parseConnectionFlags({ brokers, topic }, { group: false }), {
  env: () => undefined,
  readText: (p) => readFile(p, "utf8"),
});
const kafka = await createKafka(connection);
const admin = kafka.admin();
await admin.connect();
if (!(await holdsOrEmpty(admin, topic, n + 1))) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = performance.now();
  await sendPoints(producer, topic, demo, new AbortController().signal);
  await producer.disconnect();
  console.error(
    `kafka_bench: produced ${n + 1} messages to ${topic} in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
}
await admin.disconnect();

// The exact final line, for the check.
const core = await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));
for await (
  const chunk of new DemoSource({ rows: n, rate: 0, slope: 2, intercept: 1, noise: 1, seed: 1 }).chunks(
    new AbortController().signal,
  )
) {
  core.update(chunk.x, chunk.y, chunk.diff);
}
const fit = core.fit();
const expected = `${fit.a},${fit.b}`;

function timed(
  exe: string,
  args: string[],
): Promise<{ seconds: number; stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(exe, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ seconds: (performance.now() - t0) / 1000, stdout, stderr, code }));
  });
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-bench-"));
const id = `${process.pid}-${Date.now()}`;
let bestBare = Infinity;
let bestStreamreg = Infinity;
for (let r = 0; r < runs; r++) {
  const bare = await timed(
    ...command("bench/kafka_bare_consumer.ts", ["-b", brokers, "-t", topic, "-G", `bench-bare-${id}-${r}`]),
  );
  if (bare.code !== 0 || JSON.parse(bare.stdout).messages !== n + 1) {
    throw new Error(`bare consumer failed (exit ${bare.code}): ${bare.stdout} ${bare.stderr}`);
  }
  const out = join(dir, `out-${r}.csv`);
  const logArgs = values["input-log"] ? ["--input-log", join(dir, `in-${r}.csv`)] : ["--no-input-log"];
  const ours = await timed(...command(isDeno ? "src/runtime/deno_main.ts" : "src/runtime/bun_main.ts", [
    "--source",
    "kafka",
    "-b",
    brokers,
    "-t",
    topic,
    "-G",
    `bench-streamreg-${id}-${r}`,
    "--exit-at-end",
    "--output",
    out,
    ...logArgs,
  ]));
  const last = (await readFile(out, "utf8")).trim().split("\n").at(-1)!.split(",");
  if (ours.code !== 0 || `${last[0]},${last[1]}` !== expected || last[3] !== "1") {
    throw new Error(
      `streamreg failed (exit ${ours.code}, last line ${
        last.join(",")
      }, expected ${expected}): ${ours.stderr}`,
    );
  }
  console.error(
    `kafka_bench run ${r + 1}: bare ${(n + 1) / bare.seconds | 0} msg/s (${bare.seconds.toFixed(2)} s), ` +
      `streamreg ${(n + 1) / ours.seconds | 0} msg/s (${ours.seconds.toFixed(2)} s)`,
  );
  bestBare = Math.min(bestBare, bare.seconds);
  bestStreamreg = Math.min(bestStreamreg, ours.seconds);
}
await rm(dir, { recursive: true });

const rate = (s: number) => Math.round((n + 1) / s).toLocaleString("en-US");
console.log(`kafka_bench (${runtime}, ${n + 1} messages, best of ${runs}, process start to exit):`);
console.log(
  `  bare kafkajs consumer        ${rate(bestBare).padStart(10)} msg/s  (${bestBare.toFixed(2)} s)`,
);
console.log(
  `  streamreg --source kafka     ${rate(bestStreamreg).padStart(10)} msg/s  (${
    bestStreamreg.toFixed(2)
  } s)` +
    (values["input-log"] ? "  with the input change log" : ""),
);
console.log(
  `  ratio                        ${(100 * bestBare / bestStreamreg).toFixed(1)} % of the bare consumer`,
);
process.exit(0);
