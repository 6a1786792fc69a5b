/**
 * `--readers many --key @key` (docs/kafka.md, "Many readers"), through the real CLI of the runtime
 * running the tests, against the real test broker: a 6-partition topic of keyed JSON messages (40 keys,
 * each in one partition) read by one reader, then three readers of one group (one SIGKILLed mid-stream,
 * another added after it), each committing its partitions' keys in per-partition transactions. The
 * output topic, read with read_committed, is one consistent change log per key (every −1 row retracts the
 * line of the key's +1 row before it: no batch seen twice or lost across the handovers), and each key's
 * final line is bit for bit the exact fit of its points and the line one reader (`--readers one`) writes.
 * Then the same for a keyed model (`--stats`, two x) and for `--window last:25`, with two readers, one
 * SIGKILLed; with a reader paused (SIGSTOP) until the others have taken its partitions over (a zombie),
 * the last round sent after it goes on;
 * and a key in two partitions, refused.
 * Fails (does not skip) when the broker is not running.
 * @module
 */
import assert from "node:assert/strict";
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
  sendKeyed,
  unique,
} from "./kafka_helpers.ts";
import { random, sleep } from "./cli_helpers.ts";
import { readTopic } from "./kafka_topic_reader.ts";
import { committedTotal, readerGroup } from "./reader_group.ts";
import { exactFit } from "./exact_reference.ts";
import { exactModelFit } from "./model_reference.ts";
import { modelCells } from "../src/model/fit_cells.ts";
import { type ModelConfig, resultColumns } from "../src/model/model_config.ts";

const PARTITIONS = 6;
const KEYS = 40;
const PER_KEY = 60; // points, in rounds
const ROUNDS = 6;

type Row = Record<string, unknown> & { "@key": string; diff: number };

/** The rows of an output topic, read_committed. */
const outputRows = async (topic: string): Promise<Row[]> =>
  (await readTopic(topic, { timeoutMs: 60_000 })).map((m) => JSON.parse(m.value!));

/** The columns of a row that are its line (all but the key, time and diff), as JSON text. */
const lineOf = (row: Row): string => {
  const { "@key": _key, time: _time, diff: _diff, ...rest } = row;
  return JSON.stringify(rest);
};

/**
 * Replays a keyed change log: every −1 row retracts its key's live line; a +1 row comes with no line
 * live for its key. Returns each key's standing line (JSON of its cells).
 */
function replay(rows: readonly Row[]): Map<string, string> {
  const live = new Map<string, string>();
  for (const [i, row] of rows.entries()) {
    const key = row["@key"];
    const line = lineOf(row);
    if (row.diff === -1) {
      assert.equal(
        live.get(key),
        line,
        `row ${i} retracts ${line} of key ${key} but ${live.get(key)} is live`,
      );
      live.delete(key);
    } else {
      assert.equal(row.diff, 1);
      assert.equal(live.get(key), undefined, `row ${i}: a second line of key ${key} while one is live`);
      live.set(key, line);
    }
  }
  return live;
}

/** Each key's messages, by partition (key k lives in partition k mod 6), and its points. */
function keyedPoints(seed: number, xs: number) {
  const next = random(seed);
  const byKey = new Map<string, number[][]>();
  for (let k = 0; k < KEYS; k++) {
    const scale = 10 ** (k % 4);
    byKey.set(
      `key-${k}`,
      Array.from({ length: PER_KEY }, (_, i) => {
        const x = (1.7e9 + i * 7 + k * 1e5) / scale;
        const row = [x];
        for (let c = 1; c < xs; c++) row.push(Math.round(next() * 1000) / 8);
        row.push(0.5 * x * (k + 1) + row.slice(1).reduce((s, v) => s + v, 0) + (next() - 0.5) * scale);
        return row;
      }),
    );
  }
  return byKey;
}

const partitionOf = (key: string) => Number(key.slice(4)) % PARTITIONS;

/** Sends round `round` of every key's points (JSON `{x, y}` or `{x, x2, y}`), keyed. */
async function sendRound(topic: string, byKey: Map<string, number[][]>, round: number): Promise<void> {
  const per = PER_KEY / ROUNDS;
  for (let p = 0; p < PARTITIONS; p++) {
    const messages: { key: string; value: string }[] = [];
    for (const [key, list] of byKey) {
      if (partitionOf(key) !== p) continue;
      for (const row of list.slice(round * per, (round + 1) * per)) {
        const value = row.length === 2 ? { x: row[0], y: row[1] } : { x: row[0], x2: row[1], y: row[2] };
        messages.push({ key, value: JSON.stringify(value) });
      }
    }
    await sendKeyed(topic, messages, p);
  }
}

