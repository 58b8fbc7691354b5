import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import { crc32c, encodeBatch, readBatchHeader } from "../format/mod.ts";
import { MemoryStorage } from "./memory_storage.ts";
import {
  type AppendEvent,
  type DropEvent,
  PartitionLog,
  type PartitionLogOptions,
} from "./partition_log.ts";
import type { PartitionStore, SegmentInfo } from "./storage.ts";
import type { RecordInput } from "./types.ts";

const text = new TextEncoder();
const T0 = 1_700_000_000_000;

/**
 * A store over memory that records each append call and can hold appends
 * open after writing them, as a store waiting for fsync would.
 */
class ProbeStore implements PartitionStore {
  appendCalls: number[] = [];
  failNext = false;
  #inner: PartitionStore;
  #gate: Promise<void> | undefined;
  #started: (() => void) | undefined;

  constructor(inner: PartitionStore) {
    this.#inner = inner;
  }

  /** Holds appends until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.#gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  /** Resolves when the next append call starts. */
  nextAppend(): Promise<void> {
    return new Promise((resolve) => (this.#started = resolve));
  }

  get logStartOffset() {
    return this.#inner.logStartOffset;
  }
  get nextOffset() {
    return this.#inner.nextOffset;
  }
  get sizeBytes() {
    return this.#inner.sizeBytes;
  }

  async append(batches: readonly Uint8Array[]): Promise<void> {
    this.appendCalls.push(batches.length);
    const gate = this.#gate;
    this.#started?.();
    this.#started = undefined;
    if (this.failNext) {
      this.failNext = false;
      await gate;
      throw new Error("disk on fire");
    }
    await this.#inner.append(batches);
    await gate;
  }
  read(offset: number, maxBytes: number) {
    return this.#inner.read(offset, maxBytes);
  }
  findBatchByTimestamp(timestamp: number) {
    return this.#inner.findBatchByTimestamp(timestamp);
  }
  segments() {
    return this.#inner.segments();
  }
  deleteBefore(offset: number) {
    return this.#inner.deleteBefore(offset);
  }
  flush() {
    return this.#inner.flush();
  }
  close() {
    return this.#inner.close();
  }
}

async function setup(
  options: Partial<PartitionLogOptions> = {},
): Promise<{ log: PartitionLog; store: ProbeStore; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const store = new ProbeStore(
    await new MemoryStorage().openPartition("t", 0),
  );
  const log = new PartitionLog(store, {
    topic: "t",
    partition: 0,
    clock,
    ...options,
  });
  return { log, store, clock };
}

function values(...names: string[]): RecordInput[] {
  return names.map((name) => ({ value: text.encode(name) }));
}

function decoded(value: Uint8Array | null): string {
  return value === null ? "<null>" : new TextDecoder().decode(value);
}

/** Appends one record per timestamp, each in its own batch. */
async function appendTimed(log: PartitionLog, timestamps: number[][]) {
  for (const batch of timestamps) {
    await log.appendRecords(
      batch.map((timestamp) => ({
        value: text.encode(`${timestamp}`),
        timestamp,
      })),
    );
  }
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  extra?: Record<string, unknown>,
): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof EdgelogError, `not an EdgelogError: ${err}`);
    assert.equal(err.code, code);
    if (extra) assert.deepEqual({ ...err.extra }, extra);
    return true;
  });
}

Deno.test("appendRecords assigns contiguous offsets and read returns the records", async () => {
  const { log, clock } = await setup();
  assert.deepEqual(log.info(), {
    partition: 0,
    logStartOffset: 0,
    highWatermark: 0,
    sizeBytes: 0,
  });
  assert.deepEqual(await log.appendRecords(values("a", "b")), {
    baseOffset: 0,
    lastOffset: 1,
  });
  clock.advance(5);
  assert.deepEqual(await log.appendRecords(values("c")), {
    baseOffset: 2,
    lastOffset: 2,
  });
  assert.equal(log.highWatermark, 3);
  const result = await log.read(0);
  assert.deepEqual(
    result.records.map((r) => [r.offset, decoded(r.value), r.timestamp]),
    [
      [0, "a", T0],
      [1, "b", T0],
      [2, "c", T0 + 5],
    ],
  );
  assert.equal(result.nextOffset, 3);
  assert.equal(result.highWatermark, 3);
  assert.equal(result.logStartOffset, 0);
  assert.ok(log.sizeBytes > 0);
});

