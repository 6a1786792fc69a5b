/**
 * librdkafka-style Kafka client properties (`bootstrap.servers`, `security.protocol`, `sasl.*`, ...):
 * their names, layers and checks. `./kafkajs_config.ts` maps them onto kafkajs options.
 *
 * Properties come from three layers, highest precedence first: command-line flags, `KAFKA_*`
 * environment variables, a Java-style `.properties` file. This module is runtime-agnostic (no
 * `Deno.*` / `Bun.*`): the caller injects file reading.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { Kafka } from "kafkajs";
 * import { mergeProperties, parseProperties, propertiesFromEnv } from "./config.ts";
 * import { toKafkaJsConfig } from "./kafkajs_config.ts";
 *
 * const props = mergeProperties({
 *   file: parseProperties(readFileSync("client.properties", "utf8")),
 *   env: propertiesFromEnv(process.env),
 *   flags: { "group.id": "my-group" },
 * });
 * const cfg = toKafkaJsConfig(props, { readFile: (p) => readFileSync(p, "utf8") });
 * cfg.warnings.forEach((w) => console.warn(w));
 * const consumer = new Kafka(cfg.kafka).consumer(cfg.consumer);
 * ```
 * @module
 */

/**
 * Every property this module understands, in the order shown in error messages.
 * `sasl.mechanisms` is librdkafka's canonical spelling and an alias of `sasl.mechanism`.
 *
 * @example
 * ```ts
 * if (!KNOWN_PROPERTIES.includes("group.id")) throw new Error("unexpected");
 * ```
 */
export const KNOWN_PROPERTIES: readonly string[] = Object.freeze([
  "bootstrap.servers",
  "security.protocol",
  "sasl.mechanism",
  "sasl.mechanisms",
  "sasl.username",
  "sasl.password",
  "ssl.ca.location",
  "ssl.certificate.location",
  "ssl.key.location",
  "ssl.key.password",
  "ssl.endpoint.identification.algorithm",
  "enable.ssl.certificate.verification",
  "group.id",
  "session.timeout.ms",
  "client.id",
  "auto.offset.reset",
  "isolation.level",
  "fetch.max.bytes",
  "max.partition.fetch.bytes",
  "fetch.wait.max.ms",
  "socket.timeout.ms",
  "request.timeout.ms",
  "compression.type",
  "compression.codec",
  "transactional.id",
  "transaction.timeout.ms",
  "debug",
]);

/**
 * Properties that are known but that the client (kafkajs 2.2.4) cannot honour, with the reason. They are
 * refused with that reason rather than as unknown, and rather than silently ignored.
 *
 * @example
 * ```ts
 * UNSUPPORTED_PROPERTIES["group.instance.id"]; // "kafkajs 2.2.4 has no static group membership ..."
 * ```
 */
export const UNSUPPORTED_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({
  "group.instance.id":
    "kafkajs 2.2.4 has no static group membership (KIP-345): its consumer never sends a group instance id, " +
    "so a restarted reader always rejoins as a new member; leave it out (a restart may then wait up to " +
    "session.timeout.ms)",
});

/**
 * Properties never read from `KAFKA_*` variables: `KAFKA_DEBUG` is what Kafka's own scripts read to start
 * the JVM debugger, so it is often set for another purpose.
 */
const NOT_FROM_ENV: ReadonlySet<string> = new Set(["debug"]);

/**
 * Alternative spellings, mapped to the name used internally. `socket.timeout.ms` (librdkafka) and
 * `request.timeout.ms` (the Java client) both set kafkajs' one request timeout; `compression.codec` is
 * librdkafka's other name of `compression.type`.
 */
const ALIASES: Readonly<Record<string, string>> = {
  "sasl.mechanisms": "sasl.mechanism",
  "socket.timeout.ms": "request.timeout.ms",
  "compression.codec": "compression.type",
};

/** Properties whose values must never appear in messages. */
const SECRET_PROPERTIES: ReadonlySet<string> = new Set(["sasl.password", "ssl.key.password"]);

