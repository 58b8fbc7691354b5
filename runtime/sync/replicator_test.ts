import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import { decodeBatches } from "../format/record_batch.ts";
import { MemoryStorage } from "../log/memory_storage.ts";
import type { LogRecord } from "../log/types.ts";
import { centralLog, localLog } from "./_test_logs.ts";
import { Replicator, type SyncUpstream } from "./replicator.ts";
import { StreamRegistry } from "./stream_registry.ts";

const enc = new TextEncoder();

function records(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    key: enc.encode(`k${from + i}`),
    value: enc.encode(`v${from + i}`),
    headers: [{ key: "h", value: enc.encode(String(from + i)) }],
    timestamp: 5000 + from + i,
  }));
}

async function centralRecords(
  log: Awaited<ReturnType<typeof centralLog>>,
  partition: number,
): Promise<LogRecord[]> {
  const p = log.partition("events", partition);
  const out: LogRecord[] = [];
  if (p.highWatermark === 0) return out;
  for (const batch of await p.readBatches(0, 1 << 30)) {
    for (const decoded of await decodeBatches(batch)) {
      out.push(...decoded.records);
    }
  }
  return out;
}

/** Same keys, values, headers, timestamps and order; offsets differ. */
function assertSameRecords(central: LogRecord[], local: LogRecord[]) {
  const strip = (r: LogRecord) => ({
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
  });
  assert.deepEqual(central.map(strip), local.map(strip));
}

async function setup() {
  const broker = new MemoryStorage();
  const central = await centralLog(broker);
  const registry = await StreamRegistry.open(central);
  const device = new MemoryStorage();
  const local = await localLog(device);
  const sent: { producerId: number; dropped: number | undefined }[] = [];
  const upstream: SyncUpstream = {
    registerStream: (n, t, p) => registry.register(n, t, p),
    pushBatches: (id, bytes, options = {}) => {
      sent.push({ producerId: id, dropped: options.dropped });
      return registry.push(id, bytes, options);
    },
  };
  return { broker, central, registry, device, local, upstream, sent };
}

Deno.test("syncOnce replicates every stream exactly once and records the ack", async () => {
  const { central, registry, local, upstream } = await setup();
  await local.append(0, records(0, 5));
  await local.append(0, records(5, 3));
  await local.append(1, records(100, 2));
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "dev-1",
    topics: ["events"],
    maxBatchBytes: 1,
  });
  assert.equal(replicator.retentionFloor("events", 0), 0);
  await replicator.syncOnce();
  await replicator.syncOnce();
  for (const p of [0, 1]) {
    const stream = registry.list().find((s) => s.sourcePartition === p)!;
    assertSameRecords(
      await centralRecords(central, stream.partition),
      await local.records(p),
    );
  }
  const status = replicator.status();
  assert.deepEqual(
    status.streams.map((s) => [s.sourcePartition, s.ackedOffset, s.lagRecords]),
    [[0, 7, 0], [1, 1, 0]],
  );
  assert.equal(status.online, true);
  assert.equal(replicator.retentionFloor("events", 0), 8);
  assert.equal(replicator.retentionFloor("other", 0), Infinity);
  assert.deepEqual(await local.meta.get("sync/acked/events/0"), {
    ackedOffset: 7,
    droppedRecords: 0,
  });
});

Deno.test("sent batches are copies: the local log's bytes are never changed", async () => {
  const { local, upstream } = await setup();
  await local.append(0, records(0, 3));
  const before = (await local.partition("events", 0).readBatches(0, 1 << 20))
    .map((b) => b.slice());
  await new Replicator({ log: local, client: upstream, nodeId: "d" })
    .syncOnce();
  const after = await local.partition("events", 0).readBatches(0, 1 << 20);
  assert.deepEqual(after, before);
});

