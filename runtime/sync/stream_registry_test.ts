import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import { setProducer } from "../format/batch_header.ts";
import { encodeBatch } from "../format/record_batch.ts";
import { Log } from "../log/log.ts";
import { MemoryStorage } from "../log/memory_storage.ts";
import type { MetaStore } from "../log/storage.ts";
import { sequenceForOffset } from "./sequence.ts";
import { type RegistryLog, StreamRegistry } from "./stream_registry.ts";

/** A device batch of `count` records at local offset `base`, as the replicator sends it. */
async function deviceBatch(
  base: number,
  count: number,
  producerId: number,
  epoch = 0,
): Promise<Uint8Array> {
  const records = Array.from({ length: count }, (_, i) => ({
    key: new TextEncoder().encode(`k${base + i}`),
    value: new TextEncoder().encode(`v${base + i}`),
    timestamp: 1000 + base + i,
  }));
  const batch = await encodeBatch(records, { baseOffset: base });
  setProducer(batch, producerId, epoch, sequenceForOffset(base));
  return batch;
}

/** A central log over `storage` holding topic "events" of 3 partitions. */
async function centralLog(storage: MemoryStorage): Promise<Log> {
  const log = await Log.open({ storage });
  await log.createTopic("events", { partitions: 3 });
  return log;
}

/** `log` with its meta area replaced by `meta`. */
function withMeta(log: Log, meta: MetaStore): RegistryLog {
  return {
    meta,
    hasTopic: (name) => log.hasTopic(name),
    topicConfig: (name) => log.topicConfig(name),
    createTopic: (name, config) => log.createTopic(name, config),
    partition: (topic, p) => log.partition(topic, p),
  };
}

function rejectsWith(code: string, extra: Record<string, unknown> = {}) {
  return (err: unknown) => {
    assert.ok(err instanceof EdgelogError, String(err));
    assert.equal(err.code, code);
    for (const [k, v] of Object.entries(extra)) assert.equal(err.extra[k], v);
    return true;
  };
}

Deno.test("register gives a stable producerId, bumps the epoch, keeps the partition", async () => {
  const storage = new MemoryStorage();
  const registry = await StreamRegistry.open(await centralLog(storage));
  const a = await registry.register("node-1", "events", 0);
  const b = await registry.register("node-1", "events", 0);
  const other = await registry.register("node-2", "events", 0);
  assert.equal(a.producerId, b.producerId);
  assert.equal(a.producerEpoch + 1, b.producerEpoch);
  assert.equal(a.partition, b.partition);
  assert.equal(a.ackedOffset, -1);
  assert.notEqual(other.producerId, a.producerId);
  await assert.rejects(
    () => registry.register("node-1", "nope", 0),
    rejectsWith("TOPIC_NOT_FOUND"),
  );
});

Deno.test("push appends the next batch, acks duplicates, refuses gaps", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const registry = await StreamRegistry.open(log);
  const { producerId, partition } = await registry.register("n", "events", 0);
  const first = await deviceBatch(0, 3, producerId);
  const r1 = await registry.push(producerId, first.slice());
  assert.deepEqual(r1, { ackedOffset: 2, partition, lastOffset: 2 });
  const again = await registry.push(producerId, first.slice());
  assert.deepEqual(again, r1);
  assert.equal(log.partition("events", partition).highWatermark, 3);
  await assert.rejects(
    async () => registry.push(producerId, await deviceBatch(5, 1, producerId)),
    rejectsWith("OUT_OF_ORDER_SEQUENCE", { expectedOffset: 3 }),
  );
  await assert.rejects(
    async () => registry.push(producerId, await deviceBatch(2, 2, producerId)),
    rejectsWith("OUT_OF_ORDER_SEQUENCE", { expectedOffset: 3 }),
  );
  const declared = await registry.push(
    producerId,
    await deviceBatch(5, 1, producerId),
    { dropped: 2 },
  );
  assert.equal(declared.ackedOffset, 5);
  assert.equal(registry.stream(producerId).droppedRecords, 2);
  assert.equal(registry.counters().duplicateBatches, 1);
});

