// The live page of `streamreg --serve`: receives snapshots (Server-Sent Events, at most a few a second)
// and draws the sampled points, the fitted line or curve (or y against the fitted value for several x),
// the fit's values exactly as the result change log writes them, and the run's counters.
// Plain browser JavaScript; uPlot (served from the package) is the global `uPlot`.
"use strict";

const POINT_COLOR = "#1f77b4";
const FIT_COLOR = "#d62728";
const GRID = 64;

const state = { key: null, plot: null, kind: null, last: null, ended: false };

function el(id) {
  return document.getElementById(id);
}

function row(tbody, name, value, attrs) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.textContent = name;
  const td = document.createElement("td");
  td.className = "value";
  td.textContent = value;
  for (const [k, v] of Object.entries(attrs)) td.dataset[k] = v;
  tr.append(th, td);
  tbody.append(tr);
}

/** The value of the fit at one point: x values per column (for a polynomial, the one x). */
function fitted(model, coefficients, xs) {
  let value = 0;
  let i = 0;
  if (model.intercept) value += coefficients[i++] ?? 0;
  if (model.kind === "several") {
    for (let j = 0; j < model.x.length; j++) value += (coefficients[i++] ?? 0) * xs[j];
  } else {
    for (let d = 1; d <= model.degree; d++) value += (coefficients[i++] ?? 0) * xs[0] ** d;
  }
  return value;
}

/** uPlot's aligned data: x ascending; the points (null where only the fit is drawn), the fit. */
function chartData(model, series) {
  const { xs, y } = series.sample;
  const coefficients = series.coefficients;
  const points = [];
  if (model.kind === "several") {
    for (let i = 0; i < y.length; i++) {
      const xi = xs.map((column) => column[i]);
      points.push([coefficients ? fitted(model, coefficients, xi) : 0, y[i], null]);
    }
    if (coefficients) { for (const p of points) p[2] = p[0]; // the diagonal y = fitted
     }
  } else {
    for (let i = 0; i < y.length; i++) points.push([xs[0][i], y[i], null]);
    if (coefficients && y.length > 0) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of xs[0]) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      const steps = model.kind === "line" ? 1 : GRID;
      for (let k = 0; k <= steps; k++) {
        const x = lo === hi ? lo : lo + ((hi - lo) * k) / steps;
        points.push([x, null, null]);
      }
      for (const p of points) p[2] = fitted(model, coefficients, [p[0]]);
    }
  }
  points.sort((p, q) => p[0] - q[0]);
  return [points.map((p) => p[0]), points.map((p) => p[1]), points.map((p) => p[2])];
}

function makePlot(model) {
  const box = el("chart");
  box.textContent = "";
  const several = model.kind === "several";
  el("chart-title").textContent = several
    ? `${model.y} against the fitted value`
    : model.kind === "polynomial"
    ? `${model.y} against ${model.x[0]}, degree ${model.degree} fit`
    : `${model.y} against ${model.x[0]}, fitted line`;
  const options = {
    width: Math.max(480, Math.min(820, globalThis.innerWidth - 470)),
    height: 440,
    scales: { x: { time: false } },
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    axes: [{ label: several ? "fitted" : model.x[0] }, { label: model.y }],
    series: [
      {},
      {
        label: "points",
        stroke: POINT_COLOR,
        fill: POINT_COLOR,
        paths: () => null,
        points: { show: true, size: 5, stroke: POINT_COLOR, fill: POINT_COLOR },
      },
      {
        label: several ? "y = fitted" : "fit",
        stroke: FIT_COLOR,
        width: 2,
        spanGaps: true,
        points: { show: false },
      },
    ],
  };
  state.plot = new uPlot(options, [[], [], []], box);
  state.kind = model.kind;
}

function renderFit(model, series) {
  const tbody = el("fit").tBodies[0];
  tbody.textContent = "";
  if (!series.cells) {
    el("equation").textContent = "no fit yet";
    el("fit-time").textContent = "";
    return;
  }
  model.columns.forEach((name, i) => row(tbody, name, series.cells[i], { column: name }));
  const terms = [];
  let i = 0;
  if (model.intercept) terms.push(series.cells[i++]);
  if (model.kind === "several") { for (const x of model.x) terms.push(`${series.cells[i++]}·${x}`); }
  else {
    for (let d = 1; d <= model.degree; d++) {
      terms.push(`${series.cells[i++]}·${model.x[0]}${d > 1 ? `^${d}` : ""}`);
    }
  }
  el("equation").textContent = `${model.y} ≈ ${terms.join(" + ")}`;
  el("fit-time").textContent = `commit time ${series.time} (${new Date(series.time).toISOString()})`;
}

function renderStats(snapshot) {
  const s = snapshot.stats;
  const tbody = el("stats").tBodies[0];
  tbody.textContent = "";
  const rate = s.pointsPerSecond >= 100 ? Math.round(s.pointsPerSecond) : s.pointsPerSecond.toPrecision(2);
  row(tbody, "points", String(s.points), { stat: "points" });
  row(tbody, "points/s", String(rate), { stat: "rate" });
  row(tbody, "batches", String(s.batches), { stat: "batches" });
  row(tbody, "rejected", String(s.rejected), { stat: "rejected" });
  for (const [reason, n] of Object.entries(s.rejectedBy)) row(tbody, `  ${reason}`, String(n), {});
  if (s.lag !== null) {
    row(tbody, "Kafka lag", String(s.lag), { stat: "lag" });
    for (const p of s.partitions) {
      row(tbody, `  partition ${p.partition}`, `${p.position} / ${p.highWatermark}`, {});
    }
  }
  if (s.lastBatchMs !== null) {
    row(tbody, "last batch", `${s.lastBatchMs.toFixed(1)} ms`, { stat: "batch-ms" });
  }
  if (s.bytesRead !== null) row(tbody, "bytes read", String(s.bytesRead), { stat: "bytes" });
  row(tbody, "elapsed", `${(s.elapsedMs / 1000).toFixed(1)} s`, { stat: "elapsed" });
}

function setStatus(status, text) {
  el("status").dataset.status = status;
  el("status").textContent = text;
}

function render(snapshot) {
  state.last = snapshot;
  const model = snapshot.model;
  // One series per key: a later version with keys fills the picker and shows the chosen one.
  const series = snapshot.series.find((s) => s.key === state.key) ?? snapshot.series[0];
  const status = snapshot.run.status;
  setStatus(status, status === "running" && !snapshot.run.ready ? "connecting to the source" : status);
  el("source").textContent = `${snapshot.run.source} · ${snapshot.run.runtime}`;
  if (state.plot === null || state.kind !== model.kind) makePlot(model);
  state.plot.setData(chartData(model, series));
  el("sample-note").textContent = `${series.sample.y.length} recent points shown (a sample)`;
  el("sample-note").dataset.count = String(series.sample.y.length);
  renderFit(model, series);
  renderStats(snapshot);
  document.body.dataset.batches = String(snapshot.stats.batches);
  if (status === "ended") {
    state.ended = true;
    events.close();
  }
}

const events = new EventSource("events");
events.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
events.addEventListener("error", () => {
  if (!state.ended) setStatus("reconnecting", "reconnecting…");
});
