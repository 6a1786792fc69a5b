/**
 * `--readers many` (docs/kafka.md, "Many readers"), through the real CLI of the runtime running the
 * tests, against the real test broker: a 6-partition topic read by one reader, then three readers of
 * one group (one SIGKILLed mid-stream, another added after it), each committing its partitions in
 * per-partition transactions, the holder of partition 0 writing the global line. The output topic, read
 * with read_committed, is one consistent change log (every −1 row retracts the line of the +1 row
 * before it: no batch seen twice or lost across the handovers of partition 0), and its final line is bit
 * for bit that of one reader reading the whole topic alone and of one core fed every point. Fails (does
 * not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import process from "node:process";
import { test } from "./harness.ts";
import {
  committedOffsets,
  createTopic,
  CURRENT,
  kafkaReader,
  ok,
  regress,
  run,
  sendMany,
  unique,
} from "./kafka_helpers.ts";
import { random, sleep } from "./cli_helpers.ts";
import { readTopic } from "./kafka_topic_reader.ts";
import { committedTotal, readerGroup } from "./reader_group.ts";
import { replay } from "./change_log.ts";
import { RegressionCore } from "../src/core/regression_core.ts";

const PARTITIONS = 6;
const PER_PARTITION = 1600; // points, in rounds
const ROUNDS = 8;

/** The rows of an output topic, read_committed. */
const outputRows = async (topic: string) =>
  (await readTopic(topic, { timeoutMs: 60_000 })).map((m) => JSON.parse(m.value!));

test(
  `kafka readers (${CURRENT}): 1 then 3 readers of one group, one killed and one added, end bit for bit as one reader`,
  async () => {
    const topic = unique("readers");
    const group = unique("g");
    const out = unique("readers-out");
    await createTopic(topic, PARTITIONS);
    const next = random(CURRENT === "deno" ? 71 : 72);
    // Each partition its own scale, so that plain double sums would not give the exact line.
    const points = Array.from(
      { length: PARTITIONS },
      (_, p) =>
        Array.from({ length: PER_PARTITION }, (_, i) => {
          const x = (1.7e9 + i * 7 + p * 1e6) / 10 ** (p % 3);
          return `${x},${0.5 * x * (p + 1) + (next() - 0.5) * 10 ** (p - 2)}`;
        }),
    );
    // Sent in rounds while the readers run: the header and the first round before they start.
    const ROUND = PER_PARTITION / ROUNDS;
    const send = async (round: number) => {
      for (let p = 0; p < PARTITIONS; p++) {
        await sendMany(topic, [
          ...(round === 0 ? ["x,y"] : []),
          ...points[p].slice(round * ROUND, (round + 1) * ROUND),
        ], {
          partition: p,
        });
      }
    };
    await send(0);
    const args = (g: string, o: string) => [
      ...kafkaReader(topic, g),
      "-X",
      "session.timeout.ms=6000",
      "--commit-rows",
      "100",
      "--commit-ms",
      "200",
      "--output-topic",
      o,
      "--state",
      "kafka",
    ];
    // (--verbose: the test sees which partitions a reader was assigned)
    const many = [...args(group, out), "--readers", "many", "--verbose"];
    const { start, until, stop } = readerGroup(many);
    const total = () => committedTotal(group, topic);
    try {
      // One reader, then two more joining while it reads.
      start();
      await until("the first commits", async () => (await total()) > 0);
      await send(1);
      start();
      const killed = start();
      await send(2);
      // The third, once it holds partitions and has committed some, is killed mid-stream.
      const held = () => [...killed.log().matchAll(/partition (\d+) assigned/g)].map((m) => Number(m[1]));
      await until("the third reader's partitions", () => Promise.resolve(held().length > 0));
      await send(3);
      await until("the third reader's commits", async () => {
        const offsets = await committedOffsets(group, topic);
        return held().some((p) => offsets[p] >= 1 + 4 * ROUND);
      });
      await send(4);
      await sleep(next() * 300);
      process.kill(killed.child.pid!, "SIGKILL");
      // Another reader joins; the rest arrives.
      start();
      for (let round = 5; round < ROUNDS; round++) await send(round);
      const end = PARTITIONS * (1 + PER_PARTITION);
      await until("every partition's end", async () => (await total()) === end, 120_000);
      // The designated writer publishes the last partitions' states within its publishing period.
      const reference = await RegressionCore.load(
        await readFile(new URL("../build/streamreg.wasm", import.meta.url)),
      );
      for (const list of points) {
        reference.add(
          Float64Array.from(list, (line) => Number(line.split(",")[0])),
          Float64Array.from(list, (line) => Number(line.split(",")[1])),
        );
      }
      const want = reference.fit();
      await until("the final line", async () => {
        const live = replay(await outputRows(out));
        return live !== undefined && Object.is(live.a, want.a) && Object.is(live.b, want.b);
      });
    } finally {
      await stop();
    }
    const rows = await outputRows(out);
    const final = replay(rows)!;
    // One reader alone, in another group, to the end.
    const alone = unique("readers-one");
    ok(
      await run(regress(CURRENT), [...args(unique("g1"), alone), "--exit-at-end"], { timeoutMs: 90_000 }),
      "one reader",
    );
    const one = replay(await outputRows(alone))!;
    assert.ok(
      Object.is(final.a, one.a) && Object.is(final.b, one.b),
      `many readers' ${final.a},${final.b} ≠ one reader's ${one.a},${one.b}`,
    );
  },
  { timeoutMs: 240_000 },
);