Deno.test("push checks producerId, epoch and sequence", async () => {
  const storage = new MemoryStorage();
  const registry = await StreamRegistry.open(await centralLog(storage));
  const { producerId } = await registry.register("n", "events", 0);
  await registry.register("n", "events", 0);
  await assert.rejects(
    async () =>
      registry.push(producerId, await deviceBatch(0, 1, producerId, 0)),
    rejectsWith("FENCED"),
  );
  await assert.rejects(
    async () =>
      registry.push(producerId, await deviceBatch(0, 1, producerId, 5)),
    rejectsWith("BAD_REQUEST"),
  );
  await assert.rejects(
    async () => registry.push(producerId, await deviceBatch(0, 1, 999, 1)),
    rejectsWith("BAD_REQUEST"),
  );
  const bad = await deviceBatch(0, 1, producerId, 1);
  setProducer(bad, producerId, 1, 7);
  await assert.rejects(
    () => registry.push(producerId, bad),
    rejectsWith("BAD_REQUEST"),
  );
  await assert.rejects(
    async () => registry.push(12345, await deviceBatch(0, 1, 12345)),
    rejectsWith("UNKNOWN_STREAM"),
  );
});

Deno.test("concurrent pushes of one stream are serialized: nothing is appended twice", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const registry = await StreamRegistry.open(log);
  const { producerId, partition } = await registry.register("n", "events", 1);
  const batches = await Promise.all(
    [0, 2, 4].map((b) => deviceBatch(b, 2, producerId)),
  );
  const results = await Promise.allSettled(
    [...batches, ...batches].map((b) => registry.push(producerId, b.slice())),
  );
  assert.ok(results.every((r) => r.status === "fulfilled"));
  assert.equal(log.partition("events", partition).highWatermark, 6);
  assert.equal(registry.stream(producerId).ackedOffset, 5);
});

Deno.test("a crash after the append and before the snapshot never causes a duplicate", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const registry = await StreamRegistry.open(log, {
    snapshotIntervalMs: 60_000,
  });
  const { producerId, partition } = await registry.register("n", "events", 2);
  const b0 = await deviceBatch(0, 2, producerId);
  const b1 = await deviceBatch(2, 3, producerId);
  const b2 = await deviceBatch(7, 1, producerId);
  await registry.push(producerId, b0.slice());
  await registry.push(producerId, b1.slice());
  await registry.push(producerId, b2.slice(), { dropped: 2 });
  // "Crash": the in-memory registry is gone; meta still holds the snapshot
  // taken at registration (ackedOffset -1), the log holds all three batches.
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.stream(producerId).ackedOffset, 7);
  assert.equal(reopened.stream(producerId).droppedRecords, 2);
  const again = await reopened.push(producerId, b1.slice());
  assert.deepEqual(again, { ackedOffset: 7, partition, lastOffset: 5 });
  assert.equal(log.partition("events", partition).highWatermark, 6);
  const reg = await reopened.register("n", "events", 2);
  assert.equal(reg.ackedOffset, 7);
  await reopened.push(producerId, await deviceBatch(8, 1, producerId, 1));
  assert.equal(log.partition("events", partition).highWatermark, 7);
});

Deno.test("a push never waits for its stream's periodic snapshot; flush and register do, in order", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const writes: { ackedOffset: number; release: () => void }[] = [];
  const meta: MetaStore = {
    get: (key) => log.meta.get(key),
    delete: (key) => log.meta.delete(key),
    list: (prefix) => log.meta.list(prefix),
    set: (key, value) =>
      !key.startsWith("sync/chunks/")
        ? log.meta.set(key, value)
        : new Promise<void>((resolve, reject) => {
          writes.push({
            // The only stream is the first row of its chunk; column 6 is ackedOffset.
            ackedOffset: (value as { rows: number[][] }).rows[0]![6]!,
            release: () => log.meta.set(key, value).then(resolve, reject),
          });
        }),
  };
  const gated = withMeta(log, meta);
  const clock = new ManualClock();
  const registry = await StreamRegistry.open(gated, {
    clock,
    snapshotIntervalMs: 1000,
  });
  const registering = registry.register("n", "events", 0);
  await new Promise((r) => setTimeout(r, 0));
  writes[0]!.release();
  const { producerId } = await registering;

  clock.advance(1000);
  const answer = await registry.push(
    producerId,
    await deviceBatch(0, 2, producerId),
  );
  assert.equal(answer.ackedOffset, 1, "answered with the snapshot write held");
  assert.deepEqual(writes.map((w) => w.ackedOffset), [-1, 1]);
  await registry.push(producerId, await deviceBatch(2, 1, producerId));
  assert.equal(writes.length, 2, "one snapshot per interval");

  const flushed = registry.flush();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(writes.length, 2, "the flush is written after the held one");
  writes[1]!.release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(writes.map((w) => w.ackedOffset), [-1, 1, 2]);
  writes[2]!.release();
  await flushed;
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.stream(producerId).ackedOffset, 2);
});

