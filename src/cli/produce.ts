/**
 * The test-stream producer behind `scripts/produce.ts`, runtime-agnostic: sends the CSV header, then the
 * points of the demo stream (the reference tutorial's generator by default: 10 points, one per second,
 * y = x + uniform noise in ±0.1, Python seed 0 — exactly `seed_points.csv`) to partition 0 of a topic.
 *
 * The points come from {@linkcode DemoSource}, so they are bit for bit those of `--source demo` with
 * the same flags. Numbers are written as the shortest decimal that reads back to the same double.
 *
 * @example
 * ```ts
 * import { produceMain } from "./produce.ts";
 * const code = await produceMain(host); // host.args: ["-b", "127.0.0.1:9092", "--count", "100", "--rate", "0"]
 * ```
 * @module
 */

import type { Producer } from "kafkajs";
import { type FlagSpec, type FlagValues, numberFlag, parseFlags, UsageError } from "./flags.ts";
import type { Host } from "./host.ts";
import { hostIo } from "./kafka_spec.ts";
import { DEMO_DEFAULTS, DemoSource } from "../sources/demo/demo_source.ts";
import { formatNumber } from "../model/format_number.ts";
import {
  createKafka,
  type KafkaConnection,
  kafkaErrorMessage,
  resolveConnection,
  SETUP_DEADLINE_MS,
  withDeadline,
} from "../sources/kafka/connection.ts";
import { connectionFlags, parseConnectionFlags, PROPERTY_HELP } from "./kafka_flags.ts";
import { type CompressionName, compressionType } from "../sources/kafka/compression_codecs.ts";

/**
 * The flags of `scripts/produce.ts`.
 *
 * @example
 * ```ts
 * PRODUCE_FLAGS.map((f) => f.name); // ["brokers", "topic", "property", "config", "count", ...]
 * ```
 */
export const PRODUCE_FLAGS: readonly FlagSpec[] = [
  ...connectionFlags({ group: false, topicHelp: "topic to write" }),
  {
    name: "count",
    value: "N",
    default: String(DEMO_DEFAULTS.rows),
    help: "number of points; 0 = endless (until SIGINT)",
  },
  {
    name: "rate",
    value: "N",
    default: String(DEMO_DEFAULTS.rate),
    help: "points per second; 0 = as fast as possible, sent in batches",
  },
  { name: "slope", value: "B", default: String(DEMO_DEFAULTS.slope), help: "slope of the line" },
  { name: "intercept", value: "A", default: String(DEMO_DEFAULTS.intercept), help: "intercept of the line" },
  {
    name: "noise",
    value: "E",
    default: String(DEMO_DEFAULTS.noise),
    help: "y gets (2r-1)/(1/E), r = Python random.random(): uniform in [-E, E)",
  },
  { name: "seed", value: "N", default: String(DEMO_DEFAULTS.seed), help: "seed, as Python's random.seed(N)" },
  { name: "format", value: "csv|json", default: "csv", help: 'messages: csv "x,y" or json {"x":..,"y":..}' },
  { name: "no-header", help: "do not send the CSV header message x,y first" },
  {
    name: "partitions",
    value: "N",
    help: "create the topic with N partitions if it does not exist (else a missing topic is an error)",
  },
  { name: "help", short: "h", help: "show this help and exit" },
];

/**
 * Checked options of the producer.
 *
 * @example
 * ```ts
 * const options: ProduceOptions = parseProduceArgs(["--count", "5"]);
 * ```
 */
export interface ProduceOptions {
  /** --help was given. */
  readonly help: boolean;
  /** Connection flags (see `./connection.ts`). */
  readonly connection: ReturnType<typeof parseConnectionFlags>;
  /** Points to send; 0 = endless. */
  readonly count: number;
  /** Points per second; 0 = as fast as possible. */
  readonly rate: number;
  /** The line and its noise. */
  readonly slope: number;
  /** Intercept of the line. */
  readonly intercept: number;
  /** Half-width of the noise. */
  readonly noise: number;
  /** Python seed. */
  readonly seed: number;
  /** Message format. */
  readonly format: "csv" | "json";
  /** Send the CSV header first. */
  readonly header: boolean;
  /** Create the topic with this many partitions if missing. */
  readonly partitions?: number;
}