interface Scenario {
  readonly tag: string;
  readonly seed: number;
  /** x columns per point (1: the line; 2 with --stats: a keyed model). */
  readonly xs: number;
  /** The model flags. */
  readonly model: readonly string[];
  /** Readers started after the first (one of them is SIGKILLed; another one joins after). */
  readonly more: number;
  /**
   * SIGSTOP that one instead, and SIGCONT it once the others have taken its partitions over and read
   * everything sent so far: a zombie, whose next commits are fenced; it must go on (the last round, sent
   * then, is read whichever reader the group gives its partitions), and exit 0 on SIGTERM.
   */
  readonly pause?: boolean;
}

async function scenario(
  s: Scenario,
): Promise<{ many: Map<string, string>; one: Map<string, string>; byKey: Map<string, number[][]> }> {
  const topic = unique(`keyed-readers-${s.tag}`);
  const group = unique("g");
  const out = unique(`keyed-readers-out-${s.tag}`);
  await createTopic(topic, PARTITIONS);
  const byKey = keyedPoints(s.seed, s.xs);
  await sendRound(topic, byKey, 0);
  const args = (g: string, o: string) => [
    ...kafkaReader(topic, g),
    "--format",
    "json",
    "--key",
    "@key",
    ...s.model,
    "-X",
    "session.timeout.ms=6000",
    "--commit-rows",
    "50",
    "--commit-ms",
    "200",
    "--output-topic",
    o,
    "--state",
    "kafka",
  ];
  const many = [...args(group, out), "--readers", "many", "--verbose"];
  const { start, until, stop, readers } = readerGroup(many, { wait: 90_000 });
  const total = () => committedTotal(group, topic);
  const next = random(s.seed + 1);
  const per = PER_KEY / ROUNDS;
  try {
    start();
    await until("the first commits", async () => (await total()) > 0);
    await sendRound(topic, byKey, 1);
    for (let i = 0; i < s.more - 1; i++) start();
    const killed = start();
    await sendRound(topic, byKey, 2);
    // The killed one, once it holds partitions and has committed some, is SIGKILLed mid-stream.
    const held = () => [...killed.log().matchAll(/partition (\d+) assigned/g)].map((m) => Number(m[1]));
    await until("the killed reader's partitions", () => Promise.resolve(held().length > 0));
    await sendRound(topic, byKey, 3);
    await until("the killed reader's commits", async () => {
      const offsets = await committedOffsets(group, topic);
      return held().some((p) => {
        const messages = [...byKey.keys()].filter((key) => partitionOf(key) === p).length * per;
        return offsets[p] >= 4 * messages;
      });
    });
    if (s.pause) await sendRound(topic, byKey, 4); // (so that it may be stopped in the middle of a batch)
    await sleep(next() * 300);
    process.kill(killed.child.pid!, s.pause ? "SIGSTOP" : "SIGKILL");
    start();
    // With a pause, the last round is sent once the paused reader is back.
    const rounds = s.pause ? ROUNDS - 1 : ROUNDS;
    for (let round = s.pause ? 5 : 4; round < rounds; round++) await sendRound(topic, byKey, round);
    await until(
      "every partition's end",
      async () => (await total()) === (KEYS * PER_KEY * rounds) / ROUNDS,
      150_000,
    );
    if (s.pause) {
      process.kill(killed.child.pid!, "SIGCONT");
      // It finds its session gone, is fenced for the partitions it held, and joins the group again: the
      // partitions it is given (back) go on from where the others committed them.
      await sleep(8_000);
      await sendRound(topic, byKey, ROUNDS - 1);
      await until("every partition's end after the paused reader's return", async () => {
        return (await total()) === KEYS * PER_KEY;
      }, 150_000);
    }
  } finally {
    await stop();
  }
  // A reader took over a partition another had committed, and restored its keys' states.
  assert.ok(
    readers.some((r) => /taken over at offset [1-9]/.test(r.log()) && /keys? restored/.test(r.log())),
    "no reader took a partition over from another",
  );
  for (const r of readers) {
    if (r.child.signalCode === "SIGKILL") continue;
    const { code, stderr } = await r.done as { code: number | null; stderr: string };
    assert.equal(code, 0, `a reader ended with ${code}: ${stderr}`);
  }
  const manyLines = replay(await outputRows(out));
  // One reader alone (--readers one), in another group, to the end.
  const alone = unique(`keyed-readers-one-${s.tag}`);
  ok(
    await run(regress(CURRENT), [...args(unique("g1"), alone), "--exit-at-end"], { timeoutMs: 90_000 }),
    "one reader",
  );
  return { many: manyLines, one: replay(await outputRows(alone)), byKey };
}

