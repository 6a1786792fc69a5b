/**
 * Benchmark: peak resident size of whole streamreg processes at 10^5, 10^6 and 10^7 points, side by
 * side, for the demo source (`--rate 0`), a CSV file and a Kafka topic of CSV or of JSON messages (also
 * with `--output-topic`), each under Deno and under Bun, in one run. Memory is flat when the largest run
 * peaks within about 1.2× of the smallest.
 *
 * Run (broker from `bash scripts/kafka/start.sh`, found through `STREAMREG_KAFKA_STATE_DIR` or
 * `.cache/kafka/run`, or pass -b):
 *   `deno task bench:memory [--points 100000,1000000,10000000] [--sources demo,csv,kafka,kafka-json]
 *      [--runtimes deno,bun] [--output-topic] [--heap MB]`
 *   `bun run bench:memory [same flags]`
 *
 * Whichever runtime runs this file, every run is a fresh subprocess of the runtime named in the table
 * (`deno run -A src/runtime/deno_main.ts` with the V8 flags of `deno task regress`, or `bun run
 * src/runtime/bun_main.ts`), with the default heap (or `--heap MB`: V8's max-old-space-size, JSC's forceRAMSize)
 * settings and the default sinks: the result change log and the input change log, both to files in a
 * temporary directory. Its peak resident size is the largest VmHWM (the kernel's high-water mark of the
 * process's RSS, so nothing between samples is missed) read from /proc/<pid>/status every 20 ms until it
 * exits. Each run is checked: exit code 0, the last line of the result log is an insertion, and the input
 * log holds a line per point.
 *
 * The table also gives the peak reached by the middle of each run (the largest VmHWM sampled in its first
 * half of wall time). Both collectors size their heaps from the allocation rate and grow them over the
 * first seconds of a run, which a 10^6-point run (one to ten seconds) does not outlast: a 10^7-point run
 * whose first-half peak is close to its whole peak has reached a steady state, and the rest of its points
 * (5·10^6 or more) added little or nothing; a process that kept something per point would grow all along.
 *
 * - demo: `--rows N --rate 0`.
 * - csv: a file of N points generated once per run of the bench, x = 1.7e9 + i/1000 (epoch seconds with
 *   millisecond fractions), y = 3 + 0.5·(x − 1.7e9) + noise, both written as the shortest decimal that
 *   reads back to the same double.
 * - kafka, kafka-json: one topic per format for all sizes, `streamreg-bench-memory-N` (CSV: the header
 *   x,y, then N points of the demo stream) and `streamreg-bench-memory-json-N` (`{"x":…,"y":…}`), N the
 *   largest size, one partition, produced once and reused (by both runtimes and by later runs) while it
 *   holds exactly those messages; read with `--from-beginning --exit-at-end` in a new consumer group each
 *   run, smaller sizes with `--max-messages` (the header counts as a message).
 * - `--output-topic`: every Kafka run is made twice, the second time also with `--output-topic
 *   streamreg-bench-memory-results` (the results as Kafka messages, one transaction per batch).
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseProperties } from "../src/sources/kafka/config.ts";
import { parseConnectionFlags } from "../src/cli/kafka_flags.ts";
import { createKafka, resolveConnection } from "../src/sources/kafka/connection.ts";
import { formatNumber } from "../src/model/format_number.ts";
import { DemoSource } from "../src/sources/demo/demo_source.ts";
import { PythonRandom } from "../src/sources/demo/python_random.ts";
import { silenceTimeoutWarnings } from "../src/runtime/kafkajs_quiet.ts";
import { holdsOrEmpty } from "./bench_topics.ts";
import { denoV8Flags } from "./processes.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// deno-lint-ignore no-explicit-any
const isDeno = (globalThis as any).Deno !== undefined;
const SAMPLE_MS = 20;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    points: { type: "string", default: "100000,1000000,10000000" },
    sources: { type: "string", default: "demo,csv,kafka,kafka-json" },
    "output-topic": { type: "boolean", default: false },
    runtimes: { type: "string", default: "deno,bun" },
    brokers: { type: "string", short: "b" },
    heap: { type: "string" },
  },
});
const usage = (message: string): never => {
  console.error(`memory_bench: ${message}`);
  process.exit(2);
};
/** `--heap MB`: run each process with a heap of about MB (Deno: V8's max-old-space-size; Bun: JSC's forceRAMSize). */
const heapMb = values.heap === undefined ? undefined : Number(values.heap);
if (heapMb !== undefined && !(Number.isSafeInteger(heapMb) && heapMb >= 32)) {
  usage("--heap must be an integer ≥ 32 (MB)");
}
const sizes = values.points.split(",").map(Number);
if (sizes.length === 0 || sizes.some((n) => !Number.isSafeInteger(n) || n < 2)) {
  usage("--points must be a comma-separated list of integers ≥ 2, e.g. 100000,1000000,10000000");
}
type SourceName = "demo" | "csv" | "kafka" | "kafka-json" | "kafka+out" | "kafka-json+out";
type Runtime = "deno" | "bun";
const sources = values.sources.split(",") as SourceName[];
if (sources.some((s) => !["demo", "csv", "kafka", "kafka-json"].includes(s))) {
  usage("--sources: a list of demo, csv, kafka, kafka-json");
}
const withOutputTopic = values["output-topic"];
const OUTPUT_TOPIC = "streamreg-bench-memory-results";
const runtimes = values.runtimes.split(",") as Runtime[];
if (runtimes.some((r) => r !== "deno" && r !== "bun")) usage("--runtimes: a list of deno, bun");

