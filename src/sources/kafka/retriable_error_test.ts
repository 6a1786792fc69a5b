import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { test } from "../../../test/harness.ts";
import { isRetriable, StepTimeout } from "./retriable_error.ts";

// (the default export: Deno sees no named exports in kafkajs's CommonJS index)
const {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;

/** A protocol error as kafkajs makes it from a response's error code (its table's entry). */
const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError(
    Object.assign(new Error(`${type} (${code})`), { type, code, retriable }) as unknown as Error,
  );

test("isRetriable: a broker gone, a request timed out, a step without answer are retried", () => {
  const refused = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:39301", {
    broker: "127.0.0.1:39301",
    code: "ECONNREFUSED",
  } as never);
  assert.equal(isRetriable(refused), true);
  assert.equal(
    isRetriable(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 4, retryTime: 3000 })),
    true,
  );
  assert.equal(
    isRetriable(new KafkaJSRequestTimeoutError("Request EndTxn(key: 26, version: 1) timed out")),
    true,
  );
  assert.equal(isRetriable(new StepTimeout("a batch's transaction: no answer within 60 s")), true);
  assert.equal(isRetriable(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })), true);
});

test("isRetriable: coordinators moving and transactions being completed are retried", () => {
  assert.equal(isRetriable(protocol("NOT_COORDINATOR_FOR_GROUP", 16, true)), true);
  assert.equal(isRetriable(protocol("GROUP_COORDINATOR_NOT_AVAILABLE", 15, true)), true);
  assert.equal(isRetriable(protocol("NOT_LEADER_FOR_PARTITION", 6, true)), true);
  assert.equal(isRetriable(protocol("CONCURRENT_TRANSACTIONS", 51, true)), true);
  // (named so by newer Kafka versions; retried even if a table says otherwise)
  assert.equal(isRetriable(protocol("COORDINATOR_LOAD_IN_PROGRESS", 14, false)), true);
  const exhausted = new KafkaJSNumberOfRetriesExceeded(protocol("CONCURRENT_TRANSACTIONS", 51, true), {
    retryCount: 4,
    retryTime: 3000,
  });
  assert.equal(isRetriable(exhausted), true);
});

test("isRetriable: fencing, refusals, oversized records and programming errors are not", () => {
  assert.equal(isRetriable(protocol("INVALID_PRODUCER_EPOCH", 47, false)), false);
  assert.equal(isRetriable(protocol("TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 53, false)), false);
  assert.equal(isRetriable(protocol("MESSAGE_TOO_LARGE", 10, false)), false);
  const wrapped = new KafkaJSNumberOfRetriesExceeded(protocol("INVALID_TXN_STATE", 48, false), {
    retryCount: 0,
    retryTime: 0,
  });
  assert.equal(isRetriable(wrapped), false);
  assert.equal(
    isRetriable(
      new KafkaJSNonRetriableError('Transaction state exception: Cannot call "commit" in state "COMMITTING"'),
    ),
    false,
  );
  assert.equal(isRetriable(new TypeError("x is undefined")), false);
  assert.equal(isRetriable("not an error"), false);
});
