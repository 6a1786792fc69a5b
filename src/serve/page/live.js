// The live page of `streamreg --serve`: receives snapshots (Server-Sent Events, at most a few a second)
// and draws the sampled points, the fitted line or curve (or y against the fitted value for several x),
// the fit's values exactly as the result change log writes them, and the run's counters. With keys
// (--key, --window): a table of the most active keys and a key picker; the chosen key's line and points
// come on an event stream of their own (events?key=K).
// Plain browser JavaScript; uPlot (served from the package) is the global `uPlot`.
"use strict";

const POINT_COLOR = "#1f77b4";
const FIT_COLOR = "#d62728";
const GRID = 64;

/** The chosen key (null: follow the most active), the chart, the last snapshot, the event stream. */
const state = { key: null, plot: null, kind: null, last: null, ended: false, events: null };
const KEY_SEPARATOR = "\u0000";

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
  el("fit-time").textContent = series.time === null
    ? ""
    : `commit time ${series.time} (${new Date(series.time).toISOString()})`;
}

/** A key's fields (several key columns) from text typed as the change log writes them: a CSV row. */
function csvFields(text) {
  const fields = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') field += text[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function cell(tr, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  tr.append(td);
}

/** The table of the most active keys, the picker's suggestions and the note on how they are sorted. */
function renderKeys(snapshot, shownKey) {
  const model = snapshot.model;
  const keys = snapshot.keys;
  el("key-pick").hidden = false;
  el("keys").hidden = false;
  const seconds = keys.recentSeconds;
  el("keys-note").textContent =
    `${keys.count} keys; the ${keys.shown.length} most active, by points in the ` +
    `last ${seconds} s, then by points in all (lines per key have no R², so keys are sorted by activity). ` +
    `Click a row to show the key.`;
  el("keys-note").dataset.count = String(keys.count);
  const head = el("key-table").tHead;
  head.textContent = "";
  const hr = document.createElement("tr");
  const windowed = model.window !== null;
  const names = [
    ...model.keys,
    ...(windowed ? ["window_start", "window_end"] : []),
    ...model.columns,
    "n",
    `last ${seconds} s`,
    "points",
  ];
  for (const name of names) {
    const th = document.createElement("th");
    th.textContent = name;
    hr.append(th);
  }
  head.append(hr);
  const body = el("key-table").tBodies[0];
  body.textContent = "";
  const list = el("key-list");
  list.textContent = "";
  for (const row of keys.shown) {
    const tr = document.createElement("tr");
    tr.dataset.key = row.key;
    tr.dataset.label = row.label;
    if (row.key === shownKey) tr.className = "selected";
    for (const field of row.fields) cell(tr, field, "key");
    if (windowed) {
      cell(tr, row.window ? row.window[0] : "", "value");
      cell(tr, row.window ? row.window[1] : "", "value");
    }
    cell(tr, row.cells ? row.cells[0] : "—", "value");
    cell(tr, row.cells ? row.cells[1] : "—", "value");
    cell(tr, row.n === null ? "—" : String(row.n), "number");
    cell(tr, String(row.recent), "number");
    cell(tr, String(row.points), "number");
    tr.addEventListener("click", () => choose(row.key));
    body.append(tr);
    const option = document.createElement("option");
    option.value = row.label;
    list.append(option);
  }
  el("key-help").textContent = state.key === null
    ? "following the most active key; type a key (as the change log writes it) or click one in the table"
    : "type a key (as the change log writes it) or click one in the table";
}

/** The text typed in the picker as a key: a label from the table, or the fields of a CSV row. */
function typedKey(text) {
  const snapshot = state.last;
  const row = snapshot?.keys?.shown.find((r) => r.label === text);
  if (row) return row.key;
  const columns = snapshot?.model.keys?.length ?? 1;
  return columns > 1 ? csvFields(text).join(KEY_SEPARATOR) : text;
}

