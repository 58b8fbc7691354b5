/**
 * `deno task gateway`: an IoT gateway. A filesystem-backed node serving the
 * HTTP API locally (sensors produce to it), that replicates its topics to
 * the upstream broker exactly once, optionally ingests MQTT, and deletes
 * only synced data when its per-topic budgets or retention call for it.
 *
 * @module
 */

import { NODE_PAGES } from "../browser/pages/mod.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { GroupCoordinator } from "../runtime/groups/mod.ts";
import { Log } from "../runtime/log/mod.ts";
import { createApp } from "../runtime/server/app.ts";
import { allows, principalOf } from "../runtime/server/auth.ts";
import type { ServerApp } from "../runtime/server/context.ts";
import { Metrics } from "../runtime/server/metrics.ts";
import {
  Replicator,
  syncErrorCode,
  syncRetentionFloor,
} from "../runtime/sync/mod.ts";
import {
  GATEWAY_USAGE,
  type GatewayConfig,
  loadGatewayConfig,
} from "./gateway/config.ts";
import {
  type MqttIngest,
  renderMqttMetrics,
  startMqttIngest,
} from "./gateway/mqtt_ingest.ts";
import { loadNodeId } from "./gateway/node_id.ts";
import { countingUpstream, renderSyncMetrics } from "./gateway/sync_metrics.ts";
import { ConfigError } from "./config.ts";
import { lockDataDir } from "./data_dir_lock.ts";
import { serveHttp } from "./http_listener.ts";
import { DEFAULT_LIMITS, trackOpenSegments } from "./limits.ts";
import { FsStorage } from "./storage/mod.ts";
import { consoleFiles } from "./console_files.ts";
import { describeFsync, EDGELOG_VERSION, freeBytes } from "./node_info.ts";

/** A running gateway. */
export interface Gateway {
  url: string;
  nodeId: string;
  replicator: Replicator;
  log: Log;
  /** The node's counters, shared by its API and its replication. */
  metrics: Metrics;
  /** The local API, as served. */
  app: ServerApp;
  /** The MQTT ingest, when configured. */
  mqtt: MqttIngest | undefined;
  close(): Promise<void>;
}

