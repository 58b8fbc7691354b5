/**
 * The broker's /v1/sync/* routes over a {@linkcode StreamRegistry}, mounted
 * into the server's app through its `extraRoutes` option. A token bound to a
 * nodeId may register and push only that node's streams.
 *
 * @module
 */

import type { Context, Env, Hono } from "hono";
import { z } from "zod";
import { EdgelogError } from "../errors.ts";
import { authorize, type Principal } from "../server/auth.ts";
import { errorResponse } from "../server/errors.ts";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MetricsSink, StreamRegistry } from "./stream_registry.ts";
import { registerSyncDocs } from "./sync_openapi.ts";

/** Options of {@linkcode syncRoutes}. */
export interface SyncRoutesOptions {
  /** Largest push body; default 16 MiB. */
  maxBodyBytes?: number;
}

const RegisterBody = z.object({
  nodeId: z.string().min(1).max(256),
  topic: z.string().min(1).max(249),
  sourcePartition: z.number().int().min(0),
});

/** The request header by which a device declares a dropped gap. */
export const DROPPED_HEADER = "Edgelog-Dropped";
/**
 * The optional request header by which a device says its local high
 * watermark, so the upstream can tell how far behind the stream is.
 */
export const SOURCE_HW_HEADER = "Edgelog-Source-High-Watermark";

/** Streams in one answer of GET /v1/sync/streams by default, and at most. */
export const DEFAULT_STREAMS_LIMIT = 1000;
export const MAX_STREAMS_LIMIT = 10_000;

function principalOf(c: Context): Principal {
  return (c.get("principal") as Principal | undefined) ?? "open";
}

/** A header or query value that must be a non-negative safe integer. */
function parseCount(
  name: string,
  value: string | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `${name} must be a non-negative integer below 2^53, got '${value}'`,
    );
  }
  return n;
}

function parseProducerId(value: string): number {
  const id = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(id)) {
    throw new EdgelogError("BAD_REQUEST", `Bad producerId '${value}'`);
  }
  return id;
}

async function readBody(c: Context, max: number): Promise<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) {
    throw new EdgelogError(
      "PAYLOAD_TOO_LARGE",
      `Body of ${declared} bytes exceeds ${max}`,
    );
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.length > max) {
    throw new EdgelogError(
      "PAYLOAD_TOO_LARGE",
      `Body of ${body.length} bytes exceeds ${max}`,
    );
  }
  return body;
}

/**
 * Returns the function that mounts POST /v1/sync/streams, POST
 * /v1/sync/streams/{producerId}/batches, POST /v1/sync/batches (several
 * streams in one body) and GET /v1/sync/streams (paged) on an app, and
 * their OpenAPI entries when the app keeps a registry.
 * Errors answer in PROTOCOL.md's shape whatever the app's error handler.
 */
export function syncRoutes(
  registry: StreamRegistry,
  options: SyncRoutesOptions = {},
): <E extends Env>(app: Hono<E>, context?: { metrics?: MetricsSink }) => void {
  const maxBodyBytes = options.maxBodyBytes ?? 16 << 20;
  return (app, context) => {
    if (context?.metrics !== undefined) registry.useMetrics(context.metrics);
    const docs = (app as { openAPIRegistry?: OpenAPIHono["openAPIRegistry"] })
      .openAPIRegistry;
    if (docs !== undefined) registerSyncDocs(docs);
    app.post("/v1/sync/streams", async (c) => {
      try {
        let json: unknown;
        try {
          json = await c.req.json();
        } catch {
          throw new EdgelogError("BAD_REQUEST", "Body is not valid JSON");
        }
        const parsed = RegisterBody.safeParse(json);
        if (!parsed.success) {
          throw new EdgelogError(
            "BAD_REQUEST",
            `Invalid request: ${
              parsed.error.issues.map((i) =>
                `${i.path.join(".") || "body"}: ${i.message}`
              ).join("; ")
            }`,
          );
        }
        const { nodeId, topic, sourcePartition } = parsed.data;
        authorize(c, { kind: "sync", nodeId, topic });
        return c.json(
          await registry.register(nodeId, topic, sourcePartition),
        );
      } catch (err) {
        return errorResponse(c, err);
      }
    });

    app.post("/v1/sync/streams/:producerId/batches", async (c) => {
      try {
        const producerId = parseProducerId(c.req.param("producerId"));
        const stream = registry.stream(producerId);
        authorize(c, {
          kind: "sync",
          nodeId: stream.nodeId,
          topic: stream.topic,
        });
        const dropped =
          parseCount(DROPPED_HEADER, c.req.header(DROPPED_HEADER)) ?? 0;
        const sourceHighWatermark = parseCount(
          SOURCE_HW_HEADER,
          c.req.header(SOURCE_HW_HEADER),
        );
        const body = await readBody(c, maxBodyBytes);
        return c.json(
          await registry.push(producerId, body, {
            dropped,
            ...(sourceHighWatermark === undefined
              ? {}
              : { sourceHighWatermark }),
          }),
        );
      } catch (err) {
        return errorResponse(c, err);
      }
    });

    app.post("/v1/sync/batches", async (c) => {
      try {
        // Per-stream declarations would be silently lost here: refuse them.
        for (const header of [DROPPED_HEADER, SOURCE_HW_HEADER]) {
          if (c.req.header(header) !== undefined) {
            throw new EdgelogError(
              "BAD_REQUEST",
              `${header} is per stream: send it with POST /v1/sync/streams/{producerId}/batches`,
            );
          }
        }
        const body = await readBody(c, maxBodyBytes);
        const results = await registry.pushMany(body, (stream) =>
          authorize(c, {
            kind: "sync",
            nodeId: stream.nodeId,
            topic: stream.topic,
          }));
        return c.json({ results });
      } catch (err) {
        return errorResponse(c, err);
      }
    });

    app.get("/v1/sync/streams", (c) => {
      try {
        const principal = principalOf(c);
        const bound = principal !== "open" && !principal.admin
          ? principal.nodeId
          : undefined;
        const asked = c.req.query("nodeId");
        // A token bound to no node sees every device's streams only as admin.
        if (principal !== "open" && bound === undefined) {
          authorize(c, { kind: "admin" });
        }
        if (bound !== undefined && asked !== undefined && asked !== bound) {
          authorize(c, { kind: "sync", nodeId: asked });
        }
        const query = (name: string) => parseCount(name, c.req.query(name));
        const limit = query("limit") ?? DEFAULT_STREAMS_LIMIT;
        if (limit < 1 || limit > MAX_STREAMS_LIMIT) {
          throw new EdgelogError(
            "BAD_REQUEST",
            `limit must be 1 … ${MAX_STREAMS_LIMIT}, got ${limit}`,
          );
        }
        return c.json(registry.page({
          nodeId: bound ?? asked,
          topic: c.req.query("topic"),
          minLag: query("minLag"),
          silentSinceMs: query("silentSinceMs"),
          after: query("after"),
          limit,
        }));
      } catch (err) {
        return errorResponse(c, err);
      }
    });
  };
}
