import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "../clock.ts";
import { encodeBatch } from "../format/mod.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { PartitionLog } from "./partition_log.ts";
import type { PartitionStore } from "./storage.ts";
import type { AppendResult, ReadResult } from "./types.ts";

const text = new TextEncoder();
const utf8 = new TextDecoder();

type Command =
  | { kind: "append"; count: number; batches: boolean }
  | { kind: "read"; at: number; maxRecords: number; maxBytes: number }
  | { kind: "retain"; advanceMs: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant("append" as const),
    count: fc.integer({ min: 1, max: 4 }),
    batches: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("read" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    maxRecords: fc.integer({ min: 1, max: 12 }),
    maxBytes: fc.integer({ min: 1, max: 600 }),
  }),
  fc.record({
    kind: fc.constant("retain" as const),
    advanceMs: fc.integer({ min: 0, max: 40 }),
  }),
);

/** Every store call goes through the scheduler, which picks the order. */
function scheduled(store: PartitionStore, s: fc.Scheduler): PartitionStore {
  return {
    get logStartOffset() {
      return store.logStartOffset;
    },
    get nextOffset() {
      return store.nextOffset;
    },
    get sizeBytes() {
      return store.sizeBytes;
    },
    append: s.scheduleFunction((b: readonly Uint8Array[]) => store.append(b)),
    read: s.scheduleFunction((o: number, m: number) => store.read(o, m)),
    findBatchByTimestamp: (t) => store.findBatchByTimestamp(t),
    segments: s.scheduleFunction(() => store.segments()),
    activeSegment: () => store.activeSegment(),
    roll: s.scheduleFunction(() => store.roll()),
    deleteBefore: s.scheduleFunction((o: number) => store.deleteBefore(o)),
    flush: () => store.flush(),
    close: () => store.close(),
  };
}

Deno.test("interleaved appends, reads and retention keep offsets contiguous and reads consistent", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(command, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 1500 }),
      async (s, commands, retentionBytes) => {
        const clock = new ManualClock(1000);
        const store = await new MemoryStorage().openPartition("t", 0);
        const log = new PartitionLog(scheduled(store, s), {
          topic: "t",
          partition: 0,
          clock,
          config: { retentionMs: 50, retentionBytes },
        });
        const appends: Promise<[AppendResult, string[]]>[] = [];
        const reads: Promise<[number, ReadResult]>[] = [];
        const retained: Promise<void>[] = [];
        let id = 0;
        let lastStart = 0;
        for (const c of commands) {
          if (c.kind === "append") {
            const values = Array.from({ length: c.count }, () => `v${id++}`);
            const records = values.map((v) => ({ value: text.encode(v) }));
            const result = c.batches
              ? Promise.all(
                records.map((r) => encodeBatch([r], { now: clock.now() })),
              ).then((b) => log.appendBatches(b))
              : log.appendRecords(records);
            appends.push(result.then((r) => [r, values]));
          } else if (c.kind === "read") {
            const start = log.logStartOffset;
            const at = start +
              Math.floor(c.at * (log.highWatermark - start + 1));
            const offset = Math.min(at, log.highWatermark);
            reads.push(
              log.read(offset, c)
                .then((r) => [offset, r]),
            );
          } else {
            clock.advance(c.advanceMs);
            retained.push(log.enforceRetention());
          }
          assert.ok(
            log.logStartOffset >= lastStart,
            "log start never moves back",
          );
          lastStart = log.logStartOffset;
          assert.ok(log.logStartOffset <= log.highWatermark);
        }
        const done = await s.waitFor(
          Promise.all([
            Promise.all(appends),
            Promise.all(reads),
            Promise.all(retained),
          ]),
        );
        const [appended, readResults] = done;

        // Appends got disjoint ranges that tile [0, highWatermark).
        const byOffset = new Map<number, string>();
        const ranges = appended.map(([r]) => r).sort((a, b) =>
          a.baseOffset - b.baseOffset
        );
        let next = 0;
        for (const range of ranges) {
          assert.equal(
            range.baseOffset,
            next,
            "no gap or overlap between appends",
          );
          next = range.lastOffset + 1;
        }
        assert.equal(log.highWatermark, next);
        for (const [r, values] of appended) {
          assert.equal(r.lastOffset - r.baseOffset + 1, values.length);
          values.forEach((v, i) => byOffset.set(r.baseOffset + i, v));
        }

        // Every read saw contiguous records, each the one appended there.
        for (const [offset, result] of readResults) {
          const offsets = result.records.map((r) => r.offset);
          if (offsets.length > 0) {
            assert.ok(offsets[0]! >= offset, "no record before the offset");
            offsets.forEach((o, i) =>
              i > 0 && assert.equal(o, offsets[i - 1]! + 1)
            );
            assert.equal(result.nextOffset, offsets[offsets.length - 1]! + 1);
          } else {
            assert.equal(result.nextOffset, offset);
          }
          for (const record of result.records) {
            assert.equal(
              utf8.decode(record.value!),
              byOffset.get(record.offset),
            );
          }
        }

        // What is left is the tail of the log, whole and in order.
        const start = log.logStartOffset;
        if (log.highWatermark > 0) {
          assert.ok(start < log.highWatermark, "the active batch stays");
        }
        const tail = await s.waitFor(log.read(start, { maxBytes: 1 << 20 }));
        assert.deepEqual(
          tail.records.map((r) => [r.offset, utf8.decode(r.value!)]),
          Array.from(
            { length: log.highWatermark - start },
            (_, i) => [start + i, byOffset.get(start + i)],
          ),
        );
        await log.close();
      },
    ),
    { numRuns: 150 },
  );
});
