/**
 * The filesystem storage adapter: partitions under
 * `<dir>/topics/<topic>/<partition>/` as segment files, metadata under
 * `<dir>/meta/` as one JSON file per key.
 *
 * @module
 */

import { type Clock, systemClock } from "../../runtime/clock.ts";
import type { PartitionStore, Storage } from "../../runtime/log/storage.ts";
import { FsMetaStore } from "./fs_meta_store.ts";
import {
  FsPartitionStore,
  type PartitionOptions,
} from "./fs_partition_store.ts";
import { OpenSegments } from "./open_segments.ts";
import { checkFsyncPolicy, type FsyncPolicy } from "./sync_policy.ts";
import { syncDir } from "./_fs_util.ts";

/** How {@linkcode FsStorage} writes, rolls and indexes segments. */
export interface FsStorageOptions {
  /** When appends reach the disk; default `"always"`. */
  fsync?: FsyncPolicy;
  /** A segment rolls before it would pass this size; default 64 MiB. */
  segmentBytes?: number;
  /**
   * A segment rolls once it is this old, counted on `clock` from its first
   * append (after a restart: from its first batch's timestamp); default
   * 7 days.
   */
  segmentMs?: number;
  /** Log bytes between offset index entries; default 4096. */
  indexIntervalBytes?: number;
  /** Times segment age and the fsync interval; default the system clock. */
  clock?: Clock;
  /**
   * Closed segments whose read handles stay open, across all partitions;
   * default 256. Others close and reopen on their next read.
   */
  maxOpenSegments?: number;
}

/** Closed segments' read handles kept open by default, in all. */
export const DEFAULT_MAX_OPEN_SEGMENTS = 256;

interface OpenEntry {
  store: Promise<FsPartitionStore>;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RangeError(
      `${name} must be an integer from 1 to ${max}, got ${value}`,
    );
  }
  return value;
}

function partitionOptions(options: FsStorageOptions): PartitionOptions {
  return {
    fsync: checkFsyncPolicy(options.fsync ?? "always"),
    segmentBytes: positiveInteger(
      "segmentBytes",
      options.segmentBytes ?? 64 * 1024 * 1024,
      0x7fffffff,
    ),
    segmentMs: positiveInteger(
      "segmentMs",
      options.segmentMs ?? 7 * 24 * 3600 * 1000,
      Number.MAX_SAFE_INTEGER,
    ),
    indexIntervalBytes: positiveInteger(
      "indexIntervalBytes",
      options.indexIntervalBytes ?? 4096,
      0x7fffffff,
    ),
    clock: options.clock ?? systemClock,
    openSegments: new OpenSegments(positiveInteger(
      "maxOpenSegments",
      options.maxOpenSegments ?? DEFAULT_MAX_OPEN_SEGMENTS,
      1_000_000,
    )),
  };
}

/**
 * A {@linkcode Storage} in a directory of the local filesystem.
 *
 * @example Usage
 * ```ts ignore
 * import { FsStorage } from "./fs_storage.ts";
 * const storage = await FsStorage.open("./data", { fsync: { intervalMs: 50 } });
 * const store = await storage.openPartition("events", 0);
 * console.log(store.nextOffset);
 * await storage.close();
 * ```
 */
export class FsStorage implements Storage {
  readonly kind = "filesystem";
  readonly meta: FsMetaStore;
  /** The root directory. */
  readonly dir: string;
  #options: PartitionOptions;
  #open = new Map<string, OpenEntry>();
  #closed = false;

  private constructor(
    dir: string,
    meta: FsMetaStore,
    options: PartitionOptions,
  ) {
    this.dir = dir;
    this.meta = meta;
    this.#options = options;
  }

  /** Closed segments' read handles open now, and their cap. */
  get openSegments(): { open: number; max: number } {
    const { size, max } = this.#options.openSegments;
    return { open: size, max };
  }

  /** Opens (creating when absent) the storage rooted at `dir`. */
  static async open(
    dir: string,
    options: FsStorageOptions = {},
  ): Promise<FsStorage> {
    const resolved = partitionOptions(options);
    await Deno.mkdir(`${dir}/topics`, { recursive: true });
    const meta = await FsMetaStore.open(`${dir}/meta`);
    return new FsStorage(dir, meta, resolved);
  }

  /**
   * Opens a partition, recovering its active segment; opening one that is
   * already open returns the same store.
   */
  openPartition(topic: string, partition: number): Promise<PartitionStore> {
    try {
      this.#checkOpen();
      const path = this.#partitionDir(topic, partition);
      const open = this.#open.get(path);
      if (open !== undefined) return open.store;
      const entry = {} as OpenEntry;
      entry.store = this.#openStore(topic, path, () => {
        if (this.#open.get(path) === entry) this.#open.delete(path);
      });
      this.#open.set(path, entry);
      entry.store.catch(() => {
        if (this.#open.get(path) === entry) this.#open.delete(path);
      });
      return entry.store;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes a partition's directory; the partition must be closed. */
  async deletePartition(topic: string, partition: number): Promise<void> {
    this.#checkOpen();
    const path = this.#partitionDir(topic, partition);
    if (this.#open.has(path)) {
      throw new Error(
        `Cannot delete partition ${topic}/${partition}: it is open`,
      );
    }
    try {
      await Deno.remove(path, { recursive: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return;
    }
    const topicDir = `${this.dir}/topics/${topic}`;
    try {
      await Deno.remove(topicDir);
    } catch {
      // Other partitions remain, or a concurrent deletion of the topic's
      // last other partition removed the directory first.
      try {
        await syncDir(topicDir);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      return;
    }
    await syncDir(`${this.dir}/topics`);
  }

  /** Closes every open partition (flushing it) and waits for meta writes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stores = await Promise.allSettled(
      [...this.#open.values()].map((entry) => entry.store),
    );
    await Promise.all(
      stores.map((s) => s.status === "fulfilled" ? s.value.close() : undefined),
    );
    await this.meta.settle();
  }

  async #openStore(
    topic: string,
    path: string,
    onClose: () => void,
  ): Promise<FsPartitionStore> {
    const topicDir = `${this.dir}/topics/${topic}`;
    let created = false;
    try {
      await Deno.mkdir(path);
      created = true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        await Deno.mkdir(path, { recursive: true });
        await syncDir(`${this.dir}/topics`);
        created = true;
      } else if (!(error instanceof Deno.errors.AlreadyExists)) {
        throw error;
      }
    }
    if (created) await syncDir(topicDir);
    return await FsPartitionStore.open(path, this.#options, onClose);
  }

  #partitionDir(topic: string, partition: number): string {
    if (!TOPIC_NAME.test(topic) || topic === "." || topic === "..") {
      throw new TypeError(`Invalid topic name '${topic}'`);
    }
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new RangeError(`Invalid partition ${partition}`);
    }
    return `${this.dir}/topics/${topic}/${partition}`;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`Storage ${this.dir} is closed`);
  }
}
