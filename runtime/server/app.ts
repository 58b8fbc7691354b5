/**
 * The broker's HTTP API as a hono app over a Log and a GroupCoordinator.
 * Runtime-agnostic: `edge/` hands `app.fetch` to the Deno server, tests call
 * `app.request`, and anything else that speaks Request/Response can serve it.
 *
 * @module
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import type { Clock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import type { GroupCoordinator } from "../groups/mod.ts";
import type { Log } from "../log/mod.ts";
import {
  type AuthConfig,
  authEnabled,
  authMiddleware,
  authorize,
} from "./auth.ts";
import { bodyLimit } from "./body_limit.ts";
import { DEFAULT_HOLD_LIMITS, type HoldLimits, Slots } from "./limits.ts";
import {
  errorResponses,
  type MirrorView,
  type ServerApp,
  type ServerContext,
  type ServerEnv,
} from "./context.ts";
import {
  onError,
  onNotFound,
  toEdgelogError,
  validationHook,
} from "./errors.ts";
import { type NodeInfo, registerBrokerRoutes } from "./broker_routes.ts";
import { registerFetchRoutes } from "./fetch_routes.ts";
import { registerGroupAdminRoutes } from "./group_admin_routes.ts";
import { registerGroupRoutes } from "./groups_routes.ts";
import { Metrics } from "./metrics.ts";
import { registerProduceRoutes } from "./produce_routes.ts";
import { registerStreamRoutes } from "./stream_routes.ts";
import { registerTopicRoutes } from "./topics_routes.ts";

/** Largest request body by default: 16 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Longest long poll by default: 30 s. */
export const DEFAULT_MAX_WAIT_MS = 30_000;

/** Options of {@linkcode createApp}. */
export interface CreateAppOptions {
  log: Log;
  groups: GroupCoordinator;
  /** Tokens and their rights; absent or empty = open. */
  auth?: AuthConfig;
  /** Share one Metrics with other parts (sync); default a new one. */
  metrics?: Metrics;
  /** Largest request body (413 above it); default 16 MiB. */
  maxBodyBytes?: number;
  /** Cap of a fetch's `maxWaitMs`; default 30 s. */
  maxWaitMs?: number;
  /** Caps on long polls and SSE streams; default {@linkcode DEFAULT_HOLD_LIMITS}. */
  holdLimits?: Partial<HoldLimits>;
  /** Default the log's clock; handed to `extraRoutes`. */
  clock?: Clock;
  /**
   * Aborted at shutdown: long polls answer at once and SSE streams end, so
   * a graceful server shutdown does not wait for them.
   */
  signal?: AbortSignal;
  /**
   * Mounts more routes (the sync routes) after the built-in ones. They sit
   * behind the same auth, body limit, metrics and error handling.
   */
  extraRoutes?: (app: ServerApp, ctx: ServerContext) => void;
  /**
   * HTML pages by path, such as the console at `/` and the docs at `/docs`.
   * The node supplies them (see browser/pages): they are browser code.
   */
  pages?: Readonly<Record<string, string>>;
  /**
   * Files by path, such as the console's bundle and favicon, read when
   * first asked for (see edge/console_files.ts).
   */
  files?: Readonly<Record<string, () => Promise<StaticFile>>>;
  /** What `GET /v1/broker` says about the node; default a bare broker. */
  node?: NodeInfo;
  /**
   * Origins whose pages may call the API (CORS); default every origin, since
   * offline-first apps are served from their own origin and authenticate
   * with bearer tokens, not cookies. An empty list turns CORS off.
   */
  corsOrigins?: readonly string[];
  /** The node's Kafka mirror: topic descriptions show its state. */
  mirror?: MirrorView;
  /**
   * More fields for the /healthz answer (the gateway's MQTT state); its
   * `status` stays "ok": the node is up even when a part of it waits.
   */
  health?: () => Record<string, unknown>;
}

/** A file a node serves outside the API. */
export interface StaticFile {
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Headers a cross-origin page sends and reads. */
const CORS_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Last-Event-ID",
  "Edgelog-Dropped",
  "Edgelog-Source-High-Watermark",
];
const CORS_EXPOSED_HEADERS = [
  "Edgelog-Next-Offset",
  "Edgelog-High-Watermark",
  "Edgelog-Log-Start-Offset",
];

/**
 * CORS for the API, answering preflights before auth asks for a token.
 * Only requests with an Origin get it: browsers send one with every
 * cross-origin request and preflight, and the CLI, gateways and devices
 * send none. Headers set before a response exists send Hono and Deno down
 * a slower response path, so requests without an Origin skip them.
 */
