/**
 * One partition of the IndexedDB adapter. Every batch is one row and one
 * retention unit; the last batch is the active unit, which `deleteBefore`
 * never removes. Each call that changes the partition is one read-write
 * transaction. An append writes only its batch rows; the partition's state
 * lives in memory and is read back from its first and last rows on open, so
 * it cannot disagree with the batches after a crash.
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
  settle,
} from "./idb_schema.ts";
import { storageFullOr } from "./quota.ts";

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

/** What a partition store keeps in memory about its partition. */
interface PartitionState {
  logStartOffset: number;
  nextOffset: number;
  sizeBytes: number;
  /** endBytes of the last row (see BatchRow); 0 when the partition is empty. */
  endBytes: number;
  /** Largest timestamp held: the timeKey the next batch starts from. */
  maxTimestamp: number;
  /** baseOffset of the active (last) batch; -1 when the partition is empty. */
  activeBase: number;
}

/** A {@linkcode PartitionStore} over the "batches" and "partitions" stores. */
export class IdbPartitionStore implements PartitionStore {
  readonly topic: string;
  readonly partition: number;
  readonly #db: IDBPDatabase<EdgelogDB>;
  readonly #durability: IDBTransactionDurability;
  readonly #onClose: (() => void) | undefined;
  #state: PartitionState;
  /** Size of the batch last appended or read first: sizes read chunks. */
  #typicalBatchBytes: number;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Opens a partition: its state comes from its first and last batch rows,
   * which every committed append leaves consistent.
   */
  static async open(
    db: IDBPDatabase<EdgelogDB>,
    key: { topic: string; partition: number },
    options: IdbPartitionStoreOptions = {},
  ): Promise<IdbPartitionStore> {
    const { topic, partition } = key;
    const store = db.transaction("batches", "readonly").store;
    const range = offsetRange(topic, partition);
    const [first, last] = await Promise.all([
      store.openCursor(range, "next"),
      store.openCursor(range, "prev"),
    ]);
    const state: PartitionState = first && last
      ? {
        logStartOffset: first.value.baseOffset,
        nextOffset: last.value.nextOffset,
        sizeBytes: last.value.endBytes - first.value.endBytes +
          first.value.sizeBytes,
        endBytes: last.value.endBytes,
        maxTimestamp: last.value.timeKey,
        activeBase: last.value.baseOffset,
      }
      : {
        logStartOffset: 0,
        nextOffset: 0,
        sizeBytes: 0,
        endBytes: 0,
        maxTimestamp: -Infinity,
        activeBase: -1,
      };
    return new IdbPartitionStore(db, key, {
      state,
      typicalBatchBytes: last?.value.sizeBytes ?? 1,
      options,
    });
  }