/** Shows `key` (null: the most active key): a stream of its own snapshots. */
function choose(key) {
  state.key = key;
  history.replaceState(null, "", key === null ? location.pathname : `#key=${encodeURIComponent(key)}`);
  if (state.ended) {
    // The server has gone with the run: show the key's row of the last table, if it is there.
    if (state.last) render(state.last);
    return;
  }
  connect();
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
  if (snapshot.keys && snapshot.model.keys.length > 0) {
    row(tbody, "keys", String(snapshot.keys.count), { stat: "keys" });
  }
  row(tbody, "elapsed", `${(s.elapsedMs / 1000).toFixed(1)} s`, { stat: "elapsed" });
}

function setStatus(status, text) {
  el("status").dataset.status = status;
  el("status").textContent = text;
}

/** The series to show: the chosen key's (after the run, from its row of the table), or the first. */
function shownSeries(snapshot) {
  const chosen = snapshot.series.find((s) => s.key === state.key);
  if (chosen || state.key === null) return chosen ?? snapshot.series[0];
  const row = snapshot.keys?.shown.find((r) => r.key === state.key);
  return {
    key: state.key,
    label: row?.label ?? state.key.split(KEY_SEPARATOR).join(","),
    time: row?.time ?? null,
    cells: row?.cells ?? null,
    coefficients: row?.line ? [row.line.a, row.line.b] : null,
    sample: { xs: [[]], y: [] },
    window: row?.window ?? null,
    n: row?.n ?? null,
  };
}

function renderKey(model, series) {
  const p = el("fit-key");
  if (model.keys === null) return;
  p.hidden = false;
  const parts = [];
  if (model.keys.length > 0) parts.push(series ? `key ${series.label}` : "no keys yet");
  if (series?.window) parts.push(`window ${series.window[0]} – ${series.window[1]} (the latest)`);
  if (series?.n !== null && series?.n !== undefined) parts.push(`n ${series.n}`);
  p.textContent = parts.join(" · ");
  p.dataset.key = series ? series.key : "";
}

function render(snapshot) {
  state.last = snapshot;
  const model = snapshot.model;
  const series = shownSeries(snapshot);
  const status = snapshot.run.status;
  setStatus(status, status === "running" && !snapshot.run.ready ? "connecting to the source" : status);
  el("source").textContent = `${snapshot.run.source} · ${snapshot.run.runtime}` +
    (model.window ? ` · --window ${model.window}` : "");
  if (state.plot === null || state.kind !== model.kind) makePlot(model);
  const empty = { key: null, time: null, cells: null, coefficients: null, sample: { xs: [[]], y: [] } };
  state.plot.setData(chartData(model, series ?? empty));
  const count = series ? series.sample.y.length : 0;
  const latest = model.window === null ? "" : `; the line is the latest window's`;
  el("sample-note").textContent = model.keys === null || model.keys.length === 0
    ? `${count} recent points shown (a sample${latest})`
    : `${count} recent points of key ${series?.label ?? "—"} shown (a sample${latest}; samples are kept ` +
      "for a few keys only, the keys shown and the most active ones, from when they are chosen)";
  el("sample-note").dataset.count = String(count);
  renderKey(model, series);
  renderFit(model, series ?? empty);
  if (snapshot.keys && model.keys.length > 0) renderKeys(snapshot, series?.key);
  renderStats(snapshot);
  document.body.dataset.batches = String(snapshot.stats.batches);
  if (status === "ended") {
    state.ended = true;
    state.events?.close();
  }
}

function connect() {
  state.events?.close();
  const events = new EventSource(
    state.key === null ? "events" : `events?key=${encodeURIComponent(state.key)}`,
  );
  events.addEventListener("snapshot", (event) => {
    if (state.events === events) render(JSON.parse(event.data));
  });
  events.addEventListener("error", () => {
    if (!state.ended && state.events === events) setStatus("reconnecting", "reconnecting…");
  });
  state.events = events;
}

el("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = el("key-input").value;
  if (text !== "") choose(typedKey(text));
});
el("key-auto").addEventListener("click", () => {
  el("key-input").value = "";
  choose(null);
});
const hash = /^#key=(.*)$/.exec(location.hash);
if (hash) state.key = decodeURIComponent(hash[1]);
connect();