Deno.test("concurrent appends during a storage append are group-committed", async () => {
  const { log, store } = await setup();
  const release = store.hold();
  const started = store.nextAppend();
  const first = log.appendRecords(values("a", "b"));
  await started;
  const others = await Promise.all([
    encodeBatch(values("c"), { now: T0 }),
    encodeBatch(values("d", "e", "f"), { now: T0 }),
  ]);
  const second = log.appendBatches([others[0]!]);
  const third = log.appendBatches([others[1]!]);
  const fourth = log.appendRecords(values("g"));
  // Let the encoding of the fourth finish before the first commit ends.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(log.highWatermark, 0, "nothing is acknowledged yet");
  release();
  assert.deepEqual(await Promise.all([first, second, third, fourth]), [
    { baseOffset: 0, lastOffset: 1 },
    { baseOffset: 2, lastOffset: 2 },
    { baseOffset: 3, lastOffset: 5 },
    { baseOffset: 6, lastOffset: 6 },
  ]);
  assert.deepEqual(store.appendCalls, [1, 3], "one call for the waiting group");
  const { records } = await log.read(0);
  assert.deepEqual(records.map((r) => decoded(r.value)), [
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
  ]);
  assert.deepEqual(records.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6]);
});

Deno.test("appendBatches rewrites baseOffsets of several batches", async () => {
  const { log } = await setup();
  await log.appendRecords(values("x"));
  const batches = [
    await encodeBatch(values("a", "b"), { baseOffset: 77, now: T0 }),
    await encodeBatch(values("c"), { baseOffset: 3, now: T0 }),
  ];
  assert.deepEqual(await log.appendBatches(batches), {
    baseOffset: 1,
    lastOffset: 3,
  });
  assert.deepEqual(batches.map((b) => readBatchHeader(b).baseOffset), [1, 3]);
  const stored = await log.readBatches(0, 1 << 20);
  assert.deepEqual(stored.map((b) => readBatchHeader(b).baseOffset), [0, 1, 3]);
  await assert.rejects(log.appendBatches([]), RangeError);
  await assert.rejects(log.appendRecords([]), RangeError);
});

Deno.test("acknowledged appends only are visible to readers", async () => {
  const { log, store } = await setup();
  await log.appendRecords(values("a"));
  const release = store.hold();
  const started = store.nextAppend();
  const pending = log.appendRecords(values("b"));
  await started;
  assert.equal(store.nextOffset, 2, "the store holds the batch already");
  assert.equal((await log.readBatches(0, 1 << 20)).length, 1);
  assert.deepEqual((await log.read(0)).records.map((r) => r.offset), [0]);
  await rejectsWith(log.read(2), "OFFSET_OUT_OF_RANGE");
  release();
  await pending;
  assert.deepEqual((await log.read(0)).records.map((r) => r.offset), [0, 1]);
});

Deno.test("a failed storage append rejects its callers and writes nothing", async () => {
  const { log, store } = await setup();
  await log.appendRecords(values("a"));
  const release = store.hold();
  store.failNext = true;
  const started = store.nextAppend();
  const failing = assert.rejects(
    log.appendRecords(values("b")),
    /disk on fire/,
  );
  await started;
  const next = log.appendRecords(values("c"));
  release();
  await failing;
  assert.deepEqual(await next, { baseOffset: 1, lastOffset: 1 });
  assert.equal(log.highWatermark, 2);
  assert.deepEqual(
    (await log.read(0)).records.map((r) => decoded(r.value)),
    ["a", "c"],
  );
});

