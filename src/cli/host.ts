/**
 * What the CLI needs from its runtime. `src/runtime/deno.ts` and `src/runtime/bun.ts` implement it —
 * the only places that touch `Deno.*` or `Bun.*` — so everything under `src/cli/` is runtime-agnostic.
 *
 * @example
 * ```ts
 * import type { Host } from "./host.ts";
 * function hello(host: Host): void {
 *   host.writeStderr(`running under ${host.runtime}\n`);
 * }
 * ```
 * @module
 */

import type { StateFiles } from "../state/files.ts";
import type { SqlDatabase, Sqlite, SqlRow, SqlStatement, SqlValue } from "../state/sqlite.ts";

export type { SqlDatabase, Sqlite, SqlRow, SqlStatement, SqlValue, StateFiles };

/**
 * The termination signals the CLI handles.
 *
 * @example
 * ```ts
 * host.onSignal((signal: StopSignal) => console.error(`got ${signal}`));
 * ```
 */
export type StopSignal = "SIGINT" | "SIGTERM";

/**
 * What an existing path is: a regular file, or something that is not (a directory, a pipe, a socket, a
 * device such as `/dev/null`).
 *
 * @example
 * ```ts
 * const kind: FileKind = "character device"; // /dev/null
 * ```
 */
export type FileKind = "file" | "directory" | "pipe" | "socket" | "character device" | "block device";

/**
 * What tells whether two paths are the same file: the resolved real path (symbolic links followed; for
 * a file that does not exist yet, that of its directory joined with its name) and, for an existing
 * file, its device and inode numbers (which also catch hard links) and its kind.
 *
 * @example
 * ```ts
 * const id: FileIdentity = { realPath: "/data/points.csv", dev: 2049, ino: 1234567, kind: "file" };
 * ```
 */
export interface FileIdentity {
  /** What the existing file is (symbolic links followed); absent when it does not exist yet. */
  readonly kind?: FileKind;
  /** The resolved absolute path, if known. */
  readonly realPath?: string;
  /** Device number of an existing file. */
  readonly dev?: number;
  /** Inode number of an existing file (absent or 0 where the platform has none). */
  readonly ino?: number;
}

/**
 * A runtime's services, as Web-standard types.
 *
 * @example
 * ```ts
 * const out = await host.openWrite("result.csv");
 * ```
 */
export interface Host {
  /** Runtime name and version for messages, e.g. "deno 2.9.6". */
  readonly runtime: string;
  /** Command-line arguments after the script. */
  readonly args: readonly string[];
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
  /** Standard input as bytes. */
  stdin(): ReadableStream<Uint8Array>;
  /** Standard output as bytes; closing it ends the output. */
  stdout(): WritableStream<Uint8Array>;
  /** Writes text to standard error at once (unbuffered; for messages and the status line). */
  writeStderr(text: string): void;
  /** Whether standard error is a terminal. */
  readonly stderrIsTerminal: boolean;
  /**
   * Opens a file for reading, from byte `options.start` (default 0); rejects with a message naming the
   * path if it cannot.
   */
  openRead(path: string, options?: { start?: number }): Promise<ReadableStream<Uint8Array>>;
  /** Creates or truncates a file for writing; rejects with a message naming the path if it cannot. */
  openWrite(path: string): Promise<WritableStream<Uint8Array>>;
  /** The bytes of `build/streamreg.wasm`; rejects with "…not found: run `npm run build:wasm`" if missing. */
  readWasm(): Promise<Uint8Array>;
  /** Calls `handler` on SIGINT and SIGTERM (instead of terminating); returns a function that stops it. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
  /** Ends the process at once. */
  exit(code: number): never;
  /**
   * Identifies the file at `path`, or resolves to undefined when it cannot tell (its directory does
   * not exist). Used to refuse writing an output over an input. Without it, paths are compared as given.
   */
  identify?(path: string): Promise<FileIdentity | undefined>;
  /** Identifies standard input when it is a regular file (`< data.csv`), else undefined. */
  identifyStdin?(): Promise<FileIdentity | undefined>;
  /** Durable file operations for `--state DIR` (crash and restart); without them `--state` is refused. */
  readonly files?: StateFiles;
  /** An embedded SQLite, for the keyed state of `--state DIR` (`node:sqlite` in Deno and Bun). */
  readonly sqlite?: Sqlite;
  /**
   * Starts an HTTP server on `options.hostname` and `options.port` (0: any free port) answering with
   * `options.fetch`; rejects with a message naming the address if it cannot. Without it `--serve` is
   * refused.
   */
  listen?(options: ListenOptions): Promise<Listener>;
}

/**
 * What {@linkcode Host.listen} serves, and where.
 *
 * @example
 * ```ts
 * const options: ListenOptions = { hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") };
 * ```
 */
export interface ListenOptions {
  /** The address to bind: a host name or an IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** The TCP port; 0 lets the system choose a free one. */
  readonly port: number;
  /** The Web-standard handler of every request. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
}

/**
 * A running HTTP server (see {@linkcode Host.listen}).
 *
 * @example
 * ```ts
 * const server = await host.listen!({ hostname: "127.0.0.1", port: 0, fetch });
 * console.error(`listening on port ${server.port}`);
 * await server.close();
 * ```
 */
export interface Listener {
  /** The address bound. */
  readonly hostname: string;
  /** The port bound (the one chosen, when 0 was asked for). */
  readonly port: number;
  /** Stops listening and closes the connections; resolves when they are closed. */
  close(): Promise<void>;
}

/**
 * Thrown by a host's stdout stream when the reader has gone (`regress ... | head`): the CLI then stops
 * quietly with exit code 0, as there is no one left to write for.
 *
 * @example
 * ```ts
 * throw new BrokenPipeError();
 * ```
 */
export class BrokenPipeError extends Error {
  /** The message says that stdout was closed by its reader. */
  constructor(options?: ErrorOptions) {
    super("stdout was closed by its reader (broken pipe)", options);
    this.name = "BrokenPipeError";
  }
}

/**
 * True if `error`, or an error in its `cause` chain, is a {@linkcode BrokenPipeError}.
 *
 * @example
 * ```ts
 * isBrokenPipe(new Error("cannot write stdout", { cause: new BrokenPipeError() })); // true
 * ```
 */
export function isBrokenPipe(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof BrokenPipeError) return true;
  }
  return false;
}
