/**
 * The one conformance suite of the storage port: the memory, filesystem and
 * IndexedDB adapters all pass these cases. They use only the storage
 * interface, the batch codec and a small assert of their own, so the same
 * cases run under `deno test` ({@linkcode runStorageConformance}) and inside
 * a browser page ({@linkcode storageConformanceCases}).
 *
 * What the cases expect of the adapter under test:
 * - a fresh, empty storage from each `makeStorage()` call;
 * - small deletable units: the retention cases append about 10 KiB in
 *   batches of about 1 KiB and need at least two units besides the active
 *   one, so a unit must roll after at most 4 KiB;
 * - when `reopen` is given, it opens the same data again as after a restart.
 *   A case closes its storage before calling `reopen`, and closes the last
 *   storage it holds before it ends.
 *
 * @module
 */

import { ManualClock } from "../clock.ts";
import { encodeBatch } from "../format/mod.ts";
import { lastOffset, readBatchHeader } from "../format/batch_header.ts";
import { PartitionLog } from "./partition_log.ts";
import type { PartitionStore, SegmentInfo, Storage } from "./storage.ts";

/** What a case gets: a fresh storage and, if the adapter can, a reopener. */
export interface ConformanceContext {
  storage: Storage;
  /** Opens the same data again; call it after closing `storage`. */
  reopen: (() => Promise<Storage>) | undefined;
}

/** One case of the suite. */
export interface ConformanceCase {
  name: string;
  run(ctx: ConformanceContext): Promise<void>;
}

/** The only test API the suite needs: somewhere to register a case. */
export interface ConformanceHarness {
  test(name: string, fn: () => Promise<void>): void;
}

/** What `makeStorage` gives {@linkcode runStorageConformance}. */
export interface ConformanceSubject {
  storage: Storage;
  reopen?: () => Promise<Storage>;
  cleanup?: () => Promise<void>;
}

/** Options of {@linkcode runStorageConformance}. */
export interface RunConformanceOptions {
  /** Where to register the cases; default: the Deno test runner. */
  harness?: ConformanceHarness;
}

class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceError";
  }
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (
    typeof a === "object" && a !== null && typeof b === "object" &&
    b !== null && !Array.isArray(a) && !Array.isArray(b)
  ) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return same(ka, kb) &&
      ka.every((k) =>
        same(
          (a as Record<string, unknown>)[k],
          (b as Record<string, unknown>)[k],
        )
      );
  }
  return false;
}

function show(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => v instanceof Uint8Array ? `<${v.length} bytes>` : v,
  );
}

