/**
 * Benchmark: the Kafka client, side by side in one run. For a CSV and a JSON topic of N demo points
 * (default 10⁶), as fresh processes of the runtime running this file, each in a new group, alternately:
 *
 * - a bare kafkajs consumer (`bench/kafka_bare_consumer.ts`; the client streamreg uses, stock: the
 *   reference of the ratios),
 * - the same with streamreg's record batch decoder put into kafkajs (`--streamreg-decoder`; what the
 *   decoder alone gives),
 * - a bare `@platformatic/kafka` consumer (`bench/kafka_bare_platformatic.ts`; the candidate, fetch size
 *   1 MiB),
 * - streamreg `--source kafka --exit-at-end --no-input-log` (its final line checked against the exact fit),
 * - the same with kafkajs's own record decoder (`STREAMREG_KAFKAJS_DECODER=kafkajs`; streamreg before
 *   its decoder),
 *
 * each timed from process start to exit with its peak RSS (GNU time's `%M`), best of R runs; then the
 * ratios streamreg / bare kafkajs and @platformatic/kafka / kafkajs. With `--memory 100000,1000000,...`
 * it also runs streamreg once on topics of those sizes and prints its peak RSS for each: flat memory
 * means the same figure whatever the size.
 *
 * Run (broker from `bash scripts/kafka/start.sh`, or pass -b):
 *   `./node_modules/deno/deno run -A bench/kafka_client_bench.ts [--messages N] [--runs R] [--memory LIST]`
 *   `node_modules/.bin/bun run bench/kafka_client_bench.ts [--messages N] [--runs R] [--memory LIST]`
 * (`deno task bench:kafka-client`, `bun run bench:kafka-client`). Topics `streamreg-bench-FORMAT-N` are
 * produced once and reused while they hold exactly those messages.
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
const command = (script: string, args: string[]): string[] =>
  isDeno
    ? [join(ROOT, "node_modules/deno/deno"), "run", "-A", join(ROOT, script), ...args]
    : [join(ROOT, "node_modules/.bin/bun"), "run", join(ROOT, script), ...args];

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    messages: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    brokers: { type: "string", short: "b" },
    formats: { type: "string", default: "csv,json" },
    memory: { type: "string" },
  },
});
const n = Number(values.messages);
const runs = Number(values.runs);
const formats = values.formats.split(",") as ("csv" | "json")[];
const memorySizes = values.memory ? values.memory.split(",").map(Number) : [];
if (
  !Number.isSafeInteger(n) || n < 2 || !Number.isSafeInteger(runs) || runs < 1 ||
  formats.some((f) => f !== "csv" && f !== "json") ||
  memorySizes.some((s) => !Number.isSafeInteger(s) || s < 2)
) {
  console.error(
    "kafka_client_bench: --messages and --memory sizes must be integers ≥ 2, --runs ≥ 1, --formats csv and/or json",
  );
  process.exit(2);
}
if (!existsSync("/usr/bin/time")) {
  console.error(
    "kafka_client_bench: needs GNU time at /usr/bin/time for the peak RSS (apt-get install time)",
  );
  process.exit(1);
}
let brokers = values.brokers;
const clientEnv = join(ROOT, ".cache/kafka/run/client.env");
if (brokers === undefined && existsSync(clientEnv)) {
  brokers = parseProperties(readFileSync(clientEnv, "utf8")).KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS;
}
if (!brokers) {
  console.error(
    "kafka_client_bench: pass -b HOST:PORT or start the test broker (bash scripts/kafka/start.sh)",
  );
  process.exit(2);
}

const connection = await resolveConnection(parseConnectionFlags({ brokers, topic: "t" }, { group: false }), {
  env: () => undefined,
  readText: (p) => readFile(p, "utf8"),
});
const kafka = await createKafka(connection);

/** A topic of `count` demo points in `format` (CSV with its header message), made once. */
async function topicOf(format: "csv" | "json", count: number): Promise<string> {
  const topic = `streamreg-bench-${format}-${count}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const messages = count + (format === "csv" ? 1 : 0);
    if (!(await holdsOrEmpty(admin, topic, messages))) {
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const t0 = performance.now();
      const demo = {
        count,
        rate: 0,
        slope: 2,
        intercept: 1,
        noise: 1,
        seed: 1,
        format,
        header: format === "csv",
      };
      await sendPoints(producer, topic, demo, new AbortController().signal);
      await producer.disconnect();
      console.error(
        `kafka_client_bench: produced ${messages} messages to ${topic} in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      );
    }
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** The exact final line of `count` demo points. */
async function expectedLine(count: number): Promise<string> {
  const core = await RegressionCore.load(await readFile(join(ROOT, "build/streamreg.wasm")));
  const demo = new DemoSource({ rows: count, rate: 0, slope: 2, intercept: 1, noise: 1, seed: 1 });
  for await (const chunk of demo.chunks(new AbortController().signal)) {
    core.update(chunk.x, chunk.y, chunk.diff);
  }
  const fit = core.fit();
  return `${fit.a},${fit.b}`;
}

interface Timed {
  seconds: number;
  rssMiB: number;
  stdout: string;
}

/** Runs a command under GNU time; its wall time and peak RSS. Throws when it fails. */
function timed(argv: string[], env: Record<string, string> = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "STREAMREG_PEAK_RSS_KB %M", ...argv], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const kb = /STREAMREG_PEAK_RSS_KB (\d+)/.exec(stderr);
      if (code !== 0 || !kb) reject(new Error(`${argv.join(" ")}: exit ${code}\n${stderr}`));
      else resolve({ seconds, rssMiB: Number(kb[1]) / 1024, stdout });
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), "streamreg-kafka-client-bench-"));
const id = `${process.pid}-${Date.now()}`;
const expected = await expectedLine(n);

