/**
 * The `plot` command: `streamreg plot --input regression_input.csv --result regression_output_stream.csv
 * --output fit.svg` draws a run's points and its final fit as SVG (`src/plot/`), optionally with the
 * coefficients after each batch (`--history`). Either log may be read from stdin (`-`), not both. The same
 * logs give the same bytes.
 *
 * @example
 * ```ts
 * import { plotMain } from "./plot.ts";
 * const code = await plotMain(host, ["--input", "in.csv", "--result", "out.csv", "--output", "fit.svg"]);
 * ```
 * @module
 */

import { type FlagSpec, numberFlag, parseFlags, UsageError } from "./flags.ts";
import { flagLines } from "./help.ts";
import type { Host } from "./host.ts";
import { readInputLog, readResultLog } from "../plot/change_logs.ts";
import { plotSvg } from "../plot/svg_plot.ts";

/**
 * The flags of `plot`.
 *
 * @example
 * ```ts
 * PLOT_FLAGS.map((f) => f.name); // ["input", "result", "output", "history", "max-points", "title", "help"]
 * ```
 */
export const PLOT_FLAGS: readonly FlagSpec[] = [
  {
    name: "input",
    value: "PATH",
    default: "regression_input.csv",
    help: "the input change log (x,y,time,diff or x1,…,y,time,diff); - = stdin",
  },
  {
    name: "result",
    value: "PATH",
    default: "regression_output_stream.csv",
    help: "the result change log (a,b,time,diff or the model's columns); - = stdin",
  },
  { name: "output", value: "PATH", default: "-", help: "the SVG file; - = stdout" },
  { name: "history", help: "add a small chart of each coefficient after each batch" },
  { name: "max-points", value: "N", default: "5000", help: "draw at most N points (every k-th beyond)" },
  { name: "title", value: "TEXT", help: "a title above the chart" },
  { name: "help", short: "h", help: "show this help and exit" },
];

/**
 * The help of `plot`.
 *
 * @example
 * ```ts
 * plotHelp().startsWith("streamreg plot"); // true
 * ```
 */
export function plotHelp(): string {
  return [
    "streamreg plot: draws a run's points and final fit (a line, a polynomial curve, or with several x",
    "y against the fitted value) as SVG, from its two change logs.",
    "",
    "Usage:",
    "  deno task regress plot [flags]",
    "  bun run regress plot [flags]",
    "",
    "Flags:",
    ...flagLines(PLOT_FLAGS),
    "",
    "Example:",
    "  deno task regress --rate 0 && deno task regress plot --history --output fit.svg",
    "",
  ].join("\n");
}

async function readText(host: Host, path: string): Promise<string> {
  const stream = path === "-" ? host.stdin() : await host.openRead(path);
  return await new Response(stream).text();
}

/**
 * Runs `plot` with `args` (after the word `plot`); resolves to the exit code (0, 1 failure, 2 usage).
 *
 * @example
 * ```ts
 * await plotMain(host, ["--help"]); // 0
 * ```
 */
export async function plotMain(host: Host, args: readonly string[]): Promise<number> {
  let values;
  try {
    values = parseFlags(args, new Map(PLOT_FLAGS.map((f) => [f.name, f]))).values;
    if (values.help === true) {
      const out = host.stdout().getWriter();
      await out.write(new TextEncoder().encode(plotHelp()));
      await out.close();
      return 0;
    }
    if (values.input === "-" && values.result === "-") {
      throw new UsageError("plot: --input and --result cannot both be stdin: give one as a file");
    }
    numberFlag("max-points", String(values["max-points"] ?? "5000"), { min: 1, integer: true });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    host.writeStderr(`streamreg plot: ${error.message}\n`);
    return 2;
  }
  const input = String(values.input ?? "regression_input.csv");
  const result = String(values.result ?? "regression_output_stream.csv");
  const output = String(values.output ?? "-");
  try {
    const points = readInputLog(await readText(host, input), input === "-" ? "stdin" : input);
    const fits = readResultLog(await readText(host, result), result === "-" ? "stdin" : result);
    const svg = plotSvg(points, fits, {
      history: values.history === true,
      maxPoints: Number(values["max-points"] ?? "5000"),
      ...(typeof values.title === "string" ? { title: values.title } : {}),
    });
    const out = (output === "-" ? host.stdout() : await host.openWrite(output)).getWriter();
    await out.write(new TextEncoder().encode(svg));
    await out.close();
    return 0;
  } catch (error) {
    host.writeStderr(`streamreg plot: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
