/**
 * One partition of the IndexedDB adapter. Every batch is one row and one
 * retention unit; the last batch is the active unit, which `deleteBefore`
 * never removes. Each call that changes the partition is one read-write
 * transaction. An append writes only its batch rows; the partition's state
 * lives in memory and is read back from its first and last keys on open, so
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
  type BatchKey,
  type EdgelogDB,
  FIELD,
  settle,
} from "./idb_schema.ts";
import type { StagedRow } from "./idb_produce_keys.ts";
import { storageFullOr } from "./quota.ts";

/** Most batches one `getAll` of a read fetches. */
const MAX_READ_CHUNK = 256;

/** Options of {@linkcode IdbPartitionStore}. */
export interface IdbPartitionStoreOptions {
  /** Durability of the transactions that acknowledge writes. */
  durability?: IDBTransactionDurability;
  /** Called once the store is closed. */
  onClose?: () => void;
  /**
   * Where appends go instead of IndexedDB while the storage stages them
   * (see `idb_produce_keys.ts`); undefined when it does not.
   */
  staging?: () => StagedRow[] | undefined;
}

/** The partition's batches whose baseOffset is in [from, to). */
function offsetRange(
  topic: string,
  partition: number,
  from = -Infinity,
  to = Infinity,
): IDBKeyRange {
  return IDBKeyRange.bound(
    [topic, partition, from],
    [topic, partition, to],
    false,
    true,
  );
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
  /** endBytes of the last batch (see BatchKey); 0 when the partition is empty. */
  endBytes: number;
  /** Largest timestamp held: the timeKey the next batch starts from. */
  maxTimestamp: number;
  /** baseOffset of the active (last) batch; -1 when the partition is empty. */
  activeBase: number;
}

/** The state a partition's first and last keys describe. */
function stateOf(
  first: BatchKey | undefined,
  last: BatchKey | undefined,
): PartitionState {
  if (!first || !last) {
    return {
      logStartOffset: 0,
      nextOffset: 0,
      sizeBytes: 0,
      endBytes: 0,
      maxTimestamp: -Infinity,
      activeBase: -1,
    };
  }
  const [, , logStartOffset, , , , firstSize, firstEnd] = first;
  const [, , activeBase, nextOffset, , maxTimestamp, , endBytes] = last;
  return {
    logStartOffset,
    nextOffset,
    sizeBytes: endBytes - firstEnd + firstSize,
    endBytes,
    maxTimestamp,
    activeBase,
  };
}