/** streamreg reading `topic` to its end; checks its final line. */
async function streamreg(
  topic: string,
  group: string,
  options: { format: "csv" | "json"; count: number; want: string; env?: Record<string, string> },
): Promise<Timed> {
  const out = join(dir, `${group}.csv`);
  const ran = await timed(
    command(isDeno ? "src/runtime/deno_main.ts" : "src/runtime/bun_main.ts", [
      "--source",
      "kafka",
      "-b",
      brokers!,
      "-t",
      topic,
      "-G",
      group,
      "--format",
      options.format,
      "--exit-at-end",
      "--no-input-log",
      "--output",
      out,
    ]),
    options.env,
  );
  const last = (await readFile(out, "utf8")).trim().split("\n").at(-1)!.split(",");
  if (`${last[0]},${last[1]}` !== options.want || last[3] !== "1") {
    throw new Error(
      `streamreg on ${topic} (${options.count} points) ended with ${last.join(",")}, not ${options.want}`,
    );
  }
  return ran;
}

type Best = { seconds: number; rssMiB: number };
const best = (a: Best | undefined, b: Timed): Best =>
  a === undefined || b.seconds < a.seconds ? { seconds: b.seconds, rssMiB: b.rssMiB } : a;

const table: string[] = [];
const rate = (messages: number, s: number) => Math.round(messages / s).toLocaleString("en-US").padStart(10);
for (const format of formats) {
  const topic = await topicOf(format, n);
  const messages = n + (format === "csv" ? 1 : 0);
  let bare: Best | undefined;
  let bareDecoder: Best | undefined;
  let candidate: Best | undefined;
  let ours: Best | undefined;
  let oursKafkajs: Best | undefined;
  for (let r = 0; r < runs; r++) {
    const group = (what: string) => `bench-${what}-${id}-${format}-${r}`;
    const b = await timed(
      command("bench/kafka_bare_consumer.ts", ["-b", brokers, "-t", topic, "-G", group("kjs")]),
    );
    const d = await timed(
      command("bench/kafka_bare_consumer.ts", [
        "-b",
        brokers,
        "-t",
        topic,
        "-G",
        group("kjd"),
        "--streamreg-decoder",
      ]),
    );
    const c = await timed(
      command("bench/kafka_bare_platformatic.ts", ["-b", brokers, "-t", topic, "-G", group("plt")]),
    );
    for (const [what, t] of [["kafkajs", b], ["kafkajs + decoder", d], ["@platformatic/kafka", c]] as const) {
      if (JSON.parse(t.stdout).messages !== messages) {
        throw new Error(`${what} read ${t.stdout}, not ${messages}`);
      }
    }
    const s = await streamreg(topic, group("streamreg"), { format, count: n, want: expected });
    const k = await streamreg(topic, group("streamreg-kjs"), {
      format,
      count: n,
      want: expected,
      env: { STREAMREG_KAFKAJS_DECODER: "kafkajs" },
    });
    console.error(
      `kafka_client_bench ${format} run ${r + 1}: kafkajs ${b.seconds.toFixed(2)} s, ` +
        `kafkajs + streamreg's decoder ${d.seconds.toFixed(2)} s, ` +
        `@platformatic/kafka ${c.seconds.toFixed(2)} s, streamreg ${s.seconds.toFixed(2)} s, ` +
        `streamreg with kafkajs's decoder ${k.seconds.toFixed(2)} s`,
    );
    bare = best(bare, b);
    bareDecoder = best(bareDecoder, d);
    candidate = best(candidate, c);
    ours = best(ours, s);
    oursKafkajs = best(oursKafkajs, k);
  }
  const row = (what: string, t: Best) =>
    `  ${format.padEnd(5)} ${what.padEnd(44)} ${rate(messages, t.seconds)} msg/s  ${
      t.rssMiB.toFixed(0).padStart(5)
    } MiB peak RSS  (${t.seconds.toFixed(2)} s)`;
  const ratio = (t: Best) => `${(100 * bare!.seconds / t.seconds).toFixed(1)} %`;
  table.push(row("bare kafkajs consumer", bare!));
  table.push(row("bare kafkajs with streamreg's record decoder", bareDecoder!));
  table.push(row("bare @platformatic/kafka", candidate!));
  table.push(row("streamreg --source kafka", ours!));
  table.push(row("streamreg with kafkajs's own record decoder", oursKafkajs!));
  table.push(
    `  ${format.padEnd(5)} ratios to bare kafkajs: streamreg ${ratio(ours!)}, ` +
      `streamreg with kafkajs's decoder ${ratio(oursKafkajs!)}, ` +
      `kafkajs with streamreg's decoder ${ratio(bareDecoder!)}, @platformatic/kafka ${ratio(candidate!)}`,
  );
}

const memory: string[] = [];
for (const size of memorySizes) {
  const topic = await topicOf("csv", size);
  const s = await streamreg(topic, `bench-mem-${id}-${size}`, {
    format: "csv",
    count: size,
    want: await expectedLine(size),
  });
  memory.push(
    `  ${String(size).padStart(9)} CSV messages: ${s.rssMiB.toFixed(0).padStart(5)} MiB peak RSS, ${
      rate(size + 1, s.seconds).trim()
    } msg/s`,
  );
}
await rm(dir, { recursive: true });

console.log(
  `kafka_client_bench (${runtime}, ${n} points per topic, best of ${runs}, process start to exit):`,
);
for (const line of table) console.log(line);
if (memory.length > 0) {
  console.log(`streamreg --source kafka --exit-at-end --no-input-log, peak RSS by topic size (${runtime}):`);
  for (const line of memory) console.log(line);
}
process.exit(0);