Deno.test("read skips records before the offset and honours its limits", async () => {
  const { log } = await setup();
  await log.appendRecords(values("0", "1", "2"));
  await log.appendRecords(values("3", "4"));
  await log.appendRecords(values("5", "6", "7", "8"));
  const offsets = async (offset: number, options = {}) => {
    const r = await log.read(offset, options);
    return [r.records.map((x) => x.offset), r.nextOffset];
  };
  assert.deepEqual(await offsets(1), [[1, 2, 3, 4, 5, 6, 7, 8], 9]);
  assert.deepEqual(await offsets(4), [[4, 5, 6, 7, 8], 9]);
  assert.deepEqual(await offsets(1, { maxRecords: 3 }), [[1, 2, 3], 4]);
  assert.deepEqual(await offsets(1, { maxRecords: 2 }), [[1, 2], 3]);
  assert.deepEqual(await offsets(6, { maxRecords: 1 }), [[6], 7]);
  assert.deepEqual(await offsets(2, { maxRecords: 0 }), [[], 2]);
  assert.deepEqual(await offsets(1, { maxBytes: 1 }), [[1, 2], 3], "one batch");
  assert.deepEqual(await offsets(9), [[], 9]);
  assert.deepEqual(await offsets(8, { maxBytes: 1 }), [[8], 9]);
});

Deno.test("offsets outside the log are OFFSET_OUT_OF_RANGE with the bounds", async () => {
  const { log } = await setup({ config: { retentionBytes: 1 } });
  for (let i = 0; i < 4; i++) await log.appendRecords(values("a", "b"));
  await rejectsWith(log.read(9), "OFFSET_OUT_OF_RANGE", {
    logStartOffset: 0,
    highWatermark: 8,
  });
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 6, "all but the active batch are gone");
  await rejectsWith(log.readBatches(5, 100), "OFFSET_OUT_OF_RANGE", {
    logStartOffset: 6,
    highWatermark: 8,
  });
  await rejectsWith(log.read(-1), "OFFSET_OUT_OF_RANGE");
  assert.deepEqual((await log.read(6)).records.map((r) => r.offset), [6, 7]);
  await assert.rejects(log.read(1.5), RangeError);
});

Deno.test("offsetForTimestamp finds the first record at or after a time", async () => {
  const { log } = await setup();
  // Batches' max timestamps: 30, 60, 45, 90 — not monotonic.
  await appendTimed(log, [[10, 30, 20], [60, 40], [45], [50, 90, 70]]);
  const cases: [number, number][] = [
    [0, 0],
    [10, 0],
    [11, 1],
    [25, 1],
    [30, 1],
    [31, 3],
    [41, 3],
    [60, 3],
    [61, 7],
    [71, 7],
    [90, 7],
    [91, 9],
  ];
  for (const [timestamp, offset] of cases) {
    assert.equal(
      await log.offsetForTimestamp(timestamp),
      offset,
      `T=${timestamp}`,
    );
  }
});

Deno.test("waitForData wakes on append, times out on the clock, stops on abort", async (t) => {
  const { log, clock } = await setup();
  await t.step("data already there", async () => {
    await log.appendRecords(values("a"));
    assert.equal(await log.waitForData(0, 1000), true);
    assert.equal(log.waiters, 0);
  });
  await t.step("woken by an append without the clock moving", async () => {
    const waiting = log.waitForData(1, 60_000);
    const waiting2 = log.waitForData(1, 60_000);
    const later = log.waitForData(2, 60_000);
    assert.equal(log.waiters, 3);
    await log.appendRecords(values("b"));
    assert.deepEqual(await Promise.all([waiting, waiting2]), [true, true]);
    assert.equal(log.waiters, 1, "the waiter for offset 2 still waits");
    await log.appendRecords(values("c"));
    assert.equal(await later, true);
    assert.equal(log.waiters, 0);
  });
  await t.step("times out on the injected clock", async () => {
    const waiting = log.waitForData(3, 500);
    clock.advance(499);
    await Promise.resolve();
    assert.equal(log.waiters, 1);
    clock.advance(1);
    assert.equal(await waiting, false);
    assert.equal(log.waiters, 0);
    assert.equal(await log.waitForData(3, 0), false, "no wait at all");
  });
  await t.step("an abort ends the wait", async () => {
    const controller = new AbortController();
    const waiting = log.waitForData(3, 60_000, controller.signal);
    controller.abort();
    assert.equal(await waiting, false);
    assert.equal(log.waiters, 0);
    assert.equal(await log.waitForData(3, 60_000, controller.signal), false);
  });
  await t.step("an append after a timeout does not resolve twice", async () => {
    const waiting = log.waitForData(3, 10);
    clock.advance(10);
    assert.equal(await waiting, false);
    await log.appendRecords(values("d"));
    assert.equal(log.waiters, 0);
  });
  await t.step("closing wakes waiters with false", async () => {
    const waiting = log.waitForData(10, 60_000);
    await log.close();
    assert.equal(await waiting, false);
    assert.equal(log.waiters, 0);
    await rejectsWith(log.appendRecords(values("z")), "UNAVAILABLE");
  });
});