test(
  `kafka keyed readers (${CURRENT}): --key @key, 1 then 3 readers, one killed and one added: each key's line exact and as one reader's`,
  async () => {
    const { many, one, byKey } = await scenario({
      tag: "line",
      seed: CURRENT === "deno" ? 81 : 82,
      xs: 1,
      model: [],
      more: 2,
    });
    assert.equal(many.size, KEYS);
    for (const [key, list] of byKey) {
      const fit = exactFit(list.map((p) => p[0]), list.map((p) => p[1]));
      const line = JSON.parse(many.get(key)!);
      assert.ok(
        Object.is(line.a, fit.a) && Object.is(line.b, fit.b),
        `key ${key}: many readers' ${line.a},${line.b} ≠ the exact ${fit.a},${fit.b}`,
      );
    }
    assert.deepEqual(many, one);
  },
  { timeoutMs: 300_000 },
);

test(
  `kafka keyed readers (${CURRENT}): --key @key with a model (two x, --stats), 1 then 2 readers, one killed and one added: as one reader`,
  async () => {
    const { many, one, byKey } = await scenario({
      tag: "model",
      seed: CURRENT === "deno" ? 83 : 84,
      xs: 2,
      model: ["--x", "x,x2", "--stats"],
      more: 1,
    });
    assert.equal(many.size, KEYS);
    const config: ModelConfig = { x: ["x", "x2"], y: "y", degree: 1, intercept: true, stats: true };
    for (const [key, list] of byKey) {
      const fit = exactModelFit(list.map(([x, x2, y]) => ({ xs: [x, x2], y })), {
        k: 2,
        degree: 1,
        intercept: true,
      });
      const cells = modelCells(config, {
        ...fit,
        coefficients: Float64Array.from(fit.coefficients),
        se: Float64Array.from(fit.se),
      }).split(",");
      const want = Object.fromEntries(
        resultColumns(config).map((c, i) => [c, cells[i] === "" ? null : Number(cells[i])]),
      );
      assert.equal(many.get(key), JSON.stringify(want), `key ${key}`);
    }
    assert.deepEqual(many, one);
  },
  { timeoutMs: 300_000 },
);

test(
  `kafka keyed readers (${CURRENT}): --key @key, a key in two partitions ends the run with exit 1, naming it`,
  async () => {
    const topic = unique("keyed-readers-dup");
    await createTopic(topic, 2);
    await sendKeyed(topic, [{ key: "a", value: '{"x":1,"y":2}' }, { key: "dup", value: '{"x":1,"y":2}' }], 0);
    await sendKeyed(topic, [{ key: "b", value: '{"x":1,"y":2}' }, { key: "dup", value: '{"x":2,"y":3}' }], 1);
    const r = await run(regress(CURRENT), [
      ...kafkaReader(topic, unique("g")),
      ...["--format", "json", "--key", "@key", "--output-topic", unique("keyed-readers-dup-out")],
      ...["--state", "kafka", "--readers", "many", "--exit-at-end"],
    ], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /key "dup" is in partitions 0 and 1 of .*: --readers many with --key @key needs each key/,
    );
  },
  { timeoutMs: 90_000 },
);

test(
  `kafka keyed readers (${CURRENT}): --key @key --window last:25, 1 then 2 readers, one killed and one added: each key's last points, as one reader`,
  async () => {
    const LAST = 25;
    const { many, one, byKey } = await scenario({
      tag: "last",
      seed: CURRENT === "deno" ? 85 : 86,
      xs: 1,
      model: ["--window", `last:${LAST}`],
      more: 1,
    });
    assert.equal(many.size, KEYS);
    for (const [key, list] of byKey) {
      const last = list.slice(-LAST);
      const fit = exactFit(last.map((p) => p[0]), last.map((p) => p[1]));
      const line = JSON.parse(many.get(key)!);
      assert.deepEqual(
        line,
        { window_start: PER_KEY - LAST + 1, window_end: PER_KEY, a: fit.a, b: fit.b },
        key,
      );
    }
    assert.deepEqual(many, one);
  },
  { timeoutMs: 300_000 },
);

test(
  `kafka keyed readers (${CURRENT}): --key @key, a reader paused until its partitions were taken over (a zombie) goes on: as one reader`,
  async () => {
    const { many, one, byKey } = await scenario({
      tag: "zombie",
      seed: CURRENT === "deno" ? 87 : 88,
      xs: 1,
      model: [],
      more: 1,
      pause: true,
    });
    assert.equal(many.size, KEYS);
    for (const [key, list] of byKey) {
      const fit = exactFit(list.map((p) => p[0]), list.map((p) => p[1]));
      const line = JSON.parse(many.get(key)!);
      assert.ok(Object.is(line.a, fit.a) && Object.is(line.b, fit.b), `key ${key}`);
    }
    assert.deepEqual(many, one);
  },
  { timeoutMs: 300_000 },
);
