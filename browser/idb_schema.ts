/**
 * The IndexedDB schema of an edgelog database and the code that opens it.
 *
 * ```
 * batches     key [topic, partition, baseOffset]  one row per record batch
 *   index "time"  [topic, partition, timeKey, baseOffset, nextOffset,
 *                  maxTimestamp, sizeBytes]
 * partitions  key [topic, partition]              logStart, next, size
 * meta        key string                          JSON-compatible values
 * ```
 *
 * `timeKey` is the largest timestamp of the batch and of every batch before
 * it in the partition (a running maximum, as Kafka's time index keeps), so
 * within a partition the "time" index is in offset order, and its first
 * entry at or after T is the first batch, in offset order, whose own
 * maxTimestamp is at or after T, however the timestamps jump about. The
 * other fields of the index key let `segments()` list the units from a key
 * cursor without loading any batch bytes.
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
  bytes: Uint8Array;
}

/** The state of one partition, written in every transaction that changes it. */
export interface PartitionRow {
  topic: string;
  partition: number;
  logStartOffset: number;
  nextOffset: number;
  sizeBytes: number;
  /** Largest timestamp held: the timeKey the next batch starts from. */
  maxTimestamp: number;
}

/** The typed schema of an edgelog IndexedDB database. */
export interface EdgelogDB extends DBSchema {
  batches: {
    key: [string, number, number];
    value: BatchRow;
    indexes: {
      time: [string, number, number, number, number, number, number];
    };
  };
  partitions: { key: [string, number]; value: PartitionRow };
  meta: { key: string; value: unknown };
}

/** The schema version; bump it with an upgrade step when the schema changes. */
export const DB_VERSION = 1;

/**
 * Opens (creating when absent) the database `name` from `factory`. idb's
 * `openDB` always uses the global `indexedDB`; this takes the factory as an
 * argument so tests and workers can pass their own. A connection closes
 * itself when another one wants to upgrade or delete the database, so it
 * never blocks them.
 */
export async function openEdgelogDB(
  name: string,
  factory: IDBFactory,
): Promise<IDBPDatabase<EdgelogDB>> {
  const request = factory.open(name, DB_VERSION);
  request.addEventListener("upgradeneeded", () => {
    const db = request.result;
    if (!db.objectStoreNames.contains("batches")) {
      const batches = db.createObjectStore("batches", {
        keyPath: ["topic", "partition", "baseOffset"],
      });
      batches.createIndex("time", [
        "topic",
        "partition",
        "timeKey",
        "baseOffset",
        "nextOffset",
        "maxTimestamp",
        "sizeBytes",
      ]);
    }
    if (!db.objectStoreNames.contains("partitions")) {
      db.createObjectStore("partitions", { keyPath: ["topic", "partition"] });
    }
    if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
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