Deno.test("time retention deletes expired batches, never the active one", async () => {
  const { log, clock } = await setup({ config: { retentionMs: 1000 } });
  await log.appendRecords(values("0", "1"));
  clock.advance(500);
  await log.appendRecords(values("2"));
  clock.advance(500);
  await log.appendRecords(values("3"));
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 0, "nothing is older than 1000 ms yet");
  clock.advance(1);
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 2);
  clock.advance(10_000);
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 3, "the active batch stays");
  assert.deepEqual((await log.read(3)).records.map((r) => decoded(r.value)), [
    "3",
  ]);
});

Deno.test("size retention keeps at least retentionBytes", async () => {
  const { log } = await setup({ config: { retentionBytes: 1 } });
  const sizes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const before = log.sizeBytes;
    await log.appendRecords(values(`${i}`));
    sizes.push(log.sizeBytes - before);
  }
  const { log: log2 } = await setup({
    config: { retentionBytes: sizes[2]! + sizes[3]! },
  });
  for (let i = 0; i < 4; i++) await log2.appendRecords(values(`${i}`));
  await log2.enforceRetention();
  assert.equal(log2.logStartOffset, 2);
  assert.equal(log2.sizeBytes, sizes[2]! + sizes[3]!);
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 3);
});

Deno.test("retention never deletes at or above the retention floor", async () => {
  let floor = 2;
  const { log, clock } = await setup({
    config: { retentionMs: 10 },
    retentionFloor: () => floor,
  });
  for (let i = 0; i < 5; i++) await log.appendRecords(values(`${i}`));
  clock.advance(100);
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 2);
  floor = 3;
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 3);
});

Deno.test("a compacted topic is not trimmed by time or size", async () => {
  const { log, clock } = await setup({
    config: { retentionMs: 10, retentionBytes: 1, cleanupPolicy: "compact" },
  });
  for (let i = 0; i < 3; i++) await log.appendRecords(values(`${i}`));
  clock.advance(100);
  await log.enforceRetention();
  assert.equal(log.logStartOffset, 0);
});

Deno.test("a full budget with 'reject' fails the append and writes nothing", async () => {
  const probe = await setup();
  await probe.log.appendRecords(values("a"));
  const one = probe.log.sizeBytes;
  const { log } = await setup({
    config: { diskBudgetBytes: 2 * one, whenFull: "reject" },
  });
  await log.appendRecords(values("a"));
  await log.appendRecords(values("b"));
  assert.equal(log.sizeBytes, 2 * one);
  await rejectsWith(log.appendRecords(values("c")), "STORAGE_FULL");
  assert.equal(log.highWatermark, 2);
  assert.equal(log.sizeBytes, 2 * one);
  assert.deepEqual((await log.read(0)).records.map((r) => decoded(r.value)), [
    "a",
    "b",
  ]);
});

