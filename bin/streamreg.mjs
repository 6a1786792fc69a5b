#!/usr/bin/env node
// The `streamreg` command of the installed package (`npx streamreg [flags]`, or `streamreg` on PATH after a
// global install). Node cannot run the TypeScript sources, so this shim finds a runtime and runs the
// package's entry point with it, passing the arguments, stdio, signals and the exit code through:
//   1. STREAMREG_RUNTIME=deno|bun, or a path to a deno or bun executable, if set;
//   2. the Deno of the package's own (optional) dependency `deno`;
//   3. `deno`, then `bun`, on PATH.
// Bun runs src/runtime/bun_main.ts as it is. Deno runs src/runtime/deno_main.ts with the permissions and V8
// flags of `deno task regress` (--allow-read, --allow-write, --allow-env, --allow-net, --allow-sys, a young
// generation of at most 2 × 4 MiB: --v8-flags=--max-semi-space-size=4), but, like Node,
// Deno does not strip types from files under node_modules when it resolves packages from node_modules. So
// the shim runs Deno without a config (the sources count as local files) and with an import map that sends
// each bare import of the sources ("kafkajs", "csv-parse/sync", …) to the file Node resolves for it in the
// installed node_modules (--unstable-detect-cjs lets Deno load the CommonJS ones, such as kafkajs).
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, delimiter, dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const exe = process.platform === "win32" ? ".exe" : "";
// The V8 flags are those of `deno task regress` (deno.json; see docs/benchmarks.md, "Memory").
const DENO_FLAGS = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
  "--v8-flags=--max-semi-space-size=4",
];

/** Every bare specifier (not `node:`, `bun:` or relative) that the package's sources import. */
function bareImports(dir, found = new Set()) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bareImports(path, found);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      const text = readFileSync(path, "utf8");
      const statements = text.matchAll(/^\s*(?:import|export)\b[^"']*?\bfrom\s*["']([^"']+)["']/gm);
      const dynamic = text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g); // e.g. import("snappyjs")
      for (const m of [...statements, ...dynamic]) {
        if (!/^(\.|\/|node:|bun:|npm:|jsr:|https?:)/.test(m[1])) found.add(m[1]);
      }
    }
  }
  return found;
}

/** A `data:` import map from each bare import of the sources to its file in node_modules (see above). */
function denoImportMap() {
  const imports = {};
  for (const specifier of bareImports(join(root, "src"))) {
    try {
      imports[specifier] = import.meta.resolve(specifier);
    } catch (error) {
      throw new Error(`cannot find the dependency "${specifier}" (${error.message}): reinstall the package`);
    }
  }
  return `data:application/json,${encodeURIComponent(JSON.stringify({ imports }))}`;
}

/** An executable file, or undefined. */
function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/** The first `name` on PATH, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const found = dir && executable(join(dir, name + exe));
    if (found) return found;
  }
  return undefined;
}

/** The Deno of the package's own `deno` dependency (its postinstall copies the binary in; run it if not). */
function ownDeno() {
  const require = createRequire(join(root, "package.json"));
  let dir;
  try {
    dir = dirname(require.resolve("deno/package.json"));
  } catch {
    return undefined; // not installed (`--omit=optional`, or an unsupported platform)
  }
  const path = join(dir, "deno" + exe);
  if (existsSync(path)) return path;
  try {
    return require("deno/install_api.cjs").runInstall(); // postinstall did not run (--ignore-scripts)
  } catch {
    return undefined;
  }
}

/** `{ kind, path }` of the runtime to use, or an error message. */
function findRuntime() {
  const wanted = process.env.STREAMREG_RUNTIME;
  if (wanted) {
    if (wanted === "deno" || wanted === "bun") {
      const path = (wanted === "deno" ? ownDeno() : undefined) ?? onPath(wanted);
      return path
        ? { kind: wanted, path }
        : `STREAMREG_RUNTIME=${wanted}, but no ${wanted} was found on PATH`;
    }
    const kind = basename(wanted).toLowerCase().replace(/\.exe$/, "");
    if ((kind === "deno" || kind === "bun") && executable(wanted)) return { kind, path: wanted };
    return `STREAMREG_RUNTIME=${wanted}: expected "deno", "bun" or the path of a deno or bun executable`;
  }
  const deno = ownDeno() ?? onPath("deno");
  if (deno) return { kind: "deno", path: deno };
  const bun = onPath("bun");
  if (bun) return { kind: "bun", path: bun };
  return "found neither Deno nor Bun: install the package with its optional dependency `deno` " +
    "(do not pass --omit=optional), or put deno or bun on PATH, or set STREAMREG_RUNTIME to one's path";
}

const runtime = findRuntime();
if (typeof runtime === "string") {
  process.stderr.write(`streamreg: ${runtime}\n`);
  process.exit(1);
}
const args = process.argv.slice(2);
let command;
try {
  command = runtime.kind === "deno"
    ? [
      ...DENO_FLAGS,
      "--no-config",
      "--unstable-detect-cjs",
      "--import-map",
      denoImportMap(),
      join(root, "src", "runtime", "deno_main.ts"),
      ...args,
    ]
    : [join(root, "src", "runtime", "bun_main.ts"), ...args];
} catch (error) {
  process.stderr.write(`streamreg: ${error.message}\n`);
  process.exit(1);
}

const child = spawn(runtime.path, command, { stdio: "inherit" });
// Pass signals on. With Ctrl-C in a terminal the child gets SIGINT from the terminal as well; streamreg
// treats a second SIGINT/SIGTERM within 1 s as the same stop request.
const SIGNALS = process.platform === "win32" ? ["SIGINT", "SIGTERM"] : ["SIGINT", "SIGTERM", "SIGHUP"];
const forward = (signal) => {
  try {
    child.kill(signal);
  } catch {
    // the child is already gone
  }
};
for (const signal of SIGNALS) process.on(signal, forward);
child.on("error", (error) => {
  process.stderr.write(`streamreg: cannot run ${runtime.path}: ${error.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  for (const s of SIGNALS) process.off(s, forward);
  if (signal) {
    process.kill(process.pid, signal); // die of the same signal, as a shell expects
    return;
  }
  process.exit(code ?? 1);
});
