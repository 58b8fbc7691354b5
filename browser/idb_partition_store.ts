/**
 * One partition of the IndexedDB adapter. Every batch is one row and one
 * retention unit; the last batch is the active unit, which `deleteBefore`
 * never removes. Each call that changes the partition is one read-write
 * transaction that writes the batches and the partition's state together,
 * so the two never disagree after a crash.
 *
 * @module
 */

import type { IDBPDatabase } from "idb";
import {
  batchSize,
  lastOffset,
  readBatchHeader,
} from "../runtime/format/batch_header.ts";
import type { PartitionStore, SegmentInfo } from "../runtime/log/storage.ts";
import {
  abandon,
  type BatchRow,
  type EdgelogDB,
  type PartitionRow,
  settle,
} from "./idb_schema.ts";
import { storageFullOr } from "./quota.ts";

type TimeKey = EdgelogDB["batches"]["indexes"]["time"];

/** Most batches one `getAll` of a read fetches. */
const MAX_READ_CHUNK = 256;

/** Options of {@linkcode IdbPartitionStore}. */
export interface IdbPartitionStoreOptions {
  /** Durability of the transactions that acknowledge writes. */
  durability?: IDBTransactionDurability;
  /** Called once the store is closed. */
  onClose?: () => void;
}

/** All batches of one partition, by baseOffset. */
function offsetRange(topic: string, partition: number, from = -Infinity) {
  return IDBKeyRange.bound([topic, partition, from], [
    topic,
    partition,
    Infinity,
  ]);
}

/** The partition's slice of the "time" index, from timeKey `from`. */
function timeRange(topic: string, partition: number, from = -Infinity) {
  return IDBKeyRange.bound([topic, partition, from], [
    topic,
    partition,
    Infinity,
  ]);
}

/**
 * A copy of `batch` that owns its buffer: IndexedDB clones a view's whole
 * ArrayBuffer, so a view into a larger request body would store the body.
 */
function ownBytes(batch: Uint8Array): Uint8Array {
  return batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength
    ? batch
    : batch.slice();
}

/** A {@linkcode PartitionStore} over the "batches" and "partitions" stores. */
export class IdbPartitionStore implements PartitionStore {
  readonly topic: string;
  readonly partition: number;
  readonly #db: IDBPDatabase<EdgelogDB>;
  readonly #durability: IDBTransactionDurability;
  readonly #onClose: (() => void) | undefined;
  #state: PartitionRow;
  /** baseOffset of the active (last) batch; -1 when the partition is empty. */
  #activeBase: number;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Opens a partition: reads its state row and checks it against its last
   * batch; if they disagree, the state is rebuilt from the batches.
   */
  static async open(
    db: IDBPDatabase<EdgelogDB>,
    key: { topic: string; partition: number },
    options: IdbPartitionStoreOptions = {},
  ): Promise<IdbPartitionStore> {
    const { topic, partition } = key;
    const tx = db.transaction(["batches", "partitions"], "readonly");
    const index = tx.objectStore("batches").index("time");
    const [row, last] = await Promise.all([
      tx.objectStore("partitions").get([topic, partition]),
      index.openKeyCursor(timeRange(topic, partition), "prev"),
    ]);
    const lastKey = last?.key;
    let state: PartitionRow;
    if (lastKey === undefined) {
      state = {
        topic,
        partition,
        logStartOffset: row?.nextOffset ?? 0,
        nextOffset: row?.nextOffset ?? 0,
        sizeBytes: 0,
        maxTimestamp: -Infinity,
      };
    } else if (row?.nextOffset === lastKey[4]) {
      state = row;
    } else {
      state = await IdbPartitionStore.#rebuild(db, topic, partition);
    }
    await tx.done;
    return new IdbPartitionStore(
      db,
      { state, activeBase: lastKey?.[3] ?? -1 },
      options,
    );
  }

