/**
 * The live page of `--serve` in a real browser (Debian's Chromium, driven by playwright-core), under
 * both runners: a CSV run reading stdin gets points in two rounds; the page must draw the points and the
 * fitted line, show exactly the result change log's values, follow the second round (the line moves),
 * say when the run has ended, and log no error to the console. A keyed run (`--key`): the table lists the
 * keys, most active first; clicking a key, or typing one, shows its line with exactly the change log's
 * numbers for that key, and its points as they come.
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
  keyedPoints,
  lastFit,
  lineCount,
  linePoints,
  RUNNERS,
  type ServedRun,
  standingLines,
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

/** Collects the page's console errors, failed requests and page errors (but not those after the end). */
function watchErrors(page: Page): { errors: string[]; end(): void } {
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
    // Choosing another key closes the event stream of the key shown before: the browser aborts it.
    const closed = r.url().includes("/events") && r.failure()?.errorText === "net::ERR_ABORTED";
    if (!afterEnd(r.url()) && !closed) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { errors, end: () => (ending = true) };
}

/** The rows of the keys table: each key and its cells as shown. */
function tableRows(page: Page): Promise<{ key: string; cells: string[] }[]> {
  return page.$$eval("#key-table tbody tr", (rows) =>
    rows.map((r) => ({
      key: (r as unknown as { dataset: Record<string, string> }).dataset.key,
      cells: Array.from(r.querySelectorAll("td"), (td) =>
        (td as { textContent: string | null }).textContent ?? ""),
    })));
}

/** The key the fit section shows. */
function shownKey(page: Page): Promise<string | undefined> {
  return page.$eval("#fit-key", (e) => (e as unknown as { dataset: Record<string, string> }).dataset.key);
}

/** Waits until the page shows `key` with the line `expected` (a, b as in the change log). */
async function waitForKey(page: Page, key: string, expected: string[]): Promise<void> {
  await waitFor(`the page to show key ${key} with ${expected.join(",")}`, async () => {
    if ((await shownKey(page)) !== key) return undefined;
    return (await shownCells(page)).join(",") === expected.join(",") || undefined;
  });
}

for (const runner of RUNNERS) {
  test(
    `serve (${runner}): with --key, the table lists the keys by activity; a chosen key shows its line as the change log has it`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "streamreg-serve-keys-"));
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
          "--key",
          "sensor",
          "--output",
          out,
          "--input-log",
          input,
          "--commit-ms",
          "100",
        ], dir);
        const stdin = run.child.stdin!;
        // Twelve keys; key s0 gets the most points, s11 the fewest.
        const counts = Array.from({ length: 12 }, (_, i) => 60 - 4 * i);
        const first = keyedPoints({ counts, seed: 1 });
        stdin.write("sensor,x,y\n" + first.text);
        await waitFor(
          "the first round in the input log",
          async () => (await lineCount(input)) === first.rows + 1,
        );
        let lines = await standingLines(out);
        assert.equal(lines.size, 12);

        browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
        const watch = watchErrors(page);
        await page.goto(run.url);

        // The table: every key, most active first (by points in the last seconds, then points in all).
        const rows = await waitFor("the table of 12 keys", async () => {
          const r = await tableRows(page);
          return r.length === 12 ? r : undefined;
        });
        assert.deepEqual(rows.map((r) => r.key).sort(), [...lines.keys()].sort());
        const activity = rows.map((r) => [Number(r.cells.at(-2)), Number(r.cells.at(-1))]);
        for (let i = 1; i < activity.length; i++) {
          const [recent, points] = activity[i];
          const [recentBefore, pointsBefore] = activity[i - 1];
          assert.ok(
            recent < recentBefore || (recent === recentBefore && points <= pointsBefore),
            `row ${i} is not more active than row ${i - 1}: ${JSON.stringify(activity)}`,
          );
        }
        for (const row of rows) {
          assert.deepEqual(row.cells.slice(1, 3), lines.get(row.key), `key ${row.key}'s line in the table`);
        }
        // No key chosen: the page follows the most active one, the table's first row.
        await waitFor("the page to follow the first row's key", async () => {
          const [top, followed] = await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const document = (globalThis as any).document;
            return [
              document.querySelector("#key-table tbody tr").dataset.key,
              document.querySelector("#fit-key").dataset.key,
            ];
          });
          const cells = await shownCells(page);
          return top === followed && cells.join(",") === lines.get(followed)!.join(",") || undefined;
        });

        // Click a quiet key: its line, exactly the change log's.
        await page.click('#key-table tbody tr[data-key="s9"]');
        await waitForKey(page, "s9", lines.get("s9")!);
        assert.deepEqual(await page.$$eval("#fit th", (t) => t.map((e) => e.textContent)), ["a", "b"]);

        // New points for s9 along another line: the page follows, with its points drawn.
        const second = keyedPoints({ counts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 80], seed: 2, a: 50, b: -3 });
        stdin.write(second.text);
        await waitFor(
          "the second round in the input log",
          async () => (await lineCount(input)) === first.rows + second.rows + 1,
        );
        lines = await standingLines(out);
        await waitForKey(page, "s9", lines.get("s9")!);
        await waitFor(
          "s9's points sampled",
          () =>
            page.$eval(
              "#sample-note",
              (e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.count) >= 80,
            ),
        );
        const drawing = await drawn(page);
        assert.ok(
          drawing.points > 80 && drawing.line > 100,
          `points and line drawn: ${JSON.stringify(drawing)}`,
        );

        // Type a key in the picker.
        await page.fill("#key-input", "s4");
        await page.click('#key-form button[type="submit"]');
        await waitForKey(page, "s4", lines.get("s4")!);
        await waitFor(
          "the chosen row highlighted",
          () =>
            page.$eval(
              "#key-table tr.selected",
              (e) => (e as unknown as { dataset: Record<string, string> }).dataset.key === "s4",
            ).catch(() => false),
        );

        if (process.env.STREAMREG_SCREENSHOT) {
          await page.screenshot({ path: process.env.STREAMREG_SCREENSHOT.replace(/(\.png)?$/, "_keys.png") });
        }

        watch.end();
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
        assert.deepEqual(await shownCells(page), (await standingLines(out)).get("s4"));
        assert.deepEqual(watch.errors, [], "no error in the browser");
      } finally {
        await browser?.close();
        if (run && run.child.exitCode === null) run.child.kill("SIGKILL");
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 120_000, leakChecks: false },
  );
}
