/**
 * The Kafka connection flags of the CLI, in kcat's style (`-b`, `-t`, `-G`, `-X key=value`, `-F file`),
 * shared by `--source kafka` and the produce command: their specs, the help on Kafka properties, and
 * their check into {@linkcode ConnectionFlags} (resolved by `resolveConnection` of
 * `../sources/kafka/connection.ts`).
 *
 * @example
 * ```ts
 * import { connectionFlags, parseConnectionFlags } from "./kafka_flags.ts";
 * const specs = connectionFlags({ group: true, topicHelp: "topic to read" });
 * const flags = parseConnectionFlags({ brokers: "127.0.0.1:9092", topic: "points" }, { group: true });
 * ```
 * @module
 */

import { DEFAULT_GROUP_ID } from "../sources/kafka/config.ts";
import { checkUserProperty, type ConnectionFlags, DEFAULT_TOPIC } from "../sources/kafka/connection.ts";
import { type FlagSpec, type FlagValues, UsageError } from "./flags.ts";

/**
 * The connection flags, in kcat's style. `group` adds `-G` (readers only).
 *
 * @example
 * ```ts
 * const flags: FlagSpec[] = [...connectionFlags({ group: true, topicHelp: "topic to read" })];
 * ```
 */
export function connectionFlags(options: { group: boolean; topicHelp: string }): FlagSpec[] {
  return [
    {
      name: "brokers",
      short: "b",
      aliases: ["bootstrap-server"], // as kafka-console-consumer.sh spells it
      value: "HOST:PORT,...",
      help: "bootstrap.servers: required, here, in KAFKA_BOOTSTRAP_SERVERS or in -F",
    },
    { name: "topic", short: "t", value: "NAME", default: DEFAULT_TOPIC, help: options.topicHelp },
    ...(options.group
      ? [{
        name: "group",
        short: "G",
        value: "ID",
        help: `consumer group, as group.id; if unset anywhere: ${DEFAULT_GROUP_ID}`,
      }]
      : []),
    {
      name: "property",
      short: "X",
      value: "KEY=VALUE",
      repeatable: true,
      help: "a librdkafka property (repeatable), e.g. -X security.protocol=sasl_ssl",
    },
    { name: "config", short: "F", value: "FILE", help: "a properties file: KEY=VALUE lines, # comments" },
  ];
}

/**
 * The connection flags of a source that is not Kafka, for `--output-topic`: `-b`, `-X` and `-F` (the
 * topic is `--output-topic`'s).
 *
 * @example
 * ```ts
 * const flags: FlagSpec[] = [...outputConnectionFlags()]; // --brokers, --property, --config
 * ```
 */
export function outputConnectionFlags(): FlagSpec[] {
  return connectionFlags({ group: false, topicHelp: "" })
    .filter((flag) => flag.name !== "topic")
    .map((flag) => ({ ...flag, help: `with --output-topic: ${flag.help}` }));
}

/**
 * The help lines about Kafka properties shared by the reader and the producer.
 *
 * @example
 * ```ts
 * console.log(PROPERTY_HELP.join("\n"));
 * ```
 */
export const PROPERTY_HELP: readonly string[] = [
  "Kafka properties, named as in librdkafka (-X KEY=VALUE, the -F file, or KAFKA_* variables):",
  "  bootstrap.servers, security.protocol (plaintext | ssl | sasl_plaintext | sasl_ssl), sasl.mechanism",
  "  (PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512), sasl.username, sasl.password, ssl.ca.location (a CA certificate,",
  "  PEM), ssl.certificate.location and ssl.key.location (a client certificate and its key, PEM, for mutual",
  "  TLS), ssl.key.password, ssl.endpoint.identification.algorithm (https | none),",
  "  enable.ssl.certificate.verification, group.id, session.timeout.ms, client.id, auto.offset.reset,",
  "  isolation.level (read_committed, the default | read_uncommitted), fetch.max.bytes,",
  "  max.partition.fetch.bytes, fetch.wait.max.ms, request.timeout.ms (or socket.timeout.ms),",
  "  compression.type (or compression.codec): none | gzip | snappy | lz4 | zstd, the codec of the batches",
  "  produced (a reader reads every codec, and ignores it), transactional.id and transaction.timeout.ms (of",
  "  --output-topic's transactions), debug (e.g. all: kafkajs's debug log on stderr;",
  "  it cannot filter by context). group.instance.id is refused: kafkajs has no static membership. An",
  "  unknown property or a bad value is a usage error (exit 2).",
  "  A variable is the name upper-cased with dots as underscores (KAFKA_SASL_PASSWORD=...; not KAFKA_DEBUG),",
  "  so no secret needs to be on the command line. Flags win over the environment, which wins over -F.",
  "  TLS (ssl, sasl_ssl): the broker's certificate is verified, against ssl.ca.location if set, else the",
  "  system's CAs; an untrusted certificate fails the run. -X enable.ssl.certificate.verification=false",
  "  turns verification off (for testing only), and a warning says so on stderr. The password never appears",
  "  in messages, outputs or the --state directory.",
];

const asList = (value: FlagValues[string]): readonly string[] =>
  Array.isArray(value) ? value : typeof value === "string" ? [value] : [];

/**
 * Checks the connection flags; throws {@linkcode UsageError} for a malformed `-X`, an unknown or
 * unsupported property, an invalid value, a property given twice with different values, or `-b`/`-G`
 * contradicting `-X`.
 *
 * @example
 * ```ts
 * parseConnectionFlags({ brokers: "b:9092", property: ["client.id=me"] }, { group: false });
 * // { topic: "linear-regression", properties: { "client.id": "me", "bootstrap.servers": "b:9092" } }
 * ```
 */
export function parseConnectionFlags(values: FlagValues, options: { group: boolean }): ConnectionFlags {
  const properties: Record<string, string> = {};
  for (const item of asList(values.property)) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? "" : item.slice(0, eq).trim();
    if (key === "") {
      throw new UsageError(`-X: expected KEY=VALUE (a Kafka property), got "${eq < 0 ? item : "=..."}"`);
    }
    const value = item.slice(eq + 1).trim();
    checkUserProperty("-X", key, value);
    if (key in properties && properties[key] !== value) {
      throw new UsageError(`-X ${key} is given twice ("${properties[key]}" and "${value}"): give it once`);
    }
    properties[key] = value;
  }
  const dedicated: [string, string, string][] = [["brokers", "b", "bootstrap.servers"]];
  if (options.group) dedicated.push(["group", "G", "group.id"]);
  for (const [flag, short, property] of dedicated) {
    const value = values[flag];
    if (typeof value !== "string") continue;
    if (value.trim() === "") throw new UsageError(`-${short}: expected a value for ${property}, got ""`);
    if (property in properties && properties[property] !== value.trim()) {
      throw new UsageError(`-${short} and -X ${property} disagree: give one of them`);
    }
    checkUserProperty(`-${short}`, property, value);
    properties[property] = value.trim();
  }
  const topic = typeof values.topic === "string" ? values.topic : DEFAULT_TOPIC;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new UsageError(
      `-t: "${topic}" is not a Kafka topic name (1 to 249 letters, digits, '.', '_' or '-')`,
    );
  }
  const configFile = typeof values.config === "string" ? values.config : undefined;
  if (configFile === "") throw new UsageError(`-F: expected a file path, got ""`);
  return { topic, properties, ...(configFile !== undefined ? { configFile } : {}) };
}
