/**
 * The package as a user gets it: `npm pack` the project, install the tarball into an empty directory and run
 * `streamreg` from there — through the `bin` shim (`npx streamreg`, under Node), with the current runtime
 * chosen by `STREAMREG_RUNTIME`, and (Bun) the entry point and the `exports` directly.
 *
 * The install is offline: `npm ci --offline` with a lockfile made from the project's package-lock.json (the
 * tarball plus the pinned, non-dev packages), so it needs only the npm cache that the project's own `npm ci`
 * filled. (`npm install --offline x.tgz` would need the registry documents of every dependency, which
 * `npm ci` does not cache.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { helpText } from "../src/cli/help.ts";
import { SOURCES } from "../src/cli/source_specs.ts";
import { collect, type Result, withoutTime } from "./cli_helpers.ts";
import { isDeno, runtimeName, test } from "./harness.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// deno-lint-ignore no-explicit-any
const RUNTIME: string = isDeno ? (globalThis as any).Deno.execPath() : process.execPath;
const DEMO = ["--rows", "3", "--rate", "0", "--output", "-", "--no-input-log"];

/** npm's variables that children keep: which cache and config files to use. */
const KEPT_NPM_VARS = ["npm_config_cache", "npm_config_userconfig", "npm_config_globalconfig"];

/**
 * This process's environment without the variables npm sets for a script (`npm test`): with them, a child
 * npm would take the project's npm_config_local_prefix and install into it, or log nothing.
 */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (!k.startsWith("npm_") || KEPT_NPM_VARS.includes(k))) env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return collect(spawn(cmd, args, { cwd, env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] }));
}

function ok(result: Result, what: string): Result {
  assert.equal(result.code, 0, `${what} exited with ${result.code} (${result.signal}):\n${result.stderr}`);
  return result;
}

/** Packs the project into `dir`; returns the tarball's path and the paths of the files in it. */
async function pack(dir: string): Promise<{ tarball: string; files: string[] }> {
  // With the core built (scripts/test_all.sh builds it first), skip `prepare`, which would rebuild
  // build/*.wasm while other tests may read it; without it, `npm pack` runs `prepare` and builds it.
  const built = await stat(join(ROOT, "build/streamreg.wasm")).then(() => true, () => false);
  const args = ["pack", "--json", "--pack-destination", dir, ...(built ? ["--ignore-scripts"] : [])];
  const result = ok(await run("npm", args, ROOT), "npm pack");
  const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf("[")));
  return { tarball: join(dir, info.filename), files: info.files.map((f: { path: string }) => f.path) };
}

/** An empty project in `dir` that depends on the tarball, installed offline with the project's pins. */
async function install(dir: string, tarball: string): Promise<void> {
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8"));
  const own = lock.packages[""];
  const dependencies = { streamreg: `file:${tarball}` };
  const packages: Record<string, unknown> = {
    "": { name: "streamreg-package-test", dependencies },
    "node_modules/streamreg": {
      version: own.version,
      resolved: `file:${tarball}`,
      dependencies: own.dependencies,
      optionalDependencies: own.optionalDependencies,
      bin: own.bin,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== "" && !(entry as { dev?: boolean }).dev) packages[path] = entry;
  }
  await mkdir(dir);
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "streamreg-package-test", private: true, dependencies }),
  );
  await writeFile(
    join(dir, "package-lock.json"),
    JSON.stringify({ name: "streamreg-package-test", lockfileVersion: 3, requires: true, packages }),
  );
  ok(
    await run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], dir),
    "npm ci --offline of the tarball",
  );
}

test(
  `package (${runtimeName}): the packed tarball installs into an empty directory and runs streamreg`,
  async () => {
    const tmp = await mkdtemp(join(tmpdir(), "streamreg-package-"));
    try {
      const { tarball, files } = await pack(tmp);
      for (
        const f of ["build/streamreg.wasm", "bin/streamreg.mjs", "src/runtime/deno_main.ts", "src/cli/mod.ts"]
      ) {
        assert.ok(files.includes(f), `the tarball lacks ${f}; it has ${files.join(", ")}`);
      }
      assert.deepEqual(files.filter((f) => f.endsWith("_test.ts") || f.startsWith("test/")), []);

      const app = join(tmp, "app");
      await install(app, tarball);
      const help = helpText(SOURCES);
      const expected = ok(
        await run(RUNTIME, [
          ...(isDeno ? ["run", "-A"] : []),
          join(ROOT, "src/runtime", `${runtimeName}_main.ts`),
          ...DEMO,
        ], ROOT),
        "the checkout's CLI",
      );

      // npx and the bin shim under Node, with the runtime it picks (the package's own Deno).
      assert.equal(
        ok(await run("npx", ["--offline", "streamreg", "--help"], app), "npx streamreg --help").stdout,
        help,
      );
      const demo = ok(await run("npx", ["--offline", "streamreg", ...DEMO], app), "npx streamreg (demo)");
      assert.equal(withoutTime(demo.stdout), withoutTime(expected.stdout));
      const usage = await run("npx", ["--offline", "streamreg", "--no-such-flag"], app);
      assert.equal(usage.code, 2, usage.stderr);
      assert.match(usage.stderr, /--no-such-flag/);

      // The shim with this runtime.
      const shim = join(app, "node_modules/.bin/streamreg");
      const env = { STREAMREG_RUNTIME: RUNTIME };
      assert.equal(
        ok(await run("node", [shim, "--help"], app, env), `the shim with ${RUNTIME}`).stdout,
        help,
      );
      const mine = ok(await run("node", [shim, ...DEMO], app, env), `the shim with ${RUNTIME} (demo)`);
      assert.equal(withoutTime(mine.stdout), withoutTime(expected.stdout));

      if (!isDeno) {
        // Bun runs the entry point from node_modules, and imports the package's exports.
        const entry = "node_modules/streamreg/src/runtime/bun_main.ts";
        assert.equal(ok(await run(RUNTIME, [entry, "--help"], app), `bun ${entry}`).stdout, help);
        await writeFile(
          join(app, "use.ts"),
          'import { helpText, main, SOURCES } from "streamreg/cli";\n' +
            'import { RegressionCore } from "streamreg";\n' +
            'console.log(typeof main, typeof RegressionCore.load, helpText(SOURCES).split("\\n")[0]);\n',
        );
        const use = ok(await run(RUNTIME, ["use.ts"], app), "bun use.ts");
        assert.equal(use.stdout, `function function ${help.split("\n")[0]}\n`);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
  { timeoutMs: 60_000 },
);
