/**
 * The live page of `--serve` in a real browser (Debian's Chromium, driven by playwright-core), under
 * both runners: a CSV run reading stdin gets points in two rounds; the page must draw the points and the
 * fitted line, show exactly the result change log's values, follow the second round (the line moves),
 * say when the run has ended, and log no error to the console.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";
import { test } from "./harness.ts";
import {
  chromiumPath,
  lastFit,
  lineCount,
  linePoints,
  RUNNERS,
  type ServedRun,
  startServed,
  waitFor,
} from "./serve_helpers.ts";

/** What the chart's canvas shows: how many pixels have the points' and the fit's colours, and where. */
interface Drawn {
  points: number;
  line: number;
  /** For every 8th column of the canvas, the mean row of the fit's pixels there (-1: none). */
  lineRows: number[];
}

function drawn(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    // (This function runs in the page; the test's own type check knows no DOM.)
    // deno-lint-ignore no-explicit-any
    const canvas = (globalThis as any).document.querySelector("#chart canvas");
    const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const { data, width, height } = image as { data: Uint8ClampedArray; width: number; height: number };
    const near = (i: number, r: number, g: number, b: number) =>
      data[i + 3] > 200 && Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 &&
      Math.abs(data[i + 2] - b) < 40;
    let points = 0;
    let line = 0;
    const lineRows: number[] = [];
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let count = 0;
      for (let y = 0; y < height; y++) {
        const i = (y * width + x) * 4;
        if (near(i, 31, 119, 180)) points++;
        if (near(i, 214, 39, 40)) {
          line++;
          sum += y;
          count++;
        }
      }
      if (x % 8 === 0) lineRows.push(count ? Math.round(sum / count) : -1);
    }
    return { points, line, lineRows };
  });
}

/** The fit's cells shown on the page, in the order of its table. */
function shownCells(page: Page): Promise<string[]> {
  return page.$$eval("#fit td[data-column]", (cells) => cells.map((c) => c.textContent ?? ""));
}

/** Waits until the page shows `expected` as the fit (the change log's current row). */
async function waitForCells(page: Page, expected: string[], what: string): Promise<void> {
  await waitFor(`the page to show ${what} ${expected.join(",")}`, async () => {
    const cells = await shownCells(page);
    return cells.join(",") === expected.join(",") || undefined;
  });
}

for (const runner of RUNNERS) {
  test(
    `serve (${runner}): the live page draws the points and the fit, follows new points, shows the change log's values`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "streamreg-serve-browser-"));
      const out = join(dir, "out.csv");
      const input = join(dir, "in.csv");
      let run: ServedRun | undefined;
      let browser: Browser | undefined;
      try {
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
        ], dir);
        const stdin = run.child.stdin!;
        stdin.write("x,y\n" + linePoints({ a: 1, b: 2, from: 0, count: 200, seed: 1 }));
        await waitFor("the first 200 points in the input log", async () => (await lineCount(input)) === 201);
        const first = (await lastFit(out))!;
        assert.ok(first, "a fit in the change log");

        browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        const errors: string[] = [];
        // Once the run ends its server goes away: the event stream's request may then be cut off (and the
        // browser may try it again), which is no error of the page.
        let ending = false;
        const afterEnd = (text: string) => ending && text.includes("/events");
        page.on("console", (m) => {
          if (m.type() === "error" && !afterEnd(m.text() + (m.location()?.url ?? ""))) {
            errors.push(`console: ${m.text()}`);
          }
        });
        page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
        page.on("requestfailed", (r) => {
          if (!afterEnd(r.url())) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
        });
        await page.goto(run.url);

        await waitForCells(page, first, "the first fit");
        await waitFor(
          "200 sampled points on the page",
          () =>
            page.$eval(
              "#sample-note",
              (e) => (e as unknown as { dataset: Record<string, string> }).dataset.count === "200",
            ),
        );
        assert.deepEqual(await page.$$eval("#fit th", (t) => t.map((e) => e.textContent)), ["a", "b"]);
        const before = await drawn(page);
        assert.ok(before.points > 200, `the points are drawn (${before.points} pixels)`);
        assert.ok(before.line > 100, `the line is drawn (${before.line} pixels)`);
        assert.equal(
          await page.$eval("#stats td[data-stat=points]", (e) => e.textContent),
          "200",
          "points accepted",
        );
        if (process.env.STREAMREG_SCREENSHOT) {
          await page.screenshot({ path: process.env.STREAMREG_SCREENSHOT });
        }

        // A second round along another line: the fit moves, and the page follows.
        stdin.write(linePoints({ a: 80, b: -3, from: 200, count: 200, seed: 2 }));
        await waitFor("all 400 points in the input log", async () => (await lineCount(input)) === 401);
        const second = (await lastFit(out))!;
        assert.notDeepEqual(second, first);
        await waitForCells(page, second, "the second fit");
        const after = await drawn(page);
        assert.ok(after.points > 200 && after.line > 100, "points and line still drawn");
        assert.notDeepEqual(after.lineRows, before.lineRows, "the line moved");
        assert.equal(await page.$eval("#stats td[data-stat=points]", (e) => e.textContent), "400");

        // The end of the input ends the run; the page says so and keeps the final fit.
        ending = true;
        stdin.end();
        assert.equal(await run.done, 0, run.stderr());
        await waitFor(
          "the page to say ended",
          () =>
            page.$eval(
              "#status",
              (e) => (e as unknown as { dataset: Record<string, string> }).dataset.status === "ended",
            ),
        );
        assert.deepEqual(await shownCells(page), second);
        assert.deepEqual(errors, [], "no error in the browser");
        const log = await readFile(out, "utf8");
        assert.ok(log.includes(`${second.join(",")},`), "the page's final values are the change log's");
      } finally {
        await browser?.close();
        if (run && run.child.exitCode === null) run.child.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 120_000, leakChecks: false },
  ); // playwright-core keeps its pipes to Chromium in the runtime
}
