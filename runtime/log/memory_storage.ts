/**
 * The memory adapter of the storage port, for tests and ephemeral nodes.
 * Each batch is its own unit: retention deletes single batches, and the last
 * batch is the active unit that is never deleted, until a roll closes it.
 *
 * @module
 */

import { lastOffset, readBatchHeader } from "../format/batch_header.ts";
import type {
  ActiveSegmentInfo,
  MetaStore,
  PartitionStore,
  SegmentInfo,
  Storage,
} from "./storage.ts";

/** Options of {@linkcode MemoryStorage}; there are none yet. */
export type MemoryStorageOptions = Record<string, never>;

interface StoredBatch {
  baseOffset: number;
  nextOffset: number;
  maxTimestamp: number;
  bytes: Uint8Array;
}

/** The state of one partition; it outlives the stores opened over it. */
interface PartitionState {
  batches: StoredBatch[];
  nextOffset: number;
  sizeBytes: number;
  /** A roll closed the last batch: it is deletable too. */
  rolled: boolean;
}

function partitionKey(topic: string, partition: number): string {
  return JSON.stringify([topic, partition]);
}

/** Index of the first batch holding an offset at or after `offset`. */
function firstBatchFrom(
  batches: readonly StoredBatch[],
  offset: number,
): number {
  let low = 0;
  let high = batches.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (batches[mid]!.nextOffset <= offset) low = mid + 1;
    else high = mid;
  }
  return low;
}

class MemoryPartitionStore implements PartitionStore {
  #state: PartitionState;
  #name: string;
  #onClose: () => void;
  #closed = false;

  constructor(state: PartitionState, name: string, onClose: () => void) {
    this.#state = state;
    this.#name = name;
    this.#onClose = onClose;
  }

  get logStartOffset(): number {
    return this.#state.batches[0]?.baseOffset ?? this.#state.nextOffset;
  }

  get nextOffset(): number {
    return this.#state.nextOffset;
  }

  get sizeBytes(): number {
    return this.#state.sizeBytes;
  }

  append(batches: readonly Uint8Array[]): Promise<void> {
    return this.#settle(() => {
      const stored: StoredBatch[] = [];
      let next = this.#state.nextOffset;
      for (const batch of batches) {
        const header = readBatchHeader(batch);
        if (header.baseOffset !== next) {
          throw new RangeError(
            `Cannot append batch at offset ${header.baseOffset} to ${this.#name}: next offset is ${next}`,
          );
        }
        next = lastOffset(header) + 1;
        stored.push({
          baseOffset: header.baseOffset,
          nextOffset: next,
          maxTimestamp: header.recordCount > 0 ? header.maxTimestamp : -1,
          bytes: batch.slice(),
        });
      }
      for (const batch of stored) {
        this.#state.batches.push(batch);
        this.#state.sizeBytes += batch.bytes.length;
      }
      this.#state.nextOffset = next;
      if (stored.length > 0) this.#state.rolled = false;
    });
  }

  read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    return this.#settle(() => {
      const batches = this.#state.batches;
      const out: Uint8Array[] = [];
      let total = 0;
      for (let i = firstBatchFrom(batches, offset); i < batches.length; i++) {
        const bytes = batches[i]!.bytes;
        if (out.length > 0 && total + bytes.length > maxBytes) break;
        out.push(bytes.slice());
        total += bytes.length;
      }
      return out;
    });
  }

  findBatchByTimestamp(timestamp: number): Promise<number | null> {
    return this.#settle(() =>
      this.#state.batches.find((b) => b.maxTimestamp >= timestamp)
        ?.baseOffset ?? null
    );
  }

  segments(): Promise<SegmentInfo[]> {
    return this.#settle(() =>
      this.#closedBatches().map((b) => ({
        baseOffset: b.baseOffset,
        nextOffset: b.nextOffset,
        maxTimestamp: b.maxTimestamp,
        sizeBytes: b.bytes.length,
      }))
    );
  }

  activeSegment(): ActiveSegmentInfo | null {
    const last = this.#state.batches.at(-1);
    if (last === undefined || this.#state.rolled) return null;
    return {
      baseOffset: last.baseOffset,
      nextOffset: last.nextOffset,
      maxTimestamp: last.maxTimestamp,
      sizeBytes: last.bytes.length,
      rollBaseMs: last.maxTimestamp,
    };
  }

  roll(): Promise<void> {
    return this.#settle(() => {
      this.#state.rolled = this.#state.batches.length > 0;
    });
  }

  deleteBefore(offset: number): Promise<void> {
    return this.#settle(() => {
      const batches = this.#state.batches;
      const deletable = this.#closedBatches().length;
      let count = 0;
      while (count < deletable && batches[count]!.nextOffset <= offset) {
        this.#state.sizeBytes -= batches[count]!.bytes.length;
        count++;
      }
      batches.splice(0, count);
    });
  }

  flush(): Promise<void> {
    return this.#settle(() => {});
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#onClose();
    }
    return Promise.resolve();
  }

  /** The batches retention may delete: all but the active one. */
  #closedBatches(): StoredBatch[] {
    const { batches, rolled } = this.#state;
    return rolled ? batches : batches.slice(0, -1);
  }

  /** Runs `fn` on an open store, turning a throw into a rejection. */
  #settle<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.#closed) {
        throw new Error(`Partition store ${this.#name} is closed`);
      }
      resolve(fn());
    });
  }
}

