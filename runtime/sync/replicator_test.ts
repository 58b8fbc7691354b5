import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import {
  lastOffset,
  readBatchHeader,
  splitBatches,
} from "../format/batch_header.ts";
import { decodeBatches } from "../format/record_batch.ts";
import { Log } from "../log/log.ts";
import { MemoryStorage } from "../log/memory_storage.ts";
import type { MetaStore } from "../log/storage.ts";
import type { LogRecord, RecordInput } from "../log/types.ts";
import { Replicator, type SyncUpstream } from "./replicator.ts";
import { type PushResult, StreamRegistry } from "./stream_registry.ts";

const enc = new TextEncoder();

function records(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    key: enc.encode(`k${from + i}`),
    value: enc.encode(`v${from + i}`),
    headers: [{ key: "h", value: enc.encode(String(from + i)) }],
    timestamp: 5000 + from + i,
  }));
}

/** A log over `storage` holding topic "events" of `partitions` partitions. */
async function eventsLog(
  storage: MemoryStorage,
  partitions: number,
): Promise<Log> {
  const log = await Log.open({ storage });
  await log.createTopic("events", { partitions });
  return log;
}

async function append(
  log: Log,
  partition: number,
  input: RecordInput[],
): Promise<void> {
  await log.partition("events", partition).appendRecords(input);
}

/** Drops a device's records before `offset` unsynced, as a full budget does. */
async function dropBefore(
  storage: MemoryStorage,
  partition: number,
  offset: number,
): Promise<void> {
  const store = await storage.openPartition("events", partition);
  await store.deleteBefore(offset);
  await store.close();
}

async function allRecords(log: Log, partition: number): Promise<LogRecord[]> {
  const p = log.partition("events", partition);
  const out: LogRecord[] = [];
  if (p.highWatermark === p.logStartOffset) return out;
  for (const batch of await p.readBatches(p.logStartOffset, 1 << 30)) {
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
  const central = await eventsLog(broker, 3);
  const registry = await StreamRegistry.open(central);
  const device = new MemoryStorage();
  const local = await eventsLog(device, 2);
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
  await append(local, 0, records(0, 5));
  await append(local, 0, records(5, 3));
  await append(local, 1, records(100, 2));
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
      await allRecords(central, stream.partition),
      await allRecords(local, p),
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
  await append(local, 0, records(0, 3));
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
  for (let i = 0; i < 40; i++) await append(local, 0, records(i * 3, 3));
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
    await allRecords(central, stream.partition),
    await allRecords(local, 0),
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
  await append(local, 0, records(0, 3));
  replicator.start();
  while (errors.length < 1) await new Promise((r) => setTimeout(r, 1));
  assert.equal(replicator.status().online, false);
  assert.match(replicator.status().streams[0]!.lastError ?? "", /offline/);
  assert.equal(typeof replicator.status().streams[0]!.lastErrorMs, "number");
  offline = false;
  const callsBefore = calls;
  replicator.notifyOnline();
  while (replicator.status().streams[0]!.ackedOffset < 2) {
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(calls > callsBefore);
  await append(local, 0, records(3, 2));
  await acked;
  assert.equal(replicator.status().streams[0]!.lastErrorMs, null);
  await replicator.stop();
  const stream = registry.list()[0]!;
  assertSameRecords(
    await allRecords(central, stream.partition),
    await allRecords(local, 0),
  );
});

Deno.test("a second replicator of the same stream fences the first", async () => {
  const { central, registry, local, upstream } = await setup();
  await append(local, 0, records(0, 2));
  const first = new Replicator({ log: local, client: upstream, nodeId: "d" });
  await first.syncOnce();
  const second = new Replicator({ log: local, client: upstream, nodeId: "d" });
  await append(local, 0, records(2, 2));
  await second.syncOnce();
  await append(local, 0, records(4, 1));
  const fenced: unknown[] = [];
  first.on("fenced", (e) => fenced.push(e));
  await assert.rejects(() => first.syncOnce(), /fenced/);
  assert.equal(fenced.length, 1);
  assert.equal(first.status().streams[0]!.fenced, true);
  await second.syncOnce();
  const stream = registry.list().find((s) => s.sourcePartition === 0)!;
  assertSameRecords(
    await allRecords(central, stream.partition),
    await allRecords(local, 0),
  );
});

Deno.test("an ack or expectedOffset past the local log (someone else pushed the stream) is refused, never recorded", async () => {
  const diverging: ((up: SyncUpstream) => SyncUpstream["pushBatches"])[] = [
    (up) => async (id, bytes, options) => ({
      ...await up.pushBatches(id, bytes, options),
      ackedOffset: 1_000_000,
    }),
    () => () =>
      Promise.reject(
        new EdgelogError("OUT_OF_ORDER_SEQUENCE", "gap", {
          expectedOffset: 1_000_001,
        }),
      ),
  ];
  for (const diverge of diverging) {
    const { local, upstream } = await setup();
    const pushBatches = diverge(upstream);
    await append(local, 0, records(0, 3));
    const replicator = new Replicator({
      log: local,
      client: { registerStream: upstream.registerStream, pushBatches },
      nodeId: "d",
      topics: ["events"],
    });
    await assert.rejects(
      () => replicator.syncOnce(),
      (err: unknown) =>
        err instanceof EdgelogError && err.code === "STREAM_DIVERGED",
    );
    const [stream] = replicator.status().streams;
    assert.equal(stream!.ackedOffset, -1);
    assert.equal(stream!.lastErrorCode, "STREAM_DIVERGED");
    assert.equal(replicator.retentionFloor("events", 0), 0);
  }
});

Deno.test("records dropped before sync are declared as the exact gap", async () => {
  const { central, registry, device, local, upstream, sent } = await setup();
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "d",
  });
  await append(local, 0, records(0, 2));
  await replicator.syncOnce();
  await append(local, 0, records(2, 3));
  await append(local, 0, records(5, 2));
  await append(local, 0, records(7, 1));
  await dropBefore(device, 0, 7);
  await replicator.syncOnce();
  const stream = registry.list().find((s) => s.sourcePartition === 0)!;
  assert.equal(stream.droppedRecords, 5);
  assert.equal(stream.ackedOffset, 7);
  assert.ok(sent.some((s) => s.dropped === 5));
  assert.equal(replicator.status().streams[0]!.droppedRecords, 5);
  const got = await allRecords(central, stream.partition);
  assert.deepEqual(
    got.map((r) => new TextDecoder().decode(r.value!)),
    ["v0", "v1", "v7"],
  );
});