let brokers = values.brokers;
/** Kafka's jars, for its console producer; unset: produce with kafkajs. */
let kafkaLibs: string | undefined;
const kafkaSources = sources.filter((s) => s.startsWith("kafka"));
if (kafkaSources.length > 0 && brokers === undefined) {
  const stateDir = process.env.STREAMREG_KAFKA_STATE_DIR || join(ROOT, ".cache/kafka/run");
  const clientEnv = join(stateDir, "client.env");
  if (existsSync(clientEnv)) {
    const env = parseProperties(readFileSync(clientEnv, "utf8"));
    brokers = env.KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS;
    // The jars the broker runs on (scripts/kafka/common.sh: <cache>/<version>/libs beside <cache>/run).
    const libs = join(dirname(stateDir), env.STREAMREG_KAFKA_VERSION ?? "", "libs");
    const java = spawnSync("java", ["-version"], { stdio: "ignore" });
    if (env.STREAMREG_KAFKA_VERSION && existsSync(libs) && java.status === 0) kafkaLibs = libs;
  }
  if (!brokers) {
    usage(
      `no broker: pass -b HOST:PORT, set STREAMREG_KAFKA_STATE_DIR, start the test broker ` +
        `(bash scripts/kafka/start.sh), or leave kafka out of --sources`,
    );
  }
}

/** The command line that runs streamreg under `runtime`. */
function streamreg(runtime: Runtime, args: string[]): [string, string[]] {
  return runtime === "deno"
    ? [
      join(ROOT, "node_modules/deno/deno"),
      [
        "run",
        "-A",
        // The V8 flags of `deno task regress`, and the heap's limit if asked for.
        ...(heapMb
          ? [
            [...denoV8Flags(), `--v8-flags=--max-old-space-size=${heapMb}`].join(",").replaceAll(
              ",--v8-flags=",
              ",",
            ),
          ]
          : denoV8Flags()),
        join(ROOT, "src/runtime/deno_main.ts"),
        ...args,
      ],
    ]
    : [join(ROOT, "node_modules/.bin/bun"), ["run", join(ROOT, "src/runtime/bun_main.ts"), ...args]];
}

/** Runs a process to its end; resolves to its exit code, stderr, wall time and peak resident size. */
function measured(
  exe: string,
  args: string[],
): Promise<{ code: number | null; stderr: string; seconds: number; peakMb: number; halfMb: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(exe, args, {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        ...process.env,
        NO_COLOR: "1",
        ...(heapMb && exe.endsWith("bun") ? { BUN_JSC_forceRAMSize: String(heapMb * 1024 * 1024) } : {}),
      },
    });
    let stderr = "";
    let peakKb = 0;
    /** (time since the start in ms, peak so far in kB) at each sample. */
    const peaks: [number, number][] = [];
    let reading = false;
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const sample = async () => {
      if (reading) return;
      reading = true;
      const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
      reading = false;
      for (const key of ["VmHWM", "VmRSS"]) {
        const kb = Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
      }
      peaks.push([performance.now() - t0, peakKb]);
    };
    const timer = setInterval(sample, SAMPLE_MS);
    child.on("error", (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(timer);
      const ms = performance.now() - t0;
      const halfKb = peaks.findLast(([t]) => t <= ms / 2)?.[1] ?? 0;
      resolve({ code, stderr, seconds: ms / 1000, peakMb: peakKb / 1024, halfMb: halfKb / 1024 });
    });
  });
}

/** Newline count of a file, read in chunks. */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Uint8Array>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/** Writes the CSV file of `n` points (see the module doc). */
async function writeCsv(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  const rng = new PythonRandom(1);
  out.write("x,y\n");
  const step = 100_000;
  for (let i = 0; i < n; i += step) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(n, i + step); j++) {
      const x = 1.7e9 + j / 1000;
      const y = 3 + 0.5 * (x - 1.7e9) + (2 * rng.random() - 1);
      lines.push(`${formatNumber(x)},${formatNumber(y)}`);
    }
    if (!out.write(lines.join("\n") + "\n")) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => error ? reject(error) : resolve())
  );
}