function corsFor(origins: readonly string[]): MiddlewareHandler<ServerEnv> {
  const handler = cors({
    origin: origins.includes("*") ? "*" : [...origins],
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowHeaders: CORS_REQUEST_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
  return (c, next) =>
    c.req.header("origin") === undefined ? next() : handler(c, next);
}

/** Methods counted by name; any other is counted as "OTHER". */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/**
 * Counts requests by the route that served them and times them. Every label
 * comes from a bounded set, so clients cannot grow the sample maps.
 */
function requestMetrics(metrics: Metrics): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.observeRequest({
        route: routeLabel(c),
        method: KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER",
        status: c.res.status,
      }, (performance.now() - started) / 1000);
    }
  };
}

/** The pattern of the handler that answered, or "unmatched". */
function routeLabel(c: Context): string {
  const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
  return handler?.path ?? "unmatched";
}

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["machine"],
  summary: "Liveness (never needs a token)",
  responses: {
    200: {
      description: "The node is up",
      content: {
        "application/json": {
          schema: z.looseObject({ status: z.literal("ok") }),
        },
      },
    },
  },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["machine"],
  summary: "Prometheus metrics",
  description: "With tokens configured, needs a token with the metrics or " +
    "admin right, unless the config sets metricsOpen.",
  responses: {
    200: {
      description: "Prometheus text format 0.0.4",
      content: { "text/plain": { schema: z.string() } },
    },
    ...errorResponses(),
  },
});

/**
 * Builds the API app. Every error answers `{"error":{"code","message",…}}`
 * with the code's status; unknown routes are 404 NOT_FOUND.
 *
 * @example Usage
 * ```ts ignore
 * const app = createApp({ log, groups });
 * const res = await app.request("/v1/topics");
 * ```
 */
export function createApp(options: CreateAppOptions): ServerApp {
  const metrics = options.metrics ?? new Metrics();
  const hold = { ...DEFAULT_HOLD_LIMITS, ...options.holdLimits };
  const ctx: ServerContext = {
    log: options.log,
    groups: options.groups,
    metrics,
    clock: options.clock ?? options.log.clock,
    auth: options.auth,
    signal: options.signal ?? new AbortController().signal,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    longPolls: new Slots(
      { name: "maxLongPolls", max: hold.maxLongPolls },
      { name: "maxLongPollsPerClient", max: hold.maxLongPollsPerClient },
      metrics,
    ),
    streams: new Slots(
      { name: "maxStreams", max: hold.maxStreams },
      { name: "maxStreamsPerClient", max: hold.maxStreamsPerClient },
      metrics,
    ),
    ...(options.mirror ? { mirror: options.mirror } : {}),
  };
  metrics.attach(options.log);
  metrics.trackGroups(options.groups);

  const app: ServerApp = new OpenAPIHono<ServerEnv>({
    defaultHook: validationHook,
  });
  app.onError((err, c) => {
    // Hono's own exceptions keep their path: a 415 names the content type.
    const error = err instanceof HTTPException ? err : toEdgelogError(err);
    const limit = error instanceof EdgelogError ? error.extra.limit : undefined;
    if (typeof limit === "string") metrics.limitRefused(limit);
    return onError(error, c);
  });
  app.notFound(onNotFound);
  app.use("*", requestMetrics(metrics));
  const corsOrigins = options.corsOrigins ?? ["*"];
  if (corsOrigins.length > 0) app.use("/v1/*", corsFor(corsOrigins));
  app.use("/v1/*", authMiddleware(options.auth));
  app.use("/v1/*", bodyLimit(ctx.maxBodyBytes));
  if (authEnabled(options.auth) && options.auth?.metricsOpen !== true) {
    app.use("/metrics", authMiddleware(options.auth));
    app.use("/metrics", async (c, next) => {
      authorize(c, { kind: "metrics" });
      await next();
    });
  }

  app.openapi(
    healthz,
    (c) => c.json({ ...options.health?.(), status: "ok" as const }, 200),
  );
  app.openapi(metricsRoute, (c) =>
    c.text(
      metrics.render({ log: ctx.log, groups: ctx.groups }),
      200,
      { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    ));
  registerTopicRoutes(app, ctx);
  registerProduceRoutes(app, ctx);
  registerFetchRoutes(app, ctx);
  registerStreamRoutes(app, ctx);
  registerGroupRoutes(app, ctx);
  registerGroupAdminRoutes(app, ctx);
  registerBrokerRoutes(
    app,
    ctx,
    options.node ?? {
      role: "broker",
      version: "unknown",
      startedMs: ctx.clock.now(),
      fsync: "unknown",
    },
  );
  options.extraRoutes?.(app, ctx);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "edgelog",
      version: "1",
      description: "A Kafka-style partitioned log for the edge. Errors are " +
        '{"error":{"code","message",...}}; see PROTOCOL.md.',
    },
    security: [{ bearer: [] }],
  });
  for (const [path, html] of Object.entries(options.pages ?? {})) {
    app.get(path, (c) => c.html(html));
  }
  for (const [path, read] of Object.entries(options.files ?? {})) {
    app.get(path, async (c) => {
      const file = await read();
      return c.body(file.body, 200, {
        "content-type": file.contentType,
        "cache-control": "no-cache",
      });
    });
  }
  return app;
}