/** A push the fake upstream holds until the test answers it. */
interface Held {
  lastOffset: number;
  answer(ackedOffset?: number): void;
}

/**
 * An upstream that holds every push until the test answers it, acking each
 * with the last offset of its own batches: answers can be given in any
 * order.
 */
function holdingUpstream() {
  const held: Held[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const upstream: SyncUpstream = {
    registerStream: () =>
      Promise.resolve({
        producerId: 7,
        producerEpoch: 0,
        partition: 0,
        ackedOffset: -1,
      }),
    pushBatches(_id, bytes) {
      let last = -1;
      for (const batch of splitBatches(bytes)) {
        last = lastOffset(readBatchHeader(batch));
      }
      return new Promise<PushResult>((resolve) => {
        held.push({
          lastOffset: last,
          answer: (acked = last) =>
            resolve({ ackedOffset: acked, partition: 0, lastOffset: acked }),
        });
        for (const w of waiters.filter((w) => held.length >= w.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      });
    },
  };
  /** Resolves once `count` pushes were made. */
  const pushes = (count: number) =>
    held.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ count, resolve }));
  return { upstream, held, pushes };
}

/** Lets every pending callback and timer of this turn run. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

Deno.test("maxInFlight 3 keeps three pushes outstanding and the ack never passes a hole", async () => {
  const { local } = await setup();
  for (let i = 0; i < 6; i++) await append(local, 0, records(i * 2, 2));
  const { upstream, held, pushes } = holdingUpstream();
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "d",
    topics: ["events"],
    maxBatchBytes: 1,
    maxInFlight: 3,
    progressIntervalMs: 0,
  });
  const acks: number[] = [];
  replicator.on("ack", (e) => {
    if (e.sourcePartition === 0) acks.push(e.ackedOffset);
  });
  const durable = async () =>
    ((await local.meta.get("sync/acked/events/0")) as
      | { ackedOffset: number }
      | undefined)?.ackedOffset;
  const done = replicator.syncOnce();

  await pushes(3);
  await settle();
  assert.deepEqual(held.map((h) => h.lastOffset), [1, 3, 5]);

  held[0]!.answer();
  await pushes(4);
  await settle();
  assert.equal(held.length, 4, "one answer lets exactly one more push out");
  assert.deepEqual(acks, [1]);

  held[2]!.answer();
  held[3]!.answer();
  await settle();
  assert.equal(held.length, 4, "answers behind a hole free no slot");
  assert.deepEqual(acks, [1]);
  assert.equal(replicator.status().streams[0]!.ackedOffset, 1);
  assert.equal(await durable(), 1);

  held[1]!.answer();
  await pushes(6);
  assert.deepEqual(acks, [1, 3, 5, 7]);
  assert.deepEqual(held.map((h) => h.lastOffset), [1, 3, 5, 7, 9, 11]);

  held[5]!.answer();
  await settle();
  assert.deepEqual(acks, [1, 3, 5, 7]);
  held[4]!.answer();
  await done;
  assert.deepEqual(acks, [1, 3, 5, 7, 9, 11]);
  assert.equal(await durable(), 11);
});

Deno.test("pushes that reach the upstream in reverse order are rewound and sent again, each record once", async () => {
  const { central, registry, local, upstream } = await setup();
  for (let i = 0; i < 9; i++) await append(local, 0, records(i * 2, 2));
  const queued: (() => void)[] = [];
  const refused: number[] = [];
  let arrived: () => void = () => {};
  const reversing: SyncUpstream = {
    registerStream: (n, t, p) => upstream.registerStream(n, t, p),
    pushBatches(id, bytes, options) {
      return new Promise<PushResult>((resolve, reject) => {
        queued.push(() =>
          upstream.pushBatches(id, bytes, options).then(resolve, (err) => {
            refused.push(err.extra?.expectedOffset);
            reject(err);
          })
        );
        arrived();
      });
    },
  };
  const replicator = new Replicator({
    log: local,
    client: reversing,
    nodeId: "d",
    topics: ["events"],
    maxBatchBytes: 1,
    maxInFlight: 3,
  });
  let finished = false;
  const done = replicator.syncOnce().finally(() => finished = true);
  for (let round = 0; round < 100 && !finished; round++) {
    if (queued.length === 0) {
      await Promise.race([done, new Promise<void>((r) => arrived = r)]);
    }
    await settle();
    for (const deliver of queued.splice(0).reverse()) deliver();
  }
  await done;
  assert.ok(refused.length > 0, "some pushes arrived out of order");
  const stream = registry.list()[0]!;
  assert.equal(stream.ackedOffset, 17);
  assertSameRecords(
    await allRecords(central, stream.partition),
    await allRecords(local, 0),
  );
});

Deno.test("lagBytes is the stored size of the local batches after the ack", async () => {
  const { local, upstream } = await setup();
  await append(local, 0, records(0, 3));
  await append(local, 0, records(3, 2));
  await append(local, 0, records(5, 4));
  await append(local, 1, records(100, 1));
  const sizes = async (p: number) =>
    (await local.partition("events", p).readBatches(0, 1 << 20)).map((b) =>
      b.length
    );
  const [b0, b1, b2] = await sizes(0);
  const [c0] = await sizes(1);
  const clock = new ManualClock(0);
  let pushes = 0;
  let offline = false;
  const flaky: SyncUpstream = {
    registerStream: (n, t, p) => upstream.registerStream(n, t, p),
    pushBatches(id, bytes, options) {
      if (offline || ++pushes > 1) {
        return Promise.reject(new TypeError("offline"));
      }
      return upstream.pushBatches(id, bytes, options);
    },
  };
  const replicator = new Replicator({
    log: local,
    client: flaky,
    nodeId: "d",
    clock,
    maxBatchBytes: 1,
    maxInFlight: 1,
  });
  const lag = () =>
    replicator.status().streams.map((s) => [s.lagRecords, s.lagBytes]);

  await replicator.measureLag();
  assert.deepEqual(lag(), [[9, b0! + b1! + b2!], [1, c0!]]);

  await assert.rejects(() => replicator.syncOnce(), /offline/);
  assert.deepEqual(
    replicator.status().streams.map((s) => s.ackedOffset),
    [2, -1],
    "one push went through",
  );
  assert.deepEqual(lag(), [[6, b1! + b2!], [1, c0!]]);

  await append(local, 1, records(101, 2));
  assert.equal(replicator.status().streams[1]!.lagBytes, null, "not seen yet");
  await replicator.measureLag();
  const [d1] = (await local.partition("events", 1).readBatches(1, 1 << 20))
    .map((b) => b.length);
  const p1Lag = () => replicator.status().streams[1]!.lagBytes;
  assert.equal(p1Lag(), c0! + d1!);

  offline = true;
  const failed = new Promise<void>((resolve) =>
    replicator.on("error", () => resolve())
  );
  replicator.start();
  await failed;
  await append(local, 1, records(103, 1));
  const [e1] = (await local.partition("events", 1).readBatches(3, 1 << 20))
    .map((b) => b.length);
  assert.equal(
    p1Lag(),
    c0! + d1! + e1!,
    "appends are followed",
  );
  await replicator.stop();

  offline = false;
  pushes = -100;
  await replicator.syncOnce();
  assert.deepEqual(lag(), [[0, 0], [0, 0]]);
});

/** A meta store whose writes of `key` wait until the test releases each one. */
function gatedMeta(inner: MetaStore, key: string) {
  const writes: { value: { ackedOffset: number }; release: () => void }[] = [];
  const meta: MetaStore = {
    get: (key) => inner.get(key),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    set: (k, value) =>
      k !== key ? inner.set(k, value) : new Promise<void>((resolve, reject) => {
        writes.push({
          value: value as { ackedOffset: number },
          release: () => inner.set(k, value).then(resolve, reject),
        });
      }),
  };
  return { meta, writes };
}

