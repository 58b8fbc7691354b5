/**
 * Consumer groups over the GroupCoordinator: heartbeat (join, stay, leave),
 * commit, committed offsets with lag, list and describe.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { GroupCaller, GroupDescription } from "../groups/mod.ts";
import {
  allows,
  authorize,
  isAdmin,
  type Principal,
  principalIdOf,
  principalOf,
} from "./auth.ts";
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
  description:
    "Needs the consume right on every topic. A member is bound to the token " +
    "that joined it: heartbeats, leaves and commits for it from another " +
    "token (not admin) answer 403.",
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
  summary:
    "Committed offsets of a group, with lag, of the topics the token may consume",
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
  summary: "List the consumer groups of topics the token may consume",
  responses: {
    200: {
      description: "Every group with a topic the token may consume",
      content: { "application/json": { schema: GroupListSchema } },
    },
    ...errorResponses(),
  },
});

const GroupDescriptionSchema = z.looseObject({
  group: z.string(),
  state: z.string(),
  members: z.array(z.looseObject({ memberId: z.string().optional() })),
  partitions: z.array(z.looseObject({ topic: z.string() })),
}).openapi("GroupDescription");

/** A description as its schema types it (optional ids meet an index signature). */
function asJson(
  description: GroupDescription,
): z.infer<typeof GroupDescriptionSchema> {
  return description as unknown as z.infer<typeof GroupDescriptionSchema>;
}

const describeGroup = createRoute({
  method: "get",
  path: "/v1/groups/{group}",
  tags: ["groups"],
  summary: "Members, their assignments and per-partition lag",
  description:
    "Only the topics the token may consume; member ids only of the " +
    "token's own members (all for admin).",
  request: { params: GroupParams },
  responses: {
    200: {
      description: "The group",
      content: {
        "application/json": {
          schema: GroupDescriptionSchema,
        },
      },
    },
    ...errorResponses(404),
  },
});

function callerOf(c: Context): GroupCaller {
  return { id: principalIdOf(c), admin: isAdmin(principalOf(c)) };
}

/** `description` cut down to the topics `principal` may consume. */
function visibleDescription(
  description: GroupDescription,
  principal: Principal,
): GroupDescription {
  const may = (topic: string) => allows(principal, { kind: "consume", topic });
  return {
    ...description,
    members: description.members.map((member) => ({
      ...member,
      topics: member.topics.filter(may),
      assignment: member.assignment.filter((a) => may(a.topic)),
    })),
    partitions: description.partitions.filter((p) => may(p.topic)),
  };
}

/** Registers the consumer group routes. */
export function registerGroupRoutes(app: ServerApp, ctx: ServerContext): void {
  const { groups } = ctx;

  app.openapi(heartbeat, async (c) => {
    const { group } = c.req.valid("param");
    const body = c.req.valid("json");
    authorize(c, { kind: "groups" });
    for (const topic of body.topics) authorize(c, { kind: "consume", topic });
    const request: Parameters<typeof groups.heartbeat>[1] = {
      topics: body.topics,
    };
    if (body.memberId !== undefined) request.memberId = body.memberId;
    if (body.memberEpoch !== undefined) request.memberEpoch = body.memberEpoch;
    if (body.sessionTimeoutMs !== undefined) {
      request.sessionTimeoutMs = body.sessionTimeoutMs;
    }
    return c.json(await groups.heartbeat(group, request, callerOf(c)), 200);
  });

  app.openapi(commit, async (c) => {
    const { group } = c.req.valid("param");
    const body = c.req.valid("json");
    authorize(c, { kind: "groups" });
    for (const { topic } of body.offsets) {
      authorize(c, { kind: "consume", topic });
    }
    await groups.commit(group, body, callerOf(c));
    return c.json({}, 200);
  });

  app.openapi(committed, (c) => {
    const { group } = c.req.valid("param");
    const { topic } = c.req.valid("query");
    authorize(c, { kind: "groups" });
    if (topic !== undefined) authorize(c, { kind: "consume", topic });
    const principal = principalOf(c);
    const offsets = groups.committed(group, topic).filter((o) =>
      allows(principal, { kind: "consume", topic: o.topic })
    );
    return c.json({ offsets }, 200);
  });

  app.openapi(listGroups, (c) => {
    authorize(c, { kind: "groups" });
    const principal = principalOf(c);
    const visible = groups.listGroups().filter((g) =>
      isAdmin(principal) ||
      groups.topicsOf(g.group).some((topic) =>
        allows(principal, { kind: "consume", topic })
      )
    );
    return c.json({ groups: visible }, 200);
  });

  app.openapi(describeGroup, (c) => {
    const { group } = c.req.valid("param");
    authorize(c, { kind: "groups" });
    const principal = principalOf(c);
    const description = groups.describeGroup(group, callerOf(c));
    if (isAdmin(principal)) return c.json(asJson(description), 200);
    if (
      !groups.topicsOf(group).some((topic) =>
        allows(principal, { kind: "consume", topic })
      )
    ) {
      authorize(c, { kind: "admin" });
    }
    return c.json(asJson(visibleDescription(description, principal)), 200);
  });
}
