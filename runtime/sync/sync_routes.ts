/**
 * The broker's /v1/sync/* routes over a {@linkcode StreamRegistry}, mounted
 * into the server's app through its `extraRoutes` option. Only an admin or
 * a token bound to a stream's nodeId may register, push or list it: a token
 * that may only produce could otherwise fence a device and push in its
 * name (see docs/security.md).
 *
 * @module
 */

import type { Context, Env, Hono } from "hono";
import { z } from "zod";
import { EdgelogError } from "../errors.ts";
import { authorize, type Principal } from "../server/auth.ts";
import { errorResponse } from "../server/errors.ts";
import type { MetricsSink, StreamRegistry } from "./stream_registry.ts";

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

function principalOf(c: Context): Principal {
  return (c.get("principal") as Principal | undefined) ?? "open";
}

function parseDropped(value: string | undefined): number {
  if (value === undefined) return 0;
  const dropped = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(dropped)) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `${DROPPED_HEADER} must be a non-negative integer below 2^53, got '${value}'`,
    );
  }
  return dropped;
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
 * /v1/sync/streams/{producerId}/batches and GET /v1/sync/streams on an app.
 * Errors answer in PROTOCOL.md's shape whatever the app's error handler.
 */
export function syncRoutes(
  registry: StreamRegistry,
  options: SyncRoutesOptions = {},
): <E extends Env>(app: Hono<E>, context?: { metrics?: MetricsSink }) => void {
  const maxBodyBytes = options.maxBodyBytes ?? 16 << 20;
  return (app, context) => {
    if (context?.metrics !== undefined) registry.useMetrics(context.metrics);
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
        const dropped = parseDropped(c.req.header(DROPPED_HEADER));
        const body = await readBody(c, maxBodyBytes);
        return c.json(await registry.push(producerId, body, { dropped }));
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
        return c.json({ streams: registry.list(bound ?? asked) });
      } catch (err) {
        return errorResponse(c, err);
      }
    });
  };
}
