/**
 * The SVG picture of `streamreg plot`: the points of the input change log and the final fit of the result
 * change log (a line; a polynomial as a curve; with several x, y against the fitted value and the
 * diagonal y = fitted), and optionally a small chart per coefficient of its value after each batch.
 * The output depends on its input only (coordinates rounded to 0.01 px, no dates, no randomness), so the
 * same logs give the same bytes.
 *
 * Elements a reader (or a test) can find: `<circle class="point">` per point drawn,
 * `<path class="fit" data-from="x,y" data-to="x,y">` (the fit's first and last points in data units,
 * written with the shortest round trip), and with `history` one `<path class="history" data-name="…">`
 * per coefficient.
 *
 * @example
 * ```ts
 * import { plotSvg } from "./svg_plot.ts";
 * const svg = plotSvg(readInputLog(inputText), readResultLog(resultText), { history: true });
 * ```
 * @module
 */

import { formatNumber } from "../model/format_number.ts";
import { type LoggedFits, type LoggedPoints, modelOf } from "./change_logs.ts";

/**
 * Options of {@linkcode plotSvg}.
 *
 * @example
 * ```ts
 * const options: PlotOptions = { width: 720, height: 440, maxPoints: 5000, history: true, title: "demo" };
 * ```
 */
export interface PlotOptions {
  /** Width of the main chart, px. Default 720. */
  width?: number;
  /** Height of the main chart, px. Default 440. */
  height?: number;
  /** Most points drawn: beyond it every k-th point is drawn (k the smallest that fits). Default 5000. */
  maxPoints?: number;
  /** Add a small chart of each coefficient after each batch. Default false. */
  history?: boolean;
  /** A title above the chart. */
  title?: string;
}

const POINT = "#1f77b4";
const FIT = "#d62728";
const MARGIN = { left: 70, right: 20, top: 36, bottom: 46 };

/** Rounds a pixel coordinate to 0.01 (deterministic, short). */
const px = (v: number) => String(Math.round(v * 100) / 100);

/** Escapes text for XML. */
const xml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A tick label: up to 6 significant digits, no trailing zeros. */
const label = (v: number) => String(Number(v.toPrecision(6)));

