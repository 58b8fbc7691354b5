/**
 * The metadata area of the IndexedDB adapter: one object store of
 * JSON-compatible values under string keys.
 *
 * @module
 */

import type { IDBPDatabase, IDBPObjectStore } from "idb";
import type { MetaStore } from "../runtime/log/storage.ts";
import type { EdgelogDB } from "./idb_schema.ts";
import { abandon, settle } from "./idb_schema.ts";
import { storageFullOr } from "./quota.ts";

/**
 * The smallest string above every string that starts with `prefix`, or
 * undefined when there is none (the prefix is all U+FFFF code units).
 */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const unit = prefix.charCodeAt(i);
    if (unit < 0xffff) {
      return prefix.slice(0, i) + String.fromCharCode(unit + 1);
    }
  }
  return undefined;
}

/** A {@linkcode MetaStore} over the "meta" object store. */
export class IdbMetaStore implements MetaStore {
  readonly #db: IDBPDatabase<EdgelogDB>;
  readonly #durability: IDBTransactionDurability;

  /** Writes commit with `durability` (see IdbStorageOptions). */
  constructor(
    db: IDBPDatabase<EdgelogDB>,
    options: { durability?: IDBTransactionDurability } = {},
  ) {
    this.#db = db;
    this.#durability = options.durability ?? "strict";
  }

  get(key: string): Promise<unknown | undefined> {
    return this.#db.get("meta", key);
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.#write(`metadata '${key}'`, (store) => store.put(value, key));
  }

  async delete(key: string): Promise<void> {
    await this.#write(`deletion of '${key}'`, (store) => store.delete(key));
  }

  async list(prefix: string): Promise<[string, unknown][]> {
    const end = prefixEnd(prefix);
    const range = prefix === ""
      ? undefined
      : end === undefined
      ? IDBKeyRange.lowerBound(prefix)
      : IDBKeyRange.bound(prefix, end, false, true);
    const tx = this.#db.transaction("meta", "readonly");
    const [keys, values] = await Promise.all([
      tx.store.getAllKeys(range),
      tx.store.getAll(range),
      tx.done,
    ]);
    return keys.map((key, i) => [key, values[i]]);
  }

  async #write(
    what: string,
    op: (
      store: IDBPObjectStore<EdgelogDB, ["meta"], "meta", "readwrite">,
    ) => Promise<unknown>,
  ): Promise<void> {
    const tx = this.#db.transaction("meta", "readwrite", {
      durability: this.#durability,
    });
    try {
      await settle(tx, [op(tx.store)]);
    } catch (error) {
      throw storageFullOr(abandon(tx) ?? error, what);
    }
  }
}
