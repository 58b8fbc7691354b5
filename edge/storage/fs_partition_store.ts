/**
 * One partition on the filesystem: a directory of segments, the last one
 * active. Appends are group-committed: appends that arrive while a write or
 * fsync is under way are written together, in one write, and share one
 * fsync.
 *
 * @module
 */

import type { Clock } from "../../runtime/clock.ts";
import {
  type BatchHeader,
  batchSize,
  lastOffset,
  readBatchHeader,
} from "../../runtime/format/batch_header.ts";
import type { PartitionStore, SegmentInfo } from "../../runtime/log/storage.ts";
import type { CorruptionReport } from "../../runtime/log/types.ts";
import {
  parseSegmentFileName,
  Segment,
  segmentFileName,
  type SegmentOptions,
} from "./segment.ts";
import {
  type Manifest,
  type ManifestEntry,
  readManifest,
  writeManifest,
} from "./segment_manifest.ts";
import type { OpenSegments } from "./open_segments.ts";
import { type FsyncPolicy, SyncScheduler } from "./sync_policy.ts";
import { removeIfExists, syncDir } from "./_fs_util.ts";

/**
 * Present while a roll's old segment may not be durable: from before the
 * new segment's file is created until the manifest lists the old one. An
 * open that finds it cannot trust the manifest's active segment to be the
 * last one (the old one may have lost its tail, so the new one's name is
 * unknown) and lists the directory.
 */
const ROLL_MARKER = "segments.rolling";

/** How a partition stores and rolls its segments. */
export interface PartitionOptions {
  fsync: FsyncPolicy;
  segmentBytes: number;
  segmentMs: number;
  indexIntervalBytes: number;
  clock: Clock;
  /** Closed segments whose read handles stay open, shared by the storage. */
  openSegments: OpenSegments;
}

interface PendingAppend {
  batches: readonly Uint8Array[];
  headers: BatchHeader[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A {@linkcode PartitionStore} over a directory of segment files. */
export class FsPartitionStore implements PartitionStore {
  #dir: string;
  #options: PartitionOptions;
  /** Oldest first; the last is active. Replaced, never spliced. */
  #segments: Segment[];
  /** The closed segments (all but the last), as the manifest holds them. */
  #manifest: ManifestEntry[];
  #manifestSaved: Promise<void> = Promise.resolve();
  /**
   * The seal of the segment the last roll closed: its fsync, index files
   * and manifest entry, done off the append path. A failure stays here and
   * is reported by every later roll, flush and deleteBefore.
   */
  #sealing: Promise<void> = Promise.resolve();
  #nextOffset: number;
  #reservedOffset: number;
  #sizeBytes: number;
  #syncer: SyncScheduler;
  #queue: PendingAppend[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;
  #onClose: () => void;
  /** Damage found in this partition's logs since it opened. */
  #corruptions: CorruptionReport[];

  private constructor(
    dir: string,
    options: PartitionOptions,
    segments: Segment[],
    manifest: ManifestEntry[],
    found: { onClose: () => void; corruptions: CorruptionReport[] },
  ) {
    this.#dir = dir;
    this.#corruptions = found.corruptions;
    this.#options = options;
    this.#segments = segments;
    this.#manifest = manifest;
    this.#nextOffset = this.#reservedOffset = this.#active.nextOffset;
    this.#sizeBytes = segments.reduce((sum, s) => sum + s.sizeBytes, 0);
    this.#syncer = new SyncScheduler(options.fsync, {
      clock: options.clock,
      sync: () => this.#active.sync(),
    });
    this.#onClose = found.onClose;
  }