Deno.test("acks reach meta at most once per progressIntervalMs and never hold a push back; stop writes the last at once", async () => {
  const { local } = await setup();
  const { upstream, held, pushes } = holdingUpstream();
  const { meta, writes } = gatedMeta(local.meta, "sync/acked/events/0");
  const clock = new ManualClock();
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "d",
    topics: ["events"],
    meta,
    clock,
    progressIntervalMs: 1000,
  });
  replicator.start();
  await append(local, 0, records(0, 2));
  await pushes(1);
  held[0]!.answer();
  await settle();
  assert.deepEqual(writes.map((w) => w.value.ackedOffset), [-1]);

  await append(local, 0, records(2, 2));
  await settle();
  assert.equal(held.length, 2, "a meta write under way holds no push back");
  held[1]!.answer();
  await settle();
  assert.equal(replicator.retentionFloor("events", 0), 4);

  writes[0]!.release();
  await settle();
  assert.equal(writes.length, 1, "the next write waits out the interval");
  clock.advance(1000);
  await settle();
  assert.deepEqual(
    writes.map((w) => w.value.ackedOffset),
    [-1, 3],
    "acks 1 and 3 go out together, as the latest",
  );
  writes[1]!.release();

  await append(local, 0, records(4, 2));
  await pushes(3);
  held[2]!.answer();
  await settle();
  assert.equal(writes.length, 2);
  const stopped = replicator.stop();
  await settle();
  assert.deepEqual(writes.map((w) => w.value.ackedOffset), [-1, 3, 5]);
  writes[2]!.release();
  await stopped;
  assert.deepEqual(await local.meta.get("sync/acked/events/0"), {
    ackedOffset: 5,
    droppedRecords: 0,
  });
});

