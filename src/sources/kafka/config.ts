/**
 * librdkafka-style Kafka client properties (`bootstrap.servers`, `security.protocol`, `sasl.*`, ...)
 * mapped onto kafkajs options.
 *
 * Properties come from three layers, highest precedence first: command-line flags, `KAFKA_*`
 * environment variables, a Java-style `.properties` file. This module is runtime-agnostic (no
 * `Deno.*` / `Bun.*`): the caller injects file reading.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { Kafka } from "kafkajs";
 * import { mergeProperties, parseProperties, propertiesFromEnv, toKafkaJsConfig } from "./config.ts";
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

import { createPrivateKey } from "node:crypto";

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
 * `request.timeout.ms` (the Java client) both set kafkajs' one request timeout.
 */
const ALIASES: Readonly<Record<string, string>> = {
  "sasl.mechanisms": "sasl.mechanism",
  "socket.timeout.ms": "request.timeout.ms",
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

function canonicalize(layer: Record<string, string | undefined> | undefined, where: string) {
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

/** kafkajs SASL options (a subset of kafkajs' `SASLOptions`). */
export type KafkaJsSasl =
  | { mechanism: "plain"; username: string; password: string }
  | { mechanism: "scram-sha-256"; username: string; password: string }
  | { mechanism: "scram-sha-512"; username: string; password: string };

/** kafkajs TLS options (a subset of node's `tls.ConnectionOptions`). */
export interface KafkaJsTls {
  /** Trusted CA certificates (PEM). Absent: the runtime's default trust store. */
  ca?: string[];
  /** Whether to verify the broker certificate (false only with enable.ssl.certificate.verification=false). */
  rejectUnauthorized: boolean;
  /** The client's certificate (PEM, from ssl.certificate.location), for mutual TLS. */
  cert?: string;
  /** The client's private key (PEM, from ssl.key.location), for mutual TLS. */
  key?: string;
  /** Decrypts `key` (ssl.key.password). */
  passphrase?: string;
  /** With ssl.endpoint.identification.algorithm=none: accepts any host name in the broker's certificate. */
  checkServerIdentity?: () => undefined;
}

/** Options for `new Kafka(...)` from kafkajs (structurally a `KafkaConfig`). */
export interface KafkaJsClientConfig {
  clientId: string;
  brokers: string[];
  ssl?: KafkaJsTls;
  sasl?: KafkaJsSasl;
  /** From request.timeout.ms / socket.timeout.ms; absent: the caller's default. */
  requestTimeout?: number;
}

/** Options for `kafka.consumer(...)` (structurally a kafkajs `ConsumerConfig`). */
export interface KafkaJsConsumerConfig {
  groupId: string;
  sessionTimeout: number;
  /** Kept below a third of the session timeout, as kafkajs requires it to be smaller. */
  heartbeatInterval: number;
  /** isolation.level=read_uncommitted; absent: read_committed (kafkajs' and librdkafka's default). */
  readUncommitted?: boolean;
  /** fetch.max.bytes; absent: the caller's default. */
  maxBytes?: number;
  /** max.partition.fetch.bytes; absent: the caller's default. */
  maxBytesPerPartition?: number;
  /** fetch.wait.max.ms; absent: the caller's default. */
  maxWaitTimeInMs?: number;
}

/** The result of {@linkcode toKafkaJsConfig}. */
export interface KafkaJsSettings {
  /** For `new Kafka(kafka)`. Contains the SASL password: do not log it (use {@linkcode redactProperties}). */
  kafka: KafkaJsClientConfig;
  /** For `kafka.consumer(consumer)`. */
  consumer: KafkaJsConsumerConfig;
  /** From auto.offset.reset: true for earliest, false for latest, absent when not set. */
  fromBeginning?: boolean;
  /** From debug: the librdkafka debug contexts asked for; then kafkajs logs at its debug level. */
  debug?: string[];
  /** Human-readable notes about settings that were ignored or weaken security. */
  warnings: string[];
}

/** Options for {@linkcode toKafkaJsConfig}. */
export interface ToKafkaJsOptions {
  /**
   * Reads a text file (the PEM files at ssl.ca.location, ssl.certificate.location, ssl.key.location); e.g.
   * `(p) => readFileSync(p, "utf8")`.
   */
  readFile?: (path: string) => string;
  /** Consumer group when group.id is not set (default "streamreg"). */
  defaultGroupId?: string;
}

const PROTOCOLS = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"] as const;
type Protocol = typeof PROTOCOLS[number];
const MECHANISMS = {
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

function where(name: string): string {
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

function parseBrokers(value: string): string[] {
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
const ENDPOINT_IDENTIFICATION: Readonly<Record<string, boolean>> = { https: true, none: false };

/** The checks of single values, by property name (after aliases); each returns the parsed value. */
const VALUE_CHECKS: Readonly<Record<string, (value: string) => unknown>> = {
  "bootstrap.servers": (v) => parseBrokers(v),
  "security.protocol": (v) => {
    const protocol = v.toLowerCase() as Protocol;
    if (!PROTOCOLS.includes(protocol)) throw badValue("security.protocol", v, PROTOCOLS.join(", "));
    return protocol;
  },
  "sasl.mechanism": (v) => {
    const mechanism = own<string>(MECHANISMS, v.toUpperCase()) as KafkaJsSasl["mechanism"] | undefined;
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

/**
 * Validates librdkafka-style properties and translates them into kafkajs options.
 *
 * Supported: `bootstrap.servers` (required, comma list of host[:port], port 9092 by default),
 * `security.protocol` (plaintext | ssl | sasl_plaintext | sasl_ssl, any case; default plaintext),
 * `sasl.mechanism`/`sasl.mechanisms` (PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512), `sasl.username`,
 * `sasl.password`, `ssl.ca.location` (PEM file, read with `options.readFile`),
 * `ssl.certificate.location` and `ssl.key.location` (the client's certificate and key, PEM, for mutual
 * TLS; both or neither), `ssl.key.password` (decrypts the key), `ssl.endpoint.identification.algorithm`
 * (https, the default: the broker's certificate must name the host; none: any name),
 * `enable.ssl.certificate.verification` (default true; false adds a warning), `group.id`,
 * `session.timeout.ms`, `client.id`, `auto.offset.reset` (earliest | smallest | beginning | latest |
 * largest | end), `isolation.level` (read_committed, the default, | read_uncommitted), `fetch.max.bytes`,
 * `max.partition.fetch.bytes`, `fetch.wait.max.ms`, `request.timeout.ms`/`socket.timeout.ms`, `debug`
 * (librdkafka contexts; kafkajs then logs everything at its debug level). `group.instance.id` is refused
 * as known but unsupported ({@linkcode UNSUPPORTED_PROPERTIES}).
 *
 * Error messages name the property and its environment variable but never contain a password.
 *
 * @throws KafkaPropertyError on an unknown or unsupported property, an invalid value, or missing SASL
 * credentials or half of a client certificate; Error when a PEM file cannot be read or holds no PEM.
 * @example
 * ```ts
 * const cfg = toKafkaJsConfig(
 *   {
 *     "bootstrap.servers": "127.0.0.1:39093",
 *     "security.protocol": "SASL_SSL",
 *     "sasl.mechanism": "SCRAM-SHA-256",
 *     "sasl.username": "streamreg",
 *     "sasl.password": "secret",
 *     "ssl.ca.location": "/path/ca.pem",
 *     "auto.offset.reset": "earliest",
 *   },
 *   { readFile: (p) => readFileSync(p, "utf8") },
 * );
 * // cfg.kafka → { clientId: "streamreg", brokers: ["127.0.0.1:39093"],
 * //   ssl: { ca: [pem], rejectUnauthorized: true },
 * //   sasl: { mechanism: "scram-sha-256", username: "streamreg", password: "secret" } }
 * // cfg.fromBeginning → true
 * ```
 */
export function toKafkaJsConfig(
  props: Record<string, string | undefined>,
  options: ToKafkaJsOptions = {},
): KafkaJsSettings {
  const known = new Set(KNOWN_PROPERTIES);
  for (const name of Object.keys(props)) {
    if (!known.has(name)) throw unknownProperty(name);
  }
  const p = canonicalize(props, "Kafka properties");
  const warnings: string[] = [];
  const get = (name: string): string | undefined => {
    const v = p[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  /** The checked value of a property, or undefined when it is not set. */
  const value = <T>(name: string): T | undefined => {
    const v = get(name);
    return v === undefined ? undefined : VALUE_CHECKS[name](v) as T;
  };

  const servers = get("bootstrap.servers");
  if (servers === undefined) {
    throw new KafkaPropertyError(
      `missing Kafka ${where("bootstrap.servers")}: set it to host:port[,host:port...]`,
    );
  }
  const brokers = parseBrokers(servers);

  const protocol = value<Protocol>("security.protocol") ?? "plaintext";
  const useSasl = protocol.startsWith("sasl_");
  const useTls = protocol === "ssl" || protocol === "sasl_ssl";

  const kafka: KafkaJsClientConfig = { clientId: get("client.id") ?? DEFAULT_CLIENT_ID, brokers };
  const requestTimeout = value<number>("request.timeout.ms");
  if (requestTimeout !== undefined) kafka.requestTimeout = requestTimeout;

  // --- SASL ---
  const saslSet = ["sasl.mechanism", "sasl.username", "sasl.password"].filter((n) => get(n) !== undefined);
  if (useSasl) {
    const mechRaw = get("sasl.mechanism");
    if (mechRaw === undefined) {
      throw new KafkaPropertyError(
        `security.protocol=${protocol} needs ${where("sasl.mechanism")}: one of ${
          Object.keys(MECHANISMS).join(", ")
        }`,
      );
    }
    const mechanism = value<KafkaJsSasl["mechanism"]>("sasl.mechanism")!;
    const username = get("sasl.username");
    const password = p["sasl.password"]; // not trimmed: a password may legitimately have spaces
    const missing = [
      ...(username === undefined ? ["sasl.username"] : []),
      ...(password === undefined || password === "" ? ["sasl.password"] : []),
    ];
    if (missing.length > 0) {
      throw new KafkaPropertyError(
        `security.protocol=${protocol} with sasl.mechanism=${mechRaw.toUpperCase()} needs credentials: set ${
          missing.map(where).join(" and ")
        }`,
      );
    }
    kafka.sasl = { mechanism, username: username!, password: password! };
  } else if (saslSet.length > 0) {
    value("sasl.mechanism");
    warnings.push(`ignoring ${saslSet.join(", ")}: security.protocol=${protocol} does not use SASL`);
  }

  // --- TLS ---
  const pem = (name: string, path: string, marker: RegExp, what: string): string => {
    if (!options.readFile) {
      throw new Error(`Kafka property ${name} is set but no readFile function was given`);
    }
    let text: string;
    try {
      text = options.readFile(path);
    } catch (e) {
      throw new Error(`Kafka ${where(name)}: cannot read "${path}": ${(e as Error)?.message ?? e}`);
    }
    if (!marker.test(text)) {
      throw new Error(`Kafka ${where(name)}: "${path}" holds no PEM ${what}`);
    }
    return text;
  };
  const tlsProperties = [
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
  ];
  const caLocation = get("ssl.ca.location");
  const verify = value<boolean>("enable.ssl.certificate.verification") ?? true;
  const checkHostName = value<boolean>("ssl.endpoint.identification.algorithm") ?? true;
  const certLocation = get("ssl.certificate.location");
  const keyLocation = get("ssl.key.location");
  const keyPassword = p["ssl.key.password"]; // not trimmed, like sasl.password
  if (useTls) {
    const ssl: KafkaJsTls = { rejectUnauthorized: verify };
    if (caLocation !== undefined) {
      ssl.ca = [pem("ssl.ca.location", caLocation, /-----BEGIN CERTIFICATE-----/, "certificate")];
    }
    if ((certLocation === undefined) !== (keyLocation === undefined)) {
      const [set, unset] = certLocation === undefined
        ? ["ssl.key.location", "ssl.certificate.location"]
        : ["ssl.certificate.location", "ssl.key.location"];
      throw new KafkaPropertyError(
        `Kafka property ${set} needs ${
          where(unset)
        }: a client certificate needs both the certificate and its key`,
      );
    }
    if (certLocation !== undefined && keyLocation !== undefined) {
      ssl.cert = pem("ssl.certificate.location", certLocation, /-----BEGIN CERTIFICATE-----/, "certificate");
      ssl.key = pem("ssl.key.location", keyLocation, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "private key");
      if (keyPassword !== undefined && keyPassword !== "") ssl.passphrase = keyPassword;
      // Checked here: a TLS library given a key it cannot decrypt may fail with a bare "bad decrypt", or
      // (Deno) send no certificate at all, which the broker reports as a bad certificate.
      try {
        createPrivateKey({
          key: ssl.key,
          ...(ssl.passphrase !== undefined ? { passphrase: ssl.passphrase } : {}),
        });
      } catch {
        const encrypted = /ENCRYPTED/.test(ssl.key);
        throw new Error(
          !encrypted
            ? `Kafka ${where("ssl.key.location")}: "${keyLocation}" holds no private key that can be read`
            : ssl.passphrase === undefined
            ? `Kafka ${where("ssl.key.location")}: the key in "${keyLocation}" is encrypted: set ${
              where("ssl.key.password")
            }`
            : `Kafka ${where("ssl.key.password")} does not decrypt the key in "${keyLocation}"`,
        );
      }
    } else if (keyPassword !== undefined && keyPassword !== "") {
      warnings.push("ignoring ssl.key.password: no ssl.key.location is set");
    }
    if (!checkHostName) ssl.checkServerIdentity = () => undefined;
    if (!verify) {
      warnings.push(
        "TLS certificate verification is disabled (enable.ssl.certificate.verification=false): " +
          "the broker's identity is not checked; use only for testing",
      );
    } else if (!checkHostName) {
      warnings.push(
        "ssl.endpoint.identification.algorithm=none: the broker's certificate may name any host " +
          "(it must still be signed by a trusted CA)",
      );
    }
    kafka.ssl = ssl;
  } else {
    const ignored = tlsProperties.filter((name) => get(name) !== undefined);
    if (ignored.length > 0) {
      warnings.push(`ignoring ${ignored.join(", ")}: security.protocol=${protocol} does not use TLS`);
    }
  }

  // --- consumer ---
  const sessionTimeout = value<number>("session.timeout.ms") ?? DEFAULT_SESSION_TIMEOUT_MS;
  const consumer: KafkaJsConsumerConfig = {
    groupId: get("group.id") ?? options.defaultGroupId ?? DEFAULT_GROUP_ID,
    sessionTimeout,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
  };
  const readUncommitted = value<boolean>("isolation.level");
  if (readUncommitted) consumer.readUncommitted = true;
  const fetch = [
    ["fetch.max.bytes", "maxBytes"],
    ["max.partition.fetch.bytes", "maxBytesPerPartition"],
    ["fetch.wait.max.ms", "maxWaitTimeInMs"],
  ] as const;
  for (const [name, option] of fetch) {
    const n = value<number>(name);
    if (n !== undefined) consumer[option] = n;
  }

  const result: KafkaJsSettings = { kafka, consumer, warnings };
  const fromBeginning = value<boolean>("auto.offset.reset");
  if (fromBeginning !== undefined) result.fromBeginning = fromBeginning;
  const debug = value<string[]>("debug");
  if (debug !== undefined) result.debug = debug;
  return result;
}
