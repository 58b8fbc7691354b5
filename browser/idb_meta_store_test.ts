import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import assert from "node:assert/strict";
import { IdbStorage } from "./idb_storage.ts";

Deno.test("IdbMetaStore gets, sets, deletes and survives a reopen", async () => {
  const factory = new IDBFactory();
  const options = { indexedDB: factory, quota: { persist: false } };
  const storage = await IdbStorage.open("meta", options);
  assert.equal(await storage.meta.get("topic/a"), undefined);
  await storage.meta.set("topic/a", { partitions: 3, tags: ["x"] });
  await storage.meta.set("offsets/g", 12);
  await storage.meta.delete("offsets/g");
  await storage.meta.delete("never-set");
  await storage.close();

  const again = await IdbStorage.open("meta", options);
  assert.deepEqual(await again.meta.get("topic/a"), {
    partitions: 3,
    tags: ["x"],
  });
  assert.equal(await again.meta.get("offsets/g"), undefined);
  await again.close();
});

Deno.test("IdbMetaStore lists a prefix in key order, and only that prefix", async () => {
  const storage = await IdbStorage.open("meta", {
    indexedDB: new IDBFactory(),
    quota: { persist: false },
  });
  const keys = ["a/2", "a/10", "a", "a/\uffff\uffff", "a0", "b/1", "a/é"];
  for (const key of keys) await storage.meta.set(key, key.length);
  assert.deepEqual(
    (await storage.meta.list("a/")).map(([key]) => key),
    ["a/10", "a/2", "a/é", "a/\uffff\uffff"],
  );
  assert.deepEqual(await storage.meta.list("b/"), [["b/1", 3]]);
  assert.deepEqual(await storage.meta.list("c"), []);
  assert.equal((await storage.meta.list("")).length, keys.length);
  assert.deepEqual(
    (await storage.meta.list("a/\uffff")).map(([key]) => key),
    ["a/\uffff\uffff"],
  );
  await storage.close();
});
