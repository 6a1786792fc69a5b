/**
 * `--serve` end to end, under both runners: `/metrics` parsed by a Prometheus text-format parser
 * (parse-prometheus-text-format) carries the change log's values, the counters and the batch latency;
 * `/healthz` and `/readyz` answer as docs/serve.md says (also while a Kafka source is still connecting);
 * Kafka partitions report their positions, high watermarks and lag; the outputs are the same with and
 * without `--serve`; bad addresses are refused. Keyed runs: per-key gauges carry each key's standing line
 * in the change log, for the first `--metrics-keys` keys; with windows, each key's latest window's.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import parsePrometheus from "parse-prometheus-text-format";
import { test } from "./harness.ts";
import { broker, createTopic, send, unique } from "./kafka_helpers.ts";
import {
  command,
  lastFit,
  lineCount,
  linePoints,
  type Runner,
  RUNNERS,
  type ServedRun,
  standingLines,
  startServed,
  waitFor,
} from "./serve_helpers.ts";

interface Family {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    count?: string;
    buckets?: Record<string, string>;
  }[];
}

/** Scrapes `/metrics` and parses it with a real Prometheus text-format parser. */
async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(`${url}metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(await response.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of an unlabelled metric, or of the sample with `labels`. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): string {
  const family = families.get(name);
  assert.ok(family, `${name} is exported`);
  const sample = family.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v) &&
    Object.keys(m.labels ?? {}).length === Object.keys(labels).length
  );
  assert.ok(sample, `${name}${JSON.stringify(labels)} has a sample`);
  return sample.value!;
}

async function answer(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

const tempDir = () => mkdtemp(join(tmpdir(), "streamreg-serve-"));

async function stopped(run: ServedRun | undefined): Promise<void> {
  if (run && run.child.exitCode === null) {
    process.kill(run.child.pid!, "SIGKILL");
    await run.done;
  }
}

for (const runner of RUNNERS) {
  test(
    `serve (${runner}): /metrics parses and carries the change log's a and b, the counts and the batch latency; /healthz, /readyz`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        const out = join(dir, "out.csv");
        const input = join(dir, "in.csv");
        run = await startServed(runner, [
          "--source",
          "csv",
          "--input",
          "-",
          "--output",
          out,
          "--input-log",
          input,
          "--commit-ms",
          "100",
          "--commit-rows",
          "50",
        ], dir);
        const text = "x,y\n" + linePoints({ a: 3, b: -0.5, from: 0, count: 120, seed: 7 }) +
          "1,abc\n2,\n4,1e400\n" + linePoints({ a: 3, b: -0.5, from: 120, count: 30, seed: 8 });
        run.child.stdin!.write(text);
        await waitFor("150 points in the input log", async () => (await lineCount(input)) === 151);
        const fit = (await lastFit(out))!;
        // The last batch (50 points) is committed when the input log has them all; /metrics reads the same.
        const families = await waitFor("the metrics of 150 points", async () => {
          const m = await scrape(run!.url);
          return value(m, "streamreg_points_accepted_total") === "150" ? m : undefined;
        });
        assert.equal(value(families, "streamreg_model_coefficient", { name: "a" }), fit[0]);
        assert.equal(value(families, "streamreg_model_coefficient", { name: "b" }), fit[1]);
        assert.equal(value(families, "streamreg_model_n"), "150");
        const batches = value(families, "streamreg_batches_total");
        assert.ok(Number(batches) >= 3, `${batches} batches of at most 50 records`);
        assert.equal(value(families, "streamreg_records_rejected_total", { reason: "not_a_number" }), "1");
        assert.equal(value(families, "streamreg_records_rejected_total", { reason: "empty_field" }), "1");
        assert.equal(value(families, "streamreg_records_rejected_total", { reason: "overflow" }), "1");
        assert.equal(
          value(families, "streamreg_source_bytes_read_total"),
          String(new TextEncoder().encode(text).length),
        );
        const latency = families.get("streamreg_batch_duration_seconds")!;
        assert.equal(latency.type, "HISTOGRAM");
        assert.equal(latency.metrics[0].count, batches, "one latency per batch");
        const rows = (await readFile(out, "utf8")).trim().split("\n");
        const time = Number(rows.at(-1)!.split(",").at(-2));
        assert.equal(Number(value(families, "streamreg_last_commit_timestamp_seconds")), time / 1000);
        assert.equal(value(families, "streamreg_ready"), "1");
        assert.equal(families.has("streamreg_model_r2"), false, "no R² without --stats");

        assert.deepEqual(await answer(`${run.url}healthz`), { status: 200, text: "ok\n" });
        const ready = await answer(`${run.url}readyz`);
        assert.equal(ready.status, 200);
        assert.match(ready.text, /^ready: reading stdin/);
        // The snapshot is the one last published (at most 4 a second): it shows the same fit soon.
        const snapshot = await waitFor("the snapshot of the last fit", async () => {
          const s = await (await fetch(`${run!.url}snapshot`)).json();
          return s.series[0].cells?.join(",") === fit.join(",") ? s : undefined;
        });
        assert.equal(snapshot.stats.points, 150);
        assert.deepEqual(snapshot.stats.rejectedBy, { not_a_number: 1, empty_field: 1, overflow: 1 });
        assert.equal((await answer(`${run.url}nothing`)).status, 404);

        run.child.stdin!.end();
        assert.equal(await run.done, 0, run.stderr());
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(
    `serve (${runner}): a polynomial with --stats: every coefficient, n and r2 as in the change log`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        const out = join(dir, "out.csv");
        run = await startServed(runner, [
          "--source",
          "csv",
          "--input",
          "-",
          "--x",
          "t",
          "--degree",
          "2",
          "--stats",
          "--output",
          out,
          "--no-input-log",
        ], dir);
        let text = "t,y\n";
        for (let i = 0; i < 40; i++) text += `${i / 4},${1 + i / 8 - (i / 4) ** 2 / 3 + (i % 3) / 10}\n`;
        run.child.stdin!.write(text);
        const families = await waitFor("the metrics of 40 points", async () => {
          const m = await scrape(run!.url);
          return value(m, "streamreg_model_n") === "40" ? m : undefined;
        });
        run.child.stdin!.end();
        assert.equal(await run.done, 0, run.stderr());
        const header = (await readFile(out, "utf8")).split("\n")[0].split(",");
        const fit = (await lastFit(out))!;
        const cell = (name: string) => fit[header.indexOf(name)];
        assert.equal(value(families, "streamreg_model_coefficient", { name: "a" }), cell("a"));
        assert.equal(value(families, "streamreg_model_coefficient", { name: "b_t" }), cell("b_t"));
        assert.equal(value(families, "streamreg_model_coefficient", { name: "b_t^2" }), cell("b_t^2"));
        assert.equal(value(families, "streamreg_model_r2"), cell("r2"));
        assert.equal(value(families, "streamreg_model_sigma"), cell("sigma"));
        assert.equal(cell("n"), "40");
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(
    `serve (${runner}): while a Kafka source connects, /healthz is 200 and /readyz 503; SIGTERM stops it`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        // Port 9 (discard) on loopback: nothing listens, so kafkajs keeps retrying the connection.
        run = await startServed(runner, ["--source", "kafka", "-b", "127.0.0.1:9", "--output", "-"], dir);
        assert.deepEqual(await answer(`${run.url}healthz`), { status: 200, text: "ok\n" });
        const ready = await answer(`${run.url}readyz`);
        assert.equal(ready.status, 503);
        assert.match(ready.text, /^not ready: the source is not open yet/);
        assert.equal(value(await scrape(run.url), "streamreg_ready"), "0");
        process.kill(run.child.pid!, "SIGTERM");
        assert.equal(await run.done, 0, run.stderr());
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(
    `serve (${runner}): Kafka: each partition's position, high watermark and lag; /readyz once the group joined`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        const topic = unique("serve");
        await createTopic(topic, 2);
        await send(topic, ["x,y", ...Array.from({ length: 30 }, (_, i) => `${i},${2 * i + 1}`)], 0);
        await send(topic, ["x,y", ...Array.from({ length: 20 }, (_, i) => `${i},${2 * i - 1}`)], 1);
        run = await startServed(runner, [
          "--source",
          "kafka",
          "-b",
          broker().plaintext,
          "-t",
          topic,
          "-G",
          unique("serve-group"),
          "--output",
          join(dir, "out.csv"),
          "--no-input-log",
          "--commit-ms",
          "100",
        ], dir);
        const families = await waitFor("the metrics of 50 points", async () => {
          const m = await scrape(run!.url);
          return value(m, "streamreg_points_accepted_total") === "50" ? m : undefined;
        }, 40_000);
        for (const [partition, end] of [["0", "31"], ["1", "21"]]) {
          assert.equal(value(families, "streamreg_kafka_partition_high_watermark", { partition }), end);
          assert.equal(value(families, "streamreg_kafka_partition_position", { partition }), end);
          assert.equal(value(families, "streamreg_kafka_partition_lag", { partition }), "0");
        }
        assert.equal((await answer(`${run.url}readyz`)).status, 200);
        assert.equal(value(families, "streamreg_ready"), "1");
        const fit = (await lastFit(join(dir, "out.csv")))!;
        assert.equal(value(families, "streamreg_model_coefficient", { name: "b" }), fit[1]);
        process.kill(run.child.pid!, "SIGTERM");
        assert.equal(await run.done, 0, run.stderr());
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 90_000 },
  );

  test(
    `serve (${runner}): --key with two columns: per-key a, b and n for the first --metrics-keys keys, as the change log's standing lines`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        const out = join(dir, "out.csv");
        run = await startServed(runner, [
          "--source",
          "csv",
          "--input",
          "-",
          "--key",
          "region,sensor",
          "--metrics-keys",
          "5",
          "--output",
          out,
          "--no-input-log",
          "--commit-ms",
          "100",
        ], dir);
        // Twelve keys (eu,s0 … us,s5) with 3 to 14 points each, in turns.
        const keys = Array.from({ length: 12 }, (_, i) => `${i < 6 ? "eu" : "us"},s${i % 6}`);
        const points = new Map(keys.map((key) => [key, [] as string[]]));
        let text = "region,sensor,x,y,diff\n";
        for (let round = 0; round < 14; round++) {
          keys.forEach((key, i) => {
            if (round >= 3 + i) return;
            const row = `${key},${round + i / 7},${i - round * (i % 5) + ((round * 7919) % 13) / 10}`;
            points.get(key)!.push(row);
            text += `${row},1\n`;
          });
        }
        run.child.stdin!.write(text);
        const total = keys.reduce((n, key) => n + points.get(key)!.length, 0);
        let families = await waitFor(`the metrics of ${total} points`, async () => {
          const m = await scrape(run!.url);
          return value(m, "streamreg_points_accepted_total") === String(total) ? m : undefined;
        });
        // The first five keys to get a line: the first five keys of the change log.
        const logKeys = async () => {
          const rows = (await readFile(out, "utf8")).trim().split("\n").slice(1);
          return [
            ...new Set(rows.filter((r) => r.endsWith(",1")).map((r) => r.split(",").slice(0, 2).join(","))),
          ];
        };
        const check = async (expected: string[], families: Map<string, Family>) => {
          const lines = await standingLines(out, { keyColumns: 2 });
          const coefficients = families.get("streamreg_key_coefficient")!.metrics;
          assert.deepEqual(
            [...new Set(coefficients.map((m) => m.labels!.key))].sort(),
            [...expected].sort(),
            "the keys with gauges",
          );
          assert.equal(coefficients.length, 2 * expected.length);
          for (const key of expected) {
            const [a, b] = lines.get(key)!;
            assert.equal(value(families, "streamreg_key_coefficient", { key, name: "a" }), a, `${key}: a`);
            assert.equal(value(families, "streamreg_key_coefficient", { key, name: "b" }), b, `${key}: b`);
            assert.equal(value(families, "streamreg_key_n", { key }), String(points.get(key)!.length), key);
          }
        };
        const firstFive = (await logKeys()).slice(0, 5);
        assert.equal(firstFive.length, 5);
        await check(firstFive, families);
        assert.equal(value(families, "streamreg_keys"), "12");
        assert.equal(families.get("streamreg_model_coefficient")?.metrics.length ?? 0, 0, "no single line");
        assert.equal(value(families, "streamreg_model_n"), String(total));

        // The first key's points all retracted: it is forgotten, and the next key whose line changes
        // (here the last one, by a new point) takes its place.
        const gone = firstFive[0];
        const last = keys.find((key) => !firstFive.includes(key))!;
        let more = points.get(gone)!.map((row) => `${row},-1\n`).join("");
        const added = `${last},100,-100`;
        points.get(last)!.push(added);
        more += `${added},1\n`;
        run.child.stdin!.write(more);
        const expected = [...firstFive.slice(1), last];
        families = await waitFor("the metrics after the retractions", async () => {
          const m = await scrape(run!.url);
          const n = m.get("streamreg_key_n")?.metrics.length;
          return value(m, "streamreg_keys") === "11" && n === 5 &&
              m.get("streamreg_key_n")!.metrics.some((s) => s.labels!.key === last)
            ? m
            : undefined;
        });
        await check(expected, families);
        run.child.stdin!.end();
        assert.equal(await run.done, 0, run.stderr());
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(
    `serve (${runner}): --key with --window tumbling: each key's gauges carry its latest window's line`,
    async () => {
      const dir = await tempDir();
      let run: ServedRun | undefined;
      try {
        const out = join(dir, "out.csv");
        run = await startServed(runner, [
          "--source",
          "csv",
          "--input",
          "-",
          "--key",
          "sensor",
          "--time",
          "t",
          "--window",
          "tumbling:10s",
          "--output",
          out,
          "--no-input-log",
          "--commit-ms",
          "100",
        ], dir);
        // Three keys, points every second over 35 s: windows [0, 10 s) … [30 s, 40 s).
        let text = "sensor,t,x,y\n";
        let total = 0;
        for (let second = 0; second < 35; second++) {
          for (let k = 0; k < 3; k++) {
            if ((second + k) % 4 === 3) continue;
            text += `s${k},${second * 1000},${second % 7},${k + second * (k - 1) + (second % 3)}\n`;
            total++;
          }
        }
        run.child.stdin!.write(text);
        const families = await waitFor(`the metrics of ${total} points`, async () => {
          const m = await scrape(run!.url);
          return value(m, "streamreg_points_accepted_total") === String(total) ? m : undefined;
        });
        const lines = await standingLines(out, { windowed: true });
        assert.equal(lines.size, 3);
        for (const [key, [start, end, a, b]] of lines) {
          assert.deepEqual([start, end], ["30000", "40000"], `${key}: the latest window`);
          assert.equal(value(families, "streamreg_key_coefficient", { key, name: "a" }), a, `${key}: a`);
          assert.equal(value(families, "streamreg_key_coefficient", { key, name: "b" }), b, `${key}: b`);
        }
        const snapshot = await (await fetch(`${run.url}snapshot?key=s1`)).json();
        assert.deepEqual(snapshot.series[0].window, ["30000", "40000"]);
        assert.deepEqual(snapshot.series[0].cells, lines.get("s1")!.slice(2));
        assert.equal(snapshot.model.window, "tumbling:10s");
        run.child.stdin!.end();
        assert.equal(await run.done, 0, run.stderr());
      } finally {
        await stopped(run);
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(`serve (${runner}): the change logs are the same with and without --serve`, async () => {
    const dir = await tempDir();
    try {
      const input = join(dir, "points.csv");
      await import("node:fs/promises").then((fs) =>
        fs.writeFile(input, "x,y\n" + linePoints({ a: 1, b: 1, from: 0, count: 5000, seed: 3 }))
      );
      const outputs: string[] = [];
      for (const serve of [false, true]) {
        const out = join(dir, `out_${serve}.csv`);
        const log = join(dir, `in_${serve}.csv`);
        const args = ["--source", "csv", "--input", input, "--output", out, "--input-log", log];
        args.push("--commit-rows", "700", "--commit-ms", "1e9", ...(serve ? ["--serve", "127.0.0.1:0"] : []));
        const code = await exitCode(runner, args, dir);
        assert.equal(code, 0);
        const noTime = (csv: string) =>
          csv.split("\n").map((l) => l.split(",").filter((_, i, a) => i !== a.length - 2).join(",")).join(
            "\n",
          );
        outputs.push(noTime(await readFile(out, "utf8")) + noTime(await readFile(log, "utf8")));
      }
      assert.equal(outputs[1], outputs[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, { timeoutMs: 60_000 });

  test(`serve (${runner}): a bad address exits 2; a port in use exits 1 naming it`, async () => {
    const dir = await tempDir();
    const server = createServer();
    try {
      for (const bad of ["http://x", "70000", "host:", ":80"]) {
        const r = await collect(runner, ["--serve", bad], dir);
        assert.equal(r.code, 2, bad);
        assert.match(r.stderr, /^streamreg: --serve: expected \[HOST:\]PORT/, bad);
      }
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const r = await collect(runner, ["--rows", "3", "--rate", "0", "--serve", `127.0.0.1:${port}`], dir);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`--serve: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`),
      );
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

function collect(
  runner: Runner,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stderr: string }> {
  const [exe, pre] = command(runner);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...pre, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.stdout!.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin!.end();
  });
}

async function exitCode(runner: Runner, args: string[], cwd: string): Promise<number | null> {
  return (await collect(runner, args, cwd)).code;
}