Deno.test("'reject' fails only the appends of a group that do not fit", async () => {
  const probe = await setup();
  await probe.log.appendRecords(values("a"));
  const one = probe.log.sizeBytes;
  const { log, store } = await setup({
    config: { diskBudgetBytes: 2 * one, whenFull: "reject" },
  });
  const release = store.hold();
  const started = store.nextAppend();
  const first = log.appendRecords(values("a"));
  await started;
  const second = log.appendRecords(values("b"));
  const third = log.appendRecords(values("c"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  release();
  assert.deepEqual(await first, { baseOffset: 0, lastOffset: 0 });
  assert.deepEqual(await second, { baseOffset: 1, lastOffset: 1 });
  await rejectsWith(third, "STORAGE_FULL");
  assert.equal(log.highWatermark, 2);
});

Deno.test("a full budget with 'dropOldest' drops the oldest batches and reports them", async () => {
  const probe = await setup();
  await probe.log.appendRecords(values("0", "1"));
  const one = probe.log.sizeBytes;
  const drops: DropEvent[] = [];
  const { log } = await setup({
    config: { diskBudgetBytes: 3 * one, whenFull: "dropOldest" },
    retentionFloor: () => 0,
    onDrop: (e) => drops.push(e),
  });
  for (let i = 0; i < 3; i++) {
    await log.appendRecords(values(`${2 * i}`, `${2 * i + 1}`));
  }
  assert.deepEqual(drops, []);
  await log.appendRecords(values("6", "7"));
  assert.deepEqual(drops, [{
    topic: "t",
    partition: 0,
    fromOffset: 0,
    toOffset: 1,
    records: 2,
  }]);
  assert.equal(log.sizeBytes, 3 * one);
  assert.equal(log.logStartOffset, 2);
  assert.equal(log.highWatermark, 8);
});

Deno.test("onAppend reports each acknowledged append; a throwing listener is harmless", async () => {
  const events: AppendEvent[] = [];
  const { log } = await setup({
    onAppend: (e) => {
      events.push(e);
      throw new Error("listener bug");
    },
  });
  await log.appendRecords(values("a", "b", "c"));
  const batch = await encodeBatch(values("d"), { now: T0 });
  await log.appendBatches([batch]);
  assert.equal(events.length, 2);
  assert.deepEqual(events[1], {
    topic: "t",
    partition: 0,
    baseOffset: 3,
    lastOffset: 3,
    records: 1,
    bytes: batch.length,
  });
  assert.deepEqual({ ...events[0], bytes: 0 }, {
    topic: "t",
    partition: 0,
    baseOffset: 0,
    lastOffset: 2,
    records: 3,
    bytes: 0,
  });
});

Deno.test("a reopened partition continues at the stored high watermark", async () => {
  const storage = new MemoryStorage();
  const first = new PartitionLog(await storage.openPartition("t", 0), {
    topic: "t",
    partition: 0,
  });
  await first.appendRecords(values("a", "b"));
  await first.close();
  const again = new PartitionLog(await storage.openPartition("t", 0), {
    topic: "t",
    partition: 0,
  });
  assert.equal(again.highWatermark, 2);
  assert.deepEqual(await again.appendRecords(values("c")), {
    baseOffset: 2,
    lastOffset: 2,
  });
  const units: SegmentInfo[] = await (await storage.openPartition("t", 0))
    .segments();
  assert.equal(units.length, 1);
});

Deno.test("appendBatches validates every batch and writes none of a call with a bad one", async () => {
  const storage = new MemoryStorage();
  const log = new PartitionLog(await storage.openPartition("t", 0), {
    topic: "t",
    partition: 0,
  });
  const good = await encodeBatch([{ value: text.encode("a"), timestamp: 1 }]);
  const empty = good.slice();
  const view = new DataView(empty.buffer);
  view.setInt32(57, 0);
  view.setInt32(23, -1);
  view.setUint32(17, crc32c(empty.subarray(21)));
  await assert.rejects(
    log.appendBatches([good.slice(), empty]),
    (e: unknown) =>
      e instanceof EdgelogError && e.code === "CORRUPT_BATCH" &&
      /^Batch 1: .*at least 1/.test(e.message),
  );
  assert.equal(log.highWatermark, 0);
  await log.close();
});

Deno.test("appends keep their call order while a gzip batch is being checked", async () => {
  const storage = new MemoryStorage();
  const log = new PartitionLog(await storage.openPartition("t", 0), {
    topic: "t",
    partition: 0,
  });
  const gzip = await encodeBatch(
    [{ value: text.encode("first"), timestamp: 1 }],
    { compression: "gzip" },
  );
  const plain = await encodeBatch([{
    value: text.encode("second"),
    timestamp: 2,
  }]);
  const [a, b] = await Promise.all([
    log.appendBatches([gzip]),
    log.appendBatches([plain]),
  ]);
  assert.deepEqual([a.baseOffset, b.baseOffset], [0, 1]);
  await log.close();
});
