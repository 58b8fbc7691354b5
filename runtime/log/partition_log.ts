/**
 * One partition of a topic over a {@linkcode PartitionStore}: it assigns
 * offsets, group-commits appends, reads records, applies retention and the
 * disk budget, and wakes long-polling readers.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import {
  type BatchHeader,
  batchSize,
  CODEC_MASK,
  type Compression,
  decodeBatch,
  encodeBatch,
  lastOffset,
  readBatchHeader,
  setBaseOffset,
} from "../format/mod.ts";
import {
  checkBatchSync,
  checkCompressedSection,
} from "../format/batch_validation.ts";
import { budgetCut, retentionCut } from "./retention.ts";
import type { PartitionStore } from "./storage.ts";
import type {
  AppendResult,
  LogRecord,
  PartitionInfo,
  ReadResult,
  RecordInput,
  TopicConfig,
} from "./types.ts";

/** One acknowledged append, for metrics and live streams. */
export interface AppendEvent {
  topic: string;
  partition: number;
  baseOffset: number;
  lastOffset: number;
  records: number;
  bytes: number;
}

/**
 * Records the disk budget dropped before they could be kept, so that the
 * loss is counted and reported, never silent. Offsets are inclusive.
 */
export interface DropEvent {
  topic: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
  records: number;
}

/** The parts of a topic's configuration a partition applies. */
export type PartitionConfig = Pick<
  TopicConfig,
  | "retentionMs"
  | "retentionBytes"
  | "cleanupPolicy"
  | "diskBudgetBytes"
  | "whenFull"
>;

/** Options of {@linkcode PartitionLog}. */
export interface PartitionLogOptions {
  topic: string;
  partition: number;
  /** Retention and budget; default: keep everything, no budget. */
  config?: Partial<PartitionConfig>;
  /** Default: the system clock. */
  clock?: Clock;
  /** Offsets at or above the returned value survive time/size retention. */
  retentionFloor?: () => number;
  onAppend?: (event: AppendEvent) => void;
  onDrop?: (event: DropEvent) => void;
  /**
   * Cap on the bytes one batch's records decompress to, on append and on
   * read; default the codec's default.
   */
  maxDecompressedBytes?: number;
}

/** `err` with batch `i` of an append named in its message. */
function naming(i: number, err: unknown): unknown {
  if (!(err instanceof EdgelogError)) return err;
  return new EdgelogError(err.code, `Batch ${i}: ${err.message}`, {
    ...err.extra,
  });
}

/** Default byte limit of {@linkcode PartitionLog.read}. */
const DEFAULT_READ_BYTES = 1 << 20;

const UNLIMITED: PartitionConfig = {
  retentionMs: -1,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  diskBudgetBytes: -1,
  whenFull: "reject",
};

/** An append waiting for the next group commit. */
interface PendingAppend {
  batches: readonly Uint8Array[];
  /** Offsets each batch spans. */
  counts: number[];
  bytes: number;
  resolve(result: AppendResult): void;
  reject(reason: unknown): void;
}

interface Waiter {
  offset: number;
  finish(hasData: boolean): void;
}

