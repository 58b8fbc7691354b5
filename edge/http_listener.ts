/**
 * The HTTP listener of a node (broker and gateway): Deno's HTTP server, one
 * connection at a time, behind an accept loop of our own. `Deno.serve`
 * accepts in Rust with no connection cap and no idle or header timeout, and
 * an accept that fails (EMFILE) ends its serve loop; here the loop counts
 * connections, closes those over the cap at once, closes a connection that
 * sends no complete request head within `headerTimeoutMs` or stays idle
 * between requests for `idleTimeoutMs`, and rides out accept failures.
 *
 * Deno 2.9 offers HTTP on a single accepted connection only through its
 * internal `serveHttpOnConnection`, the function `Deno.serve` itself is
 * built on; a Deno without it gets plain `Deno.serve` and a warning.
 *
 * @module
 */

import type { Metrics } from "../runtime/server/metrics.ts";

/** Limits of a listener; see the Configuration section of the README. */
export interface ConnectionLimits {
  /** Open connections at most; one more is closed as soon as accepted. */
  maxConnections: number;
  /** Time from accept to a complete first request head. */
  headerTimeoutMs: number;
  /** Time a connection may stay open with no request in flight. */
  idleTimeoutMs: number;
}

/** Options of {@linkcode serveHttp}. */
export interface ServeHttpOptions extends ConnectionLimits {
  hostname: string;
  port: number;
  /** PEM certificate and key: serve HTTPS (HTTP/2 or HTTP/1.1). */
  tls?: { cert: string; key: string };
  /**
   * Reports `maxConnections` and its use, and counts the connections
   * refused over it.
   */
  metrics?: Metrics;
}

/** A listening server. */
export interface HttpListener {
  addr: Deno.NetAddr;
  /**
   * Stops accepting, lets requests in flight finish and closes every
   * connection.
   */
  shutdown(): Promise<void>;
}

/** Pause after a failed accept, so a full fd table is not a busy loop. */
const ACCEPT_BACKOFF_MS = 50;
/** Least time between two log lines about failed accepts. */
const ACCEPT_ERROR_LOG_MS = 60_000;

/** One accepted connection's state. */
interface Connection {
  closer: AbortController;
  inFlight: number;
  /** When (performance.now) it closes unless a request arrives first. */
  deadline: number;
}

/** Often enough that a timeout is late by at most a quarter of itself. */
function sweepInterval(limits: ConnectionLimits): number {
  const shortest = Math.min(limits.headerTimeoutMs, limits.idleTimeoutMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}

interface ConnectionServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  onError: (err: unknown) => Response,
  onListen: () => void,
) => ConnectionServer;

function internalServeOnConnection(): ServeOnConnection | undefined {
  const deno = Deno as unknown as Record<symbol, unknown> & {
    internal?: symbol;
  };
  const internal = deno.internal === undefined
    ? undefined
    : deno[deno.internal] as { serveHttpOnConnection?: ServeOnConnection };
  return internal?.serveHttpOnConnection;
}

function internalError(err: unknown): Response {
  console.error("edgelog: unexpected error while serving a request", err);
  return Response.json(
    { error: { code: "INTERNAL", message: "Internal error" } },
    { status: 500 },
  );
}

/**
 * Serves `handler` on `hostname`:`port` with the connection limits of
 * `options`.
 */
export function serveHttp(
  handler: Deno.ServeHandler<Deno.NetAddr>,
  options: ServeHttpOptions,
): HttpListener {
  const serveOn = internalServeOnConnection();
  if (serveOn === undefined) {
    console.error(
      "edgelog: this Deno has no serveHttpOnConnection; serving without " +
        "the connection cap and timeouts",
    );
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      onListen: () => {},
      ...(options.tls ?? {}),
    }, handler);
    return { addr: server.addr, shutdown: () => server.shutdown() };
  }
  const listener: Deno.Listener<Deno.Conn, Deno.NetAddr> = options.tls
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      ...options.tls,
      alpnProtocols: ["h2", "http/1.1"],
    })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  const open = new Map<ConnectionServer, Connection>();
  let stopped = false;
  let acceptErrorLoggedAt = -Infinity;
  options.metrics?.trackLimit(
    "maxConnections",
    options.maxConnections,
    () => open.size,
  );
  // One sweep closes expired connections: a timer per request would cost
  // more than the request's own bookkeeping.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const connection of open.values()) {
      if (now > connection.deadline) connection.closer.abort();
    }
  }, sweepInterval(options));

  const accept = (conn: Deno.Conn) => {
    const connection: Connection = {
      closer: new AbortController(),
      inFlight: 0,
      deadline: performance.now() + options.headerTimeoutMs,
    };
    const done = () => {
      if (--connection.inFlight === 0) {
        connection.deadline = performance.now() + options.idleTimeoutMs;
      }
    };
    const server = serveOn(
      conn,
      connection.closer.signal,
      (request, info) => {
        connection.inFlight++;
        connection.deadline = Infinity;
        info.completed.then(done, done);
        return handler(request, info);
      },
      internalError,
      () => {},
    );
    open.set(server, connection);
    server.finished.catch(() => {}).finally(() => open.delete(server));
  };

  const loop = (async () => {
    while (!stopped) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (stopped) return;
        if (performance.now() - acceptErrorLoggedAt >= ACCEPT_ERROR_LOG_MS) {
          acceptErrorLoggedAt = performance.now();
          console.error(
            `edgelog: cannot accept connections (${
              (err as Error).message
            }); retrying`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        continue;
      }
      if (open.size >= options.maxConnections) {
        options.metrics?.limitRefused("maxConnections");
        conn.close();
        continue;
      }
      try {
        accept(conn);
      } catch (err) {
        console.error("edgelog: cannot serve a connection", err);
        conn.close();
      }
    }
  })();

  return {
    addr: listener.addr,
    async shutdown() {
      if (stopped) return;
      stopped = true;
      listener.close();
      await loop;
      clearInterval(sweep);
      await Promise.all([...open.keys()].map((server) => server.shutdown()));
    },
  };
}
