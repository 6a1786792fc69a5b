/**
 * The {@linkcode Host} services on the `node:` APIs that Deno and Bun both provide: the environment,
 * whether stderr is a terminal, messages on stderr, signals, exit, the WASM core's bytes, file identity
 * (to refuse writing an output over an input), the `--state` file operations and SQLite (`node:sqlite`,
 * for keyed state). `deno.ts` and `bun.ts` build their hosts from {@linkcode nodeHost}, overriding only
 * what differs: standard input and output, opening files, and under Deno stderr writes and signals.
 *
 * @example
 * ```ts
 * import { nodeHost } from "./node_host.ts";
 * const host = nodeHost(process.argv.slice(2), { runtime: "node", stdin, stdout, openRead, openWrite });
 * ```
 * @module
 */

import { fstatSync, type Stats } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { isatty } from "node:tty";
import { fileURLToPath } from "node:url";
import type { FileIdentity, FileKind, Host, StopSignal } from "../cli/host.ts";
import { nodeSqlite } from "./sqlite.ts";
import { nodeStateFiles } from "./state_files.ts";

/**
 * Where the release build of the core is, relative to this file.
 *
 * @example
 * ```ts
 * const bytes = await readFile(WASM_PATH);
 * ```
 */
export const WASM_PATH: string = fileURLToPath(new URL("../../build/streamreg.wasm", import.meta.url));

/**
 * Why a file operation failed, from its error code, for a message that names the path.
 *
 * @example
 * ```ts
 * reason(Object.assign(new Error("x"), { code: "ENOENT" })); // "no such file or directory"
 * ```
 */
export function reason(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}

/**
 * What differs between runtimes: each host gives these.
 *
 * @example
 * ```ts
 * const own: RuntimeParts = { runtime: "bun 1.4.5", stdin, stdout, openRead, openWrite };
 * ```
 */
export type RuntimeParts =
  & Pick<Host, "runtime" | "stdin" | "stdout" | "openRead" | "openWrite">
  & Partial<Pick<Host, "writeStderr" | "onSignal" | "exit" | "listen" | "readWasm">>;

/**
 * A host from the `node:` services and a runtime's own parts (which win).
 *
 * @example
 * ```ts
 * const host = nodeHost(["--help"], { runtime: "bun 1.4.5", stdin, stdout, openRead, openWrite });
 * ```
 */
export function nodeHost(args: readonly string[], own: RuntimeParts): Host {
  return {
    args,
    env: (name) => process.env[name],
    writeStderr(text) {
      process.stderr.write(text);
    },
    stderrIsTerminal: isatty(2),
    async readWasm() {
      try {
        const bytes = await readFile(WASM_PATH);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") {
          throw new Error("build/streamreg.wasm not found: run `npm run build:wasm` first", { cause: error });
        }
        throw new Error(`cannot read build/streamreg.wasm: ${reason(error)}`, { cause: error });
      }
    },
    onSignal(handler) {
      const listeners = (["SIGINT", "SIGTERM"] as StopSignal[]).map((signal) => {
        const listener = () => handler(signal);
        process.on(signal, listener);
        return () => process.off(signal, listener);
      });
      return () => listeners.forEach((remove) => remove());
    },
    exit: (code) => process.exit(code),
    async identify(path) {
      try {
        const realPath = await realpath(path);
        return { realPath, ...fileId(await stat(realPath)) };
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") return undefined;
        try {
          return { realPath: join(await realpath(dirname(resolve(path))), basename(path)) };
        } catch {
          return undefined;
        }
      }
    },
    identifyStdin() {
      try {
        const info = fstatSync(0);
        return Promise.resolve(info.isFile() ? fileId(info) : undefined);
      } catch {
        return Promise.resolve(undefined);
      }
    },
    files: nodeStateFiles(),
    sqlite: nodeSqlite(),
    ...own,
  };
}

function fileId(info: Stats): FileIdentity {
  return { kind: fileKind(info), ...(info.ino ? { dev: info.dev, ino: info.ino } : {}) };
}

function fileKind(info: Stats): FileKind {
  if (info.isFile()) return "file";
  if (info.isDirectory()) return "directory";
  if (info.isFIFO()) return "pipe";
  if (info.isSocket()) return "socket";
  if (info.isBlockDevice()) return "block device";
  return "character device";
}
