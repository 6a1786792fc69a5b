/**
 * The Deno {@linkcode Host}: the only module besides `deno_main.ts` that uses `Deno.*`. It overrides, of
 * the `node:` host (`./node_host.ts`), standard input and output, opening files (Deno's sandbox has its
 * own reasons), writing stderr synchronously, signals and exit.
 *
 * @example
 * ```ts
 * import { denoHost } from "./deno.ts";
 * import { main } from "../cli/main.ts";
 * Deno.exit(await main(denoHost()));
 * ```
 * @module
 */

import { resolve } from "node:path";
import { BrokenPipeError, type Host, type StopSignal } from "../cli/host.ts";
import { listenError } from "./listen.ts";
import { nodeHost } from "./node_host.ts";

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

/** Bytes per read of a file (`readAhead`). */
const READ_BYTES = 1 << 20;

/**
 * A file's bytes as a stream of reads of up to 1 MiB (`FsFile.readable` reads 64 KiB at a time), with
 * the next read under way while the reader works on the last: each read's bytes are handed on as they
 * come (a FIFO's too), and the file is closed at its end, on an error or when the stream is cancelled.
 */
function readAhead(file: Deno.FsFile): ReadableStream<Uint8Array> {
  const read = async (): Promise<Uint8Array | null> => {
    const buffer = new Uint8Array(READ_BYTES);
    const n = await file.read(buffer);
    return n === null ? null : buffer.subarray(0, n);
  };
  let ahead: Promise<Uint8Array | null> | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    file.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const bytes = await (ahead ?? read());
        if (bytes === null) {
          ahead = undefined;
          close();
          controller.close();
          return;
        }
        ahead = read();
        ahead.catch(() => {}); // (its error, if any, comes with the next pull)
        controller.enqueue(bytes);
      } catch (error) {
        close();
        controller.error(error);
      }
    },
    async cancel() {
      const pending = ahead;
      ahead = undefined;
      await pending?.catch(() => {}); // (the read under way ends before the file closes)
      close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Builds the Deno host for the given arguments (default `Deno.args`): the `node:` host of
 * `./node_host.ts` with Deno's own standard streams, files, stderr writes and signals.
 *
 * @example
 * ```ts
 * const host = denoHost(["--help"]);
 * ```
 */
export function denoHost(args: readonly string[] = Deno.args): Host {
  return nodeHost(args, {
    runtime: `deno ${Deno.version.deno}`,
    stdin: () => Deno.stdin.readable,
    stdout: () => directStream(Deno.stdout),
    writeStderr(text) {
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length;) off += Deno.stderr.writeSync(bytes.subarray(off));
    },
    async openRead(path, options) {
      try {
        const file = await Deno.open(path, { read: true });
        if ((await file.stat()).isDirectory) {
          file.close();
          throw new Deno.errors.IsADirectory(path);
        }
        if (options?.start) await file.seek(options.start, Deno.SeekMode.Start);
        return readAhead(file);
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
    onSignal(handler) {
      const listeners = (["SIGINT", "SIGTERM"] as StopSignal[]).map((signal) => {
        const listener = () => handler(signal);
        Deno.addSignalListener(signal, listener);
        return () => Deno.removeSignalListener(signal, listener);
      });
      return () => listeners.forEach((remove) => remove());
    },
    exit: (code) => Deno.exit(code),
    listen({ hostname, port, fetch }) {
      try {
        const server = Deno.serve({ hostname, port, onListen: () => {} }, fetch);
        const addr = server.addr as Deno.NetAddr;
        return Promise.resolve({ hostname: addr.hostname, port: addr.port, close: () => server.shutdown() });
      } catch (error) {
        return Promise.reject(listenError(hostname, port, error));
      }
    },
  });
}
