/**
 * `streamreg plot` end to end, under both runners: the SVG of a run's change logs has one circle per
 * point and the fit's ends where the final a and b put them (a line, a polynomial, several x), is the
 * same bytes when made twice and by either runtime, reads a log from stdin, and refuses bad input.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "./harness.ts";
import { command, ROOT, type Runner, RUNNERS } from "./serve_helpers.ts";
import { formatNumber } from "../src/model/format_number.ts";

function run(
  runner: Runner,
  args: string[],
  cwd: string,
  stdin = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [exe, pre] = command(runner);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...pre, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end(stdin);
  });
}

/** The last +1 row of a result log, by column name. */
async function finalFit(path: string): Promise<Record<string, string>> {
  const lines = (await readFile(path, "utf8")).trim().split("\n");
  const header = lines[0].split(",");
  const row = lines.at(-1)!.split(",");
  assert.equal(row.at(-1), "1");
  return Object.fromEntries(header.map((h, i) => [h, row[i]]));
}

const attr = (svg: string, name: string) => new RegExp(`class="fit"[^>]* ${name}="([^"]+)"`).exec(svg)![1];

test(
  "plot: a line: one circle per point, the fit's ends from the final a and b, the same bytes twice and in both runtimes",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-plot-"));
    try {
      const made = await run("deno", [
        "--rate",
        "0",
        "--rows",
        "200",
        "--noise",
        "3",
        "--slope",
        "0.5",
        "--commit-rows",
        "40",
        "--output",
        "out.csv",
        "--input-log",
        "in.csv",
      ], dir);
      assert.equal(made.code, 0, made.stderr);
      const svgs: string[] = [];
      for (const runner of RUNNERS) {
        for (let i = 0; i < 2; i++) {
          const r = await run(runner, ["plot", "--input", "in.csv", "--result", "out.csv", "--history"], dir);
          assert.equal(r.code, 0, r.stderr);
          svgs.push(r.stdout);
        }
      }
      assert.ok(svgs.every((s) => s === svgs[0]), "byte-identical");
      const svg = svgs[0];
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal(svg.match(/<circle class="point"/g)!.length, 200);
      const { a, b } = await finalFit(join(dir, "out.csv"));
      // x = 0 … 199 (the demo's x): the line's ends at the smallest and largest x.
      const end = (x: number) => `${x},${formatNumber(Number(a) + Number(b) * x)}`;
      assert.equal(attr(svg, "data-from"), end(0));
      assert.equal(attr(svg, "data-to"), end(199));
      assert.equal(svg.match(/<path class="history"/g)!.length, 2, "a and b over time");
      assert.match(svg, new RegExp(`a = ${a}, b = ${b}`));

      // The input log from stdin, to a file, at most 50 points drawn.
      const r = await run(
        "bun",
        ["plot", "--input", "-", "--result", "out.csv", "--output", "fit.svg", "--max-points", "50"],
        dir,
        await readFile(join(dir, "in.csv"), "utf8"),
      );
      assert.equal(r.code, 0, r.stderr);
      const thin = await readFile(join(dir, "fit.svg"), "utf8");
      assert.equal(thin.match(/<circle class="point"/g)!.length, 50);
      assert.equal(attr(thin, "data-from"), end(0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  { timeoutMs: 60_000 },
);

for (const runner of RUNNERS) {
  test(
    `plot (${runner}): a polynomial's curve and several x's diagonal from the final coefficients`,
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "streamreg-plot-"));
      try {
        const fixture = (name: string) => join(ROOT, "test/fixtures/nist", name);
        let r = await run(runner, [
          "--source",
          "csv",
          "--input",
          fixture("pontius.csv"),
          "--degree",
          "2",
          "--output",
          "p_out.csv",
          "--input-log",
          "p_in.csv",
        ], dir);
        assert.equal(r.code, 0, r.stderr);
        r = await run(runner, ["plot", "--input", "p_in.csv", "--result", "p_out.csv"], dir);
        assert.equal(r.code, 0, r.stderr);
        const fit = await finalFit(join(dir, "p_out.csv"));
        const xs = (await readFile(fixture("pontius.csv"), "utf8")).trim().split("\n").slice(1).map((l) =>
          Number(l.split(",")[0])
        );
        const lo = Math.min(...xs);
        const hi = Math.max(...xs);
        const at = (x: number) =>
          `${x},${formatNumber(Number(fit.a) + Number(fit.b_x) * x + Number(fit["b_x^2"]) * x ** 2)}`;
        assert.equal(attr(r.stdout, "data-from"), at(lo));
        assert.equal(attr(r.stdout, "data-to"), at(hi));
        assert.equal(r.stdout.match(/<circle class="point"/g)!.length, xs.length);
        assert.equal(attr(r.stdout, "d").split(" L").length, 201, "a curve of 200 steps");

        const x6 = "x1,x2,x3,x4,x5,x6";
        r = await run(runner, [
          "--source",
          "csv",
          "--input",
          fixture("longley.csv"),
          "--x",
          x6,
          "--output",
          "l_out.csv",
          "--input-log",
          "l_in.csv",
        ], dir);
        assert.equal(r.code, 0, r.stderr);
        r = await run(runner, ["plot", "--input", "l_in.csv", "--result", "l_out.csv"], dir);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /fitted value/);
        const [from, to] = [attr(r.stdout, "data-from"), attr(r.stdout, "data-to")].map((s) => s.split(","));
        assert.equal(from[0], from[1], "the diagonal y = fitted");
        assert.equal(to[0], to[1]);
        assert.equal(r.stdout.match(/<circle class="point"/g)!.length, 16);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    { timeoutMs: 60_000 },
  );

  test(`plot (${runner}): bad input: usage errors exit 2, a file that is not a change log exits 1 naming it`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "streamreg-plot-"));
    try {
      let r = await run(runner, ["plot", "--input", "-", "--result", "-"], dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot both be stdin/);
      r = await run(runner, ["plot", "--bogus"], dir);
      assert.equal(r.code, 2);
      r = await run(
        runner,
        ["plot", "--input", "-", "--result", join(ROOT, "test/fixtures/nist/pontius.csv")],
        dir,
        "x,y,time,diff\n1,2,3,1\n",
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, /pontius\.csv: the header "x,y" does not end with time,diff/);
      r = await run(runner, ["plot", "--help"], dir);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^streamreg plot:/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
