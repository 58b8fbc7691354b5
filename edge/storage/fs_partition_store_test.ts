import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock } from "../../runtime/clock.ts";
import { readBatchHeader } from "../../runtime/format/batch_header.ts";
import { checkedOffsets, makeBatch } from "../../test/fixtures/fs_batches.ts";
import { FsStorage, type FsStorageOptions } from "./fs_storage.ts";
import { OffsetIndex } from "./offset_index.ts";
import { TimeIndex } from "./time_index.ts";

async function withStorage(
  options: FsStorageOptions,
  fn: (storage: FsStorage, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_part_" });
  const storage = await FsStorage.open(dir, options);
  try {
    await fn(storage, dir);
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function files(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("segments roll by size, each with its offset and time index", async () => {
  await withStorage(
    { segmentBytes: 1000, indexIntervalBytes: 200 },
    async (storage, dir) => {
      const store = await storage.openPartition("t", 0);
      const batches: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) {
        const batch = await makeBatch(store.nextOffset, 2, { valueBytes: 100 });
        batches.push(batch);
        await store.append([batch]);
      }
      const size = batches[0]!.length;
      const perSegment = Math.floor(1000 / size);
      const bases = batches
        .filter((_, i) => i % perSegment === 0)
        .map((b) => readBatchHeader(b).baseOffset);
      const partitionDir = `${dir}/topics/t/0`;
      assert.deepEqual(
        (await files(partitionDir)).filter((n) => n.endsWith(".log")),
        bases.map((b) => `${String(b).padStart(20, "0")}.log`),
      );
      const units = await store.segments();
      assert.deepEqual(units.map((u) => u.baseOffset), bases.slice(0, -1));
      assert.ok(
        units.every((u) =>
          u.sizeBytes === perSegment * size && u.sizeBytes <= 1000
        ),
      );

      const first = `${partitionDir}/00000000000000000000`;
      const offsetIndex = OffsetIndex.decode(
        await Deno.readFile(`${first}.index`),
        200,
        {
          segmentBytes: perSegment * size,
          relativeEnd: perSegment * 2,
        },
      )!;
      assert.equal(
        offsetIndex.length,
        Math.floor(((perSegment - 1) * size) / Math.max(200, size)),
      );
      const entry = offsetIndex.lookup(2 * (perSegment - 1));
      assert.equal(
        entry.position,
        entry.relativeOffset / 2 * size,
        "entries point at batches",
      );
      const timeIndex = TimeIndex.decode(
        await Deno.readFile(`${first}.timeindex`),
        perSegment * 2,
      )!;
      assert.equal(timeIndex.maxTimestamp, 1000 + perSegment * 2 - 1);
      assert.equal(units[0]!.maxTimestamp, timeIndex.maxTimestamp);
      assert.deepEqual(
        await checkedOffsets(await store.read(0, 1 << 30), 100),
        Array.from({ length: 24 }, (_, i) => i),
      );
    },
  );
});

Deno.test("segments roll by age on the injected clock", async () => {
  const clock = new ManualClock(1_000_000);
  const options = { segmentMs: 1000, clock };
  await withStorage(options, async (storage, dir) => {
    const store = await storage.openPartition("t", 0);
    await store.append([await makeBatch(0, 1, { timestamp: clock.now() })]);
    clock.advance(999);
    await store.append([await makeBatch(1, 1, { timestamp: clock.now() })]);
    assert.deepEqual(await store.segments(), [], "not old enough yet");
    clock.advance(1);
    await store.append([await makeBatch(2, 1, { timestamp: clock.now() })]);
    const units = await store.segments();
    assert.deepEqual(units.map((u) => [u.baseOffset, u.nextOffset]), [[0, 2]]);
    clock.advance(600);
    await store.append([await makeBatch(3, 1, { timestamp: clock.now() })]);
    assert.equal(
      (await store.segments()).length,
      1,
      "the new segment's age counts from its first batch",
    );
    await store.close();

    clock.advance(400);
    const reopened = await FsStorage.open(dir, options);
    const again = await reopened.openPartition("t", 0);
    await again.append([await makeBatch(4, 1, { timestamp: clock.now() })]);
    assert.deepEqual(
      (await again.segments()).map((u) => u.baseOffset),
      [0, 2],
      "after a restart, age counts from the first batch's timestamp",
    );
    await reopened.close();
  });
});

Deno.test("concurrent appends are group-committed: few writes, few fsyncs", async () => {
  await withStorage({}, async (storage) => {
    const store = await storage.openPartition("t", 0);
    const batches = await Promise.all(
      Array.from({ length: 50 }, (_, i) => makeBatch(i * 2, 2)),
    );
    const proto = Deno.FsFile.prototype;
    const { write, syncData } = proto;
    let writes = 0;
    let syncs = 0;
    proto.write = function (this: Deno.FsFile, p: Uint8Array) {
      writes++;
      return write.call(this, p);
    };
    proto.syncData = function (this: Deno.FsFile) {
      syncs++;
      return syncData.call(this);
    };
    try {
      await Promise.all(batches.map((b) => store.append([b])));
    } finally {
      proto.write = write;
      proto.syncData = syncData;
    }
    assert.ok(writes <= 2, `${writes} writes`);
    assert.ok(syncs <= 2, `${syncs} fsyncs`);
    assert.equal(store.nextOffset, 100);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30)),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});

Deno.test("an append that does not continue the log is refused and writes nothing", async () => {
  await withStorage({}, async (storage) => {
    const store = await storage.openPartition("t", 0);
    await store.append([await makeBatch(0, 2)]);
    await assert.rejects(
      store.append([await makeBatch(3, 1)]),
      /expected offset 2/,
    );
    await assert.rejects(
      store.append([await makeBatch(2, 1), await makeBatch(4, 1)]),
      RangeError,
    );
    const padded = new Uint8Array([...await makeBatch(2, 1), 0]);
    await assert.rejects(store.append([padded]), RangeError);
    assert.equal(store.nextOffset, 2);
    await store.append([await makeBatch(2, 1)]);
    assert.equal(store.nextOffset, 3);
  });
});

Deno.test("a failed fsync rejects the append and leaves no trace of it", async () => {
  await withStorage({}, async (storage, dir) => {
    const store = await storage.openPartition("t", 0);
    const first = await makeBatch(0, 2);
    await store.append([first]);
    const proto = Deno.FsFile.prototype;
    const { syncData } = proto;
    proto.syncData = () => Promise.reject(new Error("EIO"));
    try {
      await assert.rejects(store.append([await makeBatch(2, 3)]), /EIO/);
    } finally {
      proto.syncData = syncData;
    }
    assert.equal(store.nextOffset, 2);
    assert.equal(store.sizeBytes, first.length);
    const log = `${dir}/topics/t/0/00000000000000000000.log`;
    assert.equal((await Deno.stat(log)).size, first.length);
    await store.append([await makeBatch(2, 3)]);
    assert.deepEqual(await checkedOffsets(await store.read(0, 1 << 20)), [
      0,
      1,
      2,
      3,
      4,
    ]);
  });
});

Deno.test("a closed partition store refuses every call", async () => {
  await withStorage({}, async (storage) => {
    const store = await storage.openPartition("t", 0);
    await store.close();
    await assert.rejects(store.read(0, 10), /closed/);
    await assert.rejects(store.append([await makeBatch(0, 1)]), /closed/);
    await assert.rejects(storage.openPartition("bad/name", 0), TypeError);
    await assert.rejects(storage.openPartition("t", -1), RangeError);
    const again = await storage.openPartition("t", 0);
    await assert.rejects(storage.deletePartition("t", 0), /open/);
    await again.close();
  });
});

Deno.test("reads stay right while few segment handles are kept open", async () => {
  await withStorage(
    { segmentBytes: 300, maxOpenSegments: 2 },
    async (storage) => {
      const store = await storage.openPartition("t", 0);
      for (let i = 0; i < 20; i++) {
        await store.append([await makeBatch(i * 2, 2, { valueBytes: 60 })]);
      }
      assert.ok((await store.segments()).length >= 6);
      const reads = [];
      for (let offset = 0; offset < 40; offset += 3) {
        reads.push(store.read(offset, 1).then((b) => checkedOffsets(b, 60)));
      }
      const got = await Promise.all(reads);
      got.forEach((offsets, i) => assert.ok(offsets.includes(i * 3)));
      assert.deepEqual(
        await checkedOffsets(await store.read(0, 1 << 20), 60),
        Array.from({ length: 40 }, (_, i) => i),
      );
    },
  );
});

Deno.test("read and findBatchByTimestamp agree with a plain list of batches", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          count: fc.integer({ min: 1, max: 4 }),
          valueBytes: fc.integer({ min: 0, max: 400 }),
          timestamp: fc.integer({ min: 0, max: 100 }),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      fc.integer({ min: 1, max: 2000 }),
      fc.integer({ min: 100, max: 3000 }),
      fc.integer({ min: 0, max: 3000 }),
      async (specs, interval, segmentBytes, maxBytes) => {
        const dir = await Deno.makeTempDir({ prefix: "edgelog_prop_" });
        const options = {
          indexIntervalBytes: interval,
          segmentBytes,
          fsync: "never" as const,
        };
        try {
          let storage = await FsStorage.open(dir, options);
          let store = await storage.openPartition("p", 0);
          const batches: Uint8Array[] = [];
          for (const spec of specs) {
            const batch = await makeBatch(store.nextOffset, spec.count, spec);
            batches.push(batch);
            await store.append([batch]);
          }
          for (let round = 0; round < 2; round++) {
            for (let offset = 0; offset <= store.nextOffset; offset++) {
              const from = batches.findIndex((b) => {
                const h = readBatchHeader(b);
                return h.baseOffset + h.lastOffsetDelta >= offset;
              });
              const expected: Uint8Array[] = [];
              let used = 0;
              for (const b of from < 0 ? [] : batches.slice(from)) {
                if (expected.length > 0 && used + b.length > maxBytes) break;
                expected.push(b);
                used += b.length;
                if (used >= maxBytes) break;
              }
              assert.deepEqual(await store.read(offset, maxBytes), expected);
            }
            for (let ts = 0; ts <= 101; ts += 7) {
              const hit = batches.find((b) =>
                readBatchHeader(b).maxTimestamp >= ts
              );
              assert.equal(
                await store.findBatchByTimestamp(ts),
                hit === undefined ? null : readBatchHeader(hit).baseOffset,
              );
            }
            await storage.close();
            storage = await FsStorage.open(dir, options);
            store = await storage.openPartition("p", 0);
          }
          await storage.close();
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    ),
    { numRuns: 25 },
  );
});
