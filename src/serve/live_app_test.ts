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
