// Waits until the test broker answers an admin describeCluster on both listeners.
//
// Used by scripts/kafka/start.sh; runs under node (or bun/deno) with the repo's kafkajs.
// Environment: WAIT_PLAINTEXT (host:port), WAIT_SASL_SSL (host:port), WAIT_CA (PEM path),
// WAIT_USER, WAIT_PASSWORD_FILE, WAIT_PID (broker pid; stop early if it dies),
// WAIT_TIMEOUT_S (default 90), WAIT_BROKERS (brokers the cluster must show, default 1).
// Exit codes: 0 ready, 1 timed out / SASL_SSL check failed, 2 broker process died.
import { readFileSync } from "node:fs";
import kafkajs from "kafkajs";

const { Kafka, logLevel } = kafkajs;
const env = process.env;
const timeoutMs = Number(env.WAIT_TIMEOUT_S ?? "90") * 1000;
const deadline = Date.now() + timeoutMs;
const pid = env.WAIT_PID ? Number(env.WAIT_PID) : undefined;
const wantBrokers = Number(env.WAIT_BROKERS ?? "1");

function alive() {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function describe(config) {
  const kafka = new Kafka({
    clientId: "streamreg-wait-ready",
    connectionTimeout: 2000,
    authenticationTimeout: 5000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    ...config,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let lastError = "";
let cluster;
while (Date.now() < deadline) {
  if (!alive()) {
    console.error(`[kafka] broker process ${pid} exited before becoming ready`);
    process.exit(2);
  }
  try {
    const seen = await describe({ brokers: env.WAIT_PLAINTEXT.split(",") });
    if (seen.brokers.length >= wantBrokers) {
      cluster = seen;
      break;
    }
    lastError = `${seen.brokers.length} of ${wantBrokers} brokers registered`;
    await sleep(500);
  } catch (e) {
    lastError = `${e?.name ?? "Error"}: ${e?.message ?? e}`;
    await sleep(500);
  }
}
if (!cluster) {
  console.error(
    `[kafka] not ready after ${timeoutMs / 1000}s on PLAINTEXT ${env.WAIT_PLAINTEXT}: ${lastError}`,
  );
  process.exit(1);
}

// The broker is up; the SASL_SSL listener starts with it, so a few quick tries suffice.
if (env.WAIT_SASL_SSL) {
  const password = readFileSync(env.WAIT_PASSWORD_FILE, "utf8").trim();
  const ca = readFileSync(env.WAIT_CA, "utf8");
  let ok = false;
  for (let i = 0; i < 10 && !ok; i++) {
    try {
      await describe({
        brokers: [env.WAIT_SASL_SSL],
        ssl: { ca: [ca], rejectUnauthorized: true },
        sasl: { mechanism: "scram-sha-256", username: env.WAIT_USER, password },
      });
      ok = true;
    } catch (e) {
      lastError = `${e?.name ?? "Error"}: ${e?.message ?? e}`;
      await sleep(500);
    }
  }
  if (!ok) {
    console.error(
      `[kafka] PLAINTEXT is up but SASL_SSL ${env.WAIT_SASL_SSL} (SCRAM-SHA-256) fails: ${lastError}`,
    );
    process.exit(1);
  }
}
console.error(
  `[kafka] ready: cluster ${cluster.clusterId}, brokers ${
    cluster.brokers.map((b) => `${b.host}:${b.port}`).join(",")
  }`,
);
