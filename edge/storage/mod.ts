/**
 * The filesystem storage adapter: segment files with offset and time
 * indexes per partition, group-committed appends under a configurable
 * fsync policy, and a JSON-file metadata area.
 *
 * @module
 */

export * from "./fs_storage.ts";
export * from "./fs_partition_store.ts";
export * from "./fs_meta_store.ts";
export * from "./segment.ts";
export * from "./segment_manifest.ts";
export * from "./offset_index.ts";
export * from "./time_index.ts";
export * from "./sync_policy.ts";
export * from "./segment_scan.ts";