  /**
   * Opens the partition in `dir`, creating it when absent. Only the active
   * segment is read (and its tail repaired). The closed ones come from the
   * manifest, unchecked but for the files a crash can leave it behind on;
   * only without a manifest that matches is the directory listed and each
   * closed segment statted (and the manifest written again).
   */
  static async open(
    dir: string,
    options: PartitionOptions,
    onClose: () => void = () => {},
  ): Promise<FsPartitionStore> {
    await Deno.mkdir(dir, { recursive: true });
    const corruptions: CorruptionReport[] = [];
    const found = { onClose, corruptions };
    const segmentOptions = {
      indexIntervalBytes: options.indexIntervalBytes,
      onDamage: (report: CorruptionReport) => corruptions.push(report),
    };
    const recoverOptions = { ...segmentOptions, now: options.clock.now() };
    const manifest = readManifest(dir);
    const rolling = await exists(`${dir}/${ROLL_MARKER}`);
    if (manifest !== undefined && !rolling) {
      const active = await recoverTrusted(dir, manifest, recoverOptions);
      if (active !== undefined) {
        const segments = manifest.closed.map((entry) =>
          Segment.closed(dir, entry.baseOffset, { ...segmentOptions, ...entry })
        );
        segments.push(active);
        return new FsPartitionStore(
          dir,
          options,
          segments,
          manifest.closed,
          found,
        );
      }
    }
    const logs = await cutAtGap(
      dir,
      await listSegments(dir),
      manifest,
      recoverOptions,
    );
    const activeBase = logs.at(-1);
    if (activeBase === undefined) {
      const segment = await Segment.create(dir, 0, segmentOptions);
      await writeManifest(dir, { closed: [], activeBase: 0 });
      await syncDir(dir);
      return new FsPartitionStore(dir, options, [segment], [], found);
    }
    const closed = await closedSegments(dir, logs, manifest);
    if (rolling) await removeIfExists(`${dir}/${ROLL_MARKER}`);
    const segments = closed.map((entry) =>
      Segment.closed(dir, entry.baseOffset, { ...segmentOptions, ...entry })
    );
    const { segment } = await Segment.recover(dir, activeBase, recoverOptions);
    segments.push(segment);
    return new FsPartitionStore(dir, options, segments, closed, found);
  }

  get logStartOffset(): number {
    return this.#segments[0]!.baseOffset;
  }

  get nextOffset(): number {
    return this.#nextOffset;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Damage found in the partition's segment logs since it opened. */
  corruptions(): readonly CorruptionReport[] {
    return this.#corruptions;
  }

  get #active(): Segment {
    return this.#segments.at(-1)!;
  }

  append(batches: readonly Uint8Array[]): Promise<void> {
    try {
      this.#checkOpen();
      return this.#enqueue(batches);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #enqueue(batches: readonly Uint8Array[]): Promise<void> {
    if (batches.length === 0) return Promise.resolve();
    const headers: BatchHeader[] = [];
    let expected = this.#reservedOffset;
    let bytes = 0;
    for (const batch of batches) {
      const header = readBatchHeader(batch);
      if (batchSize(header) !== batch.length) {
        throw new RangeError(
          `Cannot append a batch of ${batch.length} bytes whose header says ${
            batchSize(header)
          }`,
        );
      }
      if (header.baseOffset !== expected) {
        throw new RangeError(
          `Cannot append batch at offset ${header.baseOffset}: expected offset ${expected}`,
        );
      }
      headers.push(header);
      expected = lastOffset(header) + 1;
      bytes += batch.length;
    }
    this.#reservedOffset = expected;
    return new Promise((resolve, reject) => {
      this.#queue.push({ batches, headers, bytes, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  async read(offset: number, maxBytes: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    if (offset >= this.#nextOffset) return [];
    const segments = this.#segments;
    const out: Uint8Array[] = [];
    let used = 0;
    for (
      let i = this.#segmentIndex(segments, offset);
      i < segments.length;
      i++
    ) {
      const segment = segments[i]!;
      if (segment.removed) continue;
      const result = await segment.readBatches(offset, maxBytes, out, used);
      this.#touch(segment);
      used = result.used;
      if (result.full) break;
    }
    return out;
  }

  async findBatchByTimestamp(timestamp: number): Promise<number | null> {
    this.#checkOpen();
    for (const segment of this.#segments) {
      if (segment.removed) continue;
      const found = await segment.findByTimestamp(timestamp);
      this.#touch(segment);
      if (found !== null) return found;
    }
    return null;
  }

  async segments(): Promise<SegmentInfo[]> {
    this.#checkOpen();
    const closed = this.#segments.slice(0, -1);
    const infos: SegmentInfo[] = [];
    for (let i = 0; i < closed.length; i++) {
      const segment = closed[i]!;
      infos.push({
        baseOffset: segment.baseOffset,
        nextOffset: segment.nextOffset,
        maxTimestamp: await segment.maxTimestamp(),
        sizeBytes: segment.sizeBytes,
      });
      this.#touch(segment);
    }
    return infos;
  }

  async deleteBefore(offset: number): Promise<void> {
    this.#checkOpen();
    await this.#sealing;
    let count = 0;
    while (
      count < this.#manifest.length &&
      this.#segments[count]!.nextOffset <= offset
    ) count++;
    if (count === 0) return;
    const victims = this.#segments.slice(0, count);
    this.#segments = this.#segments.slice(count);
    this.#manifest = this.#manifest.slice(count);
    for (const victim of victims) {
      this.#sizeBytes -= victim.sizeBytes;
      this.#options.openSegments.forget(victim);
      await victim.remove();
    }
    await this.#saveManifest();
    await syncDir(this.#dir);
  }

  async flush(): Promise<void> {
    this.#checkOpen();
    await this.#idle();
    await this.#syncer.flush();
    await this.#sealing;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#idle();
      const closed = await Promise.allSettled([
        this.#syncer.close(),
        this.#sealing,
      ]);
      for (const segment of this.#segments) {
        this.#options.openSegments.forget(segment);
      }
      await Promise.all(this.#segments.map((segment) => segment.close()));
      for (const result of closed) {
        if (result.status === "rejected") throw result.reason;
      }
    } finally {
      this.#onClose();
    }
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new Error(`Partition store ${this.#dir} is closed`);
    }
  }

  async #idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Writes queued appends group by group until the queue is empty. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        await this.#commit(group);
        for (const append of group) append.resolve();
      } catch (error) {
        const failed = group.concat(this.#queue);
        this.#queue = [];
        this.#reservedOffset = this.#nextOffset;
        for (const append of failed) append.reject(error);
      }
    }
    this.#draining = undefined;
  }

  async #commit(group: PendingAppend[]): Promise<void> {
    const batches = group.length === 1
      ? group[0]!.batches
      : group.flatMap((append) => append.batches);
    const headers = group.length === 1
      ? group[0]!.headers
      : group.flatMap((append) => append.headers);
    const bytes = group.reduce((sum, append) => sum + append.bytes, 0);
    const records = lastOffset(headers.at(-1)!) + 1 - this.#nextOffset;
    const now = this.#options.clock.now();
    if (this.#active.shouldRoll(bytes, records, { now, ...this.#options })) {
      await this.#roll();
    }
    const active = this.#active;
    await active.write(batches, headers, now);
    try {
      await this.#syncer.afterWrite();
    } catch (error) {
      await active.rollback().catch(() => {});
      throw error;
    }
    active.commit();
    this.#nextOffset = active.nextOffset;
    this.#sizeBytes += bytes;
  }

