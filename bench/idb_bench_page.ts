/**
 * Page script of bench/idb_bench.ts: IdbStorage append and read against
 * plain IndexedDB writes of the same bytes, in the page's own IndexedDB.
 * Every way runs once in each position of the order (three rounds) and
 * reports its best round, so no way gains from running warm.
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

  const idbStorage = async () => {
    await deleteDB("bench-edgelog");
    const storage = await IdbStorage.open("bench-edgelog", {
      durability: c.durability,
      quota: { persist: false },
    });
    const store = await storage.openPartition("bench", 0);
    const writeMs = await elapsed(async () => {
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
    return { writeMs, readMs };
  };

  /** Plain puts, one transaction per batch, of `objects(i)` under key i. */
  const raw = (objects: (i: number) => Uint8Array[]) => async () => {
    await deleteDB("bench-raw");
    const db = await openDB("bench-raw", 1, {
      upgrade(db) {
        db.createObjectStore("data");
      },
    });
    const writeMs = await elapsed(async () => {
      let key = 0;
      for (let i = 0; i < batches.length; i++) {
        const tx = db.transaction("data", "readwrite", {
          durability: c.durability,
        });
        for (const object of objects(i)) tx.store.put(object, key++);
        await tx.done;
      }
    });
    const readMs = await elapsed(() =>
      drain(db.transaction("data").store.openCursor())
    );
    db.close();
    await deleteDB("bench-raw");
    return { writeMs, readMs };
  };

  // Each way runs in every position across the rounds (the first writes of
  // a page run slower), and keeps its best round.
  const ways = [idbStorage, raw((i) => [batches[i]!]), raw(() => values)];
  const best = ways.map(() => ({ writeMs: Infinity, readMs: Infinity }));
  for (let round = 0; round < ways.length; round++) {
    for (let k = 0; k < ways.length; k++) {
      const w = (k + round) % ways.length;
      const got = await ways[w]!();
      best[w]!.writeMs = Math.min(best[w]!.writeMs, got.writeMs);
      best[w]!.readMs = Math.min(best[w]!.readMs, got.readMs);
    }
  }
  const [idb, rawBatch, rawRecord] = best as [
    typeof best[0],
    typeof best[0],
    typeof best[0],
  ];
  return {
    ...c,
    bytes,
    appendMs: idb.writeMs,
    rawBatchMs: rawBatch.writeMs,
    rawRecordMs: rawRecord.writeMs,
    readMs: idb.readMs,
    rawBatchReadMs: rawBatch.readMs,
    rawRecordReadMs: rawRecord.readMs,
  };
};
