/**
 * The IndexedDB schema of an edgelog database and the code that opens it.
 *
 * ```
 * batches     key [topic, partition, baseOffset, nextOffset, maxTimestamp,
 *                  timeKey, sizeBytes, endBytes]   the batch's bytes
 * partitions  key [topic, partition]               logStartOffset
 * meta        key string                           JSON-compatible values
 * produces    key idempotency key, index "seq"     a keyed produce's answer
 * ```
 *
 * A batch is one row: its bytes alone, under a key given with the value
 * (out-of-line), in a store without indexes. With an in-line key path or an
 * index, Chromium deserializes a copy of every value written to compute its
 * keys, a second copy of each batch; and in Chromium 156 one more request
 * per batch (a row in a second store, or a read that checks the offset is
 * free) cost 10-25% of an append of 100-record batches. So everything else
 * about a batch lives in its key. Keys sort on [topic, partition,
 * baseOffset] first, so a partition is one key range in offset order, and
 * its state, its units and its time order are read from keys alone,
 * without loading any batch.
 *
 * The key is unique as a whole, not per baseOffset: that a partition has
 * one batch per offset rests on it having one writer at a time (one store
 * per partition, and the SDK's write lock across tabs and workers).
 *
 * An append writes its batch rows and nothing else: a partition's
 * nextOffset, running maximum timestamp and size come from its first and
 * last keys when it is opened.
 *
 * `timeKey` is the largest timestamp of the batch and of every batch before
 * it in the partition (a running maximum, as Kafka's time index keeps), so
 * it never falls in offset order, and the first batch whose timeKey is at or
 * after T is the first batch, in offset order, whose own maxTimestamp is at
 * or after T, however the timestamps jump about: a binary search over the
 * keys finds it.
 *
 * @module
 */

import { type DBSchema, type IDBPDatabase, wrap } from "idb";

/** The key of a stored record batch: its partition, offsets and sizes. */
export type BatchKey = [
  topic: string,
  partition: number,
  baseOffset: number,
  /** One past the batch's last offset. */
  nextOffset: number,
  /** The batch's own largest timestamp. */
  maxTimestamp: number,
  /** Running maximum of maxTimestamp up to this batch in its partition. */
  timeKey: number,
  sizeBytes: number,
  /**
   * Bytes appended to the partition up to and including this batch, from an
   * arbitrary start: the last batch's endBytes minus the first batch's start
   * (endBytes - sizeBytes) is the partition's size.
   */
  endBytes: number,
];

/** Where each field sits in a {@linkcode BatchKey}. */
export const FIELD = {
  baseOffset: 2,
  nextOffset: 3,
  maxTimestamp: 4,
  timeKey: 5,
  sizeBytes: 6,
  endBytes: 7,
} as const;

/**
 * The retention point of one partition, written by `deleteBefore` and by
 * `flush` (a strict-durability commit has to write something to make the
 * earlier relaxed ones durable). Opening a partition needs only its batches.
 */
export interface PartitionRow {
  topic: string;
  partition: number;
  logStartOffset: number;
}

/**
 * A produce made with an idempotency key: what it answered, written in the
 * transaction of its batches (see `idb_produce_keys.ts`). `seq` counts keyed
 * produces, so the oldest keys are the first to go.
 */
export interface ProduceRow {
  seq: number;
  topic: string;
  positions: { partition: number; offset: number }[];
  atMs: number;
}

/** The typed schema of an edgelog IndexedDB database. */
export interface EdgelogDB extends DBSchema {
  batches: { key: BatchKey; value: Uint8Array };
  partitions: { key: [string, number]; value: PartitionRow };
  meta: { key: string; value: unknown };
  produces: { key: string; value: ProduceRow; indexes: { seq: number } };
}

/**
 * The schema version; bump it with an upgrade step when the schema changes.
 * Version 1 kept nextOffset and size in the "partitions" row, written by
 * every append. Versions 1 and 2 stored each batch as one object of its
 * fields and bytes under the in-line key [topic, partition, baseOffset],
 * with a "time" index on the fields. Version 4 added "produces".
 */
export const DB_VERSION = 4;

