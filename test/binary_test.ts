/**
 * The single binary (`npm run build:binary`: `bun build --compile` with build/streamreg.wasm embedded):
 * built into a temporary directory, copied alone into an empty one, it runs the demo, a CSV file, `--help`,
 * `--serve` (the page's assets and /metrics come from inside it) and `plot` there, with the same results
 * as the sources.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "./harness.ts";
import { ROOT, waitFor } from "./serve_helpers.ts";

const BUN = join(ROOT, "node_modules/.bin/bun");

/** The build command of package.json's build:binary, with another output file. */
function build(outfile: string): void {
  const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))
    .scripts["build:binary"];
  const args = (script as string).split(" ").slice(1).map((a) => (a === "dist/streamreg" ? outfile : a));
  execFileSync(BUN, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
}

function run(
  exe: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // An environment without PATH's node_modules: nothing but the binary itself.
    const child = spawn(exe, args, { cwd, env: { NO_COLOR: "1", PATH: "/usr/bin:/bin" } });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end();
  });
}

test("binary: built with the core embedded, it runs alone from an empty directory", async () => {
  const buildDir = await mkdtemp(join(tmpdir(), "streamreg-bin-build-"));
  const dir = await mkdtemp(join(tmpdir(), "streamreg-bin-run-"));
  try {
    build(join(buildDir, "streamreg"));
    const exe = join(dir, "streamreg");
    await copyFile(join(buildDir, "streamreg"), exe);
    await rm(buildDir, { recursive: true, force: true });
    assert.ok(((await stat(exe)).mode & 0o111) !== 0, "executable");

    const help = await run(exe, ["--help"], dir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^streamreg: streaming linear regression/);

    // The demo, bounded by --rows: the tutorial's ten points and their exact line.
    const demo = await run(exe, ["--rate", "0", "--rows", "10", "--output", "-", "--no-input-log"], dir);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /^a,b,time,diff\n0\.025649728471302445,0\.9958341214647296,\d+,1\n$/);

    await writeFile(join(dir, "points.csv"), "x,y\n1,2\n2,4.5\n3,5.5\n");
    const csv = await run(exe, ["--source", "csv", "--input", "points.csv", "--degree", "2", "--stats"], dir);
    assert.equal(csv.code, 0, csv.stderr);
    const sources = execFileSync(BUN, [
      join(ROOT, "src/runtime/bun_main.ts"),
      "--source",
      "csv",
      "--input",
      join(dir, "points.csv"),
      "--degree",
      "2",
      "--stats",
      "--output",
      "-",
      "--no-input-log",
    ], { encoding: "utf8" });
    const noTime = (s: string) => s.split("\n").map((l) => l.split(",").slice(0, -2).join(",")).join("\n");
    const written = await readFile(join(dir, "regression_output_stream.csv"), "utf8");
    assert.equal(noTime(written), noTime(sources), "the same fit as the sources");

    const plot = await run(exe, ["plot"], dir);
    assert.equal(plot.code, 0, plot.stderr);
    assert.equal(plot.stdout.match(/<circle class="point"/g)!.length, 3);

    // --serve: the page's assets come from inside the binary.
    const served = spawn(exe, [
      "--rows",
      "0",
      "--rate",
      "50",
      "--output",
      "/dev/null",
      "--no-input-log",
      "--serve",
      "0",
    ], {
      cwd: dir,
      env: { NO_COLOR: "1", PATH: "/usr/bin:/bin" },
    });
    let stderr = "";
    served.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const closed = new Promise((resolve) => served.on("close", resolve));
    try {
      const url = await waitFor("the live page's address", () => /live page at (\S+)/.exec(stderr)?.[1]);
      const uplot = await (await fetch(`${url}assets/uplot.js`)).text();
      assert.match(uplot, /uPlot/);
      const metrics = await waitFor("a fit in /metrics", async () => {
        const text = await (await fetch(`${url}metrics`)).text();
        return text.includes('streamreg_model_coefficient{name="b"}') ? text : undefined;
      });
      assert.match(metrics, /streamreg_points_accepted_total \d+/);
    } finally {
      process.kill(served.pid!, "SIGTERM");
      await closed;
    }
  } finally {
    await rm(buildDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 120_000 });