Deno.test("a multi-stream push answers per stream and appends exactly what single pushes would", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const registry = await StreamRegistry.open(log);
  const a = await registry.register("a", "events", 0);
  const b = await registry.register("b", "events", 0);
  const body = (...batches: Uint8Array[]) => concat(batches);
  const a0 = await deviceBatch(0, 2, a.producerId);
  const a1 = await deviceBatch(2, 1, a.producerId);
  const b0 = await deviceBatch(0, 3, b.producerId);
  const gap = await deviceBatch(5, 1, b.producerId);
  const unknown = await deviceBatch(0, 1, 99);
  const first = await registry.pushMany(
    body(a0, b0, a1, unknown),
    () => {},
  );
  assert.deepEqual(first.map((r) => r.producerId), [
    a.producerId,
    b.producerId,
    99,
  ]);
  assert.equal((first[0] as { ackedOffset: number }).ackedOffset, 2);
  assert.equal((first[1] as { ackedOffset: number }).ackedOffset, 2);
  assert.deepEqual(
    (first[2] as { status: number }).status,
    404,
  );
  const again = await registry.pushMany(body(a0, a1, gap), () => {});
  assert.equal(
    (again[0] as { ackedOffset: number }).ackedOffset,
    2,
    "duplicates acked",
  );
  const refused = again[1] as {
    status: number;
    error: Record<string, unknown>;
  };
  assert.equal(refused.status, 409);
  assert.equal(refused.error.code, "OUT_OF_ORDER_SEQUENCE");
  assert.equal(refused.error.expectedOffset, 3);
  const held = [0, 1, 2].reduce(
    (n, p) => n + log.partition("events", p).highWatermark,
    0,
  );
  assert.equal(held, 6, "each record once");
  const before = log.partition("events", a.partition).highWatermark;
  const a2 = await deviceBatch(3, 1, a.producerId);
  await assert.rejects(
    () =>
      registry.pushMany(body(a2), (s) => {
        if (s.nodeId === "a") throw new EdgelogError("FORBIDDEN", "no");
      }),
    rejectsWith("FORBIDDEN"),
  );
  assert.equal(
    log.partition("events", a.partition).highWatermark,
    before,
    "a refused request appends nothing",
  );
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("streams are listed in pages, filtered by node, topic, lag and silence", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  await log.createTopic("other");
  const clock = new ManualClock();
  const registry = await StreamRegistry.open(log, { clock });
  for (let i = 0; i < 5; i++) await registry.register(`n${i % 2}`, "events", i);
  clock.advance(1000);
  const { producerId } = await registry.register("n0", "other", 0);
  await registry.push(producerId, await deviceBatch(0, 2, producerId, 0), {
    sourceHighWatermark: 10,
  });
  const first = registry.page({ limit: 2 });
  assert.deepEqual(first.streams.map((s) => s.producerId), [1, 2]);
  assert.equal(first.next, 2);
  const rest = registry.page({ limit: 10, after: first.next });
  assert.deepEqual(rest.streams.map((s) => s.producerId), [3, 4, 5, 6]);
  assert.equal(rest.next, undefined);
  const n0 = registry.page({ nodeId: "n0", limit: 2 });
  assert.deepEqual(n0.streams.map((s) => s.producerId), [1, 3]);
  assert.deepEqual(
    registry.page({ nodeId: "n0", limit: 2, after: n0.next }).streams
      .map((s) => s.producerId),
    [5, 6],
  );
  assert.deepEqual(
    registry.page({ topic: "other", limit: 10 }).streams.map((s) =>
      s.lagRecords
    ),
    [8],
  );
  assert.deepEqual(
    registry.page({ minLag: 1, limit: 10 }).streams.map((s) => s.producerId),
    [6],
  );
  assert.equal(
    registry.page({ silentSinceMs: 999, limit: 10 }).streams.length,
    5,
  );
  assert.equal(registry.stream(1).lagRecords, null);
});