const DEMO = { rate: 0, slope: 2, intercept: 1, noise: 1, seed: 1 } as const;
type Format = "csv" | "json";
const topicOf = (format: Format, n: number) =>
  format === "csv" ? `streamreg-bench-memory-${n}` : `streamreg-bench-memory-json-${n}`;
/** Messages in the topic of `format` for `n` points (CSV: the header too). */
const messagesOf = (format: Format, n: number) => format === "csv" ? n + 1 : n;

/** The lines of the topic for `n` points, in chunks: the CSV header, then the points of the demo stream. */
async function* topicLines(format: Format, n: number): AsyncGenerator<string[]> {
  if (format === "csv") yield ["x,y"];
  const source = new DemoSource({ rows: n, ...DEMO, chunkSize: 10_000 });
  for await (const chunk of source.chunks(new AbortController().signal)) {
    const lines = new Array<string>(chunk.x.length);
    for (let i = 0; i < chunk.x.length; i++) {
      const x = formatNumber(chunk.x[i]);
      const y = formatNumber(chunk.y[i]);
      lines[i] = format === "csv" ? `${x},${y}` : `{"x":${x},"y":${y}}`;
    }
    yield lines;
  }
}

/**
 * Produces with Kafka's own console producer (from the jars the test broker runs on), which is tens of
 * times faster than kafkajs; one partition and an idempotent producer keep the messages in order.
 */
function produceWithJava(format: Format, topic: string, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("java", [
      "-cp",
      join(kafkaLibs!, "*"),
      "kafka.tools.ConsoleProducer",
      "--bootstrap-server",
      brokers!,
      "--topic",
      topic,
      "--producer-property",
      "batch.size=524288",
      "--producer-property",
      "linger.ms=20",
      "--producer-property",
      "enable.idempotence=true",
    ], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve("Kafka's console producer");
      else reject(new Error(`kafka.tools.ConsoleProducer failed (exit ${code}): ${stderr}`));
    });
    (async () => {
      for await (const lines of topicLines(format, n)) {
        if (!child.stdin!.write(lines.join("\n") + "\n")) {
          await new Promise((resolve) => child.stdin!.once("drain", resolve));
        }
      }
      child.stdin!.end();
    })().catch(reject);
  });
}

/** Produces with kafkajs: batches of 10^4 messages (the broker takes at most 1 MB per batch), 8 in flight. */
async function produceWithKafkajs(
  kafka: Awaited<ReturnType<typeof createKafka>>,
  format: Format,
  topic: string,
  n: number,
): Promise<string> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for await (const lines of topicLines(format, n)) {
      await producer.send({ topic, messages: lines.map((value) => ({ value, partition: 0 })) });
    }
  } finally {
    await producer.disconnect();
  }
  return "kafkajs (slow: start the test broker from its jars, with java on the PATH, for the fast producer)";
}