/**
 * Metadata in a map. Values are deep-copied on the way in and out, as a
 * durable store would serialize them, so callers never share state with it.
 */
class MemoryMetaStore implements MetaStore {
  #entries = new Map<string, unknown>();

  get(key: string): Promise<unknown | undefined> {
    return Promise.resolve(
      this.#entries.has(key)
        ? structuredClone(this.#entries.get(key))
        : undefined,
    );
  }

  set(key: string, value: unknown): Promise<void> {
    this.#entries.set(key, structuredClone(value));
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  list(prefix: string): Promise<[string, unknown][]> {
    const keys = [...this.#entries.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(
      keys.map((key) => [key, structuredClone(this.#entries.get(key))]),
    );
  }
}

/**
 * Storage in memory. Closing releases the open partition stores but keeps
 * the data, so opening the same instance again stands for a restart in
 * tests.
 *
 * @example Usage
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * const storage = new MemoryStorage();
 * const store = await storage.openPartition("orders", 0);
 * console.assert(store.nextOffset === 0);
 * await storage.close();
 * ```
 */
export class MemoryStorage implements Storage {
  readonly kind = "memory";
  readonly meta: MetaStore = new MemoryMetaStore();
  #partitions = new Map<string, PartitionState>();
  #open = new Set<MemoryPartitionStore>();
  /** How many open stores each partition has. */
  #openCounts = new Map<string, number>();

  constructor(_options: MemoryStorageOptions = {}) {}

  openPartition(topic: string, partition: number): Promise<PartitionStore> {
    const key = partitionKey(topic, partition);
    let state = this.#partitions.get(key);
    if (state === undefined) {
      state = { batches: [], nextOffset: 0, sizeBytes: 0, rolled: false };
      this.#partitions.set(key, state);
    }
    const store: MemoryPartitionStore = new MemoryPartitionStore(
      state,
      `${topic}/${partition}`,
      () => {
        this.#open.delete(store);
        const count = this.#openCounts.get(key)! - 1;
        if (count === 0) this.#openCounts.delete(key);
        else this.#openCounts.set(key, count);
      },
    );
    this.#open.add(store);
    this.#openCounts.set(key, (this.#openCounts.get(key) ?? 0) + 1);
    return Promise.resolve(store);
  }

  deletePartition(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    if (this.#openCounts.has(key)) {
      return Promise.reject(
        new Error(`Cannot delete partition ${topic}/${partition}: it is open`),
      );
    }
    this.#partitions.delete(key);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#open].map((store) => store.close()));
  }
}
