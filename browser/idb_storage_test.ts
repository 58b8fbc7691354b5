import "fake-indexeddb/auto";
import { IDBFactory, IDBObjectStore } from "fake-indexeddb";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../runtime/errors.ts";
import { encodeBatch } from "../runtime/format/mod.ts";
import { runStorageConformance } from "../runtime/log/storage_conformance.ts";
import { IdbStorage } from "./idb_storage.ts";

/** A batch of `timestamps.length` records with 10-byte values. */
function batch(baseOffset: number, timestamps: number[]): Promise<Uint8Array> {
  return encodeBatch(
    timestamps.map((timestamp) => ({
      value: new Uint8Array(10).fill(baseOffset % 251),
      timestamp,
    })),
    { baseOffset },
  );
}

function open(factory: IDBFactory): Promise<IdbStorage> {
  return IdbStorage.open("test", {
    indexedDB: factory,
    quota: { persist: false },
  });
}

runStorageConformance("indexeddb (fake-indexeddb)", async () => {
  const factory = new IDBFactory();
  return { storage: await open(factory), reopen: () => open(factory) };
});

Deno.test("IdbStorage appends, reads by offset and byte limit, and reopens", async () => {
  const factory = new IDBFactory();
  const storage = await open(factory);
  const store = await storage.openPartition("t", 0);
  const b0 = await batch(0, [1, 2, 3]);
  const b3 = await batch(3, [4]);
  const b4 = await batch(4, [5, 6]);
  await store.append([b0, b3]);
  await store.append([b4]);
  assert.equal(store.logStartOffset, 0);
  assert.equal(store.nextOffset, 6);
  assert.equal(store.sizeBytes, b0.length + b3.length + b4.length);

  assert.deepEqual(await store.read(0, 1e9), [b0, b3, b4]);
  assert.deepEqual(await store.read(2, 1), [b0], "the holder, however large");
  assert.deepEqual(await store.read(3, b3.length + b4.length), [b3, b4]);
  assert.deepEqual(await store.read(5, 1e9), [b4]);
  assert.deepEqual(await store.read(6, 1e9), []);
  assert.deepEqual(
    await storage.openPartition("t", 1),
    await storage.openPartition("t", 1),
  );
  assert.equal((await storage.openPartition("t", 1)).nextOffset, 0);
  await storage.close();

  const again = await open(factory);
  const reopened = await again.openPartition("t", 0);
  assert.equal(reopened.nextOffset, 6);
  assert.equal(reopened.sizeBytes, b0.length + b3.length + b4.length);
  assert.deepEqual(await reopened.read(4, 1e9), [b4]);
  await reopened.append([await batch(6, [7])]);
  assert.equal(reopened.nextOffset, 7);
  await again.close();
});

Deno.test("IdbStorage stores only the bytes of a batch given as a view", async () => {
  const storage = await open(new IDBFactory());
  const store = await storage.openPartition("t", 0);
  const b0 = await batch(0, [1]);
  const body = new Uint8Array(b0.length + 20);
  body.set(b0, 10);
  await store.append([body.subarray(10, 10 + b0.length)]);
  const [read] = await store.read(0, 1e9);
  assert.deepEqual(read, b0);
  assert.equal(read?.buffer.byteLength, b0.length);
  await storage.close();
});

Deno.test("IdbStorage rejects a gap or a wrong length and writes nothing", async () => {
  const storage = await open(new IDBFactory());
  const store = await storage.openPartition("t", 0);
  await store.append([await batch(0, [1])]);
  await assert.rejects(
    store.append([await batch(1, [1]), await batch(3, [1])]),
    /offset 3 to t\/0: expected offset 2/,
  );
  const b1 = await batch(1, [1]);
  await assert.rejects(
    store.append([b1.subarray(0, b1.length - 1)]),
    EdgelogError,
  );
  await assert.rejects(
    store.append([new Uint8Array([...b1, 0])]),
    RangeError,
  );
  assert.equal(store.nextOffset, 1);
  assert.equal((await store.read(0, 1e9)).length, 1);
  await store.append([b1]);
  assert.equal(store.nextOffset, 2);
  await storage.close();
});

Deno.test("IdbStorage retention keeps the active batch and moves logStartOffset", async () => {
  const factory = new IDBFactory();
  const storage = await open(factory);
  const store = await storage.openPartition("t", 0);
  const batches = [
    await batch(0, [10, 11]),
    await batch(2, [12]),
    await batch(3, [13, 14, 15]),
  ];
  await store.append(batches);
  assert.deepEqual(await store.segments(), [
    {
      baseOffset: 0,
      nextOffset: 2,
      maxTimestamp: 11,
      sizeBytes: batches[0]!.length,
    },
    {
      baseOffset: 2,
      nextOffset: 3,
      maxTimestamp: 12,
      sizeBytes: batches[1]!.length,
    },
  ]);
  await store.deleteBefore(1);
  assert.equal(store.logStartOffset, 0, "batch 0..1 still holds offset 1");
  await store.deleteBefore(100);
  assert.equal(store.logStartOffset, 3);
  assert.equal(store.nextOffset, 6);
  assert.equal(store.sizeBytes, batches[2]!.length);
  assert.deepEqual(await store.segments(), []);
  assert.deepEqual(await store.read(0, 1e9), [batches[2]]);
  await storage.close();

  const again = await open(factory);
  const reopened = await again.openPartition("t", 0);
  assert.equal(reopened.logStartOffset, 3);
  assert.equal(reopened.sizeBytes, batches[2]!.length);
  await again.deletePartition("t", 0);
  const fresh = await again.openPartition("t", 0);
  assert.equal(fresh.nextOffset, 0);
  assert.deepEqual(await fresh.read(0, 1e9), []);
  await again.close();
});

