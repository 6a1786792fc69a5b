/**
 * The HTTP side of `--serve`, on Web standards only (a `fetch(Request) → Response` handler, routed by
 * Hono): the runtime's listener (`Deno.serve`, `Bun.serve`, in `src/runtime/`) only hands it requests.
 *
 * | route            | answer                                                                          |
 * | ---------------- | ------------------------------------------------------------------------------- |
 * | `GET /`          | the live page                                                                   |
 * | `GET /assets/…`  | its script and style, and uPlot                                                 |
 * | `GET /events`    | Server-Sent Events: `event: snapshot` with a {@linkcode LiveSnapshot} as JSON,  |
 * |                  | the current one at once, then each one published (at most a few a second);     |
 * |                  | with keys, `?key=K` chooses the key whose line and points they carry           |
 * | `GET /snapshot`  | the current snapshot as JSON (with keys, `?key=K` as for `/events`)             |
 * | `GET /metrics`   | the Prometheus text format ({@linkcode RunMetrics})                             |
 * | `GET /healthz`   | 200 `ok` while the process runs                                                 |
 * | `GET /readyz`    | 200 when the source is open (Kafka: the group joined) and the run goes on; 503  |
 * |                  | with the reason otherwise                                                       |
 *
 * @example
 * ```ts
 * import { liveApp } from "./live_app.ts";
 * const app = liveApp(live);
 * const response = await app.fetch(new Request("http://localhost/healthz")); // 200 "ok"
 * app.close(); // ends the event streams, so that the listener can shut down
 * ```
 * @module
 */

import { Hono } from "hono";
import type { LiveRun, LiveSnapshot } from "./live_run.ts";
import { PAGE_ASSETS } from "./page_assets.ts";
import { RunMetrics } from "./run_metrics.ts";

/** A comment line on idle event streams this often, so that no proxy or client times them out. */
const KEEP_ALIVE_MS = 5000;

/**
 * The handler of {@linkcode liveApp}.
 *
 * @example
 * ```ts
 * const app: LiveApp = liveApp(live);
 * Deno.serve({ port: 8080 }, app.fetch);
 * ```
 */
export interface LiveApp {
  /** Answers one request. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Ends every open event stream (after sending the last snapshot published). */
  close(): void;
}

/**
 * The routes of `--serve` over one run's {@linkcode LiveRun}.
 *
 * @example
 * ```ts
 * const app = liveApp(live);
 * ```
 */
export function liveApp(live: LiveRun): LiveApp {
  const metrics = new RunMetrics(live);
  const streams = new Set<() => void>();
  const app = new Hono();
  const asset = (name: string) => {
    const file = PAGE_ASSETS[name];
    return new Response(file.body, { headers: { "content-type": file.type, "cache-control": "no-cache" } });
  };
  app.get("/", () => asset("index.html"));
  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    return name in PAGE_ASSETS && name !== "index.html" ? asset(name) : c.text("no such asset\n", 404);
  });
  app.get("/snapshot", (c) => c.json(live.snapshot(c.req.query("key"))));
  app.get("/healthz", (c) => c.text("ok\n"));
  app.get("/readyz", (c) => {
    const { ready, reason } = live.readiness();
    return c.text(`${ready ? "ready" : "not ready"}: ${reason}\n`, ready ? 200 : 503);
  });
  app.get(
    "/metrics",
    async () => new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } }),
  );
  app.get("/events", (c) => {
    const key = c.req.query("key");
    const encoder = new TextEncoder();
    let stop = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (snapshot: LiveSnapshot) =>
          controller.enqueue(encoder.encode(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`));
        send(live.snapshot(key));
        const unsubscribe = live.subscribe(send, { key });
        const keepAlive = setInterval(
          () => controller.enqueue(encoder.encode(": keep-alive\n\n")),
          KEEP_ALIVE_MS,
        );
        stop = () => {
          unsubscribe();
          clearInterval(keepAlive);
          streams.delete(end);
        };
        const end = () => {
          stop();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        };
        streams.add(end);
        if (live.ended) end();
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  });
  app.notFound((c) =>
    c.text("not found: see / (the page), /events, /snapshot, /metrics, /healthz, /readyz\n", 404)
  );
  return {
    fetch: (request) => app.fetch(request),
    close() {
      for (const end of [...streams]) end();
    },
  };
}