Deno.test("lost requests, lost answers and reordering never duplicate or lose a record", async () => {
  const { central, registry, local, upstream } = await setup();
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const lossy: SyncUpstream = {
    registerStream: (n, t, p) => upstream.registerStream(n, t, p),
    async pushBatches(id, bytes, options) {
      await new Promise((r) => setTimeout(r, random() * 3));
      if (random() < 0.2) throw new TypeError("network: request lost");
      const answer = await upstream.pushBatches(id, bytes, options);
      await new Promise((r) => setTimeout(r, random() * 3));
      if (random() < 0.2) throw new TypeError("network: answer lost");
      return answer;
    },
  };
  const replicator = new Replicator({
    log: local,
    client: lossy,
    nodeId: "dev-2",
    maxBatchBytes: 1,
    maxInFlight: 4,
  });
  for (let i = 0; i < 40; i++) await local.append(0, records(i * 3, 3));
  let rounds = 0;
  for (; rounds < 500; rounds++) {
    try {
      await replicator.syncOnce();
      break;
    } catch (err) {
      assert.ok(err instanceof TypeError || err instanceof EdgelogError);
    }
  }
  assert.ok(rounds > 0 && rounds < 500, `rounds ${rounds}`);
  const stream = registry.list()[0]!;
  assert.equal(stream.ackedOffset, 119);
  assertSameRecords(
    await centralRecords(central, stream.partition),
    await local.records(0),
  );
});

Deno.test("the background loop backs off on errors, resumes on notifyOnline and wakes on appends", async () => {
  const { central, registry, local, upstream } = await setup();
  const clock = new ManualClock(0);
  let offline = true;
  let calls = 0;
  const flaky: SyncUpstream = {
    registerStream: (n, t, p) => upstream.registerStream(n, t, p),
    pushBatches(id, bytes, options) {
      calls++;
      if (offline) return Promise.reject(new TypeError("offline"));
      return upstream.pushBatches(id, bytes, options);
    },
  };
  const replicator = new Replicator({
    log: local,
    client: flaky,
    nodeId: "dev-3",
    topics: ["events"],
    clock,
    random: () => 0,
  });
  const acked = new Promise<void>((resolve) => {
    replicator.on("ack", (e) => {
      if (e.ackedOffset === 4) resolve();
    });
  });
  const errors: unknown[] = [];
  replicator.on("error", (e) => errors.push(e.error));
  await local.append(0, records(0, 3));
  replicator.start();
  while (errors.length < 1) await new Promise((r) => setTimeout(r, 1));
  assert.equal(replicator.status().online, false);
  assert.match(replicator.status().streams[0]!.lastError ?? "", /offline/);
  offline = false;
  const callsBefore = calls;
  replicator.notifyOnline();
  while (replicator.status().streams[0]!.ackedOffset < 2) {
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(calls > callsBefore);
  await local.append(0, records(3, 2));
  await acked;
  await replicator.stop();
  const stream = registry.list()[0]!;
  assertSameRecords(
    await centralRecords(central, stream.partition),
    await local.records(0),
  );
});

Deno.test("a second replicator of the same stream fences the first", async () => {
  const { central, registry, local, upstream } = await setup();
  await local.append(0, records(0, 2));
  const first = new Replicator({ log: local, client: upstream, nodeId: "d" });
  await first.syncOnce();
  const second = new Replicator({ log: local, client: upstream, nodeId: "d" });
  await local.append(0, records(2, 2));
  await second.syncOnce();
  await local.append(0, records(4, 1));
  const fenced: unknown[] = [];
  first.on("fenced", (e) => fenced.push(e));
  await assert.rejects(() => first.syncOnce(), /fenced/);
  assert.equal(fenced.length, 1);
  assert.equal(first.status().streams[0]!.fenced, true);
  await second.syncOnce();
  const stream = registry.list().find((s) => s.sourcePartition === 0)!;
  assertSameRecords(
    await centralRecords(central, stream.partition),
    await local.records(0),
  );
});

Deno.test("records dropped before sync are declared as the exact gap", async () => {
  const { central, registry, local, upstream, sent } = await setup();
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "d",
  });
  await local.append(0, records(0, 2));
  await replicator.syncOnce();
  await local.append(0, records(2, 3));
  await local.append(0, records(5, 2));
  await local.append(0, records(7, 1));
  await local.dropBefore(0, 7);
  await replicator.syncOnce();
  const stream = registry.list().find((s) => s.sourcePartition === 0)!;
  assert.equal(stream.droppedRecords, 5);
  assert.equal(stream.ackedOffset, 7);
  assert.ok(sent.some((s) => s.dropped === 5));
  assert.equal(replicator.status().streams[0]!.droppedRecords, 5);
  const got = await centralRecords(central, stream.partition);
  assert.deepEqual(
    got.map((r) => new TextDecoder().decode(r.value!)),
    ["v0", "v1", "v7"],
  );
});
