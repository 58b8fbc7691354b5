import assert from "node:assert/strict";
import { encodeBatch } from "../format/mod.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { runStorageConformance } from "./storage_conformance.ts";

runStorageConformance("memory", () => {
  const storage = new MemoryStorage();
  // Closing a MemoryStorage keeps its data: the same instance is the reopened one.
  return Promise.resolve({ storage, reopen: () => Promise.resolve(storage) });
});

function batch(baseOffset: number, count: number): Promise<Uint8Array> {
  const records = Array.from({ length: count }, (_, i) => ({
    value: new Uint8Array([i]),
    timestamp: 1000 + i,
  }));
  return encodeBatch(records, { baseOffset });
}

Deno.test("MemoryStorage refuses a batch that does not continue the log", async () => {
  const storage = new MemoryStorage();
  const store = await storage.openPartition("t", 0);
  await store.append([await batch(0, 2)]);
  await assert.rejects(store.append([await batch(5, 1)]), RangeError);
  await assert.rejects(
    store.append([await batch(2, 1), await batch(4, 1)]),
    RangeError,
  );
  assert.equal(store.nextOffset, 2, "a refused append writes nothing");
  assert.equal((await store.read(0, 1 << 20)).length, 1);
});

Deno.test("MemoryStorage: a closed store is unusable, its data is kept", async () => {
  const storage = new MemoryStorage();
  const store = await storage.openPartition("t", 0);
  await store.append([await batch(0, 3)]);
  await storage.close();
  await assert.rejects(store.read(0, 100), /closed/);
  await assert.rejects(store.append([await batch(3, 1)]), /closed/);
  const again = await storage.openPartition("t", 0);
  assert.equal(again.nextOffset, 3);
});

Deno.test("MemoryStorage will not delete an open partition", async () => {
  const storage = new MemoryStorage();
  const store = await storage.openPartition("t", 0);
  await store.append([await batch(0, 1)]);
  await assert.rejects(storage.deletePartition("t", 0), /open/);
  await store.close();
  await storage.deletePartition("t", 0);
  assert.equal((await storage.openPartition("t", 0)).nextOffset, 0);
});

Deno.test("MemoryStorage units are single batches", async () => {
  const storage = new MemoryStorage();
  const store = await storage.openPartition("t", 0);
  const batches = [await batch(0, 2), await batch(2, 3), await batch(5, 1)];
  await store.append(batches);
  assert.deepEqual(await store.segments(), [
    {
      baseOffset: 0,
      nextOffset: 2,
      maxTimestamp: 1001,
      sizeBytes: batches[0]!.length,
    },
    {
      baseOffset: 2,
      nextOffset: 5,
      maxTimestamp: 1002,
      sizeBytes: batches[1]!.length,
    },
  ]);
  assert.equal(store.sizeBytes, batches.reduce((n, b) => n + b.length, 0));
});
