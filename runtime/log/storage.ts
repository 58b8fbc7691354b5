/**
 * The storage port of the log core. `runtime/log` talks only to these
 * interfaces; the memory adapter lives beside them, the filesystem adapter in
 * `edge/`, the IndexedDB adapter in `browser/`. Every adapter passes the one
 * conformance suite in `storage_conformance.ts`.
 *
 * Batches cross this interface as whole Kafka RecordBatch v2 byte arrays,
 * with their baseOffset already assigned; an adapter stores the bytes as
 * they are and never re-encodes records.
 *
 * @module
 */

import type { CorruptionReport } from "./types.ts";

/** A unit that retention can delete whole: a segment, or a single batch. */
export interface SegmentInfo {
  /** Offset of the first record in the unit. */
  baseOffset: number;
  /** One past the last offset in the unit. */
  nextOffset: number;
  /** Largest record timestamp in the unit (-1 if it holds no records). */
  maxTimestamp: number;
  /** Bytes the unit takes in storage. */
  sizeBytes: number;
}

/** One partition's batches, in offset order. */
export interface PartitionStore {
  /** First offset still held; equals `nextOffset` when the store is empty. */
  readonly logStartOffset: number;
  /** The offset the next appended record will get (the high watermark). */
  readonly nextOffset: number;
  /** Bytes held by this partition. */
  readonly sizeBytes: number;

  /**
   * Appends whole batches whose baseOffsets run on from `nextOffset` without
   * a gap. Resolves once the batches are durable under the adapter's sync
   * policy; a rejection means none of them is visible.
   */
  append(batches: readonly Uint8Array[]): Promise<void>;

  /**
   * Whole batches holding offsets at or after `offset`, in order: the first
   * may start before `offset`. At least one batch is returned when one exists,
   * however large; after it, batches are added while the total stays within
   * `maxBytes`. Empty when `offset >= nextOffset`.
   */
  read(offset: number, maxBytes: number): Promise<Uint8Array[]>;

  /**
   * The baseOffset of the first batch whose maxTimestamp is at or after
   * `timestamp`, or null when none is. The caller finds the exact record.
   */
  findBatchByTimestamp(timestamp: number): Promise<number | null>;

  /** The units retention may delete, oldest first; never the active one. */
  segments(): Promise<SegmentInfo[]>;

  /**
   * Deletes the units that lie wholly below `offset`, never the active one,
   * and moves `logStartOffset` to the first offset still held.
   */
  deleteBefore(offset: number): Promise<void>;

  /** Makes every appended batch durable now, whatever the sync policy. */
  flush(): Promise<void>;

  /** Flushes and releases the partition; the store is unusable afterwards. */
  close(): Promise<void>;

  /**
   * Damage the adapter found in what it had stored, kept aside and
   * skipped; adapters that cannot find any leave this out.
   */
  corruptions?(): readonly CorruptionReport[];
}

/**
 * A small durable key-value area for metadata: topic configs, committed
 * group offsets, producer and sync state. Values are JSON-compatible.
 */
export interface MetaStore {
  get(key: string): Promise<unknown | undefined>;
  /** Resolves once the value is durable. */
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<[string, unknown][]>;
}

/** A storage backend: partitions plus metadata. */
export interface Storage {
  /** "memory", "filesystem" or "indexeddb", for logs and metrics. */
  readonly kind: string;
  /** The metadata area. */
  readonly meta: MetaStore;
  /** Opens (creating when absent) a partition store, recovering its tail. */
  openPartition(topic: string, partition: number): Promise<PartitionStore>;
  /** Removes a partition and all of its data; it must not be open. */
  deletePartition(topic: string, partition: number): Promise<void>;
  /** Flushes and closes everything. */
  close(): Promise<void>;
}
