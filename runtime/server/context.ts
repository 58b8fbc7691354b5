/**
 * What every route module gets: the node's parts and limits, and the hono
 * app type they register on.
 *
 * @module
 */

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Clock } from "../clock.ts";
import type { GroupCoordinator } from "../groups/mod.ts";
import type { Log } from "../log/mod.ts";
import type { AuthConfig, AuthVariables } from "./auth.ts";
import type { Slots } from "./limits.ts";
import type { Metrics } from "./metrics.ts";
import { ErrorSchema } from "./schemas.ts";

/** The hono environment of the server: the caller set by the auth middleware. */
export interface ServerEnv {
  Variables: AuthVariables;
}

/** The app the routes register on. */
export type ServerApp = OpenAPIHono<ServerEnv>;

/** A partition's Kafka mirror, as `GET /v1/topics/{topic}` shows it. */
export interface MirrorInfo {
  state: "starting" | "mirroring" | "retrying" | "stopped";
  /** The next edgelog offset to mirror: everything below is in Kafka. */
  mirroredOffset: number;
  /** Records appended and not yet acknowledged by Kafka. */
  lag: number;
  /** The last fault; why, when stopped. */
  error: string | null;
}

/** What the server reads of a Kafka mirror (edge/kafka), when one runs. */
export interface MirrorView {
  /** undefined when the partition is not mirrored. */
  partitionStatus(topic: string, partition: number): MirrorInfo | undefined;
}

/** The node's parts, shared by the route modules and `extraRoutes`. */
export interface ServerContext {
  log: Log;
  groups: GroupCoordinator;
  metrics: Metrics;
  clock: Clock;
  auth: AuthConfig | undefined;
  /** Aborted at shutdown: long polls answer and SSE streams end. */
  signal: AbortSignal;
  maxBodyBytes: number;
  /** Upper bound of a long poll's `maxWaitMs`. */
  maxWaitMs: number;
  /** Long polls waiting now, capped in all and per client. */
  longPolls: Slots;
  /** SSE streams open now, capped in all and per client. */
  streams: Slots;
  /** The node's Kafka mirror, whose state topic descriptions show. */
  mirror?: MirrorView;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request (validation, corrupt batch, unsupported compression)",
  401: "Missing or unknown token",
  403: "Token lacks the right",
  404: "Topic, partition, group or member not found",
  409: "Conflict",
  413: "Body too large",
  415: "Unsupported content type",
  416: "Offset out of range",
  429: "This client is over its share of a limit",
  503: "The node is at a limit",
  507: "Storage full",
};

/** OpenAPI response entries for the error statuses a route can answer. */
export function errorResponses(
  ...statuses: number[]
): Record<
  number,
  {
    description: string;
    content: { "application/json": { schema: typeof ErrorSchema } };
  }
> {
  const out: Record<
    number,
    {
      description: string;
      content: { "application/json": { schema: typeof ErrorSchema } };
    }
  > = {};
  for (const status of [400, 401, 403, ...statuses]) {
    out[status] = {
      description: STATUS_TEXT[status] ?? "Error",
      content: { "application/json": { schema: ErrorSchema } },
    };
  }
  return out;
}