/**
 * A Kafka property that is unknown, unsupported, has an invalid value, or is missing while another one
 * needs it: a mistake of configuration (a usage error), as opposed to a file that cannot be read.
 *
 * @example
 * ```ts
 * try { toKafkaJsConfig(props); } catch (e) { if (e instanceof KafkaPropertyError) exitCode = 2; }
 * ```
 */
export class KafkaPropertyError extends Error {
  /** `message` names the property and says what is expected. */
  constructor(message: string) {
    super(message);
    this.name = "KafkaPropertyError";
  }
}

/** Default `client.id` and consumer `group.id` when none is configured. */
export const DEFAULT_CLIENT_ID = "streamreg";
/** Default consumer group when `group.id` is not set. */
export const DEFAULT_GROUP_ID = "streamreg";
/** Default `session.timeout.ms` (kafkajs' default). */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

/**
 * The environment variable that sets property `name`: `KAFKA_` + upper case, dots as underscores.
 *
 * @example
 * ```ts
 * envNameOf("sasl.password"); // "KAFKA_SASL_PASSWORD"
 * ```
 */
export function envNameOf(name: string): string {
  return "KAFKA_" + name.toUpperCase().replace(/\./g, "_");
}

/**
 * Parses a subset of the Java `.properties` format: `key=value` or `key: value` lines (split at the
 * first `=` or `:`), `#` and `!` comment lines, blank lines; keys and values are trimmed. A later
 * duplicate key wins. No escapes or line continuations. Property names are not checked here (see
 * {@linkcode toKafkaJsConfig}).
 *
 * @throws Error naming the line number when a line has no separator or an empty key.
 * @example
 * ```ts
 * const p = parseProperties("# broker\nbootstrap.servers = 127.0.0.1:9092\ngroup.id: demo\n");
 * // p → { "bootstrap.servers": "127.0.0.1:9092", "group.id": "demo" }
 * ```
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) return;
    const sep = line.search(/[=:]/);
    if (sep < 0) {
      throw new Error(`properties line ${i + 1}: expected "key=value" or "key: value"`);
    }
    const key = line.slice(0, sep).trim();
    if (key === "") throw new Error(`properties line ${i + 1}: empty property name`);
    out[key] = line.slice(sep + 1).trim();
  });
  return out;
}

/**
 * Reads the Kafka properties set through environment variables: for each known property, the
 * variable `KAFKA_` + its name upper-cased with dots as underscores (`KAFKA_BOOTSTRAP_SERVERS` →
 * `bootstrap.servers`, `KAFKA_SASL_PASSWORD` → `sasl.password`), and of the unsupported ones (so that
 * they are refused, not ignored). Other `KAFKA_*` variables (such as `KAFKA_VERSION`, and `KAFKA_DEBUG`,
 * which Kafka's scripts use for the JVM debugger) are ignored, and so are empty values.
 *
 * @example
 * ```ts
 * propertiesFromEnv({ KAFKA_BOOTSTRAP_SERVERS: "b:9092", KAFKA_VERSION: "3.9.2", HOME: "/root" });
 * // → { "bootstrap.servers": "b:9092" }
 * ```
 */
