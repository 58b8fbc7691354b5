import assert from "node:assert/strict";
import { readBatchHeader } from "../format/batch_header.ts";
import { MemoryStorage } from "./memory_storage.ts";
import type { PartitionStore, Storage } from "./storage.ts";
import {
  type ConformanceHarness,
  runStorageConformance,
  storageConformanceCases,
} from "./storage_conformance.ts";

/** A storage whose partitions forget to hide the active unit from retention. */
function leakyStorage(): Storage {
  const inner = new MemoryStorage();
  return {
    kind: "leaky",
    meta: inner.meta,
    async openPartition(topic, partition) {
      const store = await inner.openPartition(topic, partition);
      const leaky: PartitionStore = {
        get logStartOffset() {
          return store.logStartOffset;
        },
        get nextOffset() {
          return store.nextOffset;
        },
        get sizeBytes() {
          return store.sizeBytes;
        },
        append: (batches) => store.append(batches),
        read: (offset, maxBytes) => store.read(offset, maxBytes),
        findBatchByTimestamp: (t) => store.findBatchByTimestamp(t),
        // The fault: the active unit is listed as deletable.
        segments: async () => {
          const units = await store.segments();
          const all = await store.read(0, Number.MAX_SAFE_INTEGER);
          const last = all.length > 0
            ? readBatchHeader(all[all.length - 1]!)
            : undefined;
          return last === undefined ? units : [...units, {
            baseOffset: last.baseOffset,
            nextOffset: last.baseOffset + last.lastOffsetDelta + 1,
            maxTimestamp: last.maxTimestamp,
            sizeBytes: all[all.length - 1]!.length,
          }];
        },
        activeSegment: () => store.activeSegment(),
        roll: () => store.roll(),
        deleteBefore: (offset) => store.deleteBefore(offset),
        flush: () => store.flush(),
        close: () => store.close(),
      };
      return leaky;
    },
    deletePartition: (topic, partition) =>
      inner.deletePartition(topic, partition),
    close: () => inner.close(),
  };
}

Deno.test("storage conformance cases pass in order without reopen", async () => {
  for (const c of storageConformanceCases()) {
    await c.run({ storage: new MemoryStorage(), reopen: undefined });
  }
});

Deno.test("storage conformance catches a faulty adapter", async () => {
  const cases = storageConformanceCases();
  const units = cases.find((c) => c.name.startsWith("segments lists"))!;
  await assert.rejects(
    units.run({ storage: leakyStorage(), reopen: undefined }),
    (err: Error) => err.name === "ConformanceError",
  );
});

Deno.test("runStorageConformance registers every case with the given harness and cleans up", async () => {
  const registered: [string, () => Promise<void>][] = [];
  const harness: ConformanceHarness = {
    test: (name, fn) => registered.push([name, fn]),
  };
  let cleanups = 0;
  runStorageConformance("fake", () =>
    Promise.resolve({
      storage: new MemoryStorage(),
      cleanup: () => {
        cleanups++;
        return Promise.resolve();
      },
    }), { harness });
  assert.equal(registered.length, storageConformanceCases().length);
  assert.ok(registered.every(([name]) => name.startsWith("fake storage: ")));
  for (const [, fn] of registered) await fn();
  assert.equal(cleanups, registered.length);
});
