/**
 * `GET /v1/broker` and `GET /v1/broker/rates`: what an operator's console
 * shows on its first page — which node this is, how long it has run, its
 * storage and durability settings, what it holds, and records per second.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { allows, authEnabled, authorize, principalOf } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";

/** The sync streams a node holds, as counted for its overview. */
export interface SyncCounts {
  streams: number;
  devices: number;
  /** Devices none of whose streams was seen within `silentAfterMs`. */
  silentDevices: number;
  /** Devices with a stream whose reported lag is above zero. */
  laggingDevices: number;
  silentAfterMs: number;
}

/** What a node says about itself; the node (edge/) supplies it. */
export interface NodeInfo {
  role: "broker" | "gateway";
  version: string;
  /** When the node started, ms since the epoch. */
  startedMs: number;
  /** The fsync policy in words: "always", "never", "every 50 ms". */
  fsync: string;
  /** Free bytes on the data directory's disk; null when unknown. */
  storageFreeBytes?: () => Promise<number | null>;
  /** Counts of sync streams, on a node that serves them. */
  sync?: () => SyncCounts;
}

const SyncCountsSchema = z.object({
  streams: z.number().int(),
  devices: z.number().int(),
  silentDevices: z.number().int(),
  laggingDevices: z.number().int(),
  silentAfterMs: z.number().int(),
});

const BrokerInfoSchema = z.object({
  role: z.enum(["broker", "gateway"]),
  version: z.string(),
  startedMs: z.number().int(),
  uptimeMs: z.number().int(),
  fsync: z.string(),
  auth: z.boolean().openapi({ description: "Whether tokens are required" }),
  storage: z.object({
    usedBytes: z.number().int(),
    freeBytes: z.number().int().nullable(),
  }),
  counts: z.object({
    topics: z.number().int(),
    partitions: z.number().int(),
    records: z.number().int().openapi({
      description: "Records held: high watermark minus log start, summed",
    }),
    groups: z.number().int(),
  }),
  sync: SyncCountsSchema.nullable(),
}).openapi("BrokerInfo");

const RatesSchema = z.object({
  windowSeconds: z.number().int(),
  averagedSeconds: z.number().int(),
  topics: z.array(z.object({
    topic: z.string(),
    inPerSec: z.number(),
    outPerSec: z.number(),
  })),
  series: z.object({
    t: z.array(z.number()),
    in: z.array(z.number()),
    out: z.array(z.number()),
  }).openapi({
    description: "Records per second over every topic, one point per second",
  }),
}).openapi("BrokerRates");

const TopicSummarySchema = z.object({
  name: z.string(),
  partitions: z.number().int(),
  retentionMs: z.number().int(),
  retentionBytes: z.number().int(),
  cleanupPolicy: z.string(),
  records: z.number().int(),
  sizeBytes: z.number().int(),
  inPerSec: z.number(),
  outPerSec: z.number(),
}).openapi("TopicSummary");

const topicSummaries = createRoute({
  method: "get",
  path: "/v1/broker/topics",
  tags: ["broker"],
  summary: "Every topic with its records, size and rates, in one answer",
  responses: {
    200: {
      description: "Topics by name",
      content: {
        "application/json": {
          schema: z.object({ topics: z.array(TopicSummarySchema) }),
        },
      },
    },
    ...errorResponses(),
  },
});

const info = createRoute({
  method: "get",
  path: "/v1/broker",
  tags: ["broker"],
  summary: "The node: role, version, uptime, storage, fsync, auth, counts",
  responses: {
    200: {
      description: "The node",
      content: { "application/json": { schema: BrokerInfoSchema } },
    },
    ...errorResponses(),
  },
});

const rates = createRoute({
  method: "get",
  path: "/v1/broker/rates",
  tags: ["broker"],
  summary: "Records in and out per second, per topic and over time",
  request: {
    query: z.object({
      seconds: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(
        z.number().int().min(1).max(3600),
      ).optional().openapi({
        type: "integer",
        description: "Seconds the per-topic rates average over (default 10)",
      }),
    }),
  },
  responses: {
    200: {
      description: "Rates",
      content: { "application/json": { schema: RatesSchema } },
    },
    ...errorResponses(),
  },
});

/** Records held and bytes used by one topic, over its partitions. */
function topicTotals(
  ctx: ServerContext,
  topic: string,
): { partitions: number; records: number; sizeBytes: number } {
  const totals = { partitions: 0, records: 0, sizeBytes: 0 };
  for (const p of ctx.log.partitions(topic)) {
    totals.partitions++;
    totals.records += p.highWatermark - p.logStartOffset;
    totals.sizeBytes += p.sizeBytes;
  }
  return totals;
}

/** Registers the broker info and rates routes. */
export function registerBrokerRoutes(
  app: ServerApp,
  ctx: ServerContext,
  node: NodeInfo,
): void {
  // The node's totals and rates span every topic: the metrics right.
  app.openapi(info, async (c) => {
    authorize(c, { kind: "metrics" });
    let partitions = 0;
    let records = 0;
    let usedBytes = 0;
    const topics = ctx.log.listTopics();
    for (const topic of topics) {
      const totals = topicTotals(ctx, topic.name);
      partitions += totals.partitions;
      records += totals.records;
      usedBytes += totals.sizeBytes;
    }
    const now = ctx.clock.now();
    return c.json({
      role: node.role,
      version: node.version,
      startedMs: node.startedMs,
      uptimeMs: Math.max(0, now - node.startedMs),
      fsync: node.fsync,
      auth: authEnabled(ctx.auth),
      storage: {
        usedBytes,
        freeBytes: (await node.storageFreeBytes?.()) ?? null,
      },
      counts: {
        topics: topics.length,
        partitions,
        records,
        groups: ctx.groups.listGroups().length,
      },
      sync: node.sync?.() ?? null,
    }, 200);
  });

  app.openapi(topicSummaries, (c) => {
    const principal = principalOf(c);
    const rates = new Map(
      ctx.metrics.rates.topics().map((r) => [r.topic, r]),
    );
    const visible = ctx.log.listTopics().filter((topic) =>
      allows(principal, { kind: "describe", topic: topic.name })
    );
    const topics = visible.map((topic) => {
      const { records, sizeBytes } = topicTotals(ctx, topic.name);
      const rate = rates.get(topic.name);
      return {
        name: topic.name,
        partitions: topic.partitions,
        retentionMs: topic.retentionMs,
        retentionBytes: topic.retentionBytes,
        cleanupPolicy: topic.cleanupPolicy,
        records,
        sizeBytes,
        inPerSec: rate?.inPerSec ?? 0,
        outPerSec: rate?.outPerSec ?? 0,
      };
    });
    return c.json({ topics }, 200);
  });

  app.openapi(rates, (c) => {
    authorize(c, { kind: "metrics" });
    const seconds = c.req.valid("query").seconds ?? 10;
    const held = ctx.metrics.rates.windowSeconds;
    return c.json({
      windowSeconds: held,
      averagedSeconds: Math.min(seconds, held - 1),
      topics: ctx.metrics.rates.topics(seconds).filter((r) =>
        ctx.log.hasTopic(r.topic)
      ),
      series: ctx.metrics.rates.series(),
    }, 200);
  });
}