Deno.test("a reopened registry holds every stream of many chunks and never reuses a producerId", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const registry = await StreamRegistry.open(log);
  const ids: number[] = [];
  for (let i = 0; i < 600; i++) {
    ids.push((await registry.register(`d${i}`, "events", 0)).producerId);
  }
  const last = ids.at(-1)!;
  await registry.push(last, await deviceBatch(0, 3, last));
  await registry.flush();
  const keys = await log.meta.list("sync/chunks/");
  assert.equal(keys.length, 3, "600 streams in 3 chunks");
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.size, 600);
  assert.equal(reopened.stream(last).ackedOffset, 2);
  const fresh = await reopened.register("new", "events", 0);
  assert.equal(fresh.producerId, last + 1);
});

Deno.test("streams kept one key each by an earlier version are migrated into chunks", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  await log.meta.set("sync/streams/000000000007", {
    nodeId: "old",
    topic: "events",
    sourcePartition: 0,
    producerId: 7,
    producerEpoch: 2,
    partition: 1,
    ackedOffset: -1,
    lastSeenMs: 5,
    droppedRecords: 0,
    lastCentralOffset: -1,
    snapshotOffset: 0,
  });
  const registry = await StreamRegistry.open(log);
  await registry.push(7, await deviceBatch(0, 1, 7, 2));
  assert.deepEqual(await log.meta.list("sync/streams/"), []);
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.stream(7).producerEpoch, 2);
  assert.equal(reopened.stream(7).ackedOffset, 0, "replayed from the log");
  assert.equal((await reopened.register("x", "events", 0)).producerId, 8);
});

Deno.test("flush writes only changed chunks and a watermark; a reopen after later pushes still replays them", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  const writes: string[] = [];
  const meta: MetaStore = {
    get: (key) => log.meta.get(key),
    delete: (key) => log.meta.delete(key),
    list: (prefix) => log.meta.list(prefix),
    set: (key, value) => {
      writes.push(key);
      return log.meta.set(key, value);
    },
  };
  const counted = withMeta(log, meta);
  const registry = await StreamRegistry.open(counted, {
    snapshotIntervalMs: 60_000,
  });
  for (let i = 0; i < 300; i++) await registry.register(`d${i}`, "events", 0);
  const id = 280;
  // The chunk's first push takes its periodic snapshot; the second does not.
  await registry.push(id, await deviceBatch(0, 2, id));
  await registry.push(id, await deviceBatch(2, 1, id));
  await new Promise((r) => setTimeout(r, 0));
  writes.length = 0;
  await registry.flush();
  assert.deepEqual(writes, ["sync/chunks/0000000001", "sync/watermarks"]);
  writes.length = 0;
  await registry.flush();
  assert.deepEqual(writes, ["sync/watermarks"], "nothing changed");
  await registry.push(id, await deviceBatch(3, 2, id));
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.stream(id).ackedOffset, 4, "replayed after the mark");
  assert.equal(reopened.stream(id + 1).ackedOffset, -1);
});

Deno.test("a chunk snapshot taken while a stream's append runs never hides that append from the next flush", async () => {
  const storage = new MemoryStorage();
  const log = await centralLog(storage);
  let gate: Promise<void> | undefined;
  const gated: RegistryLog = {
    ...withMeta(log, log.meta),
    partition: (topic, p) => {
      const inner = log.partition(topic, p);
      return {
        get logStartOffset() {
          return inner.logStartOffset;
        },
        get highWatermark() {
          return inner.highWatermark;
        },
        appendBatches: async (batches) => {
          const wait = gate;
          const result = await inner.appendBatches(batches);
          await wait;
          return result;
        },
        readBatches: (offset, max) => inner.readBatches(offset, max),
      };
    },
  };
  const clock = new ManualClock();
  const registry = await StreamRegistry.open(gated, {
    clock,
    snapshotIntervalMs: 1000,
  });
  const a = (await registry.register("a", "events", 0)).producerId;
  const b = (await registry.register("b", "events", 0)).producerId;
  let open!: () => void;
  gate = new Promise((r) => open = r);
  const pushing = registry.push(a, await deviceBatch(0, 2, a));
  gate = undefined;
  // b's push takes the chunk's periodic snapshot while a's append runs.
  await registry.push(b, await deviceBatch(0, 1, b));
  open();
  assert.equal((await pushing).ackedOffset, 1);
  await new Promise((r) => setTimeout(r, 0));
  await registry.flush();
  const reopened = await StreamRegistry.open(log);
  assert.equal(reopened.stream(a).ackedOffset, 1);
  assert.equal(reopened.stream(b).ackedOffset, 0);
});
