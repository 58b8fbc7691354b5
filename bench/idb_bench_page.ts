/**
 * Page script of bench/idb_bench.ts: IdbStorage append and read against
 * plain IndexedDB writes of the same bytes, in the page's own IndexedDB.
 *
 * @module
 */

import { deleteDB, openDB } from "idb";
import { IdbStorage } from "../browser/idb_storage.ts";
import {
  encodeBatch,
  lastOffset,
  readBatchHeader,
} from "../runtime/format/mod.ts";

/** One benchmark configuration. */
export interface BenchCase {
  batchSize: number;
  records: number;
  valueBytes: number;
  durability: IDBTransactionDurability;
}

/** Milliseconds each way took, and the bytes it moved. */
export interface BenchResult extends BenchCase {
  bytes: number;
  appendMs: number;
  rawBatchMs: number;
  rawRecordMs: number;
  readMs: number;
  rawBatchReadMs: number;
  rawRecordReadMs: number;
}

declare global {
  var edgelogBench: ((c: BenchCase) => Promise<BenchResult>) | undefined;
}

async function elapsed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

interface Cursor {
  value: unknown;
  continue(): Promise<Cursor | null>;
}

/** Reads every value of a store with a cursor. */
async function drain(opened: Promise<Cursor | null>): Promise<void> {
  let cursor = await opened;
  while (cursor) cursor = await cursor.continue();
}

globalThis.edgelogBench = async (c: BenchCase): Promise<BenchResult> => {
  const values = Array.from({ length: c.batchSize }, (_, i) => {
    const value = new Uint8Array(c.valueBytes);
    crypto.getRandomValues(value);
    value[0] = i % 256;
    return value;
  });
  const batches: Uint8Array[] = [];
  for (let base = 0; base < c.records; base += c.batchSize) {
    batches.push(
      await encodeBatch(
        values.map((value, i) => ({
          value,
          timestamp: 1_700_000_000_000 + base + i,
        })),
        { baseOffset: base },
      ),
    );
  }
  const bytes = batches.reduce((n, b) => n + b.length, 0);

  await deleteDB("bench-edgelog");
  const storage = await IdbStorage.open("bench-edgelog", {
    durability: c.durability,
    quota: { persist: false },
  });
  const store = await storage.openPartition("bench", 0);
  const appendMs = await elapsed(async () => {
    for (const batch of batches) await store.append([batch]);
  });
  const readMs = await elapsed(async () => {
    let offset = 0;
    while (offset < store.nextOffset) {
      const got = await store.read(offset, 1 << 20);
      offset = lastOffset(readBatchHeader(got[got.length - 1]!)) + 1;
    }
  });
  await storage.close();
  await deleteDB("bench-edgelog");

  await deleteDB("bench-raw");
  const db = await openDB("bench-raw", 1, {
    upgrade(db) {
      db.createObjectStore("batches");
      db.createObjectStore("records");
    },
  });
  const rawBatchMs = await elapsed(async () => {
    for (let i = 0; i < batches.length; i++) {
      const tx = db.transaction("batches", "readwrite", {
        durability: c.durability,
      });
      tx.store.put(batches[i], i);
      await tx.done;
    }
  });
  const rawRecordMs = await elapsed(async () => {
    for (let i = 0; i < batches.length; i++) {
      const tx = db.transaction("records", "readwrite", {
        durability: c.durability,
      });
      for (let j = 0; j < values.length; j++) {
        tx.store.put(values[j], i * values.length + j);
      }
      await tx.done;
    }
  });
  const rawBatchReadMs = await elapsed(() =>
    drain(db.transaction("batches").store.openCursor())
  );
  const rawRecordReadMs = await elapsed(() =>
    drain(db.transaction("records").store.openCursor())
  );
  db.close();
  await deleteDB("bench-raw");
  return {
    ...c,
    bytes,
    appendMs,
    rawBatchMs,
    rawRecordMs,
    readMs,
    rawBatchReadMs,
    rawRecordReadMs,
  };
};