/**
 * Parses the producer's arguments; throws {@linkcode UsageError} with a one-line message.
 *
 * @example
 * ```ts
 * parseProduceArgs(["-b", "127.0.0.1:9092", "--rate", "0"]).rate; // 0
 * ```
 */
export function parseProduceArgs(args: readonly string[]): ProduceOptions {
  const specs = new Map(PRODUCE_FLAGS.map((f) => [f.name, f]));
  const { values } = parseFlags(args, specs);
  const v: FlagValues = values;
  const get = (name: string) => String(v[name] ?? specs.get(name)!.default);
  const format = get("format");
  if (format !== "csv" && format !== "json") {
    throw new UsageError(`--format: expected csv or json, got "${format}"`);
  }
  const help = v.help === true;
  return {
    help,
    connection: help ? { topic: "", properties: {} } : parseConnectionFlags(v, { group: false }),
    count: numberFlag("count", get("count"), { min: 0, integer: true }),
    rate: numberFlag("rate", get("rate"), { min: 0 }),
    slope: numberFlag("slope", get("slope")),
    intercept: numberFlag("intercept", get("intercept")),
    noise: numberFlag("noise", get("noise"), { min: 0 }),
    seed: numberFlag("seed", get("seed"), { integer: true }),
    format,
    header: format === "csv" && v["no-header"] !== true,
    ...(typeof v.partitions === "string"
      ? { partitions: numberFlag("partitions", v.partitions, { min: 1, integer: true }) }
      : {}),
  };
}

/**
 * The text of `scripts/produce.ts --help`.
 *
 * @example
 * ```ts
 * console.log(produceHelp());
 * ```
 */
export function produceHelp(): string {
  const left = PRODUCE_FLAGS.map((f) =>
    `${f.short ? `-${f.short}, ` : ""}--${f.name}${f.value ? ` ${f.value}` : ""}`
  );
  const width = Math.max(...left.map((l) => l.length + 2));
  return [
    "produce: sends a test stream of points to a Kafka topic, partition 0: the CSV header x,y, then points",
    "x = 0, 1, 2, ...; y = intercept + slope·x + uniform noise, exactly as --source demo generates them.",
    "The defaults are the reference tutorial's generator: 10 points, one per second, y = x ± 0.1, seed 0.",
    "",
    "Usage:",
    "  bun run scripts/produce.ts [flags]",
    "  deno run -A scripts/produce.ts [flags]",
    "",
    "Flags:",
    ...PRODUCE_FLAGS.map((f, i) =>
      `  ${left[i].padEnd(width)}${f.help}${f.aliases?.length ? ` (also --${f.aliases.join(", --")})` : ""}${
        f.default !== undefined ? ` (default: ${f.default})` : ""
      }`
    ),
    "",
    ...PROPERTY_HELP,
    "",
    "Examples:",
    "  bun run scripts/produce.ts -b 127.0.0.1:9092 --partitions 1     the tutorial's stream (creates the topic)",
    "  bun run scripts/produce.ts -b 127.0.0.1:9092 --count 1000000 --rate 0 -t big",
    "  bun run scripts/produce.ts -b 127.0.0.1:9092 -X compression.type=zstd     batches compressed with zstd",
    "  KAFKA_SASL_PASSWORD=... bun run scripts/produce.ts -b host:9093 -X security.protocol=sasl_ssl \\",
    "    -X sasl.mechanism=SCRAM-SHA-256 -X sasl.username=me",
    "",
    "Exit codes: 0 done (also after SIGINT), 1 failure, 2 bad flags.",
  ].join("\n") + "\n";
}

/**
 * Makes sure the topic exists: creates it with `partitions` partitions if it is missing and
 * `partitions` is given, else fails with a message saying how to create it.
 *
 * @example
 * ```ts
 * await ensureTopic(kafka, connection, 1);
 * ```
 */