/** A {@linkcode PartitionStore} over the "batches" and "partitions" stores. */
export class IdbPartitionStore implements PartitionStore {
  readonly topic: string;
  readonly partition: number;
  readonly #db: IDBPDatabase<EdgelogDB>;
  readonly #durability: IDBTransactionDurability;
  readonly #onClose: (() => void) | undefined;
  readonly #staging: (() => StagedRow[] | undefined) | undefined;
  #state: PartitionState;
  /** Size of the batch last appended or read first: sizes read chunks. */
  #typicalBatchBytes: number;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Opens a partition: its state comes from its first and last keys, which
   * every committed append leaves consistent.
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
      store.openKeyCursor(range, "next"),
      store.openKeyCursor(range, "prev"),
    ]);
    return new IdbPartitionStore(db, key, {
      state: stateOf(first?.key, last?.key),
      typicalBatchBytes: last?.key[FIELD.sizeBytes] ?? 1,
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
    this.#staging = initial.options.staging;
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
    const rows: StagedRow[] = [];
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
      const key: BatchKey = [
        this.topic,
        this.partition,
        header.baseOffset,
        state.nextOffset,
        header.maxTimestamp,
        state.maxTimestamp,
        batch.byteLength,
        state.endBytes,
      ];
      rows.push({ key, bytes: ownBytes(batch) });
    }
    const staged = this.#staging?.();
    if (staged) staged.push(...rows);
    else await this.#write(rows);
    this.#state = state;
    this.#typicalBatchBytes = batches[batches.length - 1]?.byteLength ??
      this.#typicalBatchBytes;
  }

  async #write(rows: readonly StagedRow[]): Promise<void> {
    const tx = this.#db.transaction("batches", "readwrite", {
      durability: this.#durability,
    });
    try {
      await settle(tx, rows.map(({ key, bytes }) => tx.store.add(bytes, key)));
    } catch (error) {
      throw storageFullOr(
        abandon(tx) ?? error,
        `${rows.length} batches in ${this.#name()}`,
      );
    }
  }

  /**
   * Finds the batch that holds `offset` from keys alone while fetching the
   * batches from `offset` on with `getAll`, both in one round trip; then
   * fetches more in chunks sized from the typical batch. Batches only ever
   * load when they are returned, but for the last of an overshooting chunk.
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
        offsetRange(topic, partition, -Infinity, offset),
        "prev",
      ),
      store.getAll(offsetRange(topic, partition, offset), firstChunk),
    ]);
    const holder = holderKey && holderKey.key[FIELD.nextOffset] > offset
      ? await store.get(holderKey.key)
      : undefined;
    const batches = holder ? [holder, ...fromOffset] : fromOffset;
    let last = batches[0];
    if (!last) return [];
    this.#typicalBatchBytes = last.byteLength;
    const out = [last];
    let total = last.byteLength;
    let more = fromOffset.length === firstChunk;
    let next = batches.slice(1);
    for (;;) {
      for (const batch of next) {
        if (total + batch.byteLength > maxBytes) return out;
        out.push(batch);
        total += batch.byteLength;
        last = batch;
      }
      if (!more || total >= maxBytes) return out;
      const chunk = chunkFor(maxBytes - total);
      const after = lastOffset(readBatchHeader(last)) + 1;
      next = await store.getAll(offsetRange(topic, partition, after), chunk);
      more = next.length === chunk;
    }
  }

  /**
   * Binary search over the keys: timeKey never falls in offset order, and
   * the active batch's timeKey is the partition's maximum. Each probe reads
   * the key of the batch holding the middle offset.
   */
  async findBatchByTimestamp(timestamp: number): Promise<number | null> {
    this.#checkOpen();
    const { topic, partition } = this;
    let { logStartOffset: lo, activeBase: hi } = this.#state;
    if (hi < 0 || this.#state.maxTimestamp < timestamp) return null;
    const store = this.#db.transaction("batches").store;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const cursor = await store.openKeyCursor(
        offsetRange(topic, partition, -Infinity, mid + 1),
        "prev",
      );
      // No batch at or below mid: another connection's retention deleted
      // batches this store still counts from, and the answer lies above.
      if (!cursor) lo = mid + 1;
      else if (cursor.key[FIELD.timeKey] >= timestamp) {
        hi = cursor.key[FIELD.baseOffset];
      } else lo = cursor.key[FIELD.nextOffset];
    }
    return hi;
  }

  async segments(): Promise<SegmentInfo[]> {
    this.#checkOpen();
    const keys = await this.#db.getAllKeys(
      "batches",
      offsetRange(
        this.topic,
        this.partition,
        -Infinity,
        this.#state.activeBase,
      ),
    );
    return keys.map((
      [, , baseOffset, nextOffset, maxTimestamp, , sizeBytes],
    ) => ({
      baseOffset,
      nextOffset,
      maxTimestamp,
      sizeBytes,
    }));
  }

  deleteBefore(offset: number): Promise<void> {
    return this.#exclusive(() => this.#deleteBefore(offset));
  }

  /**
   * Deletes the leading batches that end at or before `offset`, then lowers
   * the timeKey of the batches after them that only the deleted batches had
   * raised (a key cannot change: such a batch is stored again under its new
   * key). That walk stops at the first kept batch whose running maximum
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
      let cursor = await batches.openKeyCursor(offsetRange(topic, partition));
      let deletedMax = -Infinity;
      let deletedBytes = 0;
      let keepFrom = activeBase;
      while (cursor) {
        const [, , base, next, maxTimestamp, , size] = cursor.key;
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
      const fixes: { key: BatchKey; timeKey: number }[] = [];
      let running = -Infinity;
      while (cursor && running < deletedMax) {
        running = Math.max(running, cursor.key[FIELD.maxTimestamp]);
        if (cursor.key[FIELD.timeKey] !== running) {
          fixes.push({ key: cursor.key, timeKey: running });
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
        batches.delete(offsetRange(topic, partition, -Infinity, keepFrom)),
        tx.objectStore("partitions").put({
          topic,
          partition,
          logStartOffset: keepFrom,
        }),
      ];
      for (const { key, timeKey } of fixes) {
        const bytes = await batches.get(key);
        if (!bytes) continue;
        const fixed: BatchKey = [...key];
        fixed[FIELD.timeKey] = timeKey;
        requests.push(batches.delete(key), batches.add(bytes, fixed));
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