  /**
   * Starts a new active segment at once and seals the old one in the
   * background: the old one's fsync is the costly part of a roll, and no
   * append needs it to be acknowledged (under "always" its bytes are
   * durable already; under the other policies flush and close wait for the
   * seal). One seal runs at a time, so at most the segment before the
   * active one can be undurable; the roll marker, durable before the new
   * segment exists, tells open to check it after a crash. Under "always"
   * the old segment is durable already, so no marker is needed, and the
   * new file's directory entry is made durable before the first append to
   * it is acknowledged.
   */
  async #roll(): Promise<void> {
    await this.#sealing;
    const old = this.#active;
    const durable = this.#options.fsync === "always";
    if (!durable) {
      (await Deno.create(`${this.#dir}/${ROLL_MARKER}`)).close();
      await syncDir(this.#dir);
    }
    const segment = await Segment.create(this.#dir, this.#nextOffset, {
      indexIntervalBytes: this.#options.indexIntervalBytes,
      onDamage: (report) => this.#corruptions.push(report),
    });
    this.#segments.push(segment);
    this.#touch(old);
    const sealing = this.#seal(old);
    sealing.catch(() => {});
    this.#sealing = sealing;
    if (durable) await syncDir(this.#dir);
  }

  /**
   * Makes a rolled segment durable, then lists it in the manifest: the
   * manifest never holds a closed segment whose size is not on disk.
   */
  async #seal(old: Segment): Promise<void> {
    await old.seal();
    const maxTimestamp = await old.maxTimestamp();
    this.#manifest = [...this.#manifest, {
      baseOffset: old.baseOffset,
      nextOffset: old.nextOffset,
      sizeBytes: old.sizeBytes,
      maxTimestamp,
    }];
    await this.#saveManifest();
    await syncDir(this.#dir);
    await removeIfExists(`${this.#dir}/${ROLL_MARKER}`);
  }

  /**
   * Writes the manifest of the closed segments as they are when the write
   * starts; writes run one at a time, so the last one holds the latest
   * state.
   */
  #saveManifest(): Promise<void> {
    const saved = this.#manifestSaved.catch(() => {}).then(() =>
      writeManifest(this.#dir, {
        closed: this.#manifest,
        activeBase: this.#active.baseOffset,
      })
    );
    this.#manifestSaved = saved;
    return saved;
  }

  #segmentIndex(segments: readonly Segment[], offset: number): number {
    let lo = 0;
    let hi = segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Keeps the read handles of recently used closed segments open. */
  #touch(segment: Segment): void {
    if (segment !== this.#active) this.#options.openSegments.touch(segment);
  }
}