export function propertiesFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ENV_PROPERTIES) {
    const value = env[envNameOf(name)];
    if (value !== undefined && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

/**
 * The properties read from `KAFKA_*` variables (see {@linkcode propertiesFromEnv}).
 *
 * @example
 * ```ts
 * ENV_PROPERTIES.map(envNameOf); // ["KAFKA_BOOTSTRAP_SERVERS", ...]
 * ```
 */
export const ENV_PROPERTIES: readonly string[] = Object.freeze([
  ...KNOWN_PROPERTIES.filter((name) => !NOT_FROM_ENV.has(name)),
  ...Object.keys(UNSUPPORTED_PROPERTIES),
]);

/** The layers merged by {@linkcode mergeProperties}; each is optional. */
export interface PropertyLayers {
  /** From a properties file (lowest precedence). */
  file?: Record<string, string | undefined>;
  /** From {@linkcode propertiesFromEnv}. */
  env?: Record<string, string | undefined>;
  /** From command-line flags (highest precedence). */
  flags?: Record<string, string | undefined>;
}

/**
 * A layer of properties with aliases folded into their main name (`sasl.mechanisms` → `sasl.mechanism`);
 * throws a {@linkcode KafkaPropertyError} if a property and its alias disagree.
 *
 * @example
 * ```ts
 * canonicalize({ "sasl.mechanisms": "PLAIN" }, "-F client.properties"); // { "sasl.mechanism": "PLAIN" }
 * ```
 */
export function canonicalize(
  layer: Record<string, string | undefined> | undefined,
  where: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!layer) return out;
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const name = ALIASES[key] ?? key;
    if (name in out && out[name] !== value) {
      const shown = SECRET_PROPERTIES.has(name) ? "" : ` ("${out[name]}" vs "${value}")`;
      throw new KafkaPropertyError(`${where}: "${key}" and its alias conflict${shown}; set only one`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * Merges property layers with precedence flags > env > file. Aliases (`sasl.mechanisms`) are folded
 * into their main name first, so a flag `sasl.mechanism` overrides a file's `sasl.mechanisms`.
 * `undefined` values are skipped, so unset flags do not hide lower layers.
 *
 * @example
 * ```ts
 * mergeProperties({
 *   file: { "bootstrap.servers": "file:9092", "group.id": "g" },
 *   env: { "bootstrap.servers": "env:9092" },
 *   flags: { "group.id": "flag-group" },
 * });
 * // → { "bootstrap.servers": "env:9092", "group.id": "flag-group" }
 * ```
 */
export function mergeProperties(layers: PropertyLayers): Record<string, string> {
  return {
    ...canonicalize(layers.file, "properties file"),
    ...canonicalize(layers.env, "environment"),
    ...canonicalize(layers.flags, "flags"),
  };
}

/**
 * Returns a copy safe to log: secret values (`sasl.password`) replaced by `"***"`.
 *
 * @example
 * ```ts
 * redactProperties({ "sasl.password": "s3cret", "group.id": "g" });
 * // → { "sasl.password": "***", "group.id": "g" }
 * ```
 */
export function redactProperties(props: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) out[k] = SECRET_PROPERTIES.has(ALIASES[k] ?? k) ? "***" : v;
  return out;
}

const PROTOCOLS = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"] as const;
/**
 * A value of `security.protocol`.
 *
 * @example
 * ```ts
 * const protocol: Protocol = "sasl_ssl";
 * ```
 */
export type Protocol = typeof PROTOCOLS[number];
/**
 * The values of `sasl.mechanism`, and kafkajs's names for them.
 *
 * @example
 * ```ts
 * MECHANISMS["SCRAM-SHA-256"]; // "scram-sha-256"
 * ```
 */
export const MECHANISMS = {
  "PLAIN": "plain",
  "SCRAM-SHA-256": "scram-sha-256",
  "SCRAM-SHA-512": "scram-sha-512",
} as const;
const OFFSET_RESETS: Readonly<Record<string, boolean>> = {
  earliest: true,
  smallest: true,
  beginning: true,
  latest: false,
  largest: false,
  end: false,
};

/**
 * A property as named in messages, with its environment variable.
 *
 * @example
 * ```ts
 * where("sasl.password"); // "property sasl.password (env KAFKA_SASL_PASSWORD)"
 * ```
 */
export function where(name: string): string {
  return `property ${name} (env ${envNameOf(name)})`;
}

function badValue(name: string, value: string, expected: string): Error {
  const shown = SECRET_PROPERTIES.has(name) ? "" : ` "${value}"`;
  return new KafkaPropertyError(`invalid value${shown} for Kafka property ${name}: expected ${expected}`);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * The error for a property name this module does not know, with the closest known name as a hint.
 *
 * @example
 * ```ts
 * unknownProperty("bootstrap.server").message; // 'unknown Kafka property "bootstrap.server" (did you mean "bootstrap.servers"?): ...'
 * ```
 */
export function unknownProperty(name: string): Error {
  const why = UNSUPPORTED_PROPERTIES[name];
  if (why !== undefined) {
    return new KafkaPropertyError(`Kafka property "${name}" is known but unsupported: ${why}`);
  }
  const best =
    KNOWN_PROPERTIES.map((k) => [k, editDistance(name, k)] as const).sort((x, y) => x[1] - y[1])[0];
  const hint = best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : "";
  return new KafkaPropertyError(
    `unknown Kafka property "${name}"${hint}: supported are ${KNOWN_PROPERTIES.join(", ")}`,
  );
}

/**
 * The brokers of `bootstrap.servers` (host:port, comma-separated); throws a
 * {@linkcode KafkaPropertyError} for a malformed list.
 *
 * @example
 * ```ts
 * parseBrokers("a:9092, b:9092"); // ["a:9092", "b:9092"]
 * ```
 */
export function parseBrokers(value: string): string[] {
  const list = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw badValue("bootstrap.servers", value, "a comma-separated list of host:port");
  return list.map((entry) => {
    const hostPort = entry.replace(/^[a-z_]+:\/\//i, ""); // librdkafka accepts "PLAINTEXT://host:port"
    if (hostPort.startsWith("[")) {
      throw new KafkaPropertyError(
        `Kafka property bootstrap.servers: IPv6 literal "${entry}" is not supported by kafkajs; use a host name`,
      );
    }
    const parts = hostPort.split(":");
    if (parts.length > 2 || parts[0] === "" || /[\s/]/.test(parts[0])) {
      throw badValue("bootstrap.servers", entry, "host:port entries separated by commas");
    }
    if (parts.length === 1) return `${parts[0]}:9092`; // librdkafka's default port
    const port = Number(parts[1]);
    if (!/^\d+$/.test(parts[1]) || port < 1 || port > 65535) {
      throw badValue("bootstrap.servers", entry, "host:port with a port from 1 to 65535");
    }
    return `${parts[0]}:${port}`;
  });
}

/** `record[key]` if it is the record's own, so that "constructor" is no known value. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function parseBool(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw badValue(name, value, "true or false");
}

function parseInteger(name: string, value: string, min: number, max: number, unit: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw badValue(name, value, `an integer number of ${unit} from ${min} to ${max}`);
  }
  return n;
}

/** librdkafka's debug contexts (`debug=broker,fetch`); kafkajs logs all of them or none. */
const DEBUG_CONTEXTS = [
  "all",
  "generic",
  "broker",
  "topic",
  "metadata",
  "feature",
  "queue",
  "msg",
  "protocol",
  "cgrp",
  "security",
  "fetch",
  "interceptor",
  "plugin",
  "consumer",
  "admin",
  "eos",
  "mock",
  "assignor",
  "conf",
  "telemetry",
];

function parseDebug(value: string): string[] {
  const contexts = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  const bad = contexts.find((c) => !DEBUG_CONTEXTS.includes(c));
  if (contexts.length === 0 || bad !== undefined) {
    throw badValue("debug", value, `a comma-separated list of ${DEBUG_CONTEXTS.join(", ")}`);
  }
  return contexts;
}

const ISOLATION_LEVELS: Readonly<Record<string, boolean>> = { read_committed: false, read_uncommitted: true };

/**
 * The values of `compression.type`: the codec of the batches a producer writes (a reader reads all of them).
 *
 * @example
 * ```ts
 * COMPRESSION_CODECS.includes("zstd"); // true
 * ```
 */
export const COMPRESSION_CODECS = Object.freeze(["none", "gzip", "snappy", "lz4", "zstd"] as const);
const ENDPOINT_IDENTIFICATION: Readonly<Record<string, boolean>> = { https: true, none: false };

/** The checks of single values, by property name (after aliases); each returns the parsed value. */
/**
 * The check of each property's value: returns the parsed value or throws a {@linkcode KafkaPropertyError}.
 *
 * @example
 * ```ts
 * VALUE_CHECKS["session.timeout.ms"]("45000"); // 45000
 * ```
 */
export const VALUE_CHECKS: Readonly<Record<string, (value: string) => unknown>> = {
  "bootstrap.servers": (v) => parseBrokers(v),
  "security.protocol": (v) => {
    const protocol = v.toLowerCase() as Protocol;
    if (!PROTOCOLS.includes(protocol)) throw badValue("security.protocol", v, PROTOCOLS.join(", "));
    return protocol;
  },
  "sasl.mechanism": (v) => {
    const mechanism = own<string>(MECHANISMS, v.toUpperCase()) as
      | (typeof MECHANISMS)[keyof typeof MECHANISMS]
      | undefined;
    if (!mechanism) throw badValue("sasl.mechanism", v, Object.keys(MECHANISMS).join(", "));
    return mechanism;
  },
  "enable.ssl.certificate.verification": (v) => parseBool("enable.ssl.certificate.verification", v),
  "ssl.endpoint.identification.algorithm": (v) => {
    const check = own(ENDPOINT_IDENTIFICATION, v.toLowerCase());
    if (check === undefined) throw badValue("ssl.endpoint.identification.algorithm", v, "https or none");
    return check;
  },
  "session.timeout.ms": (v) => parseInteger("session.timeout.ms", v, 1000, 3_600_000, "milliseconds"),
  "auto.offset.reset": (v) => {
    const fromBeginning = own(OFFSET_RESETS, v.toLowerCase());
    if (fromBeginning === undefined) {
      throw badValue("auto.offset.reset", v, Object.keys(OFFSET_RESETS).join(", "));
    }
    return fromBeginning;
  },
  "isolation.level": (v) => {
    const uncommitted = own(ISOLATION_LEVELS, v.toLowerCase());
    if (uncommitted === undefined) throw badValue("isolation.level", v, "read_committed or read_uncommitted");
    return uncommitted;
  },
  // librdkafka's ranges.
  "fetch.max.bytes": (v) => parseInteger("fetch.max.bytes", v, 1, 2_147_483_135, "bytes"),
  "max.partition.fetch.bytes": (v) => parseInteger("max.partition.fetch.bytes", v, 1, 1_000_000_000, "bytes"),
  "fetch.wait.max.ms": (v) => parseInteger("fetch.wait.max.ms", v, 0, 300_000, "milliseconds"),
  "request.timeout.ms": (v) => parseInteger("request.timeout.ms", v, 10, 900_000, "milliseconds"),
  "compression.type": (v) => {
    const codec = v.toLowerCase() as typeof COMPRESSION_CODECS[number];
    if (!COMPRESSION_CODECS.includes(codec)) {
      throw badValue("compression.type", v, COMPRESSION_CODECS.join(", "));
    }
    return codec;
  },
  "transaction.timeout.ms": (v) =>
    parseInteger("transaction.timeout.ms", v, 1000, 2_147_483_647, "milliseconds"),
  "debug": (v) => parseDebug(v),
};

/**
 * Checks one property: its name (known and supported) and its value on its own (a number in range, one
 * of the allowed words, host:port entries). What depends on other properties or on files is checked by
 * {@linkcode toKafkaJsConfig}.
 *
 * @throws KafkaPropertyError naming the property and what is expected (never showing a secret value).
 * @example
 * ```ts
 * checkProperty("session.timeout.ms", "6000"); // fine
 * checkProperty("session.timeout.ms", "abc"); // throws: invalid value "abc" for Kafka property session.timeout.ms: ...
 * ```
 */
export function checkProperty(name: string, value: string): void {
  if (!KNOWN_PROPERTIES.includes(name)) throw unknownProperty(name);
  const v = value.trim();
  if (v === "") return; // an empty value is as if unset
  VALUE_CHECKS[ALIASES[name] ?? name]?.(v);
}
