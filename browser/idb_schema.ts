/**
 * The IndexedDB schema of an edgelog database and the code that opens it.
 *
 * ```
 * batches     key [topic, partition, baseOffset]  one row per record batch
 *   index "time"  [topic, partition, timeKey, nextOffset, maxTimestamp,
 *                  sizeBytes]
 * partitions  key [topic, partition]              logStartOffset
 * meta        key string                          JSON-compatible values
 * ```
 *
 * An append writes its batch rows and nothing else: a partition's
 * nextOffset, running maximum timestamp and size come from its first and
 * last rows when it is opened (each row carries `endBytes`, the partition's
 * cumulative size up to and including it).
 *
 * `timeKey` is the largest timestamp of the batch and of every batch before
 * it in the partition (a running maximum, as Kafka's time index keeps), so
 * within a partition the "time" index is in offset order (ties on timeKey
 * fall to nextOffset, which grows with the offset), and its first entry at
 * or after T is the first batch, in offset order, whose own maxTimestamp is
 * at or after T, however the timestamps jump about. Every index entry also
 * carries the row's key, hence its baseOffset; with the other fields of the
 * index key, `segments()` lists the units from a key cursor without loading
 * any batch bytes.
 *
 * @module
 */

import { type DBSchema, type IDBPDatabase, wrap } from "idb";

/** One stored record batch. */
export interface BatchRow {
  topic: string;
  partition: number;
  baseOffset: number;
  /** One past the batch's last offset. */
  nextOffset: number;
  /** The batch's own largest timestamp. */
  maxTimestamp: number;
  /** Running maximum of maxTimestamp up to this batch in its partition. */
  timeKey: number;
  sizeBytes: number;
  /**
   * Bytes appended to the partition up to and including this batch, from an
   * arbitrary start: the last row's endBytes minus the first row's start
   * (endBytes - sizeBytes) is the partition's size.
   */
  endBytes: number;
  bytes: Uint8Array;
}

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

/** Key of the "time" index; see the module comment. */
export type TimeIndexKey = [string, number, number, number, number, number];

/** The typed schema of an edgelog IndexedDB database. */
export interface EdgelogDB extends DBSchema {
  batches: {
    key: [string, number, number];
    value: BatchRow;
    indexes: { time: TimeIndexKey };
  };
  partitions: { key: [string, number]; value: PartitionRow };
  meta: { key: string; value: unknown };
}

/**
 * The schema version; bump it with an upgrade step when the schema changes.
 * Version 1 kept nextOffset and size in the "partitions" row, written by
 * every append, and had baseOffset in the "time" index key.
 */
export const DB_VERSION = 2;

const TIME_INDEX_PATH = [
  "topic",
  "partition",
  "timeKey",
  "nextOffset",
  "maxTimestamp",
  "sizeBytes",
];

/**
 * Version 1 to 2: gives every batch row its `endBytes` (counted from the
 * partition's first row), rebuilds the "time" index on the new key and
 * narrows the "partitions" rows to their logStartOffset. Runs inside the
 * upgrade transaction, so a failure leaves version 1 as it was.
 */
function upgradeFromV1(tx: IDBTransaction): void {
  const batches = tx.objectStore("batches");
  batches.deleteIndex("time");
  batches.createIndex("time", TIME_INDEX_PATH);
  let partition: unknown[] = [];
  let endBytes = 0;
  batches.openCursor().onsuccess = (event) => {
    const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>)
      .result;
    if (!cursor) return;
    const row = cursor.value as BatchRow;
    if (row.topic !== partition[0] || row.partition !== partition[1]) {
      partition = [row.topic, row.partition];
      endBytes = 0;
    }
    endBytes += row.sizeBytes;
    cursor.update({ ...row, endBytes });
    cursor.continue();
  };
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
    if (event.oldVersion === 1 && request.transaction) {
      upgradeFromV1(request.transaction);
      return;
    }
    const batches = db.createObjectStore("batches", {
      keyPath: ["topic", "partition", "baseOffset"],
    });
    batches.createIndex("time", TIME_INDEX_PATH);
    db.createObjectStore("partitions", { keyPath: ["topic", "partition"] });
    db.createObjectStore("meta");
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
