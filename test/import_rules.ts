/**
 * The layer rule of `src/`, as a checker: imports point down only.
 *
 * ```
 * runtime/                         entry points and the hosts (Deno, Bun)
 *   ↓
 * cli/                             flags, help, progress, source specs, main, produce
 *   ↓
 * pipeline/ sources/ sinks/ serve/ plot/ state/   the engine, readers, writers, live page, SVG, crash/restart
 *   ↓
 * core/  model/                    the WASM wrapper; shared types and parsing
 * ```
 *
 * A module may import modules of its own folder (`src/<folder>/…`) and of the layers below its own, never
 * a sibling of its layer (`sources/` does not import `sinks/`) nor a layer above. So nothing outside `cli/`
 * and `runtime/` imports `cli/`, and nothing imports `runtime/` but the entry points (those in `runtime/`
 * itself, and {@linkcode ENTRY_POINTS}) and tests. Test files (`*_test.ts`) are not checked: they may
 * import anything.
 *
 * @example
 * ```ts
 * import { importViolations } from "./import_rules.ts";
 * importViolations(new Map([["state/x.ts", 'import { main } from "../cli/main.ts";\n']]));
 * // ['src/state/x.ts imports src/cli/main.ts: state/ (layer 1) must not import cli/ (layer 2)']
 * ```
 * @module
 */

import { posix } from "node:path";

/** The layer of each top folder of `src/`: a module imports only its own folder and lower layers. */
export const LAYERS: Readonly<Record<string, number>> = {
  runtime: 3,
  cli: 2,
  pipeline: 1,
  sources: 1,
  sinks: 1,
  serve: 1,
  plot: 1,
  state: 1,
  core: 0,
  model: 0,
};

/**
 * Files above the layers, each with why: an entry point may import every layer.
 */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  "mod.ts": "the library entry point: it re-exports from every layer",
};

/**
 * The relative import specifiers of a module's code: static `import`/`export … from`, side-effect
 * `import "…"` and dynamic `import("…")`. Lines of comments (JSDoc examples) are skipped: a static import
 * is only recognised at the start of a line, a dynamic one on a line that is not a comment.
 *
 * @example
 * ```ts
 * relativeImports('import { a } from "./a.ts";\n * import { b } from "./b.ts";\n'); // ["./a.ts"]
 * ```
 */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  const statement = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;
  for (const m of text.matchAll(statement)) found.push(m[1] ?? m[2]);
  for (const line of text.split("\n")) {
    if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue;
    for (const m of line.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]);
  }
  return found.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/**
 * Checks every import of the given modules (paths relative to `src/`, e.g. `cli/main.ts`, mapped to
 * their text) against the layer rule; returns one message per import that breaks it, naming both files.
 *
 * @example
 * ```ts
 * importViolations(new Map([["model/a.ts", 'import { b } from "../sources/b.ts";']])).length; // 1
 * ```
 */
export function importViolations(modules: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [path, text] of modules) {
    if (path.endsWith("_test.ts")) continue;
    const folder = path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
    const entry = ENTRY_POINTS[path] !== undefined;
    if (!entry && LAYERS[folder] === undefined) {
      problems.push(`src/${path} is in no layer: put it in one of ${Object.keys(LAYERS).join(", ")}/`);
      continue;
    }
    for (const specifier of relativeImports(text)) {
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      const where = `src/${path} imports ${
        target.startsWith("../") ? target.replace(/^(\.\.\/)+/, "") : `src/${target}`
      }`;
      if (target.startsWith("../")) {
        problems.push(`${where}: a module of src/ imports from outside src/`);
        continue;
      }
      const to = target.includes("/") ? target.slice(0, target.indexOf("/")) : "";
      if (to === folder) continue;
      if (entry) continue;
      if (to === "runtime") {
        problems.push(`${where}: nothing imports runtime/ but the entry points and tests`);
        continue;
      }
      if (LAYERS[to] === undefined) {
        problems.push(`${where}: ${target} is in no layer`);
      } else if (LAYERS[to] >= LAYERS[folder]) {
        problems.push(
          `${where}: ${folder}/ (layer ${LAYERS[folder]}) must not import ${to}/ (layer ${LAYERS[to]}); ` +
            "imports point down only (runtime → cli → pipeline, sources, sinks, serve, plot, state → core, model)",
        );
      }
    }
  }
  return problems;
}
