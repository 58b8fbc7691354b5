/**
 * Consumer groups over the GroupCoordinator: heartbeat (join, stay, leave),
 * commit, committed offsets with lag, list and describe.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { authorize } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import {
  CommitBodySchema,
  CommittedQuerySchema,
  CommittedSchema,
  GroupListSchema,
  GroupParams,
  HeartbeatBodySchema,
  HeartbeatResultSchema,
} from "./schemas.ts";

const heartbeat = createRoute({
  method: "post",
  path: "/v1/groups/{group}/heartbeat",
  tags: ["groups"],
  summary: "Join, stay in or leave (memberEpoch -1) a consumer group",
  request: {
    params: GroupParams,
    body: {
      required: true,
      content: { "application/json": { schema: HeartbeatBodySchema } },
    },
  },
  responses: {
    200: {
      description: "The member's epoch and assignment",
      content: { "application/json": { schema: HeartbeatResultSchema } },
    },
    ...errorResponses(404, 409, 503),
  },
});

const commit = createRoute({
  method: "post",
  path: "/v1/groups/{group}/offsets",
  tags: ["groups"],
  summary: "Commit offsets (the next offset to read) for owned partitions",
  request: {
    params: GroupParams,
    body: {
      required: true,
      content: { "application/json": { schema: CommitBodySchema } },
    },
  },
  responses: {
    200: {
      description: "Committed",
      content: { "application/json": { schema: z.object({}) } },
    },
    ...errorResponses(404, 409),
  },
});

const committed = createRoute({
  method: "get",
  path: "/v1/groups/{group}/offsets",
  tags: ["groups"],
  summary: "Committed offsets of a group, with lag",
  request: { params: GroupParams, query: CommittedQuerySchema },
  responses: {
    200: {
      description: "Committed offsets",
      content: { "application/json": { schema: CommittedSchema } },
    },
    ...errorResponses(),
  },
});

const listGroups = createRoute({
  method: "get",
  path: "/v1/groups",
  tags: ["groups"],
  summary: "List consumer groups",
  responses: {
    200: {
      description: "Every group",
      content: { "application/json": { schema: GroupListSchema } },
    },
    ...errorResponses(),
  },
});

const describeGroup = createRoute({
  method: "get",
  path: "/v1/groups/{group}",
  tags: ["groups"],
  summary: "Members, their assignments and per-partition lag",
  request: { params: GroupParams },
  responses: {
    200: {
      description: "The group",
      content: {
        "application/json": {
          schema: z.looseObject({
            group: z.string(),
            state: z.string(),
            members: z.array(z.looseObject({ memberId: z.string() })),
            partitions: z.array(z.looseObject({ topic: z.string() })),
          }).openapi("GroupDescription"),
        },
      },
    },
    ...errorResponses(404),
  },
});

/** Registers the consumer group routes. */
export function registerGroupRoutes(app: ServerApp, ctx: ServerContext): void {
  const { groups } = ctx;

  app.openapi(heartbeat, async (c) => {
    const { group } = c.req.valid("param");
    const body = c.req.valid("json");
    for (const topic of body.topics) authorize(c, { kind: "consume", topic });
    const request: Parameters<typeof groups.heartbeat>[1] = {
      topics: body.topics,
    };
    if (body.memberId !== undefined) request.memberId = body.memberId;
    if (body.memberEpoch !== undefined) request.memberEpoch = body.memberEpoch;
    if (body.sessionTimeoutMs !== undefined) {
      request.sessionTimeoutMs = body.sessionTimeoutMs;
    }
    return c.json(await groups.heartbeat(group, request), 200);
  });

  app.openapi(commit, async (c) => {
    const { group } = c.req.valid("param");
    const body = c.req.valid("json");
    for (const { topic } of body.offsets) {
      authorize(c, { kind: "consume", topic });
    }
    await groups.commit(group, body);
    return c.json({}, 200);
  });

  app.openapi(committed, (c) => {
    const { group } = c.req.valid("param");
    const { topic } = c.req.valid("query");
    authorize(
      c,
      topic === undefined ? { kind: "read" } : {
        kind: "consume",
        topic,
      },
    );
    return c.json({ offsets: groups.committed(group, topic) }, 200);
  });

  app.openapi(listGroups, (c) => {
    authorize(c, { kind: "read" });
    return c.json({ groups: groups.listGroups() }, 200);
  });

  app.openapi(describeGroup, (c) => {
    authorize(c, { kind: "read" });
    return c.json(groups.describeGroup(c.req.valid("param").group), 200);
  });
}
