/**
 * The public shapes of the log core, shared by the log, the server, the
 * client, groups and sync.
 *
 * @module
 */

/** One record header: a string key and a byte value (null allowed). */
export interface Header {
  key: string;
  value: Uint8Array | null;
  /**
   * The key's bytes, present only when they are not valid UTF-8 (`key` then
   * holds them decoded with U+FFFD); encoders write these bytes, not `key`.
   */
  keyBytes?: Uint8Array;
}

/** A record as a producer gives it. */
export interface RecordInput {
  key?: Uint8Array | null;
  /** Null is a tombstone. */
  value: Uint8Array | null;
  headers?: Header[];
  /** Milliseconds since the epoch; the log's clock when absent. */
  timestamp?: number;
  /** Explicit partition; else the key's murmur2 partition, else sticky. */
  partition?: number;
}

/** A stored record, as a reader gets it. */
export interface LogRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Header[];
}

/** What to do when a topic's disk budget is full. */
export type FullPolicy = "reject" | "dropOldest";

/** Per-topic configuration; -1 means unbounded. */
export interface TopicConfig {
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  cleanupPolicy: "delete" | "compact";
  /** Bytes a partition may hold before `whenFull` applies; -1 = no budget. */
  diskBudgetBytes: number;
  whenFull: FullPolicy;
}

/** PROTOCOL.md's TopicInfo with a partition count. */
export interface TopicInfo {
  name: string;
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  cleanupPolicy: "delete" | "compact";
}

/** Offsets and size of one partition. */
export interface PartitionInfo {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  sizeBytes: number;
  /** Damage storage found in the partition's files; absent when none. */
  corruptions?: CorruptionReport[];
}

/**
 * A byte range of a partition's stored log that failed its checks, was
 * copied aside and is skipped; the batches around it stay readable.
 */
export interface CorruptionReport {
  /** The segment file holding the range. */
  segment: string;
  /** First damaged byte in the segment. */
  fromByte: number;
  /** One past the last damaged byte. */
  toByte: number;
  /** First offset the range may have held. */
  fromOffset: number;
  /** Last offset the range may have held (below fromOffset: none). */
  toOffset: number;
  /** The file beside the segment holding a copy of the damaged bytes. */
  quarantine: string;
}

/** Where a produced record landed. */
export interface RecordPosition {
  partition: number;
  offset: number;
}

/** The offsets an append was given. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
}

/** A page of records read from a partition. */
export interface ReadResult {
  records: LogRecord[];
  /** The offset to read next. */
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}
