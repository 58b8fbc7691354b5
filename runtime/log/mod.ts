/**
 * The portable log core: topics, partitions, offsets, retention and the
 * storage port with its memory adapter and conformance suite.
 *
 * @module
 */

export * from "./types.ts";
export * from "./storage.ts";
export * from "./topic_name.ts";
export * from "./retention.ts";
export * from "./memory_storage.ts";
export * from "./partition_log.ts";
export * from "./log.ts";
export * from "./storage_conformance.ts";
