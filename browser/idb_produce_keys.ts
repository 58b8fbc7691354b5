/**
 * Produces made with an idempotency key. The answer of such a produce (its
 * topic and positions) is a row of the "produces" store, written in the
 * same read-write transaction as the produce's batch rows: IndexedDB
 * commits a transaction whole or not at all, so after any crash either the
 * records and their key are both there, or neither is, and a retry with
 * the key finds the answer or appends the records for the first time.
 *
 * To make that one transaction, a write session stages its batch rows
 * (see {@linkcode IdbStorage.stageAppends}) instead of writing them, and
 * {@linkcode commitKeyedProduce} writes them with the key.
 *
 * Only the newest `maxKeys` keys are kept: each commit deletes those whose
 * sequence number fell `maxKeys` behind.
 *
 * @module
 */

import type { IDBPDatabase } from "idb";
import {
  abandon,
  type BatchKey,
  type EdgelogDB,
  type ProduceRow,
  settle,
} from "./idb_schema.ts";
import { storageFullOr } from "./quota.ts";

/** A batch row that an append staged instead of writing. */
export interface StagedRow {
  key: BatchKey;
  bytes: Uint8Array;
}

/** The answer kept for the key `key`, if it is still kept. */
export async function keyedProduce(
  db: IDBPDatabase<EdgelogDB>,
  key: string,
): Promise<ProduceRow | undefined> {
  return await db.get("produces", key);
}

/**
 * Writes `rows` and the answer under `key` in one transaction, and deletes
 * the keys that fell `maxKeys` behind.
 */
export async function commitKeyedProduce(
  db: IDBPDatabase<EdgelogDB>,
  commit: {
    key: string;
    rows: readonly StagedRow[];
    answer: Omit<ProduceRow, "seq">;
    maxKeys: number;
    durability: IDBTransactionDurability;
  },
): Promise<void> {
  const tx = db.transaction(["batches", "produces"], "readwrite", {
    durability: commit.durability,
  });
  const batches = tx.objectStore("batches");
  const produces = tx.objectStore("produces");
  try {
    const newest = await produces.index("seq").openKeyCursor(null, "prev");
    const seq = (newest?.key ?? 0) + 1;
    const expired: string[] = [];
    let old = await produces.index("seq").openKeyCursor(
      IDBKeyRange.upperBound(seq - commit.maxKeys),
    );
    while (old) {
      expired.push(old.primaryKey);
      old = await old.continue();
    }
    await settle(tx, [
      ...commit.rows.map(({ key, bytes }) => batches.add(bytes, key)),
      produces.add({ ...commit.answer, seq }, commit.key),
      ...expired.map((key) => produces.delete(key)),
    ]);
  } catch (error) {
    throw storageFullOr(
      abandon(tx) ?? error,
      `${commit.rows.length} batches with the idempotency key '${commit.key}'`,
    );
  }
}
