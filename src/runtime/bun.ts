/**
 * The Bun {@linkcode Host}: the only module besides `bun_main.ts` that uses `Bun.*`.
 *
 * @example
 * ```ts
 * import { bunHost } from "./bun.ts";
 * import { main } from "../cli/main.ts";
 * process.exit(await main(bunHost()));
 * ```
 * @module
 */

import { fstatSync, type Stats } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { isatty } from "node:tty";
import { fileURLToPath } from "node:url";
import {
  BrokenPipeError,
  type FileIdentity,
  type FileKind,
  type Host,
  type StopSignal,
} from "../cli/host.ts";
import { nodeStateFiles } from "./state_files.ts";

/**
 * Where the release build of the core is, relative to this file.
 *
 * @example
 * ```ts
 * const bytes = await Bun.file(WASM_PATH).arrayBuffer();
 * ```
 */
export const WASM_PATH: string = fileURLToPath(new URL("../../build/streamreg.wasm", import.meta.url));

function reason(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}

/** A Web WritableStream over a Bun FileSink. */
function sinkStream(sink: ReturnType<ReturnType<typeof Bun.file>["writer"]>): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        sink.write(chunk);
        await sink.flush();
      } catch (error) {
        throw (error as { code?: string }).code === "EPIPE" ? new BrokenPipeError({ cause: error }) : error;
      }
    },
    async close() {
      await sink.end();
    },
    async abort() {
      await sink.end();
    },
  });
}

/**
 * Builds the Bun host for the given arguments (default `Bun.argv` after the script).
 *
 * @example
 * ```ts
 * const host = bunHost(["--help"]);
 * ```
 */
export function bunHost(args: readonly string[] = Bun.argv.slice(2)): Host {
  return {
    runtime: `bun ${Bun.version}`,
    args,
    env: (name) => Bun.env[name],
    stdin: () => Bun.stdin.stream(),
    stdout: () => sinkStream(Bun.stdout.writer()),
    writeStderr(text) {
      process.stderr.write(text);
    },
    stderrIsTerminal: isatty(2),
    async openRead(path, options) {
      try {
        if ((await stat(path)).isDirectory()) throw Object.assign(new Error(path), { code: "EISDIR" });
        return options?.start ? Bun.file(path).slice(options.start).stream() : Bun.file(path).stream();
      } catch (error) {
        throw new Error(`cannot read "${path}": ${reason(error)}`, { cause: error });
      }
    },
    async openWrite(path) {
      try {
        await (await open(path, "w")).close(); // creates or truncates; fails clearly on a bad path
        return sinkStream(Bun.file(path).writer());
      } catch (error) {
        throw new Error(`cannot write "${path}": ${reason(error)}`, { cause: error });
      }
    },
    async readWasm() {
      const file = Bun.file(WASM_PATH);
      if (!(await file.exists())) {
        throw new Error("build/streamreg.wasm not found: run `npm run build:wasm` first");
      }
      return new Uint8Array(await file.arrayBuffer());
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
    files: nodeStateFiles(),
    identifyStdin() {
      try {
        const info = fstatSync(0);
        return Promise.resolve(info.isFile() ? fileId(info) : undefined);
      } catch {
        return Promise.resolve(undefined);
      }
    },
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
