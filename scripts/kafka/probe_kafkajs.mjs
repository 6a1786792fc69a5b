// Probes which kafkajs features work against the local test broker (e.g. to compare Kafka 3.9 and 4.x).
//
//   node scripts/kafka/probe_kafkajs.mjs [STATE_DIR]     (default .cache/kafka/run)
//
// Reads client.env from the state dir, runs each check with a time limit, prints one line per check
// (ok / FAIL with the error) and the Kafka API versions kafkajs negotiated. Exit code 1 if any failed.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import kafkajs from "kafkajs";

const { Kafka, logLevel } = kafkajs;
const stateDir = resolve(process.argv[2] ?? join(import.meta.dirname ?? ".", "../../.cache/kafka/run"));
const env = Object.fromEntries(
  readFileSync(join(stateDir, "client.env"), "utf8").split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);
const ca = readFileSync(env.KAFKA_SSL_CA_LOCATION, "utf8");
const apis = new Map(); // apiName -> Set(versions)
const results = [];
const id = `probe-${Date.now()}`;

function client(kind, extra = {}) {
  const base = {
    clientId: "streamreg-probe",
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 1, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  };
  const security = kind === "plaintext" ? { brokers: [env.KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS] } : {
    brokers: [env.KAFKA_SASL_SSL_BOOTSTRAP_SERVERS],
    ssl: { ca: [ca] },
    sasl: { mechanism: kind, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD },
  };
  return new Kafka({ ...base, ...security, ...extra });
}

function track(c) {
  c.on(c.events.REQUEST, ({ payload }) => {
    if (!apis.has(payload.apiName)) apis.set(payload.apiName, new Set());
    apis.get(payload.apiName).add(payload.apiVersion);
  });
  return c;
}

async function check(name, fn, ms = 20000) {
  const t0 = Date.now();
  let timer;
  try {
    const detail = await Promise.race([
      fn(),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms))),
    ]);
    results.push({ name, ok: true, ms: Date.now() - t0, detail: detail ?? "" });
  } catch (e) {
    const cause = e?.cause ? ` (cause: ${e.cause.name}: ${e.cause.message})` : "";
    const type = e?.type ? ` [${e.type}]` : "";
    results.push({
      name,
      ok: false,
      ms: Date.now() - t0,
      detail: `${e?.name}: ${e?.message}${type}${cause}`,
    });
  } finally {
    clearTimeout(timer);
  }
}

function consumeN(consumer, topic, n, fromBeginning) {
  return new Promise((res, rej) => {
    const got = [];
    consumer.subscribe({ topics: [topic], fromBeginning }).then(() =>
      consumer.run({
        eachMessage: ({ message }) => {
          got.push(String(message.value));
          if (got.length === n) res(got);
          return Promise.resolve();
        },
      })
    ).catch(rej);
  });
}

const kafka = client("plaintext");
const admin = track(kafka.admin());
const topic = `${id}-t`;
const group = `${id}-g`;

