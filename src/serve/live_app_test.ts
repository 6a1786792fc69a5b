import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { test } from "../../test/harness.ts";
import { modelCells } from "../sinks/result_log.ts";
import type { BatchUpdate, ModelResult } from "../model/sink.ts";
import { LiveRun, type LiveSnapshot } from "./live_run.ts";
import { liveApp } from "./live_app.ts";

const config = { x: ["x1", "x2"], y: "y", degree: 1, intercept: true, stats: true };
const fit: ModelResult = {
  n: 4,
  coefficients: Float64Array.of(0.1 + 0.2, NaN, -0),
  aliased: [false, true, false],
  se: Float64Array.of(1e-300, NaN, 2),
  r2: 0.5,
  sigma: NaN,
  rank: 2,
};
const update = (time: number): BatchUpdate => ({
  time,
  points: [],
  accepted: 4,
  refused: 0,
  count: 4,
  line: undefined,
  model: fit,
});
const totals = {
  points: 4,
  refused: 0,
  rejected: 1,
  batches: 1,
  changes: 1,
  count: 4,
  elapsedMs: 10,
  lastBatchMs: 2,
};

test("LiveRun: the page's cells are the change log's; many batches at once publish one snapshot", async () => {
  const live = new LiveRun({ config, runtime: "test", publishMs: 50 });
  const seen: LiveSnapshot[] = [];
  live.subscribe((s) => seen.push(s));
  live.opened("memory");
  for (let i = 1; i <= 100; i++) {
    await live.write(update(i));
    live.batch({ ...totals, batches: i });
  }
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(seen.length, 1, "one snapshot for 100 batches in one tick");
  const series = seen[0].series[0];
  assert.deepEqual(series.cells, modelCells(config, fit).split(","));
  assert.deepEqual(series.coefficients, [0.30000000000000004, null, -0]);
  assert.equal(series.time, 100);
  await live.close();
  assert.equal(seen.at(-1)!.run.status, "ended");
});

