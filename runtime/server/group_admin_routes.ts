/**
 * Operating on a consumer group from outside it, as Kafka's
 * `kafka-consumer-groups --reset-offsets` and `--delete`: both only while the
 * group has no active members (409 GROUP_NOT_EMPTY), since a member would
 * overwrite a reset with its next commit.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { EdgelogError } from "../errors.ts";
import { authorize } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import { GroupParams, NameSchema } from "./schemas.ts";

const ResetBodySchema = z.strictObject({
  to: z.enum(["earliest", "latest", "timestamp", "offset"]),
  topic: NameSchema.optional().openapi({
    description: "Only this topic; default every topic the group committed",
  }),
  partition: z.number().int().min(0).max(0x7fffffff).optional().openapi({
    description: "Only this partition (needs topic)",
  }),
  timestamp: z.number().int().min(0).optional().openapi({
    description: "With to=timestamp: first offset at or after it",
  }),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional()
    .openapi({
      description:
        "With to=offset: this offset, clamped to [log start, high watermark]",
    }),
}).openapi("ResetOffsetsRequest");

const ResetAnswerSchema = z.object({
  offsets: z.array(z.object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.number().int(),
  })),
}).openapi("ResetOffsetsResult");

const reset = createRoute({
  method: "post",
  path: "/v1/groups/{group}/offsets/reset",
  tags: ["groups"],
  summary:
    "Move a group's committed offsets (earliest, latest, a timestamp or an offset); only without active members",
  request: {
    params: GroupParams,
    body: {
      required: true,
      content: { "application/json": { schema: ResetBodySchema } },
    },
  },
  responses: {
    200: {
      description: "The offsets now committed",
      content: { "application/json": { schema: ResetAnswerSchema } },
    },
    ...errorResponses(404, 409),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/groups/{group}",
  tags: ["groups"],
  summary: "Delete a group with no active members and its offsets",
  request: { params: GroupParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404, 409) },
});

type ResetBody = z.infer<typeof ResetBodySchema>;

function badRequest(message: string): EdgelogError {
  return new EdgelogError("BAD_REQUEST", message);
}

function checkBody(body: ResetBody): void {
  if (body.to === "timestamp" && body.timestamp === undefined) {
    throw badRequest("to=timestamp needs a timestamp");
  }
  if (body.to === "offset" && body.offset === undefined) {
    throw badRequest("to=offset needs an offset");
  }
  if (body.partition !== undefined && body.topic === undefined) {
    throw badRequest("partition needs topic");
  }
}

/** Registers the reset and delete routes of consumer groups. */
export function registerGroupAdminRoutes(
  app: ServerApp,
  ctx: ServerContext,
): void {
  const { log, groups } = ctx;

  /** The partitions a reset moves. */
  function targets(
    group: string,
    body: ResetBody,
  ): { topic: string; partition: number }[] {
    if (body.topic === undefined) {
      const committed = groups.committed(group);
      if (committed.length === 0) {
        throw new EdgelogError(
          "NOT_FOUND",
          `Group '${group}' has no committed offsets: name a topic to reset`,
        );
      }
      return committed.map(({ topic, partition }) => ({ topic, partition }));
    }
    const count = log.topicConfig(body.topic).partitions;
    if (body.partition !== undefined) {
      if (body.partition >= count) {
        throw new EdgelogError(
          "PARTITION_NOT_FOUND",
          `Partition ${body.partition} of '${body.topic}' does not exist: it has ${count}`,
        );
      }
      return [{ topic: body.topic, partition: body.partition }];
    }
    return Array.from({ length: count }, (_, partition) => ({
      topic: body.topic!,
      partition,
    }));
  }

  async function resolve(
    body: ResetBody,
    topic: string,
    partition: number,
  ): Promise<number> {
    const p = log.partition(topic, partition);
    switch (body.to) {
      case "earliest":
        return p.logStartOffset;
      case "latest":
        return p.highWatermark;
      case "timestamp":
        return await p.offsetForTimestamp(body.timestamp!);
      case "offset":
        return Math.min(
          Math.max(body.offset!, p.logStartOffset),
          p.highWatermark,
        );
    }
  }

  app.openapi(reset, async (c) => {
    const { group } = c.req.valid("param");
    const body = c.req.valid("json");
    checkBody(body);
    if (body.topic !== undefined) {
      authorize(c, { kind: "consume", topic: body.topic });
    }
    const moves = targets(group, body);
    for (const topic of new Set(moves.map((m) => m.topic))) {
      authorize(c, { kind: "consume", topic });
    }
    const offsets = [];
    for (const { topic, partition } of moves) {
      offsets.push({
        topic,
        partition,
        offset: await resolve(body, topic, partition),
      });
    }
    await groups.resetOffsets(group, offsets);
    return c.json({ offsets }, 200);
  });

  app.openapi(remove, async (c) => {
    authorize(c, { kind: "admin" });
    await groups.deleteGroup(c.req.valid("param").group);
    return c.body(null, 204);
  });
}
