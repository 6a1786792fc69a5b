/**
 * The Deno {@linkcode Host}: the only module besides `deno_main.ts` that uses `Deno.*`.
 *
 * @example
 * ```ts
 * import { denoHost } from "./deno.ts";
 * import { main } from "../cli/main.ts";
 * Deno.exit(await main(denoHost()));
 * ```
 * @module
 */

import { fstatSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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
 * const bytes = await Deno.readFile(WASM_URL);
 * ```
 */
export const WASM_URL: URL = new URL("../../build/streamreg.wasm", import.meta.url);

/**
 * Why opening `path` failed, for a message that names it. Deno's sandbox refuses device and system files
 * (under /dev, /proc, /sys) but a few such as /dev/null unless the process has every permission, which
 * `deno task regress` does not grant: that is said about the path, not as advice to change the flags.
 */
function reason(error: unknown, path?: string, use?: string): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (
    error instanceof Deno.errors.NotCapable && path !== undefined &&
    /^\/(dev|proc|sys)(\/|$)/.test(resolve(path))
  ) {
    return `it is a device or system file, which streamreg under Deno does not open; ${use ?? "use a file"}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A WritableStream that hands every chunk to the OS before its write resolves. (`FsFile.writable` may
 * hold data until close, which would break "written before committed".)
 */
function directStream(
  target: { write(p: Uint8Array): Promise<number>; close(): void },
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        for (let off = 0; off < chunk.length;) off += await target.write(chunk.subarray(off));
      } catch (error) {
        throw error instanceof Deno.errors.BrokenPipe ? new BrokenPipeError({ cause: error }) : error;
      }
    },
    close: () => target.close(),
    abort: () => target.close(),
  });
}

/**
 * Builds the Deno host for the given arguments (default `Deno.args`).
 *
 * @example
 * ```ts
 * const host = denoHost(["--help"]);
 * ```
 */
export function denoHost(args: readonly string[] = Deno.args): Host {
  return {
    runtime: `deno ${Deno.version.deno}`,
    args,
    env: (name) => Deno.env.get(name),
    stdin: () => Deno.stdin.readable,
    stdout: () => directStream(Deno.stdout),
    writeStderr(text) {
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length;) off += Deno.stderr.writeSync(bytes.subarray(off));
    },
    stderrIsTerminal: Deno.stderr.isTerminal(),
    async openRead(path, options) {
      try {
        const file = await Deno.open(path, { read: true });
        if ((await file.stat()).isDirectory) {
          file.close();
          throw new Deno.errors.IsADirectory(path);
        }
        if (options?.start) await file.seek(options.start, Deno.SeekMode.Start);
        return file.readable;
      } catch (error) {
        const why = reason(error, path, "read a regular file, or - for stdin");
        throw new Error(`cannot read "${path}": ${why}`, { cause: error });
      }
    },
    async openWrite(path) {
      try {
        return directStream(await Deno.open(path, { write: true, create: true, truncate: true }));
      } catch (error) {
        const why = reason(
          error,
          path,
          "write to a regular file or /dev/null, or to - or /dev/stdout for stdout",
        );
        throw new Error(`cannot write "${path}": ${why}`, { cause: error });
      }
    },
    async readWasm() {
      try {
        return await Deno.readFile(WASM_URL);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw new Error("build/streamreg.wasm not found: run `npm run build:wasm` first", { cause: error });
        }
        throw new Error(`cannot read build/streamreg.wasm: ${reason(error)}`, { cause: error });
      }
    },
    onSignal(handler) {
      const listeners = (["SIGINT", "SIGTERM"] as StopSignal[]).map((signal) => {
        const listener = () => handler(signal);
        Deno.addSignalListener(signal, listener);
        return () => Deno.removeSignalListener(signal, listener);
      });
      return () => listeners.forEach((remove) => remove());
    },
    exit: (code) => Deno.exit(code),
    async identify(path) {
      try {
        const realPath = await Deno.realPath(path);
        return { realPath, ...fileId(await Deno.stat(realPath)) };
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) return undefined;
        try {
          return { realPath: join(await Deno.realPath(dirname(resolve(path))), basename(path)) };
        } catch {
          return undefined;
        }
      }
    },
    files: nodeStateFiles(),
    identifyStdin() {
      try {
        const info = fstatSync(0); // (Deno.stdin has no stat)
        return Promise.resolve(info.isFile() && info.ino ? { dev: info.dev, ino: info.ino } : undefined);
      } catch {
        return Promise.resolve(undefined);
      }
    },
  };
}

function fileId(info: Deno.FileInfo): FileIdentity {
  return { kind: fileKind(info), ...(info.ino ? { dev: info.dev, ino: info.ino } : {}) };
}

function fileKind(info: Deno.FileInfo): FileKind {
  if (info.isFile) return "file";
  if (info.isDirectory) return "directory";
  if (info.isFifo) return "pipe";
  if (info.isSocket) return "socket";
  if (info.isBlockDevice) return "block device";
  return "character device";
}