/** Starts a gateway from a resolved config. */
export async function startGateway(config: GatewayConfig): Promise<Gateway> {
  const lock = await lockDataDir(config.dataDir);
  try {
    return await startLocked(config, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(
  config: GatewayConfig,
  unlock: () => void,
): Promise<Gateway> {
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  const nodeId = await loadNodeId(config.dataDir, config.nodeId);
  const holder: { replicator?: Replicator } = {};
  const storage = await FsStorage.open(`${config.dataDir}/log`, {
    maxOpenSegments: limits.maxOpenSegmentFiles,
    ...(config.segmentBytes === undefined
      ? {}
      : { segmentBytes: config.segmentBytes }),
  });
  const log = await Log.open({
    storage,
    autoCreateTopics: true,
    defaults: config.syncedRetentionMs >= 0
      ? { retentionMs: config.syncedRetentionMs }
      : {},
    retentionFloor: syncRetentionFloor(() => holder.replicator),
    limits,
  });
  for (const [name, topic] of Object.entries(config.topics)) {
    if (!log.hasTopic(name)) {
      await log.createTopic(name, {
        ...(config.syncedRetentionMs >= 0
          ? { retentionMs: config.syncedRetentionMs }
          : {}),
        ...topic,
      });
    }
  }
  const groups = await GroupCoordinator.open({
    maxGroupMembers: limits.maxGroupMembers,
    meta: log.meta,
    partitionCount: (t) =>
      log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
    highWatermark: (t, p) => log.partition(t, p).highWatermark,
  });
  const client = new EdgelogClient(config.upstream, {
    ...(config.token === undefined ? {} : { token: config.token }),
    retry: { attempts: 1 },
  });
  const metrics = new Metrics();
  trackOpenSegments(metrics, storage);
  const active = new Replicator({
    log,
    client: countingUpstream(client, metrics),
    nodeId,
    ...(config.syncTopics === undefined ? {} : { topics: config.syncTopics }),
  });
  holder.replicator = active;
  reportSyncErrors(active, config.upstream);
  const mqtt = config.mqtt === undefined ? undefined : startMqttIngest(log, {
    url: config.mqtt.url,
    subscriptions: config.mqtt.subscriptions,
    clientId: `edgelog-${nodeId}`.slice(0, 64),
    ...(config.mqtt.reconnectMaxMs === undefined
      ? {}
      : { reconnect: { maxMs: config.mqtt.reconnectMaxMs } }),
  });
  const shutdown = new AbortController();
  const app = createApp({
    log,
    groups,
    metrics,
    pages: NODE_PAGES,
    files: consoleFiles(),
    node: {
      role: "gateway",
      version: EDGELOG_VERSION,
      startedMs: Date.now(),
      fsync: describeFsync("always"),
      storageFreeBytes: () => freeBytes(config.dataDir),
    },
    holdLimits: limits,
    signal: shutdown.signal,
    ...(config.auth === undefined ? {} : { auth: config.auth }),
    ...(mqtt === undefined ? {} : {
      health: () => ({ mqtt: { state: mqtt.status().state } }),
    }),
    extraRoutes: (app) => {
      // Streams of the topics the token may produce to or consume only.
      app.get("/v1/sync/status", (c) => {
        const principal = principalOf(c);
        const status = active.status();
        return c.json({
          upstream: config.upstream,
          online: status.online,
          streams: status.streams.filter((s) =>
            allows(principal, { kind: "describe", topic: s.topic })
          ),
          ...(mqtt === undefined || config.mqtt === undefined ? {} : {
            mqtt: {
              ...mqtt.status(),
              subscriptions: config.mqtt.subscriptions,
            },
          }),
        });
      });
    },
  });
  const server = serveHttp(async (request, info) => {
    const response = await app.fetch(request, info);
    return isMetricsScrape(request, response)
      ? withSyncMetrics(response, config.upstream, active, mqtt)
      : response;
  }, {
    hostname: config.host,
    port: config.port,
    maxConnections: limits.maxConnections,
    headerTimeoutMs: limits.headerTimeoutMs,
    idleTimeoutMs: limits.idleTimeoutMs,
    metrics,
  });
  active.start();
  active.measureLag().catch((err) =>
    console.error("edgelog gateway: cannot measure the sync lag", err)
  );
  const retention = setInterval(() => {
    log.enforceRetention().catch((err) =>
      console.error("edgelog gateway: retention failed", err)
    );
  }, 5000);
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${server.addr.port}`,
    nodeId,
    replicator: active,
    log,
    metrics,
    app,
    mqtt,
    async close() {
      clearInterval(retention);
      await mqtt?.close();
      shutdown.abort();
      await active.stop();
      await server.shutdown();
      await groups.flush();
      await log.close();
      unlock();
    },
  };
}

/**
 * Logs one line when a stream starts failing with a new error code (the
 * upstream lacks its topic, refuses the token, …) and one when it syncs
 * again, not one per retry. An unreachable upstream (no answer, or a 5xx
 * from it or a proxy) is the gateway's normal offline state, shown by
 * `online` in /v1/sync/status, so it is not logged.
 */
function reportSyncErrors(replicator: Replicator, upstream: string): void {
  const reported = new Map<string, string>();
  replicator.on("error", ({ topic, sourcePartition, error }) => {
    const key = `${topic}/${sourcePartition}`;
    const code = syncErrorCode(error);
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === "number" && status >= 500) return;
    if (code === "UNREACHABLE" || reported.get(key) === code) return;
    reported.set(key, code);
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      code === "TOPIC_NOT_FOUND"
        ? `edgelog gateway: upstream ${upstream} has no topic '${topic}': records produced to '${topic}' here are kept but not synced until the topic exists upstream (TOPIC_NOT_FOUND)`
        : `edgelog gateway: cannot sync ${key} to ${upstream}: ${code}: ${message}; retrying`,
    );
  });
  replicator.on("ack", ({ topic, sourcePartition }) => {
    const key = `${topic}/${sourcePartition}`;
    if (reported.delete(key)) {
      console.error(`edgelog gateway: ${key} syncs to ${upstream} again`);
    }
  });
}

function isMetricsScrape(request: Request, response: Response): boolean {
  return request.method === "GET" && response.status === 200 &&
    new URL(request.url).pathname === "/metrics";
}

/**
 * The node's /metrics answer with the replication series after it: the
 * shared app renders the log, groups and request series, the replicator's
 * status is only known here.
 */
async function withSyncMetrics(
  response: Response,
  upstream: string,
  replicator: Replicator,
  mqtt: MqttIngest | undefined,
): Promise<Response> {
  const text = await response.text() +
    renderSyncMetrics(upstream, replicator.status()) +
    (mqtt === undefined ? "" : renderMqttMetrics(mqtt.status()));
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(text, { status: 200, headers });
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(GATEWAY_USAGE);
    Deno.exit(0);
  }
  let config: GatewayConfig;
  try {
    config = await loadGatewayConfig(Deno.args);
  } catch (err) {
    console.error(`edgelog gateway: ${(err as Error).message}`);
    console.error("Run 'deno task gateway --help' for the options.");
    Deno.exit(2);
  }
  let gateway: Gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`edgelog gateway: ${err.message}`);
    Deno.exit(2);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gateway.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // Announced only once a signal is sure to stop the gateway cleanly.
  console.log(
    `edgelog gateway ${gateway.nodeId} listening on ${gateway.url}, syncing to ${config.upstream}`,
  );
}
