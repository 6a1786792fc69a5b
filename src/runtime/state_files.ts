/**
 * The durable file operations of `--state DIR` ({@linkcode StateFiles}) over `node:fs/promises`, which
 * Deno and Bun both provide: shared by `deno.ts` and `bun.ts`.
 *
 * @example
 * ```ts
 * import { nodeStateFiles } from "./state_files.ts";
 * const files = nodeStateFiles();
 * await files.writeAtomic("state/checkpoint.json", bytes);
 * ```
 * @module
 */

import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { StateFiles } from "../state/files.ts";

function reason(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  if (code === "ENOTDIR") return "not a directory";
  if (code === "ENOSPC") return "no space left on the device";
  return error instanceof Error ? error.message : String(error);
}

const missing = (error: unknown) => (error as { code?: string } | undefined)?.code === "ENOENT";

async function attempt<T>(what: string, path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new Error(`cannot ${what} "${path}": ${reason(error)}`, { cause: error });
  }
}

/** fsyncs a directory, so that a rename in it is durable (ignored where directories cannot be opened). */
async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some platforms refuse fsync on a directory; the rename is then as durable as they make it.
  } finally {
    await handle.close();
  }
}

/**
 * The {@linkcode StateFiles} of a runtime with `node:fs/promises`.
 *
 * @example
 * ```ts
 * const host: Host = { ...otherServices, files: nodeStateFiles() };
 * ```
 */
export function nodeStateFiles(): StateFiles {
  return {
    makeDir: (path) =>
      attempt("create the directory", path, async () => void await mkdir(path, { recursive: true })),
    list: (dir) => attempt("list", dir, () => readdir(dir)),
    read: (path) =>
      attempt("read", path, async () => {
        try {
          return new Uint8Array(await readFile(path));
        } catch (error) {
          if (missing(error)) return undefined;
          throw error;
        }
      }),
    size: (path) =>
      attempt("read the size of", path, async () => {
        try {
          const info = await stat(path);
          if (info.isDirectory()) throw Object.assign(new Error(path), { code: "EISDIR" });
          return info.size;
        } catch (error) {
          if (missing(error)) return undefined;
          throw error;
        }
      }),
    writeAtomic: (path, bytes) =>
      attempt("write", path, async () => {
        const temp = `${path}.tmp`;
        const handle = await open(temp, "w");
        try {
          for (let off = 0; off < bytes.length;) {
            off += (await handle.write(bytes, off, bytes.length - off)).bytesWritten;
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
        await syncDir(dirname(path));
      }),
    append: (path, bytes) =>
      attempt("append to", path, async () => {
        const handle = await open(path, "a");
        try {
          for (let off = 0; off < bytes.length;) {
            off += (await handle.write(bytes, off, bytes.length - off)).bytesWritten;
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    truncate: (path, length) =>
      attempt("cut back", path, async () => {
        const handle = await open(path, "r+");
        try {
          await handle.truncate(length);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    sync: (path) =>
      attempt("sync", path, async () => {
        const handle = await open(path, "r");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    openAppend: (path) =>
      attempt("write", path, async () => {
        const handle = await open(path, "a");
        return new WritableStream<Uint8Array>({
          async write(chunk) {
            for (let off = 0; off < chunk.length;) {
              off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
            }
          },
          close: () => handle.close(),
          abort: () => handle.close(),
        });
      }),
    remove: (path) => attempt("delete", path, () => rm(path, { force: true })),
  };
}
