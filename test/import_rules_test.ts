import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "./harness.ts";
import { importViolations, relativeImports } from "./import_rules.ts";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

async function modules(dir: string, into = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await modules(path, into);
    else if (entry.name.endsWith(".ts")) {
      into.set(relative(SRC, path).split("\\").join("/"), await readFile(path, "utf8"));
    }
  }
  return into;
}

test("import rule: every import in src/ points down the layers (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)", async () => {
  const found = await modules(SRC);
  assert.ok(found.size > 40, `expected the modules of src/, found ${found.size}`);
  const problems = importViolations(found);
  assert.deepEqual(problems, [], `imports that break the layer rule:\n${problems.join("\n")}`);
});

test("import rule: the checker names each import that breaks the rule", () => {
  const problems = importViolations(
    new Map([
      ["state/store.ts", 'import type { StateFiles } from "../cli/host.ts";\n'],
      ["sources/kafka/connection.ts", 'import {\n  UsageError,\n} from "../../cli/flags.ts";\n'],
      ["sources/csv/csv.ts", 'import { Line } from "../../sinks/sink.ts";\n'],
      ["model/a.ts", 'export { b } from "../core/b.ts";\n'],
      ["cli/main.ts", 'const m = await import("../runtime/deno.ts");\n'],
      ["pipeline/p.ts", 'import "../runtime/bun.ts";\n'],
      ["misc.ts", ""],
      // Allowed: down a layer, own folder, tests, JSDoc examples, the library entry point.
      ["cli/ok.ts", 'import { x } from "../pipeline/pipeline.ts";\nimport { y } from "./flags.ts";\n'],
      [
        "sources/kafka/ok.ts",
        'import { z } from "../chunk_builder.ts";\nimport { m } from "../../model/source.ts";\n',
      ],
      ["state/x_test.ts", 'import { main } from "../cli/main.ts";\n'],
      [
        "state/doc.ts",
        '/**\n * import { main } from "../cli/main.ts";\n * await import("../runtime/deno.ts");\n */\n',
      ],
      ["mod.ts", 'export { main } from "./cli/main.ts";\nexport { x } from "./runtime/kafkajs_quiet.ts";\n'],
    ]),
  );
  assert.deepEqual(problems, [
    "src/state/store.ts imports src/cli/host.ts: state/ (layer 1) must not import cli/ (layer 2); imports point down only (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)",
    "src/sources/kafka/connection.ts imports src/cli/flags.ts: sources/ (layer 1) must not import cli/ (layer 2); imports point down only (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)",
    "src/sources/csv/csv.ts imports src/sinks/sink.ts: sources/ (layer 1) must not import sinks/ (layer 1); imports point down only (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)",
    "src/model/a.ts imports src/core/b.ts: model/ (layer 0) must not import core/ (layer 0); imports point down only (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)",
    "src/cli/main.ts imports src/runtime/deno.ts: nothing imports runtime/ but the entry points and tests",
    "src/pipeline/p.ts imports src/runtime/bun.ts: nothing imports runtime/ but the entry points and tests",
    "src/misc.ts is in no layer: put it in one of runtime, cli, pipeline, sources, sinks, serve, plot, state, core, model/",
  ]);
});

test("import rule: relativeImports reads static, side-effect and dynamic imports, not comments or packages", () => {
  assert.deepEqual(
    relativeImports(
      [
        'import { a } from "./a.ts";',
        "import {",
        "  b,",
        '} from "../b.ts";',
        'export type { C } from "./c.ts";',
        'import "./d.ts";',
        'import process from "node:process";',
        'import { Kafka } from "kafkajs";',
        ' * import { e } from "./e.ts";',
        '// const f = await import("./f.ts");',
        'const g = await import("./g.ts");',
        "export function h(): void {}",
      ].join("\n"),
    ),
    ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./g.ts"],
  );
});