  static async #rebuild(
    db: IDBPDatabase<EdgelogDB>,
    topic: string,
    partition: number,
  ): Promise<PartitionRow> {
    const state: PartitionRow = {
      topic,
      partition,
      logStartOffset: 0,
      nextOffset: 0,
      sizeBytes: 0,
      maxTimestamp: -Infinity,
    };
    let cursor = await db.transaction("batches").store.index("time")
      .openKeyCursor(timeRange(topic, partition));
    let first = true;
    while (cursor) {
      const [, , , base, next, maxTimestamp, size] = cursor.key;
      if (first) state.logStartOffset = base;
      first = false;
      state.nextOffset = next;
      state.sizeBytes += size;
      state.maxTimestamp = Math.max(state.maxTimestamp, maxTimestamp);
      cursor = await cursor.continue();
    }
    return state;
  }

  /** Use {@linkcode IdbPartitionStore.open}. */
  private constructor(
    db: IDBPDatabase<EdgelogDB>,
    initial: { state: PartitionRow; activeBase: number },
    options: IdbPartitionStoreOptions,
  ) {
    this.#db = db;
    this.topic = initial.state.topic;
    this.partition = initial.state.partition;
    this.#state = initial.state;
    this.#activeBase = initial.activeBase;
    this.#durability = options.durability ?? "strict";
    this.#onClose = options.onClose;
  }

  get logStartOffset(): number {
    return this.#state.logStartOffset;
  }

  get nextOffset(): number {
    return this.#state.nextOffset;
  }

  get sizeBytes(): number {
    return this.#state.sizeBytes;
  }

  append(batches: readonly Uint8Array[]): Promise<void> {
    return this.#exclusive(() => this.#append(batches));
  }

  async #append(batches: readonly Uint8Array[]): Promise<void> {
    if (batches.length === 0) return;
    const state = { ...this.#state };
    const rows: BatchRow[] = [];
    for (const batch of batches) {
      const header = readBatchHeader(batch);
      if (batchSize(header) !== batch.byteLength) {
        throw new RangeError(
          `Cannot append a batch of ${batch.byteLength} bytes whose header says ${
            batchSize(header)
          }`,
        );
      }
      if (header.baseOffset !== state.nextOffset) {
        throw new RangeError(
          `Cannot append a batch at offset ${header.baseOffset} to ${this.#name()}: expected offset ${state.nextOffset}`,
        );
      }
      state.maxTimestamp = Math.max(state.maxTimestamp, header.maxTimestamp);
      state.nextOffset = lastOffset(header) + 1;
      state.sizeBytes += batch.byteLength;
      rows.push({
        topic: this.topic,
        partition: this.partition,
        baseOffset: header.baseOffset,
        nextOffset: state.nextOffset,
        maxTimestamp: header.maxTimestamp,
        timeKey: state.maxTimestamp,
        sizeBytes: batch.byteLength,
        bytes: ownBytes(batch),
      });
    }
    const tx = this.#db.transaction(["batches", "partitions"], "readwrite", {
      durability: this.#durability,
    });
    try {
      const store = tx.objectStore("batches");
      const requests: Promise<unknown>[] = rows.map((row) => store.add(row));
      requests.push(tx.objectStore("partitions").put(state));
      await settle(tx, requests);
    } catch (error) {
      throw storageFullOr(
        abandon(tx) ?? error,
        `${rows.length} batches in ${this.#name()}`,
      );
    }
    this.#state = state;
    this.#activeBase = rows[rows.length - 1]?.baseOffset ?? this.#activeBase;
  }

  /**
   * Reads the batch that holds `offset`, then the following ones with
   * `getAll` in chunks sized from the first batch: one request per chunk
   * instead of one per batch, as a cursor would need.
   */
  async read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    if (offset >= this.#state.nextOffset) return [];
    const { topic, partition } = this;
    const store = this.#db.transaction("batches", "readonly").store;
    const holder = await store.openCursor(
      IDBKeyRange.bound([topic, partition, -Infinity], [
        topic,
        partition,
        offset,
      ]),
      "prev",
    );
    const first = holder?.value ??
      await store.get(offsetRange(topic, partition));
    if (!first) return [];
    const out = [first.bytes];
    let total = first.sizeBytes;
    let after = first.baseOffset;
    while (total < maxBytes) {
      const chunk = Math.min(
        MAX_READ_CHUNK,
        Math.ceil((maxBytes - total) / first.sizeBytes) + 1,
      );
      const rows = await store.getAll(
        IDBKeyRange.bound([topic, partition, after], [
          topic,
          partition,
          Infinity,
        ], true),
        chunk,
      );
      for (const row of rows) {
        if (total + row.sizeBytes > maxBytes) return out;
        out.push(row.bytes);
        total += row.sizeBytes;
        after = row.baseOffset;
      }
      if (rows.length < chunk) break;
    }
    return out;
  }

  async findBatchByTimestamp(timestamp: number): Promise<number | null> {
    this.#checkOpen();
    const key = await this.#db.getKeyFromIndex(
      "batches",
      "time",
      timeRange(this.topic, this.partition, timestamp),
    );
    return key?.[2] ?? null;
  }

  async segments(): Promise<SegmentInfo[]> {
    this.#checkOpen();
    const units: SegmentInfo[] = [];
    let cursor = await this.#db.transaction("batches").store.index("time")
      .openKeyCursor(timeRange(this.topic, this.partition));
    while (cursor) {
      const [, , , baseOffset, nextOffset, maxTimestamp, sizeBytes] =
        cursor.key;
      if (baseOffset >= this.#activeBase) break;
      units.push({ baseOffset, nextOffset, maxTimestamp, sizeBytes });
      cursor = await cursor.continue();
    }
    return units;
  }

  deleteBefore(offset: number): Promise<void> {
    return this.#exclusive(() => this.#deleteBefore(offset));
  }

  /**
   * Deletes the leading batches that end at or before `offset`, then lowers
   * the timeKey of the batches after them that only the deleted batches had
   * raised. That walk stops at the first kept batch whose running maximum
   * reaches the deleted maximum: from there on nothing changes.
   */
  async #deleteBefore(offset: number): Promise<void> {
    if (this.#activeBase < 0 || offset <= this.#state.logStartOffset) return;
    const { topic, partition } = this;
    const tx = this.#db.transaction(["batches", "partitions"], "readwrite", {
      durability: this.#durability,
    });
    try {
      const batches = tx.objectStore("batches");
      let cursor = await batches.index("time").openKeyCursor(
        timeRange(topic, partition),
      );
      let deletedMax = -Infinity;
      let deletedBytes = 0;
      let keepFrom = this.#activeBase;
      while (cursor) {
        const [, , , base, next, maxTimestamp, size] = cursor.key;
        if (next > offset || base === this.#activeBase) {
          keepFrom = base;
          break;
        }
        deletedMax = Math.max(deletedMax, maxTimestamp);
        deletedBytes += size;
        cursor = await cursor.continue();
      }
      if (keepFrom === this.#state.logStartOffset) {
        await tx.done;
        return;
      }
      const fixes: { key: TimeKey; timeKey: number }[] = [];
      let running = -Infinity;
      while (cursor && running < deletedMax) {
        running = Math.max(running, cursor.key[5]);
        if (cursor.key[2] !== running) {
          fixes.push({ key: cursor.key, timeKey: running });
        }
        cursor = await cursor.continue();
      }
      const state: PartitionRow = {
        ...this.#state,
        logStartOffset: keepFrom,
        sizeBytes: this.#state.sizeBytes - deletedBytes,
        maxTimestamp: running < deletedMax ? running : this.#state.maxTimestamp,
      };
      const requests: Promise<unknown>[] = [
        batches.delete(
          IDBKeyRange.bound(
            [topic, partition, -Infinity],
            [
              topic,
              partition,
              keepFrom,
            ],
            false,
            true,
          ),
        ),
        tx.objectStore("partitions").put(state),
      ];
      for (const fix of fixes) {
        const row = await batches.get([topic, partition, fix.key[3]]);
        if (row) requests.push(batches.put({ ...row, timeKey: fix.timeKey }));
      }
      await settle(tx, requests);
      this.#state = state;
    } catch (error) {
      throw storageFullOr(abandon(tx) ?? error, `retention of ${this.#name()}`);
    }
  }

  flush(): Promise<void> {
    return this.#exclusive(() => this.#flush());
  }

  /**
   * Under "strict" durability every acknowledged write is durable already.
   * Otherwise, a strict-durability commit: the browser flushes its
   * write-ahead log, which makes every earlier, relaxed commit durable too.
   */
  async #flush(): Promise<void> {
    if (this.#durability === "strict") return;
    const tx = this.#db.transaction("partitions", "readwrite", {
      durability: "strict",
    });
    try {
      await settle(tx, [tx.store.put(this.#state)]);
    } catch (error) {
      throw storageFullOr(abandon(tx) ?? error, `state of ${this.#name()}`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#onClose?.();
  }

  #exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(() => {
      this.#checkOpen();
      return fn();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new Error(`Partition ${this.#name()} is closed`);
    }
  }

  #name(): string {
    return `${this.topic}/${this.partition}`;
  }
}
