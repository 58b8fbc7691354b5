/**
 * Page script of bench/idb_bench.ts: IdbStorage append and read against
 * plain IndexedDB writes of the same bytes, in the page's own IndexedDB.
 * The ways write in step, batch by batch, each into its own database, in a
 * new order at every batch (every order of the three in turn), so that
 * each way's total meets the same moments of a shared machine's load: run
 * one after another, one build's ratios ranged over 0.75-1.18 across runs,
 * and a way ran up to 14% slower right after the per-record puts. Then
 * each reads back all it wrote. Three such rounds; every way keeps its best.
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

interface Cursor {
  value: unknown;
  continue(): Promise<Cursor | null>;
}

/** Reads every value of a store with a cursor. */
async function drain(opened: Promise<Cursor | null>): Promise<void> {
  let cursor = await opened;
  while (cursor) cursor = await cursor.continue();
}

/** One way to store the batches: write batch i, read all back, close. */
interface Way {
  write(i: number): Promise<void>;
  read(): Promise<void>;
  close(): Promise<void>;
}

const ROUNDS = 3;

/** Every order of 0..n-1. */
function orders(n: number): number[][] {
  if (n === 0) return [[]];
  return orders(n - 1).flatMap((order) =>
    Array.from({ length: n }, (_, i) => order.toSpliced(i, 0, n - 1))
  );
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

  const idbStorage = async (): Promise<Way> => {
    await deleteDB("bench-edgelog");
    const storage = await IdbStorage.open("bench-edgelog", {
      durability: c.durability,
      quota: { persist: false },
    });
    const store = await storage.openPartition("bench", 0);
    return {
      write: (i) => store.append([batches[i]!]),
      async read() {
        let offset = 0;
        while (offset < store.nextOffset) {
          const got = await store.read(offset, 1 << 20);
          offset = lastOffset(readBatchHeader(got[got.length - 1]!)) + 1;
        }
      },
      async close() {
        await storage.close();
        await deleteDB("bench-edgelog");
      },
    };
  };

  /**
   * Plain puts into the database `name`, one transaction per batch, of
   * `objects(i)` under keys counting from 0.
   */
  const raw =
    (name: string, objects: (i: number) => Uint8Array[]) =>
    async (): Promise<Way> => {
      await deleteDB(name);
      const db = await openDB(name, 1, {
        upgrade(db) {
          db.createObjectStore("data");
        },
      });
      let key = 0;
      return {
        async write(i) {
          const tx = db.transaction("data", "readwrite", {
            durability: c.durability,
          });
          for (const object of objects(i)) tx.store.put(object, key++);
          await tx.done;
        },
        read: () => drain(db.transaction("data").store.openCursor()),
        async close() {
          db.close();
          await deleteDB(name);
        },
      };
    };

  const opens = [
    idbStorage,
    raw("bench-raw-batch", (i) => [batches[i]!]),
    raw("bench-raw-record", () => values),
  ];
  const every = orders(opens.length);
  const best = opens.map(() => ({ writeMs: Infinity, readMs: Infinity }));
  for (let round = 0; round < ROUNDS; round++) {
    const ways: Way[] = [];
    for (const open of opens) ways.push(await open());
    const writeMs = ways.map(() => 0);
    for (let i = 0; i < batches.length; i++) {
      for (const w of every[i % every.length]!) {
        const start = performance.now();
        await ways[w]!.write(i);
        writeMs[w]! += performance.now() - start;
      }
    }
    for (const w of every[round % every.length]!) {
      const start = performance.now();
      await ways[w]!.read();
      const readMs = performance.now() - start;
      best[w]!.writeMs = Math.min(best[w]!.writeMs, writeMs[w]!);
      best[w]!.readMs = Math.min(best[w]!.readMs, readMs);
    }
    for (const way of ways) await way.close();
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
