/**
 * The files of the live page, served by `--serve` from the package itself (never from the internet):
 * the page, its script and style, and the chart library uPlot from its npm package. They are imported as
 * text, so that a compiled single binary carries them.
 *
 * @example
 * ```ts
 * import { PAGE_ASSETS } from "./page_assets.ts";
 * const page = PAGE_ASSETS["index.html"]; // { type: "text/html; charset=utf-8", body: "<!doctype html>…" }
 * ```
 * @module
 */

import page from "./page/index.html" with { type: "text" };
import script from "./page/live.js" with { type: "text" };
import style from "./page/live.css" with { type: "text" };
import uplot from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyle from "uplot/dist/uPlot.min.css" with { type: "text" };

/**
 * One file of the page.
 *
 * @example
 * ```ts
 * const asset: PageAsset = { type: "text/css; charset=utf-8", body: "body { margin: 0 }" };
 * ```
 */
export interface PageAsset {
  /** Its content type. */
  readonly type: string;
  /** Its text. */
  readonly body: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * The page's files by name: `index.html` at `/`, the others under `/assets/`.
 *
 * @example
 * ```ts
 * Object.keys(PAGE_ASSETS); // ["index.html", "live.js", "live.css", "uplot.js", "uplot.css"]
 * ```
 */
export const PAGE_ASSETS: Readonly<Record<string, PageAsset>> = {
  "index.html": { type: "text/html; charset=utf-8", body: page },
  "live.js": { type: JS, body: script },
  "live.css": { type: CSS, body: style },
  "uplot.js": { type: JS, body: uplot },
  "uplot.css": { type: CSS, body: uplotStyle },
};
