/**
 * The IndexedDB storage adapter: the log core's {@linkcode Storage} port for
 * browsers and service workers, through `idb`. See `idb_schema.ts` for the
 * object stores and `idb_partition_store.ts` for one partition.
 *
 * @module
 */

import type { IDBPDatabase } from "idb";
import type { PartitionStore, Storage } from "../runtime/log/storage.ts";
import { IdbMetaStore } from "./idb_meta_store.ts";
import { IdbPartitionStore } from "./idb_partition_store.ts";
import {
  commitKeyedProduce,
  keyedProduce,
  type StagedRow,
} from "./idb_produce_keys.ts";
import {
  type EdgelogDB,
  openEdgelogDB,
  type ProduceRow,
  settle,
} from "./idb_schema.ts";
import {
  type QuotaOptions,
  type QuotaStatus,
  quotaStatus,
  requestPersistence,
} from "./quota.ts";

/** Options of {@linkcode IdbStorage.open}. */
export interface IdbStorageOptions {
  /** The IndexedDB factory; defaults to the global `indexedDB`. */
  indexedDB?: IDBFactory;
  /**
   * Durability of the transactions that acknowledge appends and metadata
   * writes. "strict" (the default) resolves only after the browser has
   * flushed them to disk; "relaxed" is faster but a power cut may lose the
   * last acknowledged writes (never a reload or a crash of the tab).
   */
  durability?: IDBTransactionDurability;
  /** Quota and persistence. */
  quota?: QuotaOptions & {
    /** Ask the browser for persistent storage on open; default true. */
    persist?: boolean;
  };
}

/**
 * Storage in one IndexedDB database: batches, partition state and
 * metadata. Open it once per database per context; a partition is open in
 * at most one store at a time.
 *
 * @example Usage
 * ```ts ignore
 * import { IdbStorage } from "./idb_storage.ts";
 * const storage = await IdbStorage.open("edgelog");
 * const store = await storage.openPartition("events", 0);
 * console.log(store.nextOffset);
 * await storage.close();
 * ```
 */
export class IdbStorage implements Storage {
  readonly kind = "indexeddb";
  readonly meta: IdbMetaStore;
  readonly #db: IDBPDatabase<EdgelogDB>;
  readonly #durability: IDBTransactionDurability;
  readonly #quota: QuotaOptions;
  readonly #persisted: boolean;
  readonly #open = new Map<string, Promise<IdbPartitionStore>>();
  #staged: StagedRow[] | undefined;

  /** Opens (creating when absent) the database `name`. */
  static async open(
    name: string,
    options: IdbStorageOptions = {},
  ): Promise<IdbStorage> {
    const factory = options.indexedDB ?? globalThis.indexedDB;
    if (!factory) {
      throw new TypeError("IndexedDB is not available in this context");
    }
    const quota: QuotaOptions = options.quota?.storage
      ? { storage: options.quota.storage }
      : {};
    const [db, persisted] = await Promise.all([
      openEdgelogDB(name, factory),
      options.quota?.persist === false
        ? Promise.resolve(false)
        : requestPersistence(quota),
    ]);
    return new IdbStorage(db, {
      durability: options.durability ?? "strict",
      quota,
      persisted,
    });
  }

  /** Use {@linkcode IdbStorage.open}. */
  private constructor(
    db: IDBPDatabase<EdgelogDB>,
    options: {
      durability: IDBTransactionDurability;
      quota: QuotaOptions;
      persisted: boolean;
    },
  ) {
    this.#db = db;
    this.#durability = options.durability;
    this.#quota = options.quota;
    this.#persisted = options.persisted;
    this.meta = new IdbMetaStore(db, { durability: options.durability });
  }

  /** Whether the browser granted persistent storage when this was opened. */
  get persisted(): boolean {
    return this.#persisted;
  }

  /** Usage, quota and persistence of the origin's storage, as of now. */
  quotaStatus(): Promise<QuotaStatus> {
    return quotaStatus(this.#quota);
  }

  /** Opens a partition, or returns the store already open for it. */
  openPartition(topic: string, partition: number): Promise<PartitionStore> {
    const id = `${partition}:${topic}`;
    let store = this.#open.get(id);
    if (!store) {
      store = IdbPartitionStore.open(this.#db, { topic, partition }, {
        durability: this.#durability,
        onClose: () => this.#open.delete(id),
        staging: () => this.#staged,
      });
      this.#open.set(id, store);
      store.catch(() => this.#open.delete(id));
    }
    return store;
  }

  /** The answer of the produce made with idempotency key `key`, if kept. */
  keyedProduce(key: string): Promise<ProduceRow | undefined> {
    return keyedProduce(this.#db, key);
  }

  /**
   * Holds back every append from now on until {@linkcode commitProduce}
   * writes them; a partition's state moves on at once. A storage whose
   * staged appends are never committed must be closed, not used further.
   */
  stageAppends(): void {
    if (this.#staged) throw new Error("Appends are staged already");
    this.#staged = [];
  }

  /**
   * Writes the staged appends and the answer of the produce made with the
   * idempotency key `key` in one transaction, keeping the newest `maxKeys`
   * keys (see `idb_produce_keys.ts`).
   */
  async commitProduce(
    key: string,
    answer: Omit<ProduceRow, "seq">,
    maxKeys: number,
  ): Promise<void> {
    const rows = this.#staged;
    if (!rows) throw new Error("No appends are staged");
    this.#staged = undefined;
    await commitKeyedProduce(this.#db, {
      key,
      rows,
      answer,
      maxKeys,
      durability: this.#durability,
    });
  }

  /**
   * Removes a partition's batches and state in one transaction. A store
   * still open for it is closed first.
   */
  async deletePartition(topic: string, partition: number): Promise<void> {
    const open = this.#open.get(`${partition}:${topic}`);
    if (open) await (await open).close();
    const tx = this.#db.transaction(["batches", "partitions"], "readwrite", {
      durability: this.#durability,
    });
    await settle(tx, [
      tx.objectStore("batches").delete(
        IDBKeyRange.bound([topic, partition, -Infinity], [
          topic,
          partition,
          Infinity,
        ]),
      ),
      tx.objectStore("partitions").delete([topic, partition]),
    ]);
  }

  /** Closes every open partition, then the database connection. */
  async close(): Promise<void> {
    const stores = await Promise.allSettled([...this.#open.values()]);
    await Promise.all(
      stores.map((s) => s.status === "fulfilled" ? s.value.close() : null),
    );
    this.#db.close();
  }
}
