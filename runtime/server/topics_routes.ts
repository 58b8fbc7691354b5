/**
 * Topic administration: list, create, describe, delete.
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import { authorize } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import {
  CreateTopicSchema,
  TopicDescriptionSchema,
  TopicInfoSchema,
  TopicListSchema,
  TopicParams,
} from "./schemas.ts";

const listTopics = createRoute({
  method: "get",
  path: "/v1/topics",
  tags: ["topics"],
  summary: "List topics",
  responses: {
    200: {
      description: "Every topic",
      content: { "application/json": { schema: TopicListSchema } },
    },
    ...errorResponses(),
  },
});

const createTopic = createRoute({
  method: "post",
  path: "/v1/topics",
  tags: ["topics"],
  summary: "Create a topic (admin)",
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: CreateTopicSchema } },
    },
  },
  responses: {
    201: {
      description: "Created",
      content: { "application/json": { schema: TopicInfoSchema } },
    },
    ...errorResponses(409, 503, 507),
  },
});

const describeTopic = createRoute({
  method: "get",
  path: "/v1/topics/{topic}",
  tags: ["topics"],
  summary: "Describe a topic with its partitions' offsets",
  request: { params: TopicParams },
  responses: {
    200: {
      description: "The topic",
      content: { "application/json": { schema: TopicDescriptionSchema } },
    },
    ...errorResponses(404),
  },
});

const deleteTopic = createRoute({
  method: "delete",
  path: "/v1/topics/{topic}",
  tags: ["topics"],
  summary: "Delete a topic and its data (admin)",
  request: { params: TopicParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
});

/** Registers the topic routes. */
export function registerTopicRoutes(app: ServerApp, ctx: ServerContext): void {
  const { log } = ctx;

  app.openapi(listTopics, (c) => {
    authorize(c, { kind: "read" });
    return c.json({ topics: log.listTopics() }, 200);
  });

  app.openapi(createTopic, async (c) => {
    authorize(c, { kind: "admin" });
    const { name, ...config } = c.req.valid("json");
    const info = await log.createTopic(name, stripUndefined(config));
    return c.json(info, 201);
  });

  app.openapi(describeTopic, (c) => {
    authorize(c, { kind: "read" });
    const { topic } = c.req.valid("param");
    const config = log.topicConfig(topic);
    return c.json({
      name: topic,
      retentionMs: config.retentionMs,
      retentionBytes: config.retentionBytes,
      cleanupPolicy: config.cleanupPolicy,
      partitions: log.partitions(topic).map((p) => {
        const mirror = ctx.mirror?.partitionStatus(topic, p.partition);
        if (mirror === undefined) return p;
        const { state, mirroredOffset, lag, error } = mirror;
        return { ...p, kafkaMirror: { state, mirroredOffset, lag, error } };
      }),
    }, 200);
  });

  app.openapi(deleteTopic, async (c) => {
    authorize(c, { kind: "admin" });
    await log.deleteTopic(c.req.valid("param").topic);
    return c.body(null, 204);
  });
}

/** Drops absent options, as `exactOptionalPropertyTypes` wants. */
function stripUndefined<T extends object>(
  value: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