Deno.test("the background loop sends a new append while an earlier push is in flight", async () => {
  const { local } = await setup();
  const { upstream, held, pushes } = holdingUpstream();
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "d",
    topics: ["events"],
    progressIntervalMs: 0,
  });
  replicator.start();
  await append(local, 0, records(0, 2));
  await pushes(1);
  await append(local, 0, records(2, 1));
  await settle();
  assert.deepEqual(held.map((h) => h.lastOffset), [1, 2]);
  held[1]!.answer();
  await settle();
  assert.equal(
    replicator.status().streams[0]!.ackedOffset,
    -1,
    "the ack waits for the push in front",
  );
  held[0]!.answer();
  await settle();
  assert.equal(replicator.status().streams[0]!.ackedOffset, 2);
  await replicator.stop();
});

Deno.test("a replicator of many streams pushes them in fewer requests than streams, each record once", async () => {
  const central = await Log.open({ storage: new MemoryStorage() });
  const local = await Log.open({ storage: new MemoryStorage() });
  const topics = Array.from({ length: 40 }, (_, i) => `t${i}`);
  for (const topic of topics) {
    await central.createTopic(topic, { partitions: 2 });
    await local.createTopic(topic, { partitions: 2 });
    for (const p of [0, 1]) {
      await local.partition(topic, p).appendRecords(records(p * 10, 3));
    }
  }
  const registry = await StreamRegistry.open(central);
  const requests = { single: 0, multi: 0 };
  const upstream: SyncUpstream = {
    registerStream: (n, t, p) => registry.register(n, t, p),
    pushBatches: (id, bytes, options = {}) => {
      requests.single++;
      return registry.push(id, bytes, options);
    },
    pushStreams: (bytes) => {
      requests.multi++;
      return registry.pushMany(bytes, () => {});
    },
  };
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "gw",
  });
  await replicator.syncOnce();
  assert.ok(requests.multi > 0, "multi-stream pushes were used");
  assert.ok(
    requests.single + requests.multi < topics.length * 2,
    `${requests.single} + ${requests.multi} requests for ${
      topics.length * 2
    } streams`,
  );
  for (const topic of topics) {
    const held = central.partitions(topic).reduce(
      (n, p) => n + p.highWatermark,
      0,
    );
    assert.equal(held, 6, `${topic}: every record once`);
  }
  assert.ok(replicator.status().streams.every((s) => s.ackedOffset === 2));
});

Deno.test("pushes tell the upstream the local high watermark, so it knows each stream's lag", async () => {
  const { registry, local, upstream } = await setup();
  await append(local, 0, records(0, 5));
  const replicator = new Replicator({
    log: local,
    client: upstream,
    nodeId: "gw",
    topics: ["events"],
    maxBatchBytes: 1,
  });
  await replicator.syncOnce();
  const stream = registry.list().find((s) => s.sourcePartition === 0)!;
  assert.equal(stream.ackedOffset, 4);
  assert.equal(stream.lagRecords, 0);
});
