/**
 * The gateway's flags and config file. Flags win over the file. The file
 * (JSON) holds what flags cannot say well: per-topic budgets, the age after
 * which synced data is deleted, and MQTT subscriptions.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import type { TopicConfig } from "../../runtime/log/types.ts";
import { LimitsSchema } from "../config.ts";
import type { NodeLimits } from "../limits.ts";

const TopicSchema = z.strictObject({
  partitions: z.number().int().min(1).optional(),
  retentionMs: z.number().int().min(-1).optional(),
  retentionBytes: z.number().int().min(-1).optional(),
  diskBudgetBytes: z.number().int().min(-1).optional(),
  whenFull: z.enum(["reject", "dropOldest"]).optional(),
});

/** The gateway config file. */
export const GatewayFileSchema = z.strictObject({
  upstream: z.string().url().optional(),
  token: z.string().min(1).optional(),
  nodeId: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  dataDir: z.string().min(1).optional(),
  /** Topics to sync; absent = every local topic. */
  syncTopics: z.array(z.string().min(1)).optional(),
  /** Local topics, created at start, with their budgets. */
  topics: z.record(z.string(), TopicSchema).optional(),
  /** Synced records older than this are deleted (unsynced ones never). */
  syncedRetentionMs: z.number().int().min(-1).optional(),
  /** Local segment size; budgets and retention delete whole segments. */
  segmentBytes: z.number().int().positive().optional(),
  /** Connections, timeouts, topics, partitions, groups, long polls, streams. */
  limits: LimitsSchema.optional(),
  mqtt: z.strictObject({
    url: z.string().min(1),
    subscriptions: z.array(z.strictObject({
      filter: z.string().min(1),
      topic: z.string().min(1),
    })),
  }).optional(),
});

/** An MQTT topic filter and the edgelog topic it feeds. */
export interface MqttSubscription {
  filter: string;
  topic: string;
}

/** The resolved gateway configuration. */
export interface GatewayConfig {
  upstream: string;
  token: string | undefined;
  nodeId: string | undefined;
  host: string;
  port: number;
  dataDir: string;
  syncTopics: string[] | undefined;
  topics: Record<string, Partial<TopicConfig>>;
  syncedRetentionMs: number;
  /** Local segment size in bytes; the storage default when absent. */
  segmentBytes?: number;
  /** Over the defaults of `edge/limits.ts`. */
  limits?: Partial<NodeLimits>;
  mqtt: { url: string; subscriptions: MqttSubscription[] } | undefined;
}

/** The gateway's `--help` text. */
export const GATEWAY_USAGE =
  `Usage: deno task gateway --upstream URL [--token T] [--topics a,b]
       [--node-id ID] [--host H] [--port N] [--data DIR] [--config FILE]

  --upstream URL  broker to sync to (required, here or in the config file)
  --token T       bearer token for the upstream
  --topics a,b    local topics to sync (default: every local topic)
  --node-id ID    this device's id (default: generated once, kept in DIR)
  --host H        address to listen on for local producers (default 127.0.0.1)
  --port N        port, 0 for any free one (default 9093)
  --data DIR      data directory (default ./gateway-data)
  --config FILE   JSON config: the above plus per-topic disk budgets
                  (topics.NAME.diskBudgetBytes, whenFull reject|dropOldest),
                  syncedRetentionMs, segmentBytes, limits and mqtt ingest
  --help          this text`;

function dropUndefined<T extends object>(value: T): Partial<NodeLimits> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  );
}

/** Parses flags (and the file that --config names) into a config; throws Error with a message for the operator. */
export async function loadGatewayConfig(
  args: readonly string[],
): Promise<GatewayConfig> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      upstream: { type: "string" },
      token: { type: "string" },
      topics: { type: "string" },
      "node-id": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      data: { type: "string" },
      config: { type: "string" },
    },
    strict: true,
  });
  let file: z.infer<typeof GatewayFileSchema> = {};
  if (values.config !== undefined) {
    const parsed = GatewayFileSchema.safeParse(
      JSON.parse(await Deno.readTextFile(values.config)),
    );
    if (!parsed.success) {
      throw new Error(
        `Invalid config ${values.config}: ${
          parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)
            .join("; ")
        }`,
      );
    }
    file = parsed.data;
  }
  const upstream = values.upstream ?? file.upstream;
  if (upstream === undefined) throw new Error("--upstream URL is required");
  const port = values.port === undefined
    ? file.port ?? 9093
    : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Bad --port '${values.port}'`);
  }
  const topics: Record<string, Partial<TopicConfig>> = {};
  for (const [name, t] of Object.entries(file.topics ?? {})) {
    const config: Partial<TopicConfig> = {};
    if (t.partitions !== undefined) config.partitions = t.partitions;
    if (t.retentionMs !== undefined) config.retentionMs = t.retentionMs;
    if (t.retentionBytes !== undefined) {
      config.retentionBytes = t.retentionBytes;
    }
    if (t.diskBudgetBytes !== undefined) {
      config.diskBudgetBytes = t.diskBudgetBytes;
    }
    if (t.whenFull !== undefined) config.whenFull = t.whenFull;
    topics[name] = config;
  }
  return {
    upstream,
    token: values.token ?? file.token,
    nodeId: values["node-id"] ?? file.nodeId,
    host: values.host ?? file.host ?? "127.0.0.1",
    port,
    dataDir: values.data ?? file.dataDir ?? "./gateway-data",
    syncTopics: values.topics !== undefined
      ? values.topics.split(",").map((t) => t.trim()).filter((t) => t !== "")
      : file.syncTopics,
    topics,
    syncedRetentionMs: file.syncedRetentionMs ?? -1,
    ...(file.segmentBytes === undefined
      ? {}
      : { segmentBytes: file.segmentBytes }),
    ...(file.limits === undefined
      ? {}
      : { limits: dropUndefined(file.limits) }),
    mqtt: file.mqtt,
  };
}
