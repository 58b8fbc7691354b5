/**
 * edgelog in the browser: the IndexedDB storage adapter and quota helpers.
 *
 * @module
 */

export { IdbStorage, type IdbStorageOptions } from "./idb_storage.ts";
export {
  IdbPartitionStore,
  type IdbPartitionStoreOptions,
} from "./idb_partition_store.ts";
export { IdbMetaStore } from "./idb_meta_store.ts";
export {
  type BatchKey,
  DB_VERSION,
  type EdgelogDB,
  openEdgelogDB,
  type PartitionRow,
} from "./idb_schema.ts";
export {
  isQuotaExceeded,
  type QuotaOptions,
  type QuotaStatus,
  quotaStatus,
  requestPersistence,
  storageFullOr,
  type StorageManagerLike,
} from "./quota.ts";
