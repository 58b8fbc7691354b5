/**
 * In-process nodes for sync tests: a central broker (real Log over
 * MemoryStorage, the server app with the sync routes, on 127.0.0.1:0) and
 * device logs, plus a record-by-record comparison of a device partition
 * with its central partition.
 *
 * @module
 */

import assert from "node:assert/strict";
import { GroupCoordinator } from "../runtime/groups/mod.ts";
import { Log, type LogOptions, MemoryStorage } from "../runtime/log/mod.ts";
import type { LogRecord, RecordInput } from "../runtime/log/types.ts";
import { createApp } from "../runtime/server/app.ts";
import { Metrics } from "../runtime/server/metrics.ts";
import type { Storage } from "../runtime/log/storage.ts";
import { StreamRegistry } from "../runtime/sync/stream_registry.ts";
import { syncRoutes } from "../runtime/sync/sync_routes.ts";

/** A central broker serving the HTTP API with /v1/sync/*. */
export interface TestBroker {
  url: string;
  log: Log;
  registry: StreamRegistry;
  metrics: Metrics;
  storage: Storage;
  close(): Promise<void>;
}

/** Starts a broker over `storage` (reused across restarts). */
export async function startTestBroker(
  storage: Storage = new MemoryStorage(),
  options: { topics?: Record<string, number> } = {},
): Promise<TestBroker> {
  const log = await Log.open({ storage });
  for (const [name, partitions] of Object.entries(options.topics ?? {})) {
    if (!log.hasTopic(name)) await log.createTopic(name, { partitions });
  }
  const groups = await GroupCoordinator.open({
    meta: log.meta,
    partitionCount: (t) =>
      log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
    highWatermark: (t, p) => log.partition(t, p).highWatermark,
  });
  const metrics = new Metrics();
  const registry = await StreamRegistry.open(log, { metrics });
  const controller = new AbortController();
  const app = createApp({
    log,
    groups,
    metrics,
    signal: controller.signal,
    extraRoutes: syncRoutes(registry),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    log,
    registry,
    metrics,
    storage,
    async close() {
      controller.abort();
      await server.shutdown();
      await registry.flush();
    },
  };
}

/** A device log over memory, with one topic. */
export async function deviceLog(
  topic = "events",
  partitions = 2,
  options: Partial<LogOptions> = {},
): Promise<Log> {
  const log = await Log.open({ storage: new MemoryStorage(), ...options });
  await log.createTopic(topic, { partitions });
  return log;
}

const enc = new TextEncoder();

/** `count` distinct records numbered from `from`. */
export function testRecords(
  from: number,
  count: number,
  partition = 0,
): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: enc.encode(`key-${from + i}`),
    value: enc.encode(JSON.stringify({ n: from + i })),
    headers: [{ key: "seq", value: enc.encode(String(from + i)) }],
    timestamp: 1_700_000_000_000 + from + i,
    partition,
  }));
}

/** Every record of a partition, from its log start. */
export async function allRecords(
  log: Log,
  topic: string,
  partition: number,
): Promise<LogRecord[]> {
  const p = log.partition(topic, partition);
  const out: LogRecord[] = [];
  let offset = p.logStartOffset;
  for (let i = 0; i < 100_000 && offset < p.highWatermark; i++) {
    const page = await p.read(offset, { maxBytes: 1 << 20 });
    out.push(...page.records);
    offset = page.nextOffset;
  }
  return out;
}

function comparable(r: LogRecord) {
  return {
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
  };
}

/**
 * Asserts that the broker's partition for a device stream holds the
 * device's records, in order, each once: keys, values, headers, timestamps.
 * `expectedGap` is the count of records the device declared dropped.
 */
export async function assertReplicated(
  broker: TestBroker,
  device: Log,
  nodeId: string,
  topic: string,
  sourcePartition: number,
  expected?: LogRecord[],
): Promise<void> {
  const stream = broker.registry.list(nodeId).find((s) =>
    s.topic === topic && s.sourcePartition === sourcePartition
  );
  assert.ok(stream, `no stream ${nodeId}/${topic}/${sourcePartition}`);
  const central = await allRecords(broker.log, topic, stream.partition);
  const local = expected ?? await allRecords(device, topic, sourcePartition);
  assert.equal(central.length, local.length, "record count");
  assert.deepEqual(central.map(comparable), local.map(comparable));
  assert.equal(
    stream.ackedOffset,
    device.partition(topic, sourcePartition).highWatermark - 1,
  );
}

/** Polls `check` every 20 ms until it holds; throws after `ms` (default 30 s). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