/** About `count` round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** A range with room: [lo, hi] widened by 4% each side (or ±1 if empty). */
function padded(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

/** Axes, grid and labels of a chart at (left, top) of the given size; returns the mapping. */
function frame(
  box: { left: number; top: number; width: number; height: number },
  range: { x: [number, number]; y: [number, number] },
  labels: { x: string; y: string },
  small = false,
): Frame {
  const { left, top, width, height } = box;
  const x = (v: number) => left + ((v - range.x[0]) / (range.x[1] - range.x[0])) * width;
  const y = (v: number) => top + height - ((v - range.y[0]) / (range.y[1] - range.y[0])) * height;
  const svg: string[] = [];
  const size = small ? 10 : 12;
  svg.push(
    `<rect x="${px(left)}" y="${px(top)}" width="${px(width)}" height="${
      px(height)
    }" fill="none" stroke="#999"/>`,
  );
  for (const t of ticks(range.x[0], range.x[1], small ? 4 : 7)) {
    svg.push(
      `<line x1="${px(x(t))}" y1="${px(top)}" x2="${px(x(t))}" y2="${px(top + height)}" stroke="#eee"/>`,
    );
    svg.push(
      `<text x="${px(x(t))}" y="${px(top + height + size + 4)}" font-size="${size}" text-anchor="middle">${
        label(t)
      }</text>`,
    );
  }
  for (const t of ticks(range.y[0], range.y[1], small ? 3 : 6)) {
    svg.push(
      `<line x1="${px(left)}" y1="${px(y(t))}" x2="${px(left + width)}" y2="${px(y(t))}" stroke="#eee"/>`,
    );
    svg.push(
      `<text x="${px(left - 6)}" y="${px(y(t) + size / 3)}" font-size="${size}" text-anchor="end">${
        label(t)
      }</text>`,
    );
  }
  svg.push(
    `<text x="${px(left + width / 2)}" y="${
      px(top + height + 2 * size + 10)
    }" font-size="${size}" text-anchor="middle">${xml(labels.x)}</text>`,
  );
  svg.push(
    `<text x="${px(left - 50)}" y="${
      px(top + height / 2)
    }" font-size="${size}" text-anchor="middle" transform="rotate(-90 ${px(left - 50)} ${
      px(top + height / 2)
    })">${xml(labels.y)}</text>`,
  );
  return { x, y, svg };
}

/**
 * The SVG text of the points and the final fit (see the module documentation).
 *
 * @example
 * ```ts
 * plotSvg(points, fits).startsWith("<svg"); // true
 * ```
 */
export function plotSvg(points: LoggedPoints, fits: LoggedFits, options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const maxPoints = options.maxPoints ?? 5000;
  const model = modelOf(fits.coefficients, points.columns);
  const final = fits.final;
  const n = points.y.length;
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const drawn: number[] = [];
  for (let i = 0; i < n; i += step) drawn.push(i);
  const xsOf = (i: number) => points.xs.map((column) => column[i]);
  // With several x: y against the fitted value (which needs the final fit).
  const along = (i: number) =>
    model.single ? points.xs[0][i] : final ? model.predict(final.values, xsOf(i)) : points.xs[0][i];
  let xLo = Infinity, xHi = -Infinity, yLo = Infinity, yHi = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = along(i);
    xLo = Math.min(xLo, u), xHi = Math.max(xHi, u);
    yLo = Math.min(yLo, points.y[i]), yHi = Math.max(yHi, points.y[i]);
  }
  // The fit: a line by its two ends, a polynomial by 200 steps, several x by the diagonal.
  let curve: [number, number][] = [];
  if (final && n > 0) {
    if (!model.single) curve = [[xLo, xLo], [xHi, xHi]];
    else {
      const steps = fits.coefficients.some((c) => /\^\d+$/.test(c)) ? 200 : 1;
      for (let k = 0; k <= steps; k++) {
        const x = k === steps ? xHi : xLo + ((xHi - xLo) * k) / steps;
        curve.push([x, model.predict(final.values, [x])]);
      }
    }
    for (const [, v] of curve) yLo = Math.min(yLo, v), yHi = Math.max(yHi, v);
  }
  const history = options.history && fits.history.length > 0 ? fits.coefficients : [];
  const smallHeight = 110;
  const titleHeight = options.title ? 24 : 0;
  const total = titleHeight + MARGIN.top + height + MARGIN.bottom + history.length * (smallHeight + 56);
  const full = MARGIN.left + width + MARGIN.right;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${full}" height="${total}" viewBox="0 0 ${full} ${total}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  if (options.title) {
    out.push(
      `<text x="${MARGIN.left}" y="20" font-size="15" font-weight="bold">${xml(options.title)}</text>`,
    );
  }
  const top = titleHeight + MARGIN.top;
  const xName = model.single ? points.columns[0] : "fitted value";
  const f = frame({ left: MARGIN.left, top, width, height }, { x: padded(xLo, xHi), y: padded(yLo, yHi) }, {
    x: xName,
    y: "y",
  });
  out.push(...f.svg);
  const equation = final
    ? fits.coefficients.filter((c) => final.values[c] === final.values[c])
      .map((c) => `${c} = ${formatNumber(final.values[c])}`).join(", ")
    : "no fit";
  out.push(
    `<text x="${MARGIN.left}" y="${top - 10}" font-size="12">${n} points${
      step > 1 ? ` (every ${step}th drawn)` : ""
    } · ${xml(equation)}</text>`,
  );
  out.push(`<g fill="${POINT}" fill-opacity="0.7">`);
  for (const i of drawn) {
    out.push(`<circle class="point" cx="${px(f.x(along(i)))}" cy="${px(f.y(points.y[i]))}" r="2.5"/>`);
  }
  out.push(`</g>`);
  if (curve.length > 0) {
    const d = curve.map(([x, y], k) => `${k === 0 ? "M" : "L"}${px(f.x(x))} ${px(f.y(y))}`).join(" ");
    const [first, last] = [curve[0], curve.at(-1)!];
    out.push(
      `<path class="fit" d="${d}" fill="none" stroke="${FIT}" stroke-width="2" data-from="${
        formatNumber(first[0])
      },${formatNumber(first[1])}" data-to="${formatNumber(last[0])},${formatNumber(last[1])}"/>`,
    );
  }
  // One small chart per coefficient: its value after each batch, against seconds since the first.
  let y0 = top + height + MARGIN.bottom + 20;
  const t0 = fits.history[0]?.time ?? 0;
  for (const name of history) {
    const series = fits.history.map((fit) => [(fit.time - t0) / 1000, fit.values[name]] as [number, number])
      .filter(([, v]) => v === v);
    const tHi = Math.max(...series.map(([t]) => t), 0);
    const vs = series.map(([, v]) => v);
    const g = frame(
      { left: MARGIN.left, top: y0, width, height: smallHeight },
      { x: [0, tHi > 0 ? tHi : 1], y: padded(Math.min(...vs), Math.max(...vs)) },
      { x: "seconds since the first batch", y: name },
      true,
    );
    out.push(...g.svg);
    const d = series.map(([t, v], k) => `${k === 0 ? "M" : "L"}${px(g.x(t))} ${px(g.y(v))}`).join(" ");
    out.push(
      `<path class="history" data-name="${
        xml(name)
      }" d="${d}" fill="none" stroke="${FIT}" stroke-width="1.5"/>`,
    );
    y0 += smallHeight + 56;
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