/**
 * A partition: the only writer of its store. Appends that arrive while a
 * storage append is in flight wait and are then written together in one
 * storage append (group commit), so a slow fsync is paid once per group,
 * not once per caller; each caller still gets its own offsets.
 *
 * @example Usage
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * import { PartitionLog } from "./partition_log.ts";
 * const storage = new MemoryStorage();
 * const log = new PartitionLog(await storage.openPartition("t", 0), {
 *   topic: "t",
 *   partition: 0,
 * });
 * const { baseOffset } = await log.appendRecords([{ value: new Uint8Array([1]) }]);
 * const { records } = await log.read(baseOffset);
 * console.assert(records[0]!.value![0] === 1);
 * await log.close();
 * ```
 */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  #store: PartitionStore;
  #config: PartitionConfig;
  #clock: Clock;
  #retentionFloor: () => number;
  #onAppend: (event: AppendEvent) => void;
  #onDrop: (event: DropEvent) => void;
  /** One past the last acknowledged offset: what readers may see. */
  #highWatermark: number;
  #pending: PendingAppend[] = [];
  #draining = false;
  /** Serializes writes to the store: group commits and retention. */
  #tail: Promise<void> = Promise.resolve();
  #waiters = new Set<Waiter>();
  #closed = false;
  #decompression: { maxDecompressedBytes?: number };
  /**
   * Appends whose compressed batches are still being checked, in call
   * order: each joins the pending group only after those before it.
   */
  #admission: Promise<void> = Promise.resolve();
  #admitting = 0;

  constructor(store: PartitionStore, options: PartitionLogOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.#store = store;
    this.#config = { ...UNLIMITED, ...options.config };
    this.#clock = options.clock ?? systemClock;
    this.#retentionFloor = options.retentionFloor ?? (() => Infinity);
    this.#onAppend = options.onAppend ?? (() => {});
    this.#onDrop = options.onDrop ?? (() => {});
    this.#decompression = options.maxDecompressedBytes === undefined
      ? {}
      : { maxDecompressedBytes: options.maxDecompressedBytes };
    this.#highWatermark = store.nextOffset;
  }

  /** First offset still held. */
  get logStartOffset(): number {
    return Math.min(this.#store.logStartOffset, this.#highWatermark);
  }

  /** The offset the next record will get. */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Bytes the partition holds. */
  get sizeBytes(): number {
    return this.#store.sizeBytes;
  }

  /** How many {@linkcode waitForData} calls are waiting. */
  get waiters(): number {
    return this.#waiters.size;
  }

  info(): PartitionInfo {
    const info: PartitionInfo = {
      partition: this.partition,
      logStartOffset: this.logStartOffset,
      highWatermark: this.highWatermark,
      sizeBytes: this.sizeBytes,
    };
    const corruptions = this.#store.corruptions?.() ?? [];
    if (corruptions.length > 0) info.corruptions = [...corruptions];
    return info;
  }

  /**
   * Appends whole batches after validating each (batch_validation.ts): a
   * batch that would not read back whole is `CORRUPT_BATCH`, and nothing
   * of the call is written. Their baseOffsets are rewritten in place to
   * run on contiguously from the high watermark. Rejects with
   * `STORAGE_FULL` (nothing written) when the disk budget is full and the
   * policy is "reject".
   */
  appendBatches(batches: readonly Uint8Array[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (batches.length === 0) {
      return Promise.reject(new RangeError("Cannot append no batches"));
    }
    const compressed: { batch: Uint8Array; header: BatchHeader; i: number }[] =
      [];
    let counts: number[];
    try {
      counts = batches.map((batch, i) => {
        let header;
        try {
          header = checkBatchSync(batch);
        } catch (err) {
          throw naming(i, err);
        }
        if (batchSize(header) !== batch.length) {
          throw new EdgelogError(
            "CORRUPT_BATCH",
            `Batch ${i} is ${
              batchSize(header)
            } bytes but ${batch.length} were given`,
          );
        }
        if ((header.attributes & CODEC_MASK) !== 0) {
          compressed.push({ batch, header, i });
        }
        return header.recordCount;
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (compressed.length === 0) return this.#admit(batches, counts);
    // One at a time: each may take up to the decompression cap in memory.
    const checked = (async () => {
      for (const { batch, header, i } of compressed) {
        try {
          await checkCompressedSection(batch, header, this.#decompression);
        } catch (err) {
          throw naming(i, err);
        }
      }
    })();
    checked.catch(() => {});
    return this.#admit(batches, counts, checked);
  }

  /** Encodes records as one batch (timestamps default to the clock) and appends it. */
  async appendRecords(
    records: readonly RecordInput[],
    options: { compression?: Compression } = {},
  ): Promise<AppendResult> {
    if (this.#closed) throw this.#closedError();
    if (records.length === 0) throw new RangeError("Cannot append no records");
    const batch = await encodeBatch(records, {
      compression: options.compression ?? "none",
      now: this.#clock.now(),
    });
    return await this.#admit([batch], [records.length]);
  }

  /**
   * Queues checked batches for the next group commit, after every append
   * called before whose checks are still running, once `checked` passes.
   */
  #admit(
    batches: readonly Uint8Array[],
    counts: number[],
    checked?: Promise<void>,
  ): Promise<AppendResult> {
    if (checked === undefined && this.#admitting === 0) {
      return this.#enqueue(batches, counts);
    }
    this.#admitting++;
    const turn = this.#admission.then(() => checked).then(() => ({
      result: this.#closed
        ? Promise.reject<AppendResult>(this.#closedError())
        : this.#enqueue(batches, counts),
    }));
    this.#admission = turn.then(() => {}, () => {}).finally(() => {
      this.#admitting--;
    });
    return turn.then(({ result }) => result);
  }

  #enqueue(
    batches: readonly Uint8Array[],
    counts: number[],
  ): Promise<AppendResult> {
    const bytes = batches.reduce((n, b) => n + b.length, 0);
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pending.push({ batches, counts, bytes, resolve, reject });
      this.#drain();
    });
  }

  /**
   * Whole batches from `offset` (the first may start before it), up to
   * `maxBytes` but at least one. `OFFSET_OUT_OF_RANGE` below the log start or
   * above the high watermark; empty at the high watermark.
   */
  async readBatches(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    this.#checkOffset(offset);
    if (offset === this.#highWatermark) return [];
    const batches = await this.#store.read(offset, maxBytes);
    // The store may already hold a group commit that is not acknowledged.
    const visible = this.#highWatermark;
    return batches.filter((b) => readBatchHeader(b).baseOffset < visible);
  }

  /**
   * Records from `offset` on, skipping those before it in the first batch,
   * at most `maxRecords` (default all that were read) from at most
   * `maxBytes` of batches (default 1 MiB, at least one batch).
   */
  async read(
    offset: number,
    options: { maxRecords?: number; maxBytes?: number } = {},
  ): Promise<ReadResult> {
    const maxRecords = options.maxRecords ?? Infinity;
    const batches = await this.readBatches(
      offset,
      options.maxBytes ?? DEFAULT_READ_BYTES,
    );
    const records: LogRecord[] = [];
    let nextOffset = offset;
    for (const batch of batches) {
      if (records.length >= maxRecords) break;
      const decoded = await decodeBatch(batch, this.#decompression);
      let whole = true;
      for (const record of decoded.records) {
        if (record.offset < offset) continue;
        if (records.length >= maxRecords) {
          whole = false;
          break;
        }
        records.push(record);
        nextOffset = record.offset + 1;
      }
      if (whole) {
        nextOffset = Math.max(nextOffset, lastOffset(decoded.header) + 1);
      }
    }
    return {
      records,
      nextOffset,
      highWatermark: this.highWatermark,
      logStartOffset: this.logStartOffset,
    };
  }

  /** The first offset whose record timestamp is >= `timestamp`, else the high watermark. */
  async offsetForTimestamp(timestamp: number): Promise<number> {
    const base = await this.#store.findBatchByTimestamp(timestamp);
    if (base === null) return this.#highWatermark;
    let at = base;
    while (at < this.#highWatermark) {
      const [batch] = await this.#store.read(at, 0);
      if (batch === undefined) break;
      const { header, records } = await decodeBatch(batch, this.#decompression);
      if (header.baseOffset >= this.#highWatermark) break;
      const found = records.find((r) =>
        r.offset >= at && r.timestamp >= timestamp
      );
      if (found !== undefined) return found.offset;
      at = lastOffset(header) + 1;
    }
    return this.#highWatermark;
  }

  /**
   * Resolves true as soon as the high watermark passes `offset`, false after
   * `timeoutMs` on the clock, on abort, or when the partition closes. Woken
   * by appends, it never polls.
   */
  waitForData(
    offset: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (this.#highWatermark > offset) return Promise.resolve(true);
    if (this.#closed || timeoutMs <= 0 || signal?.aborted) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const timer = new AbortController();
      const onAbort = () => waiter.finish(false);
      const waiter: Waiter = {
        offset,
        finish: (hasData) => {
          if (!this.#waiters.delete(waiter)) return;
          signal?.removeEventListener("abort", onAbort);
          timer.abort();
          resolve(hasData);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#clock.sleep(timeoutMs, timer.signal).then(
        () => waiter.finish(false),
        () => {},
      );
    });
  }

  /**
   * Applies time and size retention (topics with the "delete" cleanup
   * policy), deleting only whole units below the retention floor.
   */
  enforceRetention(): Promise<void> {
    if (this.#closed || this.#config.cleanupPolicy !== "delete") {
      return Promise.resolve();
    }
    return this.#exclusive(async () => {
      const units = await this.#store.segments();
      const cut = retentionCut(units, {
        retentionMs: this.#config.retentionMs,
        retentionBytes: this.#config.retentionBytes,
        sizeBytes: this.#store.sizeBytes,
        now: this.#clock.now(),
        floor: this.#retentionFloor(),
      });
      if (cut !== null) await this.#store.deleteBefore(cut);
    });
  }

  /** Finishes pending appends, wakes waiters with false and closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.finish(false);
    await this.#exclusive(() => this.#store.close());
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.then(() => {}, () => {});
    return run;
  }

  /** Starts a drain unless one runs; it commits every pending append in groups. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#exclusive(async () => {
      try {
        while (this.#pending.length > 0) {
          await this.#commit(this.#pending.splice(0));
        }
      } finally {
        this.#draining = false;
      }
    });
  }

  async #commit(group: PendingAppend[]): Promise<void> {
    let accepted: PendingAppend[];
    try {
      accepted = await this.#applyBudget(group);
    } catch (err) {
      for (const entry of group) entry.reject(err);
      return;
    }
    if (accepted.length === 0) return;
    let next = this.#store.nextOffset;
    const results = accepted.map((entry) => {
      const baseOffset = next;
      entry.batches.forEach((batch, i) => {
        setBaseOffset(batch, next);
        next += entry.counts[i]!;
      });
      return { baseOffset, lastOffset: next - 1 };
    });
    try {
      await this.#store.append(accepted.flatMap((entry) => entry.batches));
    } catch (err) {
      for (const entry of accepted) entry.reject(err);
      return;
    }
    this.#highWatermark = next;
    accepted.forEach((entry, i) => {
      const result = results[i]!;
      entry.resolve(result);
      this.#emit(this.#onAppend, {
        topic: this.topic,
        partition: this.partition,
        baseOffset: result.baseOffset,
        lastOffset: result.lastOffset,
        records: result.lastOffset - result.baseOffset + 1,
        bytes: entry.bytes,
      });
    });
    for (const waiter of [...this.#waiters]) {
      if (next > waiter.offset) waiter.finish(true);
    }
  }

  /**
   * Applies the disk budget to a group: "reject" fails the appends that do
   * not fit; "dropOldest" deletes the oldest units to make room, reporting
   * what it dropped.
   */
  async #applyBudget(group: PendingAppend[]): Promise<PendingAppend[]> {
    const budget = this.#config.diskBudgetBytes;
    if (budget < 0) return group;
    if (this.#config.whenFull === "reject") {
      const accepted: PendingAppend[] = [];
      let size = this.#store.sizeBytes;
      for (const entry of group) {
        if (size + entry.bytes > budget) {
          entry.reject(
            new EdgelogError(
              "STORAGE_FULL",
              `Cannot append ${entry.bytes} bytes to ${this.topic}/${this.partition}: it holds ${size} of its ${budget}-byte budget`,
            ),
          );
        } else {
          accepted.push(entry);
          size += entry.bytes;
        }
      }
      return accepted;
    }
    const incomingBytes = group.reduce((n, entry) => n + entry.bytes, 0);
    const sizeBytes = this.#store.sizeBytes;
    if (sizeBytes + incomingBytes <= budget) return group;
    const cut = budgetCut(await this.#store.segments(), {
      sizeBytes,
      incomingBytes,
      budgetBytes: budget,
    });
    if (cut === null) return group;
    const fromOffset = this.#store.logStartOffset;
    await this.#store.deleteBefore(cut);
    const toOffset = this.#store.logStartOffset;
    if (toOffset > fromOffset) {
      this.#emit(this.#onDrop, {
        topic: this.topic,
        partition: this.partition,
        fromOffset,
        toOffset: toOffset - 1,
        records: toOffset - fromOffset,
      });
    }
    return group;
  }

  /** Calls a listener; its fault must not fail an append already durable. */
  #emit<E>(listener: (event: E) => void, event: E): void {
    try {
      listener(event);
    } catch {
      // The append stands; a listener's own error is its own to report.
    }
  }

  #checkOffset(offset: number): void {
    if (!Number.isSafeInteger(offset)) {
      throw new RangeError(`Cannot read offset ${offset}: not an integer`);
    }
    const extra = {
      logStartOffset: this.logStartOffset,
      highWatermark: this.#highWatermark,
    };
    if (offset < extra.logStartOffset) {
      throw new EdgelogError(
        "OFFSET_OUT_OF_RANGE",
        `Cannot read offset ${offset} of ${this.topic}/${this.partition}: below log start ${extra.logStartOffset}`,
        extra,
      );
    }
    if (offset > extra.highWatermark) {
      throw new EdgelogError(
        "OFFSET_OUT_OF_RANGE",
        `Cannot read offset ${offset} of ${this.topic}/${this.partition}: above high watermark ${extra.highWatermark}`,
        extra,
      );
    }
  }

  #closedError(): EdgelogError {
    return new EdgelogError(
      "UNAVAILABLE",
      `Partition ${this.topic}/${this.partition} is closed`,
    );
  }
}
