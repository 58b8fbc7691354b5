import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import { partitionForKey } from "../format/mod.ts";
import { DEFAULT_TOPIC_CONFIG, Log, type LogOptions } from "./log.ts";
import { MemoryStorage } from "./memory_storage.ts";
import type { AppendEvent, DropEvent } from "./partition_log.ts";
import type { RecordInput } from "./types.ts";

const text = new TextEncoder();
const T0 = 1_700_000_000_000;

function open(options: Partial<LogOptions> = {}): Promise<Log> {
  return Log.open({
    storage: options.storage ?? new MemoryStorage(),
    clock: new ManualClock(T0),
    ...options,
  });
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof EdgelogError, `not an EdgelogError: ${err}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (err) => err instanceof EdgelogError && err.code === code);
}

function record(value: string, extra: Partial<RecordInput> = {}): RecordInput {
  return { value: text.encode(value), ...extra };
}

Deno.test("createTopic applies defaults and lists topics", async () => {
  const log = await open();
  assert.deepEqual(await log.createTopic("orders", { partitions: 3 }), {
    name: "orders",
    partitions: 3,
    retentionMs: DEFAULT_TOPIC_CONFIG.retentionMs,
    retentionBytes: -1,
    cleanupPolicy: "delete",
  });
  await log.createTopic("alerts", {
    retentionMs: -1,
    retentionBytes: 5000,
    cleanupPolicy: "compact",
  });
  assert.deepEqual(log.listTopics().map((t) => t.name), ["alerts", "orders"]);
  assert.equal(log.hasTopic("orders"), true);
  assert.equal(log.hasTopic("nope"), false);
  assert.deepEqual(log.topicConfig("alerts"), {
    partitions: 1,
    retentionMs: -1,
    retentionBytes: 5000,
    cleanupPolicy: "compact",
    diskBudgetBytes: -1,
    whenFull: "reject",
  });
  assert.deepEqual(
    log.partitions("orders"),
    [0, 1, 2].map((partition) => ({
      partition,
      logStartOffset: 0,
      highWatermark: 0,
      sizeBytes: 0,
    })),
  );
  throwsWith(() => log.topicConfig("nope"), "TOPIC_NOT_FOUND");
  throwsWith(() => log.partitions("nope"), "TOPIC_NOT_FOUND");
  throwsWith(() => log.partition("nope", 0), "TOPIC_NOT_FOUND");
  throwsWith(() => log.partition("orders", 3), "PARTITION_NOT_FOUND");
  throwsWith(() => log.partition("orders", -1), "PARTITION_NOT_FOUND");
  assert.equal(log.partition("orders", 2).partition, 2);
  await log.close();
});

Deno.test("createTopic validates the name and the config", async () => {
  // Kafka's ceiling of 10 000 partitions, once the node's limits allow it.
  const log = await open({
    limits: { maxPartitionsPerTopic: 10_000, maxPartitions: 10_000 },
  });
  for (const name of ["", ".", "..", "a/b", "x".repeat(250)]) {
    await rejectsWith(log.createTopic(name), "BAD_REQUEST");
  }
  const bad: Record<string, unknown>[] = [
    { partitions: 0 },
    { partitions: 10_001 },
    { partitions: 1.5 },
    { partitions: "2" },
    { retentionMs: 0 },
    { retentionMs: -2 },
    { retentionBytes: 0 },
    { retentionBytes: 1.5 },
    { cleanupPolicy: "forever" },
    { diskBudgetBytes: 0 },
    { whenFull: "panic" },
  ];
  for (const config of bad) {
    await rejectsWith(log.createTopic("t", config), "BAD_REQUEST");
  }
  assert.deepEqual(log.listTopics(), [], "nothing was created");
  assert.equal(
    (await log.createTopic("t", { partitions: 10_000 })).partitions,
    10_000,
  );
  await rejectsWith(log.createTopic("t"), "TOPIC_EXISTS");
  await log.close();
});

Deno.test("concurrent creations of one topic: one wins, one gets TOPIC_EXISTS", async () => {
  const log = await open();
  const results = await Promise.allSettled([
    log.createTopic("t"),
    log.createTopic("t"),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), [
    "fulfilled",
    "rejected",
  ]);
  await log.close();
});

Deno.test("topics, configs and data survive reopening", async () => {
  const storage = new MemoryStorage();
  const log = await open({ storage });
  await log.createTopic("orders", { partitions: 2, retentionBytes: 1000 });
  await log.createTopic("audit", {
    diskBudgetBytes: 10_000,
    whenFull: "dropOldest",
  });
  await log.produce("orders", [
    record("a", { partition: 1 }),
    record("b", { partition: 1 }),
  ]);
  assert.deepEqual(await storage.meta.list("topic/"), [
    ["topic/audit", log.topicConfig("audit")],
    ["topic/orders", log.topicConfig("orders")],
  ]);
  await log.close();

  const again = await open({ storage });
  assert.deepEqual(again.listTopics().map((t) => t.name), ["audit", "orders"]);
  assert.equal(again.topicConfig("orders").retentionBytes, 1000);
  assert.equal(again.topicConfig("audit").whenFull, "dropOldest");
  assert.equal(again.partition("orders", 1).highWatermark, 2);
  const { records } = await again.partition("orders", 1).read(0);
  assert.deepEqual(records.map((r) => new TextDecoder().decode(r.value!)), [
    "a",
    "b",
  ]);
  assert.deepEqual(
    await again.produce("orders", [record("c", { partition: 1 })]),
    [{ partition: 1, offset: 2 }],
  );
  await again.close();
});

Deno.test("deleteTopic removes partitions and meta; a new topic of that name starts empty", async () => {
  const storage = new MemoryStorage();
  const log = await open({ storage });
  await log.createTopic("t", { partitions: 2 });
  await log.createTopic("keep");
  await log.produce("t", [
    record("a", { partition: 0 }),
    record("b", { partition: 1 }),
  ]);
  await log.produce("keep", [record("k")]);
  const waiting = log.partition("t", 0).waitForData(1, 60_000);
  await log.deleteTopic("t");
  assert.equal(await waiting, false, "waiters are released");
  assert.equal(log.hasTopic("t"), false);
  assert.equal(await storage.meta.get("topic/t"), undefined);
  await rejectsWith(log.deleteTopic("t"), "TOPIC_NOT_FOUND");
  await rejectsWith(log.produce("t", [record("x")]), "TOPIC_NOT_FOUND");
  const emptied = await storage.openPartition("t", 1);
  assert.equal(emptied.nextOffset, 0, "data is gone");
  await emptied.close();

  await log.createTopic("t", { partitions: 2 });
  assert.deepEqual(log.partitions("t").map((p) => p.highWatermark), [0, 0]);
  assert.equal(
    log.partition("keep", 0).highWatermark,
    1,
    "other topics untouched",
  );
  await log.close();
  const again = await open({ storage });
  assert.deepEqual(again.listTopics().map((t) => t.name), ["keep", "t"]);
  await again.close();
});

Deno.test("produce routes by explicit partition, then key, then a sticky partition", async () => {
  const draws = [0.99, 0.0, 0.5];
  const log = await open({ random: () => draws.shift()! });
  await log.createTopic("t", { partitions: 4 });
  const keys = ["device-1", "device-2", "device-3", "", "ключ"].map((k) =>
    text.encode(k)
  );
  const positions = await log.produce("t", [
    record("p2", { partition: 2 }),
    ...keys.map((key, i) => record(`k${i}`, { key })),
    record("free-1"),
    record("free-2", { key: null }),
    record("p0", { partition: 0 }),
  ]);
  const expectedPartitions = [
    2,
    ...keys.map((key) => partitionForKey(key, 4)),
    3,
    3,
    0,
  ];
  assert.deepEqual(positions.map((p) => p.partition), expectedPartitions);
  // Offsets follow the order of the records within each partition.
  const seen = new Map<number, number>();
  for (const position of positions) {
    const next = seen.get(position.partition) ?? 0;
    assert.equal(position.offset, next);
    seen.set(position.partition, next + 1);
  }
  // Every record landed where its position says.
  for (const [i, position] of positions.entries()) {
    const { records } = await log.partition("t", position.partition).read(
      position.offset,
      {
        maxRecords: 1,
      },
    );
    const name = i === 0
      ? "p2"
      : i <= keys.length
      ? `k${i - 1}`
      : ["free-1", "free-2", "p0"][i - keys.length - 1];
    assert.equal(new TextDecoder().decode(records[0]!.value!), name);
  }
  const next = await log.produce("t", [record("again")]);
  assert.deepEqual(
    next.map((p) => p.partition),
    [0],
    "a new call draws a new sticky partition",
  );
  assert.deepEqual(await log.produce("t", []), []);
  await log.close();
});

Deno.test("produce with a bad explicit partition writes nothing", async () => {
  const log = await open();
  await log.createTopic("t", { partitions: 2 });
  for (const partition of [2, -1, 0.5]) {
    await rejectsWith(
      log.produce("t", [
        record("ok", { partition: 0 }),
        record("bad", { partition }),
      ]),
      "PARTITION_NOT_FOUND",
    );
  }
  assert.deepEqual(log.partitions("t").map((p) => p.highWatermark), [0, 0]);
  await log.close();
});

Deno.test("produce to an unknown topic: TOPIC_NOT_FOUND, or created with autoCreateTopics", async () => {
  const strict = await open();
  await rejectsWith(strict.produce("new", [record("a")]), "TOPIC_NOT_FOUND");
  await strict.close();

  const log = await open({
    autoCreateTopics: true,
    defaults: { partitions: 3, retentionMs: 1000 },
  });
  const results = await Promise.all([
    log.produce("new", [record("a", { partition: 2 })]),
    log.produce("new", [record("b", { partition: 2 })]),
  ]);
  assert.deepEqual(results.flat().map((p) => p.offset).sort(), [0, 1]);
  assert.deepEqual(log.topicConfig("new"), {
    ...DEFAULT_TOPIC_CONFIG,
    partitions: 3,
    retentionMs: 1000,
  });
  await rejectsWith(log.produce("bad/name", [record("a")]), "BAD_REQUEST");
  await log.close();
});

Deno.test("invalid defaults are refused at open", async () => {
  await rejectsWith(open({ defaults: { partitions: 0 } }), "BAD_REQUEST");
});

Deno.test("onAppend and onDrop listeners, with unsubscribe", async () => {
  const log = await open();
  await log.createTopic("t", { partitions: 2 });
  const appends: AppendEvent[] = [];
  const stop = log.onAppend((e) => appends.push(e));
  log.onAppend(() => {
    throw new Error("a faulty listener");
  });
  await log.produce("t", [
    record("a", { partition: 1 }),
    record("b", { partition: 1 }),
  ]);
  stop();
  await log.produce("t", [record("c", { partition: 1 })]);
  assert.equal(appends.length, 1);
  assert.deepEqual({ ...appends[0], bytes: 0 }, {
    topic: "t",
    partition: 1,
    baseOffset: 0,
    lastOffset: 1,
    records: 2,
    bytes: 0,
  });

  const one = log.partition("t", 1).sizeBytes / 2;
  await log.createTopic("small", {
    diskBudgetBytes: Math.ceil(one * 2.5),
    whenFull: "dropOldest",
  });
  const drops: DropEvent[] = [];
  log.onDrop((e) => drops.push(e));
  for (const value of ["a", "b", "c", "d"]) {
    await log.produce("small", [record(value)]);
  }
  assert.ok(drops.length >= 1, "the budget dropped records");
  assert.deepEqual(drops[0], {
    topic: "small",
    partition: 0,
    fromOffset: 0,
    toOffset: 0,
    records: 1,
  });
  assert.equal(
    drops.reduce((n, d) => n + d.records, 0),
    log.partition("small", 0).logStartOffset,
    "every dropped record is reported",
  );
  await log.close();
});

Deno.test("enforceRetention trims every topic, above the retention floor only", async () => {
  const clock = new ManualClock(T0);
  const log = await Log.open({
    storage: new MemoryStorage(),
    clock,
    retentionFloor: (
      topic,
      partition,
    ) => (topic === "synced" && partition === 1 ? 2 : Infinity),
  });
  await log.createTopic("synced", { partitions: 2, retentionMs: 100 });
  await log.createTopic("forever", { retentionMs: -1 });
  for (let i = 0; i < 5; i++) {
    await log.produce("synced", [
      record(`${i}`, { partition: 0 }),
      record(`${i}`, { partition: 1 }),
    ]);
    await log.produce("forever", [record(`${i}`)]);
  }
  clock.advance(1000);
  await log.enforceRetention();
  assert.deepEqual(log.partitions("synced").map((p) => p.logStartOffset), [
    4,
    2,
  ]);
  assert.equal(log.partition("forever", 0).logStartOffset, 0);
  await log.close();
});

Deno.test("close ends the log: partitions and storage close, admin calls fail", async () => {
  const storage = new MemoryStorage();
  const log = await open({ storage });
  await log.createTopic("t");
  const partition = log.partition("t", 0);
  const waiting = partition.waitForData(0, 60_000);
  await log.close();
  assert.equal(await waiting, false);
  await rejectsWith(partition.appendRecords([record("a")]), "UNAVAILABLE");
  await rejectsWith(log.createTopic("u"), "UNAVAILABLE");
  await log.close();
  await storage.deletePartition("t", 0);
});