await check("admin connect + describeCluster (PLAINTEXT)", async () => {
  await admin.connect();
  const c = await admin.describeCluster();
  return `cluster ${c.clusterId}, controller ${c.controller}`;
});
await check("admin createTopics (2 partitions)", async () => {
  if (!(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }))) {
    throw new Error("createTopics returned false");
  }
});
await check("admin listTopics / fetchTopicMetadata", async () => {
  if (!(await admin.listTopics()).includes(topic)) throw new Error("topic not listed");
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  return `${md.topics[0].partitions.length} partitions`;
});
await check("producer send acks=-1 (gzip)", async () => {
  const p = track(kafka.producer());
  await p.connect();
  await p.send({
    topic,
    acks: -1,
    compression: kafkajs.CompressionTypes.GZIP,
    messages: [{ key: "a", value: "m1", partition: 0 }, { key: "b", value: "m2", partition: 1 }],
  });
  await p.disconnect();
});
await check("idempotent producer", async () => {
  const p = track(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  await p.connect();
  await p.send({ topic, acks: -1, messages: [{ value: "m3", partition: 0 }] });
  await p.disconnect();
});
await check("transactional producer (send + commit)", async () => {
  const p = track(kafka.producer({ transactionalId: `${id}-tx`, idempotent: true, maxInFlightRequests: 1 }));
  await p.connect();
  const tx = await p.transaction();
  await tx.send({ topic, messages: [{ value: "m4", partition: 1 }] });
  await tx.commit();
  await p.disconnect();
});
await check("consumer group: consume 4 from beginning, commit", async () => {
  const c = track(kafka.consumer({ groupId: group, maxWaitTimeInMs: 200 }));
  await c.connect();
  const got = await consumeN(c, topic, 4, true);
  await c.disconnect(); // commits offsets
  return got.sort().join(",");
});
await check("admin fetchOffsets (committed group offsets)", async () => {
  const o = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return o[0].partitions.map((p) => `${p.partition}:${p.offset}`).join(" ");
});
await check("consumer group resumes from committed offset", async () => {
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic, messages: [{ value: "m5", partition: 0 }] });
  await p.disconnect();
  const c = track(kafka.consumer({ groupId: group, maxWaitTimeInMs: 200 }));
  await c.connect();
  const got = await consumeN(c, topic, 1, true);
  await new Promise((r) => setTimeout(r, 300));
  await c.disconnect();
  if (got[0] !== "m5") throw new Error(`expected m5, got ${got}`);
  return got.join(",");
});
await check("admin fetchTopicOffsets / fetchTopicOffsetsByTimestamp", async () => {
  const o = await admin.fetchTopicOffsets(topic);
  const t = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60000);
  return `high ${o.map((p) => p.high).join(",")}; by-ts ${t.map((p) => p.offset).join(",")}`;
});
await check("admin listGroups / describeGroups", async () => {
  const l = await admin.listGroups();
  const d = await admin.describeGroups([group]);
  return `${l.groups.length} groups; ${group.slice(-10)} ${d.groups[0].state} protocolType=${
    d.groups[0].protocolType
  }`;
});
// kafkajs runs a throwaway consumer per call and waits for its first fetch (up to 5 s each).
await check("admin setOffsets / resetOffsets", async () => {
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "1" }] });
  await admin.resetOffsets({ groupId: group, topic, earliest: true });
});
await check("admin describeConfigs / alterConfigs (topic)", async () => {
  const RT = kafkajs.ConfigResourceTypes.TOPIC;
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: RT, name: topic, configEntries: [{ name: "retention.ms", value: "3600000" }] }],
  });
  const d = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: RT, name: topic, configNames: ["retention.ms"] }],
  });
  return `retention.ms=${d.resources[0].configEntries[0].configValue}`;
});
await check(
  "admin createPartitions (2 -> 3)",
  () => admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }),
);
await check(
  "admin deleteTopicRecords",
  () => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "1" }] }),
);
await check("admin describeAcls is refused (no authorizer configured)", async () => {
  try {
    await admin.describeAcls({
      resourceType: kafkajs.AclResourceTypes.ANY,
      resourcePatternType: kafkajs.ResourcePatternTypes.ANY,
      operation: kafkajs.AclOperationTypes.ANY,
      permissionType: kafkajs.AclPermissionTypes.ANY,
    });
  } catch (e) {
    return `refused: ${e.name}: ${e.message}`;
  }
  throw new Error("describeAcls succeeded without an authorizer");
});
await check("produce to a missing topic fails (auto.create.topics.enable=false)", async () => {
  const p = client("plaintext", { retry: { retries: 0 } }).producer({
    allowAutoTopicCreation: false,
    retry: { retries: 0 },
  });
  await p.connect();
  try {
    await p.send({ topic: `${id}-missing`, messages: [{ value: "x" }] });
  } catch (e) {
    return `refused: ${e.name}: ${e.message}`;
  } finally {
    await p.disconnect();
  }
  throw new Error("send to a missing topic succeeded");
});
await check("admin deleteGroups", async () => {
  await admin.deleteGroups([group]);
});

for (const mech of ["scram-sha-256", "scram-sha-512", "plain"]) {
  await check(`SASL_SSL ${mech}: produce + consume in a group`, async () => {
    const k = client(mech);
    const p = track(k.producer());
    await p.connect();
    await p.send({ topic, messages: [{ value: `sasl-${mech}`, partition: 2 }] });
    await p.disconnect();
    const c = track(k.consumer({ groupId: `${group}-${mech}`, maxWaitTimeInMs: 200 }));
    await c.connect();
    const got = await new Promise((res, rej) => {
      c.subscribe({ topics: [topic], fromBeginning: true }).then(() =>
        c.run({
          eachMessage: ({ message }) => {
            if (String(message.value) === `sasl-${mech}`) res(String(message.value));
            return Promise.resolve();
          },
        })
      ).catch(rej);
    });
    await c.disconnect();
    return got;
  });
}
await check("SASL_SSL wrong password is refused", async () => {
  const k = new Kafka({
    clientId: "probe",
    brokers: [env.KAFKA_SASL_SSL_BOOTSTRAP_SERVERS],
    ssl: { ca: [ca] },
    sasl: { mechanism: "scram-sha-256", username: env.KAFKA_SASL_USERNAME, password: "wrong" },
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const a = k.admin();
  try {
    await a.connect();
  } catch (e) {
    return `refused: ${e.name}: ${e.message}`;
  } finally {
    await a.disconnect();
  }
  throw new Error("connected with a wrong password");
});
await check("admin deleteTopics", () => admin.deleteTopics({ topics: [topic] }));
await admin.disconnect();

console.log(
  `kafkajs ${
    JSON.parse(readFileSync(new URL(import.meta.resolve("kafkajs/package.json")), "utf8")).version
  } against ${env.STREAMREG_KAFKA_VERSION ?? "?"} (${stateDir})`,
);
for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.ms} ms)${r.detail ? ": " + r.detail : ""}`);
}
console.log(
  "API versions used: " + [...apis].map(([k, v]) => `${k} v${[...v].sort().join("/")}`).sort().join(", "),
);
process.exit(results.some((r) => !r.ok) ? 1 : 0);