function equal(actual: unknown, expected: unknown, what: string): void {
  if (!same(actual, expected)) {
    throw new ConformanceError(
      `${what}: expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

const T0 = 1_700_000_000_000;

/**
 * One encoded batch of `count` records at `baseOffset`; record i has
 * timestamp `timestamps[i]` (default T0 + offset) and a value of
 * `valueBytes` bytes that names its offset.
 */
async function makeBatch(
  baseOffset: number,
  count: number,
  options: { timestamps?: number[]; valueBytes?: number } = {},
): Promise<Uint8Array> {
  const records = Array.from({ length: count }, (_, i) => {
    const offset = baseOffset + i;
    const value = new Uint8Array(options.valueBytes ?? 16).fill(offset % 251);
    return {
      key: new TextEncoder().encode(`key-${offset}`),
      value,
      timestamp: options.timestamps?.[i] ?? T0 + offset,
    };
  });
  return await encodeBatch(records, { baseOffset });
}

/** Appends batches of the given record counts and returns them. */
async function appendCounts(
  store: PartitionStore,
  counts: number[],
  options: { valueBytes?: number } = {},
): Promise<Uint8Array[]> {
  const batches: Uint8Array[] = [];
  let offset = store.nextOffset;
  for (const count of counts) {
    batches.push(await makeBatch(offset, count, options));
    offset += count;
  }
  await store.append(batches);
  return batches;
}

function span(batch: Uint8Array): { base: number; last: number } {
  const header = readBatchHeader(batch);
  return { base: header.baseOffset, last: lastOffset(header) };
}

function totalBytes(batches: readonly Uint8Array[]): number {
  return batches.reduce((n, b) => n + b.length, 0);
}

/** Checks that `read` returns exactly `expected`, in order. */
async function expectRead(
  store: PartitionStore,
  offset: number,
  expected: readonly Uint8Array[],
  what: string,
): Promise<void> {
  const got = await store.read(offset, Number.MAX_SAFE_INTEGER);
  equal(got.map(span), expected.map(span), `${what}: batch offsets`);
  equal(got, expected, `${what}: batch bytes`);
}

/** Checks that the units tile a prefix of the log and returns them. */
async function checkedUnits(
  store: PartitionStore,
  batches: readonly Uint8Array[],
): Promise<SegmentInfo[]> {
  const units = await store.segments();
  let next = store.logStartOffset;
  for (const unit of units) {
    equal(unit.baseOffset, next, "unit starts where the previous one ended");
    check(unit.nextOffset > unit.baseOffset, "unit holds offsets");
    check(unit.sizeBytes > 0, "unit has a size");
    const inside = batches.filter((b) => {
      const { base, last } = span(b);
      return base >= unit.baseOffset && last < unit.nextOffset;
    });
    const maxTimestamp = Math.max(
      ...inside.map((b) => readBatchHeader(b).maxTimestamp),
    );
    equal(unit.maxTimestamp, maxTimestamp, "unit maxTimestamp");
    next = unit.nextOffset;
  }
  const last = batches[batches.length - 1];
  if (last !== undefined) {
    check(
      next <= span(last).base,
      `the active unit (holding offset ${span(last).base}) is not listed`,
    );
  }
  return units;
}

/**
 * The cases of the suite, for a runner of your own (the browser runs them in
 * a page). Give each case a fresh storage.
 *
 * @example Usage
 * ```ts
 * import { storageConformanceCases } from "./storage_conformance.ts";
 * import { MemoryStorage } from "./memory_storage.ts";
 * for (const c of storageConformanceCases()) {
 *   await c.run({ storage: new MemoryStorage(), reopen: undefined });
 * }
 * ```
 */
export function storageConformanceCases(): ConformanceCase[] {
  return [
    {
      name: "an empty partition starts at offset 0",
      async run({ storage }) {
        const store = await storage.openPartition("empty", 0);
        equal(store.logStartOffset, 0, "logStartOffset");
        equal(store.nextOffset, 0, "nextOffset");
        equal(store.sizeBytes, 0, "sizeBytes");
        equal(await store.read(0, 1 << 20), [], "read(0)");
        equal(await store.read(5, 1 << 20), [], "read(5)");
        equal(await store.segments(), [], "segments");
        equal(await store.findBatchByTimestamp(0), null, "find by time");
        await store.deleteBefore(100);
        equal(store.logStartOffset, 0, "logStartOffset after deleteBefore");
        equal(store.nextOffset, 0, "nextOffset after deleteBefore");
        await store.flush();
        await storage.close();
      },
    },
    {
      name: "appended batches are read back from every offset",
      async run({ storage }) {
        const store = await storage.openPartition("orders", 0);
        const batches = await appendCounts(store, [1, 3]);
        batches.push(...await appendCounts(store, [2]));
        batches.push(...await appendCounts(store, [4, 1, 1]));
        equal(store.logStartOffset, 0, "logStartOffset");
        equal(store.nextOffset, 12, "nextOffset");
        for (let offset = 0; offset < 12; offset++) {
          const from = batches.findIndex((b) => span(b).last >= offset);
          await expectRead(
            store,
            offset,
            batches.slice(from),
            `read(${offset})`,
          );
        }
        await storage.close();
      },
    },
    {
      name: "read honours maxBytes but returns at least one batch",
      async run({ storage }) {
        const store = await storage.openPartition("sized", 0);
        const batches = await appendCounts(store, [2, 2, 2, 2], {
          valueBytes: 100,
        });
        const [b0, b1, b2] = batches as [Uint8Array, Uint8Array, Uint8Array];
        equal(await store.read(0, 0), [b0], "maxBytes 0");
        equal(await store.read(0, 1), [b0], "maxBytes 1");
        equal(await store.read(0, b0.length), [b0], "one batch exactly");
        equal(
          await store.read(1, b0.length + b1.length - 1),
          [b0],
          "one byte short of two",
        );
        equal(
          await store.read(1, b0.length + b1.length),
          [b0, b1],
          "two batches exactly",
        );
        equal(
          await store.read(2, b1.length + b2.length),
          [b1, b2],
          "from the second batch",
        );
        equal(
          await store.read(7, 1),
          [batches[3]],
          "last batch from its last offset",
        );
        await storage.close();
      },
    },
    {
      name: "a read at or after nextOffset is empty",
      async run({ storage }) {
        const store = await storage.openPartition("tail", 0);
        await appendCounts(store, [3, 2]);
        equal(await store.read(5, 1 << 20), [], "read(nextOffset)");
        equal(await store.read(6, 1 << 20), [], "read(nextOffset + 1)");
        equal(await store.read(1e12, 1 << 20), [], "read far ahead");
        await storage.close();
      },
    },
    {
      name: "stored bytes do not change when callers change theirs",
      async run({ storage }) {
        const store = await storage.openPartition("copies", 0);
        const batch = await makeBatch(0, 2);
        const original = batch.slice();
        await store.append([batch]);
        batch.fill(0);
        const [first] = await store.read(0, 1 << 20);
        equal(first, original, "after changing the appended array");
        first!.fill(7);
        equal(
          await store.read(0, 1 << 20),
          [original],
          "after changing a read array",
        );
        await storage.close();
      },
    },
    {
      name: "findBatchByTimestamp finds the first batch reaching a time",
      async run({ storage }) {
        const store = await storage.openPartition("times", 0);
        // max timestamps 100, 300, 200, 400: not monotonic
        const batches = [
          await makeBatch(0, 2, { timestamps: [50, 100] }),
          await makeBatch(2, 2, { timestamps: [300, 120] }),
          await makeBatch(4, 1, { timestamps: [200] }),
          await makeBatch(5, 3, { timestamps: [150, 400, 10] }),
        ];
        await store.append(batches.slice(0, 2));
        await store.append(batches.slice(2));
        const cases: [number, number | null][] = [
          [0, 0],
          [50, 0],
          [100, 0],
          [101, 2],
          [150, 2],
          [250, 2],
          [300, 2],
          [301, 5],
          [400, 5],
          [401, null],
        ];
        for (const [timestamp, expected] of cases) {
          equal(
            await store.findBatchByTimestamp(timestamp),
            expected,
            `findBatchByTimestamp(${timestamp})`,
          );
        }
        await storage.close();
      },
    },
    {
      name: "segments lists the deletable units, never the active one",
      async run({ storage }) {
        const store = await storage.openPartition("units", 0);
        equal(await store.segments(), [], "no units when empty");
        const first = await appendCounts(store, [1]);
        await checkedUnits(store, first);
        const batches = [...first];
        for (let i = 0; i < 9; i++) {
          batches.push(
            ...await appendCounts(store, [2], { valueBytes: 1000 }),
          );
        }
        const units = await checkedUnits(store, batches);
        check(
          units.length >= 2,
          `expected at least 2 deletable units in 10 KiB, got ${units.length}`,
        );
        const unitBytes = units.reduce((n, u) => n + u.sizeBytes, 0);
        check(unitBytes < store.sizeBytes, "the active unit has a size too");
        await storage.close();
      },
    },
    {
      name: "deleteBefore moves logStartOffset by whole units",
      async run({ storage }) {
        const store = await storage.openPartition("retained", 0);
        const batches: Uint8Array[] = [];
        for (let i = 0; i < 10; i++) {
          batches.push(
            ...await appendCounts(store, [3], { valueBytes: 1000 }),
          );
        }
        const units = await checkedUnits(store, batches);
        check(units.length >= 2, "the adapter rolls units within 4 KiB");
        const [u0, u1] = units as [SegmentInfo, SegmentInfo];
        const size = store.sizeBytes;
        const next = store.nextOffset;

        await store.deleteBefore(u0.nextOffset - 1);
        equal(store.logStartOffset, 0, "a unit partly above the cut stays");
        equal(store.sizeBytes, size, "sizeBytes unchanged");

        await store.deleteBefore(u0.nextOffset);
        equal(store.logStartOffset, u1.baseOffset, "logStartOffset");
        equal(store.sizeBytes, size - u0.sizeBytes, "sizeBytes after delete");
        equal(store.nextOffset, next, "nextOffset unchanged");
        const kept = batches.filter((b) => span(b).base >= u1.baseOffset);
        await expectRead(store, 0, kept, "read below logStartOffset");
        await expectRead(store, u1.baseOffset, kept, "read at logStartOffset");
        const left = await checkedUnits(store, batches);
        equal(left, units.slice(1), "the remaining units");
        const firstTime = readBatchHeader(batches[0]!).maxTimestamp;
        equal(
          await store.findBatchByTimestamp(firstTime),
          u1.baseOffset,
          "a deleted batch is not found by time",
        );

        await store.deleteBefore(1e12);
        const active = batches.filter((b) =>
          span(b).base >= (units[units.length - 1]!.nextOffset)
        );
        equal(
          store.logStartOffset,
          units[units.length - 1]!.nextOffset,
          "everything but the active unit is gone",
        );
        equal(store.nextOffset, next, "nextOffset after deleting all units");
        equal(
          store.sizeBytes,
          size - units.reduce((n, u) => n + u.sizeBytes, 0),
          "sizeBytes is the active unit's",
        );
        await expectRead(store, 0, active, "the active unit is still read");
        equal(await store.segments(), [], "no deletable units left");
        equal(
          (await appendCounts(store, [2])).map(span),
          [{ base: next, last: next + 1 }],
          "appends continue",
        );
        await storage.close();
      },
    },
    {
      name: "sizeBytes grows with every append",
      async run({ storage }) {
        const store = await storage.openPartition("growing", 0);
        let size = store.sizeBytes;
        let appended = 0;
        for (const count of [1, 5, 2]) {
          const batches = await appendCounts(store, [count]);
          appended += totalBytes(batches);
          check(store.sizeBytes > size, "sizeBytes grows");
          check(store.sizeBytes >= appended, "sizeBytes counts the batches");
          size = store.sizeBytes;
        }
        await storage.close();
      },
    },
    {
      name: "reopening keeps batches, offsets and logStartOffset",
      async run({ storage, reopen }) {
        const store = await storage.openPartition("durable", 1);
        const batches: Uint8Array[] = [];
        for (let i = 0; i < 10; i++) {
          batches.push(
            ...await appendCounts(store, [2], { valueBytes: 1000 }),
          );
        }
        const units = await store.segments();
        check(units.length >= 2, "the adapter rolls units within 4 KiB");
        await store.deleteBefore(units[0]!.nextOffset);
        await store.flush();
        const before = {
          logStartOffset: store.logStartOffset,
          nextOffset: store.nextOffset,
          sizeBytes: store.sizeBytes,
          segments: await store.segments(),
          read: await store.read(0, Number.MAX_SAFE_INTEGER),
          found: await store.findBatchByTimestamp(T0 + 5),
        };
        await storage.close();
        if (reopen === undefined) return;

        const again = await reopen();
        const reopened = await again.openPartition("durable", 1);
        const after = {
          logStartOffset: reopened.logStartOffset,
          nextOffset: reopened.nextOffset,
          sizeBytes: reopened.sizeBytes,
          segments: await reopened.segments(),
          read: await reopened.read(0, Number.MAX_SAFE_INTEGER),
          found: await reopened.findBatchByTimestamp(T0 + 5),
        };
        equal(after, before, "state after reopening");

        const more = await appendCounts(reopened, [3, 1]);
        equal(
          more.map(span),
          [{ base: 20, last: 22 }, { base: 23, last: 23 }],
          "offsets after reopening",
        );
        equal(reopened.nextOffset, 24, "nextOffset after appending");
        await expectRead(
          reopened,
          20,
          more,
          "batches appended after reopening",
        );
        await again.close();

        const third = await reopen();
        const last = await third.openPartition("durable", 1);
        equal(last.nextOffset, 24, "nextOffset after a second reopen");
        equal(
          last.logStartOffset,
          before.logStartOffset,
          "logStartOffset after a second reopen",
        );
        await expectRead(
          last,
          0,
          [...before.read, ...more],
          "everything after a second reopen",
        );
        await third.close();
      },
    },
    {
      name: "roll closes the active unit, so that every record may be deleted",
      async run({ storage, reopen }) {
        const store = await storage.openPartition("rolled", 0);
        equal(store.activeSegment(), null, "no active unit when empty");
        await store.roll();
        equal(
          store.nextOffset,
          0,
          "rolling an empty partition changes nothing",
        );
        const batches = await appendCounts(store, [2, 3]);
        const active = store.activeSegment();
        check(active !== null, "an active unit after appending");
        equal(active.nextOffset, 5, "the active unit ends at nextOffset");
        equal(
          active.maxTimestamp,
          readBatchHeader(batches[1]!).maxTimestamp,
          "the active unit's maxTimestamp",
        );
        check(
          active.rollBaseMs >= T0 && active.rollBaseMs <= active.maxTimestamp,
          `rollBaseMs ${active.rollBaseMs} is a timestamp of the unit`,
        );
        check(
          active.sizeBytes > 0 && active.sizeBytes <= store.sizeBytes,
          "the active unit has a size within the partition's",
        );
        await store.roll();
        equal(store.activeSegment(), null, "no active unit after a roll");
        equal((await store.segments()).at(-1)?.nextOffset, 5, "units");
        await store.deleteBefore(5);
        equal(
          [store.logStartOffset, store.nextOffset, store.sizeBytes],
          [5, 5, 0],
          "logStartOffset, nextOffset and sizeBytes after deleting all",
        );
        equal(await store.read(5, 1 << 20), [], "nothing to read");
        equal(await store.findBatchByTimestamp(T0), null, "nothing by time");
        await store.flush();
        await storage.close();
        if (reopen === undefined) return;

        const again = await reopen();
        const reopened = await again.openPartition("rolled", 0);
        equal(
          [reopened.logStartOffset, reopened.nextOffset, reopened.sizeBytes],
          [5, 5, 0],
          "an emptied partition after reopening",
        );
        equal(
          (await appendCounts(reopened, [1])).map(span),
          [{ base: 5, last: 5 }],
          "offsets go on after reopening",
        );
        await again.close();
      },
    },
    {
      name:
        "a quiet partition's records go at the first retention check after they expire",
      async run({ storage, reopen }) {
        const clock = new ManualClock(T0);
        const retentionMs = 60_000;
        const open = async (s: Storage) =>
          new PartitionLog(await s.openPartition("quiet", 0), {
            topic: "quiet",
            partition: 0,
            clock,
            config: { retentionMs },
          });
        const log = await open(storage);
        for (let i = 0; i < 3; i++) {
          await log.appendRecords([{ value: new Uint8Array(100) }]);
          clock.advance(1000);
        }
        const newest = T0 + 2000;
        clock.advance(newest + retentionMs - clock.now());
        await log.enforceRetention();
        equal(log.highWatermark, 3, "highWatermark");
        equal(
          (await log.read(log.logStartOffset)).records.at(-1)?.timestamp,
          newest,
          "the newest record stays while it is in time",
        );
        clock.advance(1);
        await log.enforceRetention();
        equal(
          [log.logStartOffset, log.highWatermark],
          [3, 3],
          "every record is gone after one check",
        );
        await log.close();
        await storage.close();
        if (reopen === undefined) return;

        const again = await reopen();
        const reopened = await open(again);
        equal(reopened.logStartOffset, 3, "logStartOffset after reopening");
        const { baseOffset } = await reopened.appendRecords([{ value: null }]);
        equal(baseOffset, 3, "offsets go on after reopening");
        await reopened.close();
        await again.close();
      },
    },
    {
      name: "a topic's segmentBytes and segmentMs roll the active unit",
      async run({ storage }) {
        const clock = new ManualClock(T0);
        // The log is the store's only writer; the case only asks it about units.
        const store = await storage.openPartition("rolls", 0);
        const log = new PartitionLog(store, {
          topic: "rolls",
          partition: 0,
          clock,
          config: { segmentBytes: 1500, segmentMs: 10_000, retentionMs: -1 },
        });
        const kib = () => [{ value: new Uint8Array(1000) }];
        await log.appendRecords(kib());
        await log.appendRecords(kib());
        equal(
          (await store.segments()).map((u) => u.nextOffset),
          [1],
          "the first KiB is a unit of its own",
        );
        clock.advance(10_000);
        await log.enforceRetention();
        equal(store.activeSegment(), null, "rolled at the retention check");
        await log.appendRecords(kib());
        equal(
          (await store.segments()).at(-1)?.nextOffset,
          2,
          "the unit segmentMs old is closed",
        );
        await log.close();
        await storage.close();
      },
    },
    {
      name: "meta get, set, delete and list",
      async run({ storage, reopen }) {
        const meta = storage.meta;
        equal(await meta.get("missing"), undefined, "missing key");
        const value = { a: 1, nested: { list: [1, "two", null, true] } };
        await meta.set("topic/b", value);
        value.nested.list.push(99);
        equal(
          await meta.get("topic/b"),
          { a: 1, nested: { list: [1, "two", null, true] } },
          "a stored value does not follow the caller's changes",
        );
        const got = await meta.get("topic/b") as { a: number };
        got.a = 2;
        equal(
          (await meta.get("topic/b") as { a: number }).a,
          1,
          "changing a read value does not change the store",
        );
        await meta.set("topic/b", { a: 3 });
        equal(await meta.get("topic/b"), { a: 3 }, "overwritten");
        await meta.set("topic/a", 7);
        await meta.set("topic/c", "text");
        await meta.set("topics", [1, 2]);
        await meta.set("group/x", false);
        await meta.set("null", null);
        equal(
          await meta.list("topic/"),
          [["topic/a", 7], ["topic/b", { a: 3 }], ["topic/c", "text"]],
          "list by prefix, sorted",
        );
        equal(
          (await meta.list("")).map(([k]) => k),
          ["group/x", "null", "topic/a", "topic/b", "topic/c", "topics"],
          "list everything, sorted",
        );
        equal(await meta.get("null"), null, "a null value");
        equal(await meta.list("zzz"), [], "no match");
        await meta.delete("topic/b");
        await meta.delete("never-set");
        equal(await meta.get("topic/b"), undefined, "deleted");
        const expected = await meta.list("");
        await storage.close();
        if (reopen === undefined) return;

        const again = await reopen();
        equal(await again.meta.list(""), expected, "meta after reopening");
        equal(await again.meta.get("topic/a"), 7, "get after reopening");
        await again.close();
      },
    },
    {
      name: "deletePartition removes its data and nothing else",
      async run({ storage, reopen }) {
        const p0 = await storage.openPartition("doomed", 0);
        const p1 = await storage.openPartition("doomed", 1);
        await appendCounts(p0, [2, 3]);
        const kept = await appendCounts(p1, [4]);
        await storage.meta.set("topic/doomed", { partitions: 2 });
        await p0.close();
        await storage.deletePartition("doomed", 0);
        await storage.deletePartition("never-created", 3);

        const fresh = await storage.openPartition("doomed", 0);
        equal(fresh.nextOffset, 0, "nextOffset after delete");
        equal(fresh.logStartOffset, 0, "logStartOffset after delete");
        equal(fresh.sizeBytes, 0, "sizeBytes after delete");
        equal(await fresh.read(0, 1 << 20), [], "no data after delete");
        await expectRead(p1, 0, kept, "the other partition");
        equal(
          await storage.meta.get("topic/doomed"),
          { partitions: 2 },
          "meta is not touched",
        );
        await storage.close();
        if (reopen === undefined) return;

        const again = await reopen();
        const reopened = await again.openPartition("doomed", 0);
        equal(reopened.nextOffset, 0, "nextOffset after reopening");
        equal(await reopened.read(0, 1 << 20), [], "no data after reopening");
        await expectRead(
          await again.openPartition("doomed", 1),
          0,
          kept,
          "the other partition after reopening",
        );
        await again.close();
      },
    },
    {
      name: "partitions and topics are isolated from each other",
      async run({ storage, reopen }) {
        const names: [string, number][] = [
          ["a", 0],
          ["a", 1],
          ["a", 10],
          ["a.b", 0],
          ["a-1", 1],
          ["b", 0],
        ];
        const expected = new Map<string, Uint8Array[]>();
        const stores = await Promise.all(
          names.map(([topic, p]) => storage.openPartition(topic, p)),
        );
        for (let round = 0; round < 3; round++) {
          await Promise.all(stores.map(async (store, i) => {
            const key = names[i]!.join("/");
            const batches = await appendCounts(store, [i + 1 + round]);
            expected.set(key, [...expected.get(key) ?? [], ...batches]);
          }));
        }
        const verify = async (s: Storage, when: string) => {
          for (const [topic, p] of names) {
            const store = await s.openPartition(topic, p);
            const batches = expected.get(`${topic}/${p}`)!;
            equal(
              store.nextOffset,
              span(batches[batches.length - 1]!).last + 1,
              `${topic}/${p} nextOffset ${when}`,
            );
            await expectRead(store, 0, batches, `${topic}/${p} ${when}`);
          }
        };
        await verify(storage, "");
        await storage.close();
        if (reopen === undefined) return;
        const again = await reopen();
        await verify(again, "after reopening");
        await again.close();
      },
    },
  ];
}

/**
 * Registers every case of the suite with a test runner: by default Deno's,
 * one test per case, each with a fresh storage from `makeStorage` and its
 * `cleanup` afterwards.
 *
 * @example Usage
 * ```ts ignore
 * import { runStorageConformance } from "./storage_conformance.ts";
 * import { MemoryStorage } from "./memory_storage.ts";
 * runStorageConformance("memory", () => {
 *   const storage = new MemoryStorage();
 *   return Promise.resolve({ storage, reopen: () => Promise.resolve(storage) });
 * });
 * ```
 */
export function runStorageConformance(
  name: string,
  makeStorage: () => Promise<ConformanceSubject>,
  options: RunConformanceOptions = {},
): void {
  const harness = options.harness ?? denoHarness();
  for (const testCase of storageConformanceCases()) {
    harness.test(`${name} storage: ${testCase.name}`, async () => {
      const subject = await makeStorage();
      try {
        await testCase.run({
          storage: subject.storage,
          reopen: subject.reopen,
        });
      } finally {
        await subject.cleanup?.();
      }
    });
  }
}

/** The Deno test runner, looked up only when no harness is given. */
function denoHarness(): ConformanceHarness {
  const runner = (globalThis as { Deno?: ConformanceHarness }).Deno;
  if (runner === undefined) {
    throw new TypeError(
      "runStorageConformance needs a harness outside Deno; or run storageConformanceCases() yourself",
    );
  }
  return { test: (name, fn) => runner.test(name, fn) };
}