  /** Use {@linkcode IdbPartitionStore.open}. */
  private constructor(
    db: IDBPDatabase<EdgelogDB>,
    key: { topic: string; partition: number },
    initial: {
      state: PartitionState;
      typicalBatchBytes: number;
      options: IdbPartitionStoreOptions;
    },
  ) {
    this.#db = db;
    this.topic = key.topic;
    this.partition = key.partition;
    this.#state = initial.state;
    this.#typicalBatchBytes = initial.typicalBatchBytes;
    this.#durability = initial.options.durability ?? "strict";
    this.#onClose = initial.options.onClose;
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
      if (state.activeBase < 0) state.logStartOffset = header.baseOffset;
      state.activeBase = header.baseOffset;
      state.maxTimestamp = Math.max(state.maxTimestamp, header.maxTimestamp);
      state.nextOffset = lastOffset(header) + 1;
      state.sizeBytes += batch.byteLength;
      state.endBytes += batch.byteLength;
      rows.push({
        topic: this.topic,
        partition: this.partition,
        baseOffset: header.baseOffset,
        nextOffset: state.nextOffset,
        maxTimestamp: header.maxTimestamp,
        timeKey: state.maxTimestamp,
        sizeBytes: batch.byteLength,
        endBytes: state.endBytes,
        bytes: ownBytes(batch),
      });
    }
    const tx = this.#db.transaction("batches", "readwrite", {
      durability: this.#durability,
    });
    try {
      await settle(tx, rows.map((row) => tx.store.add(row)));
    } catch (error) {
      throw storageFullOr(
        abandon(tx) ?? error,
        `${rows.length} batches in ${this.#name()}`,
      );
    }
    this.#state = state;
    this.#typicalBatchBytes = rows[rows.length - 1]?.sizeBytes ??
      this.#typicalBatchBytes;
  }

  /**
   * Finds the batch that holds `offset` from keys alone while fetching the
   * batches from `offset` on with `getAll`, both in one round trip; then
   * fetches more in chunks sized from the typical batch. Whole rows only
   * ever load when they are returned, but for the last of an overshooting
   * chunk.
   */
  async read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    if (offset >= this.#state.nextOffset) return [];
    const { topic, partition } = this;
    const store = this.#db.transaction("batches", "readonly").store;
    const chunkFor = (bytes: number) =>
      Math.min(
        MAX_READ_CHUNK,
        Math.max(1, Math.ceil(bytes / this.#typicalBatchBytes)),
      );
    const firstChunk = chunkFor(maxBytes);
    const [holderKey, fromOffset] = await Promise.all([
      store.openKeyCursor(
        IDBKeyRange.bound([topic, partition, -Infinity], [
          topic,
          partition,
          offset,
        ]),
        "prev",
      ),
      store.getAll(offsetRange(topic, partition, offset), firstChunk),
    ]);
    const holderBase = holderKey?.key[2];
    const holder = holderBase === undefined || holderBase === offset
      ? undefined
      : await store.get([topic, partition, holderBase]);
    const rows = holder ? [holder, ...fromOffset] : fromOffset;
    const first = rows[0];
    if (!first) return [];
    this.#typicalBatchBytes = first.sizeBytes;
    const out = [first.bytes];
    let total = first.sizeBytes;
    let after = first.baseOffset;
    let more = fromOffset.length === firstChunk;
    let next = rows.slice(1);
    for (;;) {
      for (const row of next) {
        if (total + row.sizeBytes > maxBytes) return out;
        out.push(row.bytes);
        total += row.sizeBytes;
        after = row.baseOffset;
      }
      if (!more || total >= maxBytes) return out;
      const chunk = chunkFor(maxBytes - total);
      next = await store.getAll(
        IDBKeyRange.bound([topic, partition, after], [
          topic,
          partition,
          Infinity,
        ], true),
        chunk,
      );
      more = next.length === chunk;
    }
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
      const baseOffset = cursor.primaryKey[2];
      if (baseOffset >= this.#state.activeBase) break;
      const [, , , nextOffset, maxTimestamp, sizeBytes] = cursor.key;
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
    const { activeBase } = this.#state;
    if (activeBase < 0 || offset <= this.#state.logStartOffset) return;
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
      let keepFrom = activeBase;
      while (cursor) {
        const base = cursor.primaryKey[2];
        const [, , , next, maxTimestamp, size] = cursor.key;
        if (next > offset || base === activeBase) {
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
      const fixes: { base: number; timeKey: number }[] = [];
      let running = -Infinity;
      while (cursor && running < deletedMax) {
        running = Math.max(running, cursor.key[4]);
        if (cursor.key[2] !== running) {
          fixes.push({ base: cursor.primaryKey[2], timeKey: running });
        }
        cursor = await cursor.continue();
      }
      const state: PartitionState = {
        ...this.#state,
        logStartOffset: keepFrom,
        sizeBytes: this.#state.sizeBytes - deletedBytes,
        maxTimestamp: running < deletedMax ? running : this.#state.maxTimestamp,
      };
      const requests: Promise<unknown>[] = [
        batches.delete(
          IDBKeyRange.bound(
            [topic, partition, -Infinity],
            [topic, partition, keepFrom],
            false,
            true,
          ),
        ),
        tx.objectStore("partitions").put({
          topic,
          partition,
          logStartOffset: keepFrom,
        }),
      ];
      for (const fix of fixes) {
        const row = await batches.get([topic, partition, fix.base]);
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
   * Otherwise, a strict-durability commit of the partition's row: the
   * browser flushes its write-ahead log, which makes every earlier, relaxed
   * commit durable too.
   */
  async #flush(): Promise<void> {
    if (this.#durability === "strict") return;
    const tx = this.#db.transaction("partitions", "readwrite", {
      durability: "strict",
    });
    const { topic, partition } = this;
    try {
      await settle(tx, [
        tx.store.put({
          topic,
          partition,
          logStartOffset: this.#state.logStartOffset,
        }),
      ]);
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
