import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import assert from "node:assert/strict";
import {
  encodeBatch,
  lastOffset,
  readBatchHeader,
} from "../runtime/format/mod.ts";
import { DB_VERSION } from "./idb_schema.ts";
import { IdbStorage } from "./idb_storage.ts";

/**
 * Writes a version 1 or 2 database as the code of that version did: its
 * schema, and per partition its batch rows plus a state row. Version 2 rows
 * count endBytes from `endBytesFrom`, as if earlier batches had been
 * deleted.
 */
async function createOld(
  factory: IDBFactory,
  name: string,
  version: 1 | 2,
  partitions: {
    topic: string;
    partition: number;
    batches: Uint8Array[];
    logStart: number;
  }[],
): Promise<void> {
  const request = factory.open(name, version);
  request.onupgradeneeded = () => {
    const db = request.result;
    const batches = db.createObjectStore("batches", {
      keyPath: ["topic", "partition", "baseOffset"],
    });
    batches.createIndex(
      "time",
      version === 1
        ? [
          "topic",
          "partition",
          "timeKey",
          "baseOffset",
          "nextOffset",
          "maxTimestamp",
          "sizeBytes",
        ]
        : [
          "topic",
          "partition",
          "timeKey",
          "nextOffset",
          "maxTimestamp",
          "sizeBytes",
        ],
    );
    db.createObjectStore("partitions", { keyPath: ["topic", "partition"] });
    db.createObjectStore("meta");
  };
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const tx = db.transaction(["batches", "partitions", "meta"], "readwrite");
  const endBytesFrom = 1000;
  for (const { topic, partition, batches, logStart } of partitions) {
    let timeKey = -Infinity;
    let sizeBytes = 0;
    let nextOffset = 0;
    for (const bytes of batches) {
      const header = readBatchHeader(bytes);
      nextOffset = lastOffset(header) + 1;
      if (header.baseOffset < logStart) continue;
      timeKey = Math.max(timeKey, header.maxTimestamp);
      sizeBytes += bytes.length;
      tx.objectStore("batches").add({
        topic,
        partition,
        baseOffset: header.baseOffset,
        nextOffset,
        maxTimestamp: header.maxTimestamp,
        timeKey,
        sizeBytes: bytes.length,
        ...(version === 2 ? { endBytes: endBytesFrom + sizeBytes } : {}),
        bytes,
      });
    }
    tx.objectStore("partitions").put(
      version === 1
        ? {
          topic,
          partition,
          logStartOffset: logStart,
          nextOffset,
          sizeBytes,
          maxTimestamp: timeKey,
        }
        : { topic, partition, logStartOffset: logStart },
    );
  }
  tx.objectStore("meta").put({ hello: 1 }, "config/t");
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

/** The version and store names of the database `name`, as it is now. */
async function schemaOf(
  factory: IDBFactory,
  name: string,
): Promise<{ version: number; stores: string[] }> {
  const request = factory.open(name);
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const schema = { version: db.version, stores: [...db.objectStoreNames] };
  db.close();
  return schema;
}

function batch(baseOffset: number, timestamps: number[]): Promise<Uint8Array> {
  return encodeBatch(
    timestamps.map((timestamp) => ({
      value: new Uint8Array(10 + baseOffset),
      timestamp,
    })),
    { baseOffset },
  );
}

for (const version of [1, 2] as const) {
  Deno.test(`IdbStorage upgrades a version ${version} database with its data intact`, async () => {
    const factory = new IDBFactory();
    const a = [
      await batch(0, [50, 10]),
      await batch(2, [20]),
      await batch(3, [60, 5]),
      await batch(5, [30]),
    ];
    const b = [await batch(0, [1]), await batch(1, [2, 3])];
    await createOld(factory, "old", version, [
      { topic: "a", partition: 0, batches: a, logStart: 2 },
      { topic: "a", partition: 1, batches: b, logStart: 0 },
    ]);
    const options = { indexedDB: factory, quota: { persist: false } };
    const storage = await IdbStorage.open("old", options);
    assert.deepEqual(await schemaOf(factory, "old"), {
      version: DB_VERSION,
      stores: ["batches", "meta", "partitions", "produces"],
    });
    assert.deepEqual(await storage.meta.get("config/t"), { hello: 1 });

    const p0 = await storage.openPartition("a", 0);
    assert.equal(p0.logStartOffset, 2);
    assert.equal(p0.nextOffset, 6);
    assert.equal(p0.sizeBytes, a[1]!.length + a[2]!.length + a[3]!.length);
    assert.deepEqual(await p0.read(0, 1e9), a.slice(1));
    assert.deepEqual(await p0.read(4, 1), [a[2]]);
    assert.equal(
      await p0.findBatchByTimestamp(50),
      3,
      "timeKey counted from the first batch kept",
    );
    assert.equal(await p0.findBatchByTimestamp(25), 3);
    assert.equal(await p0.findBatchByTimestamp(20), 2);
    assert.deepEqual(await p0.segments(), [
      {
        baseOffset: 2,
        nextOffset: 3,
        maxTimestamp: 20,
        sizeBytes: a[1]!.length,
      },
      {
        baseOffset: 3,
        nextOffset: 5,
        maxTimestamp: 60,
        sizeBytes: a[2]!.length,
      },
    ]);
    const a6 = await batch(6, [40]);
    await p0.append([a6]);
    await p0.deleteBefore(5);
    assert.equal(p0.logStartOffset, 5);
    assert.equal(p0.sizeBytes, a[3]!.length + a6.length);
    assert.equal(await p0.findBatchByTimestamp(35), 6);

    const p1 = await storage.openPartition("a", 1);
    assert.equal(p1.nextOffset, 3);
    assert.equal(p1.sizeBytes, b[0]!.length + b[1]!.length);
    assert.deepEqual(await p1.read(0, 1e9), b);
    await storage.close();

    const again = await IdbStorage.open("old", options);
    const reopened = await again.openPartition("a", 0);
    assert.equal(reopened.logStartOffset, 5);
    assert.equal(reopened.nextOffset, 7);
    assert.equal(reopened.sizeBytes, a[3]!.length + a6.length);
    assert.deepEqual(await reopened.read(0, 1e9), [a[3], a6]);
    await again.close();
  });
}

Deno.test("IdbStorage reads across chunks whatever the batch sizes", async () => {
  const storage = await IdbStorage.open("chunks", {
    indexedDB: new IDBFactory(),
    quota: { persist: false },
  });
  const store = await storage.openPartition("t", 0);
  const batches: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const value = new Uint8Array(i < 20 ? 1000 : 10);
    batches.push(
      await encodeBatch([{ value, timestamp: i }], { baseOffset: i }),
    );
  }
  await store.append(batches);
  const size = (list: Uint8Array[]) => list.reduce((n, b) => n + b.length, 0);
  for (
    const [offset, maxBytes] of [[0, 1e9], [25, 1e9], [19, 300], [0, 5000], [
      5,
      1,
    ]]
  ) {
    const expected: Uint8Array[] = [batches[offset!]!];
    for (const b of batches.slice(offset! + 1)) {
      if (size(expected) + b.length > maxBytes!) break;
      expected.push(b);
    }
    assert.deepEqual(
      await store.read(offset!, maxBytes!),
      expected,
      `${offset} ${maxBytes}`,
    );
  }
  await storage.close();
});