export async function ensureTopic(
  kafka: Awaited<ReturnType<typeof createKafka>>,
  connection: KafkaConnection,
  partitions: number | undefined,
): Promise<"created" | "exists"> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    if (topics.includes(connection.topic)) return "exists";
    if (partitions === undefined) {
      throw new Error(
        `topic "${connection.topic}" does not exist on ${connection.brokers}: pass --partitions N to create it`,
      );
    }
    await admin.createTopics({
      topics: [{ topic: connection.topic, numPartitions: partitions }],
      waitForLeaders: true,
    });
    return "created";
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Sends the stream (header, then points) with a connected producer, in batches compressed with
 * `options.compression` (default none); resolves to the number of points sent. Stops early when `signal`
 * aborts.
 *
 * @example
 * ```ts
 * const sent = await sendPoints(producer, "linear-regression", options, signal);
 * ```
 */
export async function sendPoints(
  producer: Producer,
  topic: string,
  options: Omit<ProduceOptions, "help" | "connection" | "partitions"> & { compression?: CompressionName },
  signal: AbortSignal,
): Promise<number> {
  const compression = compressionType(options.compression ?? "none");
  if (options.header) {
    await producer.send({ topic, compression, messages: [{ value: "x,y", partition: 0 }] });
  }
  const demo = new DemoSource({
    rows: options.count,
    rate: options.rate,
    slope: options.slope,
    intercept: options.intercept,
    noise: options.noise,
    seed: options.seed,
    chunkSize: 10_000,
  });
  const json = options.format === "json";
  let sent = 0;
  for await (const chunk of demo.chunks(signal)) {
    const messages = new Array<{ value: string; partition: number }>(chunk.x.length);
    for (let i = 0; i < chunk.x.length; i++) {
      const x = formatNumber(chunk.x[i]);
      const y = formatNumber(chunk.y[i]);
      messages[i] = { value: json ? `{"x":${x},"y":${y}}` : `${x},${y}`, partition: 0 };
    }
    await producer.send({ topic, compression, messages });
    sent += messages.length;
  }
  return sent;
}

/**
 * Runs `scripts/produce.ts`: resolves to the exit code; never throws.
 *
 * @example
 * ```ts
 * Deno.exit(await produceMain(denoHost()));
 * ```
 */
export async function produceMain(host: Host): Promise<number> {
  let options: ProduceOptions;
  try {
    options = parseProduceArgs(host.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    host.writeStderr(`produce: ${error.message}\n`);
    return 2;
  }
  if (options.help) {
    const out = host.stdout().getWriter();
    await out.write(new TextEncoder().encode(produceHelp()));
    await out.close();
    return 0;
  }
  const controller = new AbortController();
  const stopListening = host.onSignal(() => controller.abort());
  let connection: KafkaConnection | undefined;
  let producer: Producer | undefined;
  try {
    connection = await resolveConnection(options.connection, hostIo(host));
    for (const warning of connection.warnings) host.writeStderr(`produce: ${warning}\n`);
    const c = connection;
    const kafka = await createKafka(
      c,
      c.settings.debug ? { log: (line) => host.writeStderr(`produce: ${line}\n`) } : {},
    );
    const p = kafka.producer({ allowAutoTopicCreation: false });
    producer = p;
    const created = await withDeadline(
      (async () => {
        const created = await ensureTopic(kafka, c, options.partitions);
        await p.connect();
        return created;
      })(),
      SETUP_DEADLINE_MS,
      () =>
        `no answer from Kafka at ${c.brokers} within ${
          SETUP_DEADLINE_MS / 1000
        } s (check -b and the network)`,
    );
    if (created === "created") {
      host.writeStderr(`produce: created topic "${c.topic}" with ${options.partitions} partition(s)\n`);
    }
    const compression = c.settings.compression ?? "none";
    const sent = await sendPoints(p, c.topic, { ...options, compression }, controller.signal);
    const what = `${sent} point${sent === 1 ? "" : "s"}${options.header ? " after the header x,y" : ""}`;
    const how = compression === "none" ? "" : `, compressed with ${compression}`;
    host.writeStderr(`produce: sent ${what} to "${c.topic}" partition 0 at ${c.brokers}${how}\n`);
    return 0;
  } catch (error) {
    const fromKafkaJs = error instanceof Error && error.name.startsWith("KafkaJS");
    const message = connection && fromKafkaJs
      ? kafkaErrorMessage(error, { connection })
      : error instanceof Error
      ? error.message
      : String(error);
    host.writeStderr(`produce: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await producer?.disconnect().catch(() => {});
    stopListening();
  }
}