Deno.test("IdbStorage finds the first batch in offset order at or after a timestamp", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant("append" as const),
            timestamps: fc.array(fc.integer({ min: 0, max: 50 }), {
              minLength: 1,
              maxLength: 3,
            }),
          }),
          fc.record({
            kind: fc.constant("delete" as const),
            offset: fc.integer({ min: 0, max: 40 }),
          }),
          fc.constant({ kind: "reopen" as const }),
        ),
        { maxLength: 14 },
      ),
      fc.array(fc.integer({ min: -1, max: 52 }), {
        minLength: 1,
        maxLength: 6,
      }),
      async (ops, queries) => {
        const factory = new IDBFactory();
        let storage = await open(factory);
        let store = await storage.openPartition("t", 3);
        const model: { base: number; next: number; max: number }[] = [];
        for (const op of ops) {
          if (op.kind === "append") {
            const base = store.nextOffset;
            await store.append([await batch(base, op.timestamps)]);
            model.push({
              base,
              next: base + op.timestamps.length,
              max: Math.max(...op.timestamps),
            });
          } else if (op.kind === "delete") {
            await store.deleteBefore(op.offset);
            while (model.length > 1 && model[0]!.next <= op.offset) {
              model.shift();
            }
          } else {
            await storage.close();
            storage = await open(factory);
            store = await storage.openPartition("t", 3);
          }
          assert.equal(store.logStartOffset, model[0]?.base ?? 0);
          for (const t of queries) {
            const expected = model.find((b) => b.max >= t)?.base ?? null;
            assert.equal(
              await store.findBatchByTimestamp(t),
              expected,
              `T=${t}`,
            );
          }
        }
        await storage.close();
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("IdbStorage finds by time in batches another connection's retention left", async () => {
  const factory = new IDBFactory();
  const reader = await open(factory);
  const writer = await open(factory);
  const written = await writer.openPartition("t", 0);
  for (let base = 0; base < 8; base++) {
    await written.append([await batch(base, [base * 10])]);
  }
  const store = await reader.openPartition("t", 0);
  await written.deleteBefore(6);
  assert.equal(store.logStartOffset, 0, "the reader still counts from 0");
  assert.equal(await store.findBatchByTimestamp(0), 6);
  assert.equal(await store.findBatchByTimestamp(65), 7);
  assert.deepEqual(await store.read(0, 1e9), await written.read(6, 1e9));
  await writer.close();
  await reader.close();
});

Deno.test("IdbStorage turns a QuotaExceededError into STORAGE_FULL and loses nothing", async () => {
  const storage = await open(new IDBFactory());
  const store = await storage.openPartition("t", 0);
  const b0 = await batch(0, [1]);
  await store.append([b0]);
  const add = IDBObjectStore.prototype.add;
  IDBObjectStore.prototype.add = function () {
    throw new DOMException(
      "The quota has been exceeded.",
      "QuotaExceededError",
    );
  };
  try {
    const error = await store.append([await batch(1, [2])]).then(
      () => assert.fail("append succeeded"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof EdgelogError);
    assert.equal(error.code, "STORAGE_FULL");
    assert.match(error.message, /1 batches in t\/0.*quota/);
  } finally {
    IDBObjectStore.prototype.add = add;
  }
  assert.equal(store.nextOffset, 1);
  assert.deepEqual(await store.read(0, 1e9), [b0]);
  await store.append([await batch(1, [2])]);
  assert.equal(store.nextOffset, 2);
  await storage.close();
});

Deno.test("IdbStorage serializes concurrent appends and refuses a closed partition", async () => {
  const storage = await open(new IDBFactory());
  const store = await storage.openPartition("t", 0);
  const b0 = await batch(0, [1]);
  const b1 = await batch(1, [1, 2]);
  await Promise.all([store.append([b0]), store.append([b1]), store.flush()]);
  assert.deepEqual(await store.read(0, 1e9), [b0, b1]);
  await store.close();
  await assert.rejects(store.append([await batch(3, [1])]), /closed/);
  const reopened = await storage.openPartition("t", 0);
  assert.notEqual(reopened, store);
  assert.equal(reopened.nextOffset, 3);
  await storage.close();
});

Deno.test("IdbStorage with relaxed durability flushes on demand and on close", async () => {
  const factory = new IDBFactory();
  const options = {
    indexedDB: factory,
    durability: "relaxed" as const,
    quota: { persist: false },
  };
  const storage = await IdbStorage.open("relaxed", options);
  const store = await storage.openPartition("t", 0);
  await store.append([await batch(0, [1, 2])]);
  await store.flush();
  await store.append([await batch(2, [3])]);
  await storage.close();
  const again = await IdbStorage.open("relaxed", options);
  const reopened = await again.openPartition("t", 0);
  assert.equal(reopened.nextOffset, 3);
  assert.equal((await reopened.read(0, 1e9)).length, 2);
  await again.close();
});