/** A batch row of versions 1 and 2 (version 1 had no endBytes). */
interface OldBatchRow {
  topic: string;
  partition: number;
  baseOffset: number;
  nextOffset: number;
  maxTimestamp: number;
  sizeBytes: number;
  bytes: Uint8Array;
}

/**
 * Versions 1 and 2 to 3: moves every batch's bytes to the new "batches"
 * store under its full key, with timeKey and endBytes counted again from the
 * partition's first batch, then drops the old store (renamed aside first, so
 * the new one can take its name). From version 1 it also narrows the
 * "partitions" rows to their logStartOffset. Runs inside the upgrade
 * transaction, so a failure leaves the old version as it was.
 */
function upgradeToV3(tx: IDBTransaction, oldVersion: number): void {
  const db = tx.db;
  const old = tx.objectStore("batches");
  old.name = "batches-old";
  const batches = db.createObjectStore("batches");
  let partition: unknown[] = [];
  let timeKey = -Infinity;
  let endBytes = 0;
  old.openCursor().onsuccess = (event) => {
    const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>)
      .result;
    if (!cursor) {
      db.deleteObjectStore(old.name);
      return;
    }
    const row = cursor.value as OldBatchRow;
    if (row.topic !== partition[0] || row.partition !== partition[1]) {
      partition = [row.topic, row.partition];
      timeKey = -Infinity;
      endBytes = 0;
    }
    timeKey = Math.max(timeKey, row.maxTimestamp);
    endBytes += row.sizeBytes;
    const key: BatchKey = [
      row.topic,
      row.partition,
      row.baseOffset,
      row.nextOffset,
      row.maxTimestamp,
      timeKey,
      row.sizeBytes,
      endBytes,
    ];
    batches.add(row.bytes, key);
    cursor.continue();
  };
  if (oldVersion !== 1) return;
  tx.objectStore("partitions").openCursor().onsuccess = (event) => {
    const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>)
      .result;
    if (!cursor) return;
    const { topic, partition, logStartOffset } = cursor.value as PartitionRow;
    cursor.update({ topic, partition, logStartOffset });
    cursor.continue();
  };
}

/**
 * Opens (creating when absent, upgrading when older) the database `name`
 * from `factory`. idb's `openDB` always uses the global `indexedDB`; this
 * takes the factory as an argument so tests and workers can pass their own.
 * A connection closes itself when another one wants to upgrade or delete the
 * database, so it never blocks them.
 */
export async function openEdgelogDB(
  name: string,
  factory: IDBFactory,
): Promise<IDBPDatabase<EdgelogDB>> {
  const request = factory.open(name, DB_VERSION);
  request.addEventListener("upgradeneeded", (event) => {
    const db = request.result;
    if (event.oldVersion === 0) {
      db.createObjectStore("batches");
      db.createObjectStore("partitions", { keyPath: ["topic", "partition"] });
      db.createObjectStore("meta");
    } else if (event.oldVersion < 3 && request.transaction) {
      upgradeToV3(request.transaction, event.oldVersion);
    }
    if (event.oldVersion < 4) {
      db.createObjectStore("produces").createIndex("seq", "seq", {
        unique: true,
      });
    }
  });
  const db = await (wrap(request) as unknown as Promise<
    IDBPDatabase<EdgelogDB>
  >);
  db.addEventListener("versionchange", () => db.close());
  return db;
}

/**
 * Gives up on a failed read-write transaction: aborts it if it is still
 * running (a request threw before it was queued), silences its `done`
 * promise, and returns the error that failed it, if IndexedDB recorded one.
 */
export function abandon(
  tx: {
    abort(): void;
    readonly error: DOMException | null;
    done: Promise<void>;
  },
): DOMException | null {
  tx.done.catch(() => {});
  try {
    tx.abort();
  } catch {
    // Already committed or aborted: nothing to undo.
  }
  return tx.error;
}

/**
 * Waits for a read-write transaction to commit. A failed request aborts the
 * transaction, so `tx.done` carries its error; the requests' own promises
 * are only silenced.
 */
export async function settle(
  tx: { done: Promise<void> },
  requests: readonly Promise<unknown>[],
): Promise<void> {
  for (const request of requests) request.catch(() => {});
  await tx.done;
}