test("liveApp: /metrics in the text format, /healthz, /readyz before and after the source opens and at the end", async () => {
  const live = new LiveRun({ config, runtime: "test" });
  const app = liveApp(live);
  const get = async (path: string) => {
    const r = await app.fetch(new Request(`http://localhost${path}`));
    return { status: r.status, text: await r.text() };
  };
  assert.deepEqual(await get("/healthz"), { status: 200, text: "ok\n" });
  assert.equal((await get("/readyz")).status, 503);
  live.opened("memory", () => ({ ready: false }));
  assert.match((await get("/readyz")).text, /not ready: memory: not connected/);
  live.opened(
    "memory",
    () => ({ ready: true, bytesRead: 99, partitions: [{ partition: 3, position: 5, highWatermark: 9 }] }),
  );
  assert.equal((await get("/readyz")).status, 200);
  live.reject({ origin: { source: "m", location: "1" }, reason: "nan", detail: "", raw: "" } as never);
  await live.write(update(1_700_000_000_123));
  live.batch(totals);
  const families = parsePrometheus((await get("/metrics")).text) as {
    name: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }[];
  const metric = (name: string) => families.find((f) => f.name === name)!.metrics;
  assert.deepEqual(metric("streamreg_model_coefficient").map((m) => [m.labels!.name, m.value]), [
    ["a", "0.30000000000000004"],
    ["b_x2", "0"],
  ]);
  assert.equal(metric("streamreg_model_r2")[0].value, "0.5");
  assert.equal(metric("streamreg_records_rejected_total")[0].labels!.reason, "nan");
  assert.equal(metric("streamreg_source_bytes_read_total")[0].value, "99");
  assert.equal(metric("streamreg_kafka_partition_lag")[0].value, "4");
  assert.equal(metric("streamreg_last_commit_timestamp_seconds")[0].value, "1700000000.123");
  const page = await app.fetch(new Request("http://localhost/"));
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  assert.match(await page.text(), /assets\/uplot\.js/);
  const uplot = await get("/assets/uplot.js");
  assert.equal(uplot.status, 200);
  assert.ok(uplot.text.includes("uPlot"));
  await live.close();
  assert.match((await get("/readyz")).text, /not ready: the run has ended/);
  // The event stream of an ended run sends the final snapshot and ends.
  const events = await (await app.fetch(new Request("http://localhost/events"))).text();
  assert.match(events, /^event: snapshot\ndata: \{.*"status":"ended"/);
  app.close();
});

test("liveApp with keys: the table, ?key=K on /snapshot and /events, per-key gauges with the key's cells as label", async () => {
  const line = { x: ["x"], y: "y", degree: 1, intercept: true, stats: false };
  const live = new LiveRun({
    config: line,
    runtime: "test",
    publishMs: 10,
    keys: { columns: ["region", "sensor"], metricsKeys: 2 },
  });
  const app = liveApp(live);
  live.opened("memory");
  const keys = ["eu\u0000s1", "eu\u0000s1", "us\u0000a,b", "eu\u0000s2", "eu\u0000s1"];
  const x = Float64Array.of(1, 2, 3, 4, 5);
  await live.write({
    time: 7,
    points: [{ x, y: x, diff: Float64Array.of(1, 1, 1, 1, 1), keys }],
    accepted: 5,
    refused: 0,
    count: 5,
    line: undefined,
    keys: [
      { key: "eu\u0000s1", line: { a: 0.1 + 0.2, b: 1 }, n: 3 },
      { key: "us\u0000a,b", line: { a: 0, b: 0 }, n: 1 },
      { key: "eu\u0000s2", line: { a: 0, b: 0 }, n: 1 },
    ],
  });
  live.batch({ ...totals, points: 5, count: 5 });
  const snapshot = await (await app.fetch(new Request("http://localhost/snapshot"))).json() as LiveSnapshot;
  assert.deepEqual(snapshot.model.keys, ["region", "sensor"]);
  assert.equal(snapshot.keys!.count, 3);
  assert.deepEqual(snapshot.keys!.shown.map((r) => [r.label, r.points, r.cells]), [
    ["eu,s1", 3, ["0.30000000000000004", "1"]],
    ["eu,s2", 1, ["0", "0"]],
    ['us,"a,b"', 1, ["0", "0"]],
  ]);
  assert.equal(snapshot.series[0].key, "eu\u0000s1", "the most active key");
  const chosen = await (await app.fetch(new Request("http://localhost/snapshot?key=eu%00s2"))).json();
  assert.deepEqual([chosen.series[0].key, chosen.series[0].label, chosen.series[0].n], [
    "eu\u0000s2",
    "eu,s2",
    1,
  ]);
  const unknown = await (await app.fetch(new Request("http://localhost/snapshot?key=nobody"))).json();
  assert.deepEqual([unknown.series[0].key, unknown.series[0].cells], ["nobody", null]);

  const families = parsePrometheus(
    await (await app.fetch(new Request("http://localhost/metrics"))).text(),
  ) as {
    name: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }[];
  const metric = (name: string) => families.find((f) => f.name === name)!.metrics;
  assert.deepEqual(metric("streamreg_key_coefficient").map((m) => [m.labels!.key, m.labels!.name, m.value]), [
    ["eu,s1", "a", "0.30000000000000004"],
    ["eu,s1", "b", "1"],
    ['us,"a,b"', "a", "0"],
    ['us,"a,b"', "b", "0"],
  ]);
  assert.deepEqual(metric("streamreg_key_n").map((m) => m.value), ["3", "1"]);
  assert.equal(metric("streamreg_keys")[0].value, "3");
  assert.equal(metric("streamreg_model_coefficient").length, 0);

  // A subscriber asking for a key gets its series in every snapshot.
  const seen: LiveSnapshot[] = [];
  const stop = live.subscribe((s) => seen.push(s), { key: "us\u0000a,b" });
  live.batch({ ...totals, points: 5, count: 5 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(seen.length > 0);
  assert.ok(seen.every((s) => s.series[0].key === "us\u0000a,b"));
  stop();
  await live.close();
  const events = await (await app.fetch(new Request("http://localhost/events?key=eu%00s2"))).text();
  assert.match(events, /"key":"eu\\u0000s2"/);
  app.close();
});