/**
 * The active segment the manifest names, recovered, or undefined when the
 * files show that the manifest is behind them. Rolls and deleteBefore write
 * the manifest after changing the files, so a crash in between leaves a
 * segment after the active one (a roll) or the oldest closed segment's log
 * gone (a deleteBefore removes segments oldest first, log first).
 */
async function recoverTrusted(
  dir: string,
  manifest: Manifest,
  options: SegmentOptions & { now: number },
): Promise<Segment | undefined> {
  const oldest = manifest.closed[0];
  const newest = manifest.closed.at(-1);
  for (const entry of new Set([oldest, newest])) {
    if (
      entry !== undefined &&
      await logSize(dir, entry.baseOffset) !== entry.sizeBytes
    ) {
      return undefined;
    }
  }
  let segment: Segment;
  try {
    ({ segment } = await Segment.recover(dir, manifest.activeBase, options));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (
    segment.nextOffset !== segment.baseOffset &&
    await logSize(dir, segment.nextOffset) !== undefined
  ) {
    await segment.close();
    return undefined;
  }
  return segment;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The size of the log file of the segment at `baseOffset`, if it exists. */
async function logSize(
  dir: string,
  baseOffset: number,
): Promise<number | undefined> {
  try {
    return (await Deno.stat(`${dir}/${segmentFileName(baseOffset, "log")}`))
      .size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The segment logs `logs` (sorted) with a lost tail repaired. A roll seals
 * the old segment after the new one starts, so a crash can leave the
 * segment before the active one short of its last batches (allowed by
 * every policy but "always") or with a torn tail: when the manifest does
 * not vouch for its size, it is scanned. Its batches cut at the first
 * invalid one; if they then end before the next segment begins, the log
 * would have a hole, so the later segments are removed and it becomes the
 * active segment again.
 */
async function cutAtGap(
  dir: string,
  logs: readonly number[],
  manifest: Manifest | undefined,
  options: SegmentOptions & { now: number },
): Promise<number[]> {
  const base = logs.at(-2);
  if (base === undefined) return [...logs];
  const next = logs.at(-1)!;
  const known = manifest?.closed.find((entry) => entry.baseOffset === base);
  if (
    known !== undefined && known.nextOffset === next &&
    known.sizeBytes === await logSize(dir, base)
  ) {
    return [...logs];
  }
  const { segment } = await Segment.recover(dir, base, options);
  const complete = segment.nextOffset === next;
  await segment.close();
  if (complete) return [...logs];
  for (const kind of ["log", "index", "timeindex"] as const) {
    await removeIfExists(`${dir}/${segmentFileName(next, kind)}`);
  }
  await syncDir(dir);
  return logs.slice(0, -1);
}

/**
 * The base offsets of the segment log files in `dir`, sorted; removes
 * index files whose log is gone. The listing is synchronous: it is a
 * one-off at open, and on thousands of files a fraction of the cost of the
 * asynchronous one.
 */
async function listSegments(dir: string): Promise<number[]> {
  const logs: number[] = [];
  const others: { name: string; baseOffset: number }[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const parsed = parseSegmentFileName(entry.name);
    if (parsed === undefined || !entry.isFile) continue;
    if (parsed.kind === "log") logs.push(parsed.baseOffset);
    else others.push({ name: entry.name, baseOffset: parsed.baseOffset });
  }
  logs.sort((a, b) => a - b);
  const known = new Set(logs);
  for (const orphan of others) {
    if (!known.has(orphan.baseOffset)) {
      await removeIfExists(`${dir}/${orphan.name}`);
    }
  }
  return logs;
}

/**
 * The closed segments of a partition whose segment files start at `logs`
 * (sorted; the last is the active one), each log file statted, keeping the
 * timestamps a stale `manifest` knew; the manifest is written again.
 */
async function closedSegments(
  dir: string,
  logs: readonly number[],
  manifest: Manifest | undefined,
): Promise<ManifestEntry[]> {
  const previous = new Map(
    (manifest?.closed ?? []).map((entry) => [entry.baseOffset, entry]),
  );
  const closed = await Promise.all(
    logs.slice(0, -1).map(async (baseOffset, i) => {
      const nextOffset = logs[i + 1]!;
      const path = `${dir}/${segmentFileName(baseOffset, "log")}`;
      const known = previous.get(baseOffset);
      return {
        baseOffset,
        nextOffset,
        sizeBytes: (await Deno.stat(path)).size,
        maxTimestamp: known?.nextOffset === nextOffset
          ? known.maxTimestamp
          : undefined,
      };
    }),
  );
  await writeManifest(dir, { closed, activeBase: logs.at(-1)! });
  await syncDir(dir);
  return closed;
}