/** Makes sure the topic of `format` for `n` points holds exactly its messages; produces it if not. */
async function ensureTopic(format: Format, n: number): Promise<void> {
  const topic = topicOf(format, n);
  const connection = await resolveConnection(parseConnectionFlags({ brokers, topic }, { group: false }), {
    env: () => undefined,
    readText: (p: string) => readFile(p, "utf8"),
  });
  silenceTimeoutWarnings();
  const kafka = await createKafka(connection);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (withOutputTopic && !(await admin.listTopics()).includes(OUTPUT_TOPIC)) {
      await admin.createTopics({ topics: [{ topic: OUTPUT_TOPIC, numPartitions: 1 }], waitForLeaders: true });
    }
    const want = messagesOf(format, n);
    if (await holdsOrEmpty(admin, topic, want)) return;
    const t0 = performance.now();
    const how = kafkaLibs
      ? await produceWithJava(format, topic, n)
      : await produceWithKafkajs(kafka, format, topic, n);
    const high = Number((await admin.fetchTopicOffsets(topic))[0].high);
    if (high !== want) throw new Error(`produced ${high} messages to ${topic}, expected ${want}`);
    console.error(
      `memory_bench: produced ${want} messages to ${topic} in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s with ${how}`,
    );
  } finally {
    await admin.disconnect();
  }
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-memory-bench-"));
const id = `${process.pid}-${Date.now()}`;
interface Row {
  source: SourceName;
  runtime: Runtime;
  points: number;
  peakMb: number;
  halfMb: number;
  seconds: number;
}
const rows: Row[] = [];
const largestSize = Math.max(...sizes);
/** The runs: each source, and each Kafka source again with `--output-topic` if asked for. */
const runs: SourceName[] = sources.flatMap((s) =>
  s.startsWith("kafka") && withOutputTopic ? [s, `${s}+out` as SourceName] : [s]
);
try {
  for (const source of sources) {
    if (source === "kafka") await ensureTopic("csv", largestSize);
    if (source === "kafka-json") await ensureTopic("json", largestSize);
  }
  for (const source of runs) {
    const format: Format = source.startsWith("kafka-json") ? "json" : "csv";
    for (const n of sizes) {
      const input = join(dir, `points-${n}.csv`);
      if (source === "csv") await writeCsv(input, n);
      for (const runtime of runtimes) {
        const output = join(dir, "out.csv");
        const inputLog = join(dir, "in.csv");
        const sinks = ["--output", output, "--input-log", inputLog];
        const messages = messagesOf(format, n);
        const args = source === "demo"
          ? ["--rows", String(n), "--rate", "0", ...sinks]
          : source === "csv"
          ? ["--source", "csv", "--input", input, ...sinks]
          : [
            "--source",
            "kafka",
            "-b",
            brokers!,
            "-t",
            topicOf(format, largestSize),
            "--format",
            format,
            "-G",
            `bench-memory-${id}-${source}-${runtime}-${n}`,
            "--from-beginning",
            "--exit-at-end",
            ...(n < largestSize ? ["--max-messages", String(messages)] : []),
            ...(source.endsWith("+out") ? ["--output-topic", OUTPUT_TOPIC] : []),
            ...sinks,
          ];
        const r = await measured(...streamreg(runtime, args));
        const last = r.code === 0 ? (await readFile(output, "utf8")).trimEnd().split("\n").at(-1)! : "";
        const logged = r.code === 0 ? await countLines(inputLog) : 0;
        if (r.code !== 0 || !last.endsWith(",1") || logged !== n + 1) {
          throw new Error(
            `${source} under ${runtime}, ${n} points: exit ${r.code}, last result line "${last}", ` +
              `${logged} input log lines (expected ${n + 1}): ${r.stderr}`,
          );
        }
        await rm(output);
        await rm(inputLog);
        console.error(
          `memory_bench: ${source} ${runtime} ${n} points: peak RSS ${r.peakMb.toFixed(0)} MB ` +
            `(${r.halfMb.toFixed(0)} MB in the first half of the run), ` +
            `${r.seconds.toFixed(1)} s`,
        );
        rows.push({ source, runtime, points: n, peakMb: r.peakMb, halfMb: r.halfMb, seconds: r.seconds });
      }
      if (source === "csv") await rm(input);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const smallest = Math.min(...sizes);
const largest = largestSize;
const exp = (n: number) => Number.isInteger(Math.log10(n)) ? `10^${Math.log10(n)}` : String(n);
const ordered = [...sizes].sort((a, b) => a - b);
console.log(
  `memory_bench: peak RSS in MB of whole streamreg processes (VmHWM, sampled every ${SAMPLE_MS} ms; in ` +
    `brackets the peak by the middle of the run), ${heapMb ? `heap ${heapMb} MB` : "default heap"}; ` +
    `run by ${isDeno ? "deno" : "bun"}`,
);
const cell = 18;
console.log(
  `${"source".padEnd(16)}${"runtime".padEnd(9)}` + ordered.map((n) => exp(n).padStart(cell)).join("") +
    `${`${exp(largest)}/${exp(smallest)}`.padStart(12)}${"points/s".padStart(12)}`,
);
for (const source of runs) {
  for (const runtime of runtimes) {
    const mine = ordered.map((n) =>
      rows.find((r) => r.source === source && r.runtime === runtime && r.points === n)
    );
    if (mine.some((r) => r === undefined)) continue;
    const [first, last] = [mine[0]!, mine.at(-1)!];
    const ratio = last.peakMb / first.peakMb;
    console.log(
      `${source.padEnd(16)}${runtime.padEnd(9)}` +
        mine.map((r) =>
          `${r!.peakMb.toFixed(0)} (${r!.halfMb.toFixed(0)}) ${r!.seconds.toFixed(1)}s`.padStart(cell)
        )
          .join("") +
        (ordered.length > 1
          ? `${ratio.toFixed(2).padStart(7)}${ratio <= 1.2 ? " flat" : " >1.2"}`
          : "".padEnd(12)) +
        `${Math.round(last.points / last.seconds)}`.padStart(12),
    );
  }
}
console.log(
  `points/s: of the largest run, process start to exit. A ${
    exp(largest)
  }-point run whose peak by the middle is near its ` +
    `peak stopped growing halfway (heap warm-up, not memory kept per point)`,
);
process.exit(0);
