/**
 * Kafka client properties (checked by `./config.ts`) mapped onto kafkajs options:
 * {@linkcode toKafkaJsConfig}.
 *
 * @example
 * ```ts
 * import { toKafkaJsConfig } from "./kafkajs_config.ts";
 * const cfg = toKafkaJsConfig({ "bootstrap.servers": "127.0.0.1:9092" });
 * const consumer = new Kafka(cfg.kafka).consumer(cfg.consumer);
 * ```
 * @module
 */

import { createPrivateKey } from "node:crypto";
import {
  canonicalize,
  DEFAULT_CLIENT_ID,
  DEFAULT_GROUP_ID,
  DEFAULT_SESSION_TIMEOUT_MS,
  KafkaPropertyError,
  KNOWN_PROPERTIES,
  MECHANISMS,
  parseBrokers,
  type Protocol,
  unknownProperty,
  VALUE_CHECKS,
  where,
} from "./config.ts";

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
  /** client.id. */
  clientId: string;
  /** bootstrap.servers, one `host:port` each. */
  brokers: string[];
  /** TLS, with security.protocol ssl or sasl_ssl. */
  ssl?: KafkaJsTls;
  /** SASL, with security.protocol sasl_plaintext or sasl_ssl. */
  sasl?: KafkaJsSasl;
  /** From request.timeout.ms / socket.timeout.ms; absent: the caller's default. */
  requestTimeout?: number;
}

/** Options for `kafka.consumer(...)` (structurally a kafkajs `ConsumerConfig`). */
export interface KafkaJsConsumerConfig {
  /** group.id. */
  groupId: string;
  /** session.timeout.ms. */
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
  /** From compression.type (or compression.codec): the codec of the batches produced; absent: none. */
  compression?: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** From transactional.id: the transactional id of the output producer (`--output-topic`); absent: derived. */
  transactionalId?: string;
  /** From transaction.timeout.ms: the output producer's transaction timeout; absent: kafkajs's 60 s. */
  transactionTimeout?: number;
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
 * `max.partition.fetch.bytes`, `fetch.wait.max.ms`, `request.timeout.ms`/`socket.timeout.ms`,
 * `compression.type`/`compression.codec` (none | gzip | snappy | lz4 | zstd: for producing), `debug`
 * (librdkafka contexts; kafkajs then logs everything at its debug level). `group.instance.id` is refused
 * as known but unsupported (`UNSUPPORTED_PROPERTIES` of `./config.ts`).
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
  const compression = value<KafkaJsSettings["compression"]>("compression.type");
  if (compression !== undefined) result.compression = compression;
  const transactionalId = get("transactional.id");
  if (transactionalId !== undefined) result.transactionalId = transactionalId;
  const transactionTimeout = value<number>("transaction.timeout.ms");
  if (transactionTimeout !== undefined) result.transactionTimeout = transactionTimeout;
  return result;
}
