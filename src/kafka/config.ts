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
  "enable.ssl.certificate.verification",
  "group.id",
  "session.timeout.ms",
  "client.id",
  "auto.offset.reset",
]);

/** Alternative spellings, mapped to the name used internally. */
const ALIASES: Readonly<Record<string, string>> = { "sasl.mechanisms": "sasl.mechanism" };

/** Properties whose values must never appear in messages. */
const SECRET_PROPERTIES: ReadonlySet<string> = new Set(["sasl.password"]);

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
 * `bootstrap.servers`, `KAFKA_SASL_PASSWORD` → `sasl.password`). Other `KAFKA_*` variables (such as
 * `KAFKA_VERSION`) are ignored, and so are empty values.
 *
 * @example
 * ```ts
 * propertiesFromEnv({ KAFKA_BOOTSTRAP_SERVERS: "b:9092", KAFKA_VERSION: "3.9.2", HOME: "/root" });
 * // → { "bootstrap.servers": "b:9092" }
 * ```
 */
export function propertiesFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KNOWN_PROPERTIES) {
    const value = env[envNameOf(name)];
    if (value !== undefined && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

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
      throw new Error(`${where}: "${key}" and its alias conflict${shown}; set only one`);
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
}

/** Options for `new Kafka(...)` from kafkajs (structurally a `KafkaConfig`). */
export interface KafkaJsClientConfig {
  clientId: string;
  brokers: string[];
  ssl?: KafkaJsTls;
  sasl?: KafkaJsSasl;
}

/** Options for `kafka.consumer(...)` (structurally a kafkajs `ConsumerConfig`). */
export interface KafkaJsConsumerConfig {
  groupId: string;
  sessionTimeout: number;
  /** Kept below a third of the session timeout, as kafkajs requires it to be smaller. */
  heartbeatInterval: number;
}

/** The result of {@linkcode toKafkaJsConfig}. */
export interface KafkaJsSettings {
  /** For `new Kafka(kafka)`. Contains the SASL password: do not log it (use {@linkcode redactProperties}). */
  kafka: KafkaJsClientConfig;
  /** For `kafka.consumer(consumer)`. */
  consumer: KafkaJsConsumerConfig;
  /** From auto.offset.reset: true for earliest, false for latest, absent when not set. */
  fromBeginning?: boolean;
  /** Human-readable notes about settings that were ignored or weaken security. */
  warnings: string[];
}

/** Options for {@linkcode toKafkaJsConfig}. */
export interface ToKafkaJsOptions {
  /** Reads a text file (the PEM at ssl.ca.location); e.g. `(p) => readFileSync(p, "utf8")`. */
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
  return new Error(`invalid value${shown} for Kafka property ${name}: expected ${expected}`);
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
  const best =
    KNOWN_PROPERTIES.map((k) => [k, editDistance(name, k)] as const).sort((x, y) => x[1] - y[1])[0];
  const hint = best && best[1] <= 3 ? ` (did you mean "${best[0]}"?)` : "";
  return new Error(
    `unknown Kafka property "${name}"${hint}: supported are ${KNOWN_PROPERTIES.join(", ")}`,
  );
}

function parseBrokers(value: string): string[] {
  const list = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw badValue("bootstrap.servers", value, "a comma-separated list of host:port");
  return list.map((entry) => {
    const hostPort = entry.replace(/^[a-z_]+:\/\//i, ""); // librdkafka accepts "PLAINTEXT://host:port"
    if (hostPort.startsWith("[")) {
      throw new Error(
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

function parseBool(name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw badValue(name, value, "true or false");
}

/**
 * Validates librdkafka-style properties and translates them into kafkajs options.
 *
 * Supported: `bootstrap.servers` (required, comma list of host[:port], port 9092 by default),
 * `security.protocol` (plaintext | ssl | sasl_plaintext | sasl_ssl, any case; default plaintext),
 * `sasl.mechanism`/`sasl.mechanisms` (PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512), `sasl.username`,
 * `sasl.password`, `ssl.ca.location` (PEM file, read with `options.readFile`),
 * `enable.ssl.certificate.verification` (default true; false adds a warning), `group.id`,
 * `session.timeout.ms`, `client.id`, `auto.offset.reset` (earliest | smallest | beginning |
 * latest | largest | end).
 *
 * Error messages name the property and its environment variable but never contain the password.
 *
 * @throws Error on an unknown property, an invalid value, or missing SASL credentials.
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

  const servers = get("bootstrap.servers");
  if (servers === undefined) {
    throw new Error(`missing Kafka ${where("bootstrap.servers")}: set it to host:port[,host:port...]`);
  }
  const brokers = parseBrokers(servers);

  const protocolRaw = get("security.protocol") ?? "plaintext";
  const protocol = protocolRaw.toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw badValue("security.protocol", protocolRaw, PROTOCOLS.join(", "));
  const useSasl = protocol.startsWith("sasl_");
  const useTls = protocol === "ssl" || protocol === "sasl_ssl";

  const kafka: KafkaJsClientConfig = { clientId: get("client.id") ?? DEFAULT_CLIENT_ID, brokers };

  // --- SASL ---
  const saslSet = ["sasl.mechanism", "sasl.username", "sasl.password"].filter((n) => get(n) !== undefined);
  if (useSasl) {
    const mechRaw = get("sasl.mechanism");
    if (mechRaw === undefined) {
      throw new Error(
        `security.protocol=${protocol} needs ${where("sasl.mechanism")}: one of ${
          Object.keys(MECHANISMS).join(", ")
        }`,
      );
    }
    const mechanism = MECHANISMS[mechRaw.toUpperCase() as keyof typeof MECHANISMS];
    if (!mechanism) throw badValue("sasl.mechanism", mechRaw, Object.keys(MECHANISMS).join(", "));
    const username = get("sasl.username");
    const password = p["sasl.password"]; // not trimmed: a password may legitimately have spaces
    const missing = [
      ...(username === undefined ? ["sasl.username"] : []),
      ...(password === undefined || password === "" ? ["sasl.password"] : []),
    ];
    if (missing.length > 0) {
      throw new Error(
        `security.protocol=${protocol} with sasl.mechanism=${mechRaw.toUpperCase()} needs credentials: set ${
          missing.map(where).join(" and ")
        }`,
      );
    }
    kafka.sasl = { mechanism, username: username!, password: password! };
  } else if (saslSet.length > 0) {
    warnings.push(`ignoring ${saslSet.join(", ")}: security.protocol=${protocol} does not use SASL`);
  }

  // --- TLS ---
  const caLocation = get("ssl.ca.location");
  const verifyRaw = get("enable.ssl.certificate.verification");
  const verify = verifyRaw === undefined ? true : parseBool("enable.ssl.certificate.verification", verifyRaw);
  if (useTls) {
    const ssl: KafkaJsTls = { rejectUnauthorized: verify };
    if (caLocation !== undefined) {
      if (!options.readFile) {
        throw new Error("Kafka property ssl.ca.location is set but no readFile function was given");
      }
      let pem: string;
      try {
        pem = options.readFile(caLocation);
      } catch (e) {
        throw new Error(
          `Kafka ${where("ssl.ca.location")}: cannot read "${caLocation}": ${(e as Error)?.message ?? e}`,
        );
      }
      if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new Error(
          `Kafka ${
            where("ssl.ca.location")
          }: "${caLocation}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
        );
      }
      ssl.ca = [pem];
    }
    if (!verify) {
      warnings.push(
        "TLS certificate verification is disabled (enable.ssl.certificate.verification=false): " +
          "the broker's identity is not checked; use only for testing",
      );
    }
    kafka.ssl = ssl;
  } else if (caLocation !== undefined || verifyRaw !== undefined) {
    const ignored = [
      caLocation !== undefined ? "ssl.ca.location" : "",
      verifyRaw !== undefined ? "enable.ssl.certificate.verification" : "",
    ]
      .filter((s) => s !== "");
    warnings.push(`ignoring ${ignored.join(", ")}: security.protocol=${protocol} does not use TLS`);
  }

  // --- consumer ---
  let sessionTimeout = DEFAULT_SESSION_TIMEOUT_MS;
  const stRaw = get("session.timeout.ms");
  if (stRaw !== undefined) {
    sessionTimeout = Number(stRaw);
    if (!/^\d+$/.test(stRaw) || sessionTimeout < 1000 || sessionTimeout > 3_600_000) {
      throw badValue("session.timeout.ms", stRaw, "an integer number of milliseconds from 1000 to 3600000");
    }
  }
  const consumer: KafkaJsConsumerConfig = {
    groupId: get("group.id") ?? options.defaultGroupId ?? DEFAULT_GROUP_ID,
    sessionTimeout,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
  };

  const result: KafkaJsSettings = { kafka, consumer, warnings };
  const resetRaw = get("auto.offset.reset");
  if (resetRaw !== undefined) {
    const fromBeginning = OFFSET_RESETS[resetRaw.toLowerCase()];
    if (fromBeginning === undefined) {
      throw badValue("auto.offset.reset", resetRaw, Object.keys(OFFSET_RESETS).join(", "));
    }
    result.fromBeginning = fromBeginning;
  }
  return result;
}
