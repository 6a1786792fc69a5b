/**
 * `--serve [HOST:]PORT` of `regress`: checks the address, and starts the live page, `/metrics` and the
 * health endpoints for a run (`src/serve/`) on the runtime's listener ({@linkcode Host.listen}).
 *
 * @example
 * ```ts
 * import { parseServe, startServe } from "./serve_setup.ts";
 * const address = parseServe("8080"); // { hostname: "127.0.0.1", port: 8080 }
 * const served = await startServe(host, address, { config, message: (line) => console.error(line) });
 * // … run the pipeline with served.live among the sinks …
 * await served.close();
 * ```
 * @module
 */

import { UsageError } from "./flags.ts";
import type { Host } from "./host.ts";
import type { ModelConfig } from "../model/model_config.ts";
import type { LiveKeysOptions, LiveRun } from "../serve/live_run.ts";

/**
 * Where `--serve` listens.
 *
 * @example
 * ```ts
 * const address: ServeAddress = { hostname: "127.0.0.1", port: 8080 };
 * ```
 */
export interface ServeAddress {
  /** Host name or IP address (IPv6 without brackets). Default 127.0.0.1 (loopback only). */
  readonly hostname: string;
  /** TCP port; 0 = any free port (the one chosen is printed). */
  readonly port: number;
}

/**
 * The default address of `--serve PORT`: loopback only, so the page is not reachable from other
 * machines unless a host is given.
 *
 * @example
 * ```ts
 * parseServe("9000").hostname === DEFAULT_SERVE_HOST; // true
 * ```
 */
export const DEFAULT_SERVE_HOST = "127.0.0.1";

/**
 * Parses `[HOST:]PORT`: `8080`, `localhost:8080`, `0.0.0.0:8080`, `[::1]:8080`; throws
 * {@linkcode UsageError} naming the flag otherwise.
 *
 * @example
 * ```ts
 * parseServe("[::1]:0"); // { hostname: "::1", port: 0 }
 * parseServe("http://x"); // throws UsageError
 * ```
 */
export function parseServe(text: string): ServeAddress {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `--serve: expected [HOST:]PORT (8080, 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080; port 0 = any free one), got "${text}"`,
    );
  }
  return { hostname: m[1] ?? m[2] ?? DEFAULT_SERVE_HOST, port };
}

/**
 * A started `--serve`: the run's live state (a sink and a reject sink for the pipeline) and how to stop.
 *
 * @example
 * ```ts
 * sinks.push(served.live);
 * ```
 */
export interface Served {
  /** What the page and `/metrics` show; hand it the batches, rejections and totals. */
  readonly live: LiveRun;
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Ends the event streams (after the final snapshot) and stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the server for a run of the model `options.config` (with `options.keys`: one line per key or
 * window); says where on `options.message`.
 *
 * @example
 * ```ts
 * const served = await startServe(host, parseServe("0"), { config, message: (l) => host.writeStderr(`${l}\n`) });
 * ```
 */
export async function startServe(
  host: Host,
  address: ServeAddress,
  options: { config: ModelConfig; keys?: LiveKeysOptions; message: (line: string) => void },
): Promise<Served> {
  if (host.listen === undefined) throw new Error(`--serve: the runtime ${host.runtime} cannot listen`);
  // Loaded only with --serve: the web framework, the metrics client and the page's assets stay out of
  // every other run's start.
  const [{ LiveRun }, { liveApp }] = await Promise.all([
    import("../serve/live_run.ts"),
    import("../serve/live_app.ts"),
  ]);
  const live = new LiveRun({
    config: options.config,
    runtime: host.runtime,
    ...(options.keys !== undefined ? { keys: options.keys } : {}),
  });
  const app = liveApp(live);
  const server = await host.listen({ ...address, fetch: app.fetch });
  const name = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
  const url = `http://${name}:${server.port}/`;
  options.message(`streamreg: live page at ${url} (also /metrics, /healthz, /readyz)`);
  return {
    live,
    url,
    async close() {
      await live.close();
      app.close();
      await server.close();
    },
  };
}
