/**
 * The OpenAPI entries of the /v1/sync/* routes. The routes themselves are
 * plain hono handlers (they read raw bodies and answer per stream), so
 * their documentation is registered beside them on an app that keeps an
 * OpenAPI registry.
 *
 * @module
 */

import { z } from "@hono/zod-openapi";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { errorResponses } from "../server/context.ts";
import { BATCHES_MEDIA_TYPE } from "../server/schemas.ts";

const Registration = z.object({
  producerId: z.number().int(),
  producerEpoch: z.number().int(),
  partition: z.number().int(),
  ackedOffset: z.number().int(),
}).openapi("SyncRegistration");

const PushResult = z.object({
  ackedOffset: z.number().int(),
  partition: z.number().int(),
  lastOffset: z.number().int(),
}).openapi("SyncPushResult");

const StreamPushOutcome = z.union([
  PushResult.extend({ producerId: z.number().int() }),
  z.object({
    producerId: z.number().int(),
    status: z.number().int().openapi({ example: 409 }),
    error: z.looseObject({ code: z.string(), message: z.string() }),
  }),
]).openapi("SyncStreamPushOutcome");

const StreamInfo = z.object({
  nodeId: z.string(),
  topic: z.string(),
  sourcePartition: z.number().int(),
  producerId: z.number().int(),
  producerEpoch: z.number().int(),
  partition: z.number().int(),
  ackedOffset: z.number().int(),
  lastSeenMs: z.number().int(),
  droppedRecords: z.number().int(),
  lagRecords: z.number().int().nullable(),
}).openapi("SyncStream");

const binaryBody = {
  required: true,
  content: {
    [BATCHES_MEDIA_TYPE]: { schema: z.string().openapi({ format: "binary" }) },
  },
};

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const count = (description: string) =>
  z.string().regex(/^\d+$/).optional().openapi({ description });

/** Registers the documentation of every /v1/sync/* route. */
export function registerSyncDocs(
  registry: OpenAPIHono["openAPIRegistry"],
): void {
  registry.registerPath({
    method: "post",
    path: "/v1/sync/streams",
    tags: ["sync"],
    summary: "Register (or re-register, bumping the epoch) a device stream",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              nodeId: z.string().min(1).max(256),
              topic: z.string().min(1).max(249),
              sourcePartition: z.number().int().min(0),
            }),
          },
        },
      },
    },
    responses: {
      200: json(Registration, "The stream's producerId, epoch and ack"),
      ...errorResponses(404),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/v1/sync/streams/{producerId}/batches",
    tags: ["sync"],
    summary: "Push a stream's batches (idempotent producer rule)",
    request: {
      params: z.object({ producerId: z.string().regex(/^\d+$/) }),
      headers: z.object({
        "edgelog-dropped": count("Records dropped before sync: the gap"),
        "edgelog-source-high-watermark": count(
          "The device's local high watermark, for lagRecords",
        ),
      }),
      body: binaryBody,
    },
    responses: {
      200: json(PushResult, "The stream's ack after the push"),
      ...errorResponses(404, 409, 413),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/v1/sync/batches",
    tags: ["sync"],
    summary: "Push batches of several streams in one request",
    description:
      "Concatenated batches of up to 1000 streams, each batch stamped with " +
      "its stream's producerId, epoch and sequence. Each stream is pushed " +
      "as by its own route and answers alone, in order of first " +
      "appearance: a result, or the status and error body its own push " +
      "would have had. A declared gap (Edgelog-Dropped) needs the " +
      "per-stream route.",
    request: { body: binaryBody },
    responses: {
      200: json(
        z.object({ results: z.array(StreamPushOutcome) }),
        "One outcome per stream",
      ),
      ...errorResponses(413),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/sync/streams",
    tags: ["sync"],
    summary: "Device streams, paged and filtered, by producerId",
    request: {
      query: z.object({
        nodeId: z.string().optional(),
        topic: z.string().optional(),
        minLag: count("Only streams at least this many records behind"),
        silentSinceMs: count("Only streams not seen since this time"),
        after: count("The cursor: `next` of the previous page"),
        limit: count("Streams per page, 1 … 10000; default 1000"),
      }),
    },
    responses: {
      200: json(
        z.object({
          streams: z.array(StreamInfo),
          next: z.number().int().optional(),
        }),
        "A page of streams; `next` when more may match",
      ),
    },
  });
}
