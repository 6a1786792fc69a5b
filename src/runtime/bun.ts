/**
 * The Bun {@linkcode Host}: the only module besides `bun_main.ts` that uses `Bun.*`. It overrides, of
 * the `node:` host (`./node_host.ts`), only standard input and output and opening files.
 *
 * @example
 * ```ts
 * import { bunHost } from "./bun.ts";
 * import { main } from "../cli/main.ts";
 * process.exit(await main(bunHost()));
 * ```
 * @module
 */

import { open, stat } from "node:fs/promises";
import process from "node:process";
import { BrokenPipeError, type Host } from "../cli/host.ts";
import { listenError } from "./listen.ts";
import { nodeHost, reason } from "./node_host.ts";
import { startGcPacer } from "./gc_pacer.ts";

/** Bun's incremental file writer (the part used here; see bun-types' `FileSink`). */
interface FileSink {
  write(chunk: Uint8Array): number;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

/** A file of Bun's (the part used here; see bun-types' `BunFile`). */
interface BunFile {
  slice(begin: number): BunFile;
  stream(): ReadableStream<Uint8Array>;
  writer(): FileSink;
}

/**
 * The few `Bun.*` APIs this host uses, declared here (the `bun-types` package declares globals that
 * clash with Deno's, so `deno check` could not check this file with it).
 */
declare const Bun: {
  readonly version: string;
  readonly argv: string[];
  readonly stdin: BunFile;
  readonly stdout: BunFile;
  file(path: string): BunFile;
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch: (request: Request) => Response | Promise<Response>;
  }): { readonly hostname: string; readonly port: number; stop(closeActive: boolean): Promise<void> };
  /** Files embedded in a compiled executable (`bun build --compile`): the core, in the single binary. */
  readonly embeddedFiles: readonly Blob[];
  /** A garbage collection; synchronous and full with `true`. */
  gc(force: boolean): void;
};

/** A Web WritableStream over a Bun FileSink. */
function sinkStream(sink: FileSink): WritableStream<Uint8Array> {
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
 * Builds the Bun host for the given arguments (default `Bun.argv` after the script): the `node:` host of
 * `./node_host.ts` with Bun's own standard streams and files.
 *
 * @example
 * ```ts
 * const host = bunHost(["--help"]);
 * ```
 */
export function bunHost(args: readonly string[] = Bun.argv.slice(2)): Host {
  // In the single binary (`npm run build:binary`), the core is embedded; else it is read from build/.
  const embedded = Bun.embeddedFiles.find((file) => (file as File).name === "streamreg.wasm");
  return nodeHost(args, {
    ...(embedded ? { readWasm: async () => new Uint8Array(await embedded.arrayBuffer()) } : {}),
    runtime: `bun ${Bun.version}`,
    stdin: () => Bun.stdin.stream(),
    stdout: () => sinkStream(Bun.stdout.writer()),
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
    listen({ hostname, port, fetch }) {
      try {
        // idleTimeout 0: the event streams of the live page stay open as long as the run.
        const server = Bun.serve({ hostname, port, idleTimeout: 0, fetch: (request) => fetch(request) });
        return Promise.resolve({
          hostname: server.hostname,
          port: server.port,
          // Gracefully (the last event of each stream goes out), then forcibly after a second.
          close: async () => {
            let timer: ReturnType<typeof setTimeout> | undefined;
            const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
            await Promise.race([server.stop(false), late.then(() => server.stop(true))]);
            clearTimeout(timer);
          },
        });
      } catch (error) {
        return Promise.reject(listenError(hostname, port, error));
      }
    },
  });
}

/**
 * Paces full collections of Bun's heap (`./gc_pacer.ts`): JavaScriptCore lets garbage pile up while
 * the process allocates fast (a Kafka topic read at full speed: 400 MB resident for 50–80 MB live), so a
 * full collection runs whenever the heap and the buffers outside it have grown by 32 MiB or half of what
 * the last one left, at most 15 % of the time (it replaces most of the collections JavaScriptCore would run itself). For the entry point, before `main`.
 *
 * @example
 * ```ts
 * startBunGcPacer();
 * process.exit(await main(bunHost()));
 * ```
 */
export function startBunGcPacer(): void {
  startGcPacer({
    measure: () => {
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.external;
    },
    collect: () => Bun.gc(true),
  });
}
