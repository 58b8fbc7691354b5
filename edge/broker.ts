/**
 * Assembles a central broker: filesystem storage, the log, consumer groups,
 * the sync stream registry, the HTTP app and its listener, plus the
 * data directory's lock, the retention timer and an orderly shutdown. `serve.ts` is its command line; tests and
 * the gateway start one in-process with {@linkcode startBroker}.
 *
 * @module
 */

import { NODE_PAGES } from "../browser/pages/mod.ts";
import { GroupCoordinator } from "../runtime/groups/mod.ts";
import { Log } from "../runtime/log/mod.ts";
import { createApp } from "../runtime/server/app.ts";
import type { ServerApp } from "../runtime/server/context.ts";
import { Metrics } from "../runtime/server/metrics.ts";
import { StreamRegistry, syncRoutes } from "../runtime/sync/mod.ts";
import { consoleFiles } from "./console_files.ts";
import { demoRoutes } from "./demo_routes.ts";
import {
  describeFsync,
  EDGELOG_VERSION,
  freeBytes,
  syncCounts,
} from "./node_info.ts";
import { type BrokerConfig, ConfigError, DEFAULT_CONFIG } from "./config.ts";
import { lockDataDir } from "./data_dir_lock.ts";
import { trackOpenSegments } from "./limits.ts";
import { type HttpListener, serveHttp } from "./http_listener.ts";
import { KafkaMirror } from "./kafka/mirror.ts";
import { mirrorRoutes } from "./kafka/mirror_routes.ts";
import { FsStorage } from "./storage/mod.ts";

/** A running broker. */
export interface Broker {
  /** Where it listens, e.g. `http://127.0.0.1:9092`. */
  url: string;
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  config: BrokerConfig;
  log: Log;
  groups: GroupCoordinator;
  metrics: Metrics;
  /** The HTTP API as served (its routes, for tests over every route). */
  app: ServerApp;
  /** The mirror into Apache Kafka, when `kafkaMirror` is configured. */
  kafkaMirror?: KafkaMirror;
  /**
   * Stops listening (ending long polls and streams, waiting for other
   * requests in flight), then flushes and closes the registry, log and
   * storage. Safe to call more than once.
   */
  close(): Promise<void>;
  /** `await using broker = await startBroker(…)` closes it at scope end. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The URL of a listener on `host`:`port`. */
export function listenUrl(host: string, port: number, tls: boolean): string {
  const name = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${tls ? "https" : "http"}://${name}:${port}`;
}

async function readTls(
  tls: BrokerConfig["tls"],
): Promise<{ cert: string; key: string } | undefined> {
  if (tls === undefined) return undefined;
  try {
    return {
      cert: await Deno.readTextFile(tls.certFile),
      key: await Deno.readTextFile(tls.keyFile),
    };
  } catch (err) {
    throw new ConfigError(
      `Cannot read TLS certificate or key: ${(err as Error).message}`,
    );
  }
}

/**
 * Starts a broker with `options` over {@linkcode DEFAULT_CONFIG}. Resolves
 * once it listens.
 */
export async function startBroker(
  options: Partial<BrokerConfig> = {},
): Promise<Broker> {
  const config: BrokerConfig = { ...DEFAULT_CONFIG, ...options };
  const tls = await readTls(config.tls);
  const lock = await lockDataDir(config.dataDir);
  let log: Log;
  let storage: FsStorage;
  try {
    storage = await FsStorage.open(config.dataDir, {
      fsync: config.fsync,
      maxOpenSegments: config.limits.maxOpenSegmentFiles,
    });
    log = await Log.open({
      storage,
      defaults: config.topicDefaults,
      autoCreateTopics: config.autoCreateTopics,
      limits: config.limits,
      maxDecompressedBytes: config.maxDecompressedBytes,
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  const shutdown = new AbortController();
  let server: HttpListener | undefined;
  let registry: StreamRegistry | undefined;
  let mirror: KafkaMirror | undefined;
  try {
    const groups = await GroupCoordinator.open({
      maxGroupMembers: config.limits.maxGroupMembers,
      meta: log.meta,
      partitionCount: (topic) =>
        log.hasTopic(topic) ? log.topicConfig(topic).partitions : undefined,
      highWatermark: (topic, partition) =>
        log.partition(topic, partition).highWatermark,
    });
    const metrics = new Metrics();
    trackOpenSegments(metrics, storage);
    const streams = await StreamRegistry.open(log, {
      metrics,
      autoCreateTopics: config.autoCreateTopics,
    });
    registry = streams;
    mirror = config.kafkaMirror &&
      KafkaMirror.start(log, { ...config.kafkaMirror, metrics });
    const kafkaMirror = mirror;
    const app = createApp({
      log,
      groups,
      metrics,
      auth: config.auth,
      maxBodyBytes: config.maxBodyBytes,
      corsOrigins: config.corsOrigins,
      holdLimits: config.limits,
      pages: NODE_PAGES,
      files: consoleFiles(),
      node: {
        role: "broker",
        version: EDGELOG_VERSION,
        startedMs: Date.now(),
        fsync: describeFsync(config.fsync),
        storageFreeBytes: () => freeBytes(config.dataDir),
        sync: () =>
          syncCounts(streams.list(), Date.now(), config.deviceSilentMs),
      },
      signal: shutdown.signal,
      ...(kafkaMirror ? { mirror: kafkaMirror } : {}),
      extraRoutes: (app, ctx) => {
        syncRoutes(streams, { maxBodyBytes: config.maxBodyBytes })(app, ctx);
        if (kafkaMirror) mirrorRoutes(kafkaMirror)(app);
        demoRoutes()(app);
      },
    });
    server = serveHttp(app.fetch, {
      hostname: config.host,
      port: config.port,
      ...(tls === undefined ? {} : { tls }),
      maxConnections: config.limits.maxConnections,
      headerTimeoutMs: config.limits.headerTimeoutMs,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      metrics,
    });
    const port = server.addr.port;

    const retention = setInterval(() => {
      groups.expireMembers();
      log.enforceRetention().catch((err) =>
        console.error("edgelog: retention failed:", err)
      );
    }, config.retentionCheckMs);

    const listening = server;
    let closing: Promise<void> | undefined;
    const close = () =>
      closing ??= (async () => {
        clearInterval(retention);
        shutdown.abort();
        await listening.shutdown();
        await groups.flush();
        await streams.flush();
        await kafkaMirror?.close();
        await log.close();
        lock.release();
      })();
    return {
      url: listenUrl(config.host, port, tls !== undefined),
      port,
      config,
      log,
      groups,
      metrics,
      app,
      ...(kafkaMirror ? { kafkaMirror } : {}),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    shutdown.abort();
    await server?.shutdown();
    await registry?.flush().catch(() => {});
    await mirror?.close();
    await log.close();
    lock.release();
    throw err;
  }
}
