/**
 * Which failures of a transaction's requests are worth trying again: a broker that went away (a
 * connection refused, closed or timed out), a coordinator or leader that moved or is still loading,
 * a transaction still being completed. Kafka's own protocol errors say whether they are retriable
 * (kafkajs keeps that as `retriable`); everything else — a refused authorization, a record too large,
 * a transaction in a state that does not allow the request, a programming error — is not.
 *
 * @example
 * ```ts
 * import { isRetriable } from "./retriable_error.ts";
 * if (!isRetriable(error)) throw error;
 * ```
 * @module
 */

/** kafkajs errors (by name) that mean a broker or coordinator was not reachable for a while. */
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSLockTimeout",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSStaleTopicMetadataAssignment",
  "StepTimeout",
]);

/** Socket error codes of a broker that went away. */
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Protocol errors retried although kafkajs does not mark them so (or in case it does not). */
const RETRIABLE_TYPES = new Set([
  "CONCURRENT_TRANSACTIONS",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_LOAD_IN_PROGRESS",
]);

type AnyError = Error & { type?: unknown; code?: unknown; retriable?: unknown; originalError?: unknown };

/**
 * A step of a transaction that got no answer in time (it may still complete later).
 *
 * @example
 * ```ts
 * throw new StepTimeout("no answer to EndTxn within 10 s");
 * ```
 */
export class StepTimeout extends Error {
  /** `message` says which step and how long. */
  constructor(message: string) {
    super(message);
    this.name = "StepTimeout";
  }
}

/**
 * True if `error` (or the error it wraps: `cause`, kafkajs's `originalError`) is a transient failure
 * — a broker unreachable, a coordinator moved, a protocol error Kafka marks retriable — and false
 * for anything else. The innermost Kafka protocol error decides when there is one.
 *
 * @example
 * ```ts
 * isRetriable(Object.assign(new Error("Connection error: connect ECONNREFUSED"), { name: "KafkaJSConnectionError" })); // true
 * isRetriable(new Error("Message too large")); // false
 * ```
 */
export function isRetriable(error: unknown): boolean {
  const chain: AnyError[] = [];
  let e = error as AnyError | undefined;
  for (let depth = 0; depth < 10 && e instanceof Error; depth++) {
    chain.push(e);
    e = (e.cause ?? e.originalError) as AnyError | undefined;
  }
  const protocol = chain.findLast((link) => typeof link.type === "string");
  if (protocol !== undefined) {
    return protocol.retriable === true || RETRIABLE_TYPES.has(protocol.type as string);
  }
  return chain.some((link) =>
    TRANSIENT_NAMES.has(link.name) || (typeof link.code === "string" && TRANSIENT_CODES.has(link.code))
  );
}
