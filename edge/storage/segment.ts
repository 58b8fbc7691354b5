/**
 * One segment of a partition: a log file of whole record batches named by
 * its base offset, with a sparse offset index and a time index beside it.
 * The last segment of a partition is active (appended to); the others are
 * closed, trusted, and loaded lazily on first use.
 *
 * @module
 */

import { type FileHandle, open as openHandle } from "node:fs/promises";
import { EdgelogError } from "../../runtime/errors.ts";
import {
  type BatchHeader,
  lastOffset,
} from "../../runtime/format/batch_header.ts";
import type { CorruptionReport } from "../../runtime/log/types.ts";
import { OffsetIndex } from "./offset_index.ts";
import { type DamagedRange, scanSegment } from "./segment_scan.ts";
import { TimeIndex } from "./time_index.ts";
import { readAt, readIfExists, removeIfExists, writeAll } from "./_fs_util.ts";
import { concatBytes } from "../../runtime/format/bytes.ts";

/** The three files of a segment. */
export type SegmentFileKind = "log" | "index" | "timeindex";

/** `00000000000000000042.log`: zero-padded so name order is offset order. */
export function segmentFileName(
  baseOffset: number,
  kind: SegmentFileKind,
): string {
  return `${String(baseOffset).padStart(20, "0")}.${kind}`;
}

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

/** The base offset and kind of a segment file name, if it is one. */
export function parseSegmentFileName(
  name: string,
): { baseOffset: number; kind: SegmentFileKind } | undefined {
  const match = SEGMENT_FILE.exec(name);
  if (match === null) return undefined;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return undefined;
  return { baseOffset, kind: match[2] as SegmentFileKind };
}

/** Options shared by every segment of a partition. */
export interface SegmentOptions {
  /** Log bytes between offset index entries. */
  indexIntervalBytes: number;
  /**
   * Told of each damaged range a check of the log finds (after its bytes
   * are copied aside), once per range and process.
   */
  onDamage?: (report: CorruptionReport) => void;
}

/** What a read of one segment added. */
export interface SegmentReadResult {
  /** Bytes returned so far, this segment's batches included. */
  used: number;
  /** Whether `maxBytes` stopped the read (so later segments add nothing). */
  full: boolean;
}

/** The header fields storage needs, read from the first 43 bytes. */
interface Head {
  baseOffset: number;
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

const HEAD_BYTES = 43;
/** Smallest batchLength a batch can have (a 61-byte header, no records). */
const MIN_BATCH_LENGTH = 49;
/** Cap on one positioned read when reads gather batches. */
const MAX_CHUNK_BYTES = 8 << 20;
/** Largest run of small batches copied together into one write. */
const GATHER_BYTES = 1 << 20;

function readHead(bytes: Uint8Array): Head {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEAD_BYTES);
  const baseOffset = Number(view.getBigInt64(0));
  const batchLength = view.getInt32(8);
  return {
    baseOffset,
    size: 12 + batchLength,
    lastOffset: baseOffset + view.getInt32(23),
    maxTimestamp: Number(view.getBigInt64(35)),
  };
}

/**
 * Joins runs of small batches into one buffer so that an append is one
 * write; a batch of `GATHER_BYTES` or more is written as it is, uncopied.
 */
function gather(batches: readonly Uint8Array[]): Uint8Array[] {
  if (batches.length === 1) return [batches[0]!];
  const chunks: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const endRun = () => {
    if (run.length === 1) chunks.push(run[0]!);
    if (run.length > 1) chunks.push(concatBytes(run));
    run = [];
    runBytes = 0;
  };
  for (const batch of batches) {
    if (batch.length >= GATHER_BYTES) {
      endRun();
      chunks.push(batch);
      continue;
    }
    if (runBytes + batch.length > GATHER_BYTES) endRun();
    run.push(batch);
    runBytes += batch.length;
  }
  endRun();
  return chunks;
}

/** Reads a segment through one read-ahead buffer. */
class ChunkReader {
  #read: (position: number, length: number) => Promise<Uint8Array>;
  #end: number;
  #chunkBytes: number;
  #buffer: Uint8Array | undefined;
  #start = 0;

  constructor(
    read: (position: number, length: number) => Promise<Uint8Array>,
    end: number,
    chunkBytes: number,
  ) {
    this.#read = read;
    this.#end = end;
    this.#chunkBytes = chunkBytes;
  }

  async bytes(position: number, length: number): Promise<Uint8Array> {
    if (position + length > this.#end) {
      throw new EdgelogError(
        "INTERNAL",
        `Segment is corrupt: ${length} bytes at ${position} run past its end ${this.#end}`,
      );
    }
    const buffer = this.#buffer;
    if (
      buffer !== undefined && position >= this.#start &&
      position + length <= this.#start + buffer.length
    ) {
      return buffer.subarray(
        position - this.#start,
        position - this.#start + length,
      );
    }
    const size = Math.min(
      this.#end - position,
      Math.max(length, this.#chunkBytes),
    );
    this.#buffer = await this.#read(position, size);
    this.#start = position;
    return this.#buffer.subarray(0, length);
  }

  async head(position: number): Promise<Head> {
    const head = readHead(await this.bytes(position, HEAD_BYTES));
    if (head.size < 12 + MIN_BATCH_LENGTH) {
      throw new EdgelogError(
        "INTERNAL",
        `Segment is corrupt: impossible batch size ${head.size} at ${position}`,
      );
    }
    return head;
  }
}

/**
 * A segment's files and in-memory state. Reads use positioned reads on a
 * cached read handle; the active segment also holds an append handle.
 */
export class Segment {
  /** Offset of the segment's first record; its files are named by it. */
  readonly baseOffset: number;
  #dir: string;
  #interval: number;
  /** Bytes and next offset visible to readers (committed). */
  #size: number;
  #nextOffset: number;
  #maxTimestamp: number | undefined;
  /** Bytes and next offset written, committed or not. */
  #written: number;
  #writtenNext: number;
  #lastBatchRelative = -1;
  #committedLastBatchRelative = -1;
  #committedOffsetEntries = 0;
  #committedTimeEntries = 0;
  #rollStart: number | undefined;
  #offsetIndex: OffsetIndex | undefined;
  #timeIndex: TimeIndex | undefined;
  #loading: Promise<void> | undefined;
  #writer: Deno.FsFile | undefined;
  #reader: Promise<FileHandle> | undefined;
  #sessions = 0;
  #releaseWaiters: (() => void)[] = [];
  #removed = false;
  #onDamage: (report: CorruptionReport) => void;
  /** Whether the whole log has been checked since the process started. */
  #verified = false;
  /** Ranges of the log that hold no batch that checks out; walks skip them. */
  #damaged: DamagedRange[] = [];

  private constructor(
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
    size: number,
    nextOffset: number,
  ) {
    this.#dir = dir;
    this.baseOffset = baseOffset;
    this.#interval = options.indexIntervalBytes;
    this.#onDamage = options.onDamage ?? (() => {});
    this.#size = size;
    this.#written = size;
    this.#nextOffset = nextOffset;
    this.#writtenNext = nextOffset;
  }

  /** Creates the empty active segment that starts at `baseOffset`. */
  static async create(
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
  ): Promise<Segment> {
    const segment = new Segment(dir, baseOffset, options, 0, baseOffset);
    segment.#writer = await Deno.open(segment.#path("log"), {
      createNew: true,
      append: true,
    });
    segment.#offsetIndex = new OffsetIndex(options.indexIntervalBytes);
    segment.#timeIndex = new TimeIndex();
    segment.#maxTimestamp = -1;
    segment.#verified = true;
    return segment;
  }

  /**
   * Opens the active segment: scans it whole, truncates a torn, corrupt or
   * out-of-order tail, keeps damage with good batches after it aside
   * (reported, skipped by reads), and rebuilds its indexes from the batches
   * that check out.
   *
   * A running segment's age counts from the clock time of its first append;
   * that is not stored, so after a restart it counts from the first batch's
   * timestamp (never later than `now`). Segments thus still roll by age on
   * a node that restarts often, and old timestamps cost at most one early
   * roll per restart.
   */
  static async recover(
    dir: string,
    baseOffset: number,
    options: SegmentOptions & { now: number },
  ): Promise<{ segment: Segment; truncatedBytes: number }> {
    const segment = new Segment(dir, baseOffset, options, 0, baseOffset);
    const path = segment.#path("log");
    const bytes = await Deno.readFile(path);
    const scan = scanSegment(bytes, baseOffset);
    segment.#verified = true;
    await segment.#keepAside(bytes, scan.damaged);
    const writer = await Deno.open(path, { append: true });
    try {
      if (scan.validBytes < bytes.length) {
        await writer.truncate(scan.validBytes);
        await writer.syncData();
      }
    } catch (error) {
      writer.close();
      throw error;
    }
    segment.#writer = writer;
    segment.#buildIndexes(scan.headers, scan.positions);
    const last = scan.headers.at(-1);
    segment.#size = segment.#written = scan.validBytes;
    segment.#nextOffset = segment.#writtenNext = last === undefined
      ? baseOffset
      : lastOffset(last) + 1;
    segment.#maxTimestamp = segment.#timeIndex!.maxTimestamp;
    segment.#committedLastBatchRelative = segment.#lastBatchRelative;
    segment.#committedOffsetEntries = segment.#offsetIndex!.length;
    segment.#committedTimeEntries = segment.#timeIndex!.length;
    const first = scan.headers[0];
    if (first !== undefined) {
      segment.#rollStart = first.maxTimestamp >= 0
        ? Math.min(first.maxTimestamp, options.now)
        : options.now;
    }
    return {
      segment,
      truncatedBytes: bytes.length - scan.validBytes,
    };
  }

  /**
   * A closed segment known only by its size and the next segment's base
   * (and its largest timestamp, when known); its indexes are loaded (and
   * checked) on first use.
   */
  static closed(
    dir: string,
    baseOffset: number,
    options: SegmentOptions & {
      sizeBytes: number;
      nextOffset: number;
      maxTimestamp?: number | undefined;
    },
  ): Segment {
    const segment = new Segment(
      dir,
      baseOffset,
      options,
      options.sizeBytes,
      options.nextOffset,
    );
    segment.#maxTimestamp = options.maxTimestamp;
    return segment;
  }

  /** Bytes visible to readers. */
  get sizeBytes(): number {
    return this.#size;
  }

  /** Bytes written, acknowledged or not. */
  get writtenBytes(): number {
    return this.#written;
  }

  /** One past the last visible offset. */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** Whether deleteBefore removed this segment. */
  get removed(): boolean {
    return this.#removed;
  }

  /**
   * Whether the segment should roll before taking `bytes` more bytes and
   * `records` more offsets at time `now`. An empty segment never rolls.
   */
  shouldRoll(
    bytes: number,
    records: number,
    limits: { now: number; segmentBytes: number; segmentMs: number },
  ): boolean {
    if (this.#written === 0) return false;
    return this.#written + bytes > limits.segmentBytes ||
      limits.now - (this.#rollStart ?? limits.now) >= limits.segmentMs ||
      this.#writtenNext + records - this.baseOffset > 0x7fffffff;
  }

  /**
   * Appends batches (with their parsed headers) to the active segment,
   * in one write when they are small. Not visible until {@linkcode commit}.
   */
  async write(
    batches: readonly Uint8Array[],
    headers: readonly BatchHeader[],
    now: number,
  ): Promise<void> {
    const writer = this.#activeWriter();
    const start = this.#written;
    let position = start;
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!;
      const relative = header.baseOffset - this.baseOffset;
      const indexed = this.#offsetIndex!.observe(relative, position);
      this.#timeIndex!.observe(relative, header.maxTimestamp, indexed);
      this.#lastBatchRelative = relative;
      position += batches[i]!.length;
    }
    if (position > 0x7fffffff) {
      this.#undoIndexes();
      throw new RangeError(
        `Cannot append ${position - start} bytes: segment would pass 2 GiB`,
      );
    }
    try {
      for (const chunk of gather(batches)) await writeAll(writer, chunk);
    } catch (error) {
      await this.rollback().catch(() => {});
      throw error;
    }
    this.#written = position;
    this.#writtenNext = lastOffset(headers.at(-1)!) + 1;
    if (start === 0) this.#rollStart = now;
  }

  /** Makes written batches visible to readers. */
  commit(): void {
    this.#size = this.#written;
    this.#nextOffset = this.#writtenNext;
    this.#maxTimestamp = this.#timeIndex!.maxTimestamp;
    this.#committedLastBatchRelative = this.#lastBatchRelative;
    this.#committedOffsetEntries = this.#offsetIndex!.length;
    this.#committedTimeEntries = this.#timeIndex!.length;
  }

  /** Drops written but uncommitted batches from the file and the indexes. */
  async rollback(): Promise<void> {
    this.#undoIndexes();
    this.#written = this.#size;
    this.#writtenNext = this.#nextOffset;
    await this.#activeWriter().truncate(this.#size);
  }

  /** Fsyncs the log file of the active segment. */
  async sync(): Promise<void> {
    await this.#writer?.syncData();
  }

  /**
   * Closes the active segment for appends: fsyncs its log, writes its
   * index files (with the final time entry) and releases the append handle.
   */
  async seal(): Promise<void> {
    const writer = this.#activeWriter();
    if (this.#lastBatchRelative >= 0) {
      this.#timeIndex!.seal(this.#lastBatchRelative);
    }
    // Encoded before the writer goes: once the segment is closed, a read
    // that ends may release its indexes while the fsync below is under way.
    const indexes = this.#encodeIndexes();
    this.#writer = undefined;
    try {
      await writer.syncData();
    } finally {
      writer.close();
    }
    await this.#writeIndexes(indexes);
  }

  /**
   * Whole batches holding offsets at or after `offset`, appended to `out`
   * while `used` stays within `maxBytes` (the first batch of a read always
   * goes in).
   */
  readBatches(
    offset: number,
    maxBytes: number,
    out: Uint8Array[],
    used: number,
  ): Promise<SegmentReadResult> {
    const chunk = Math.min(MAX_CHUNK_BYTES, maxBytes + 2 * this.#interval);
    return this.#session(async () => {
      let total = used;
      const full = await this.#scan(
        Math.max(0, offset - this.baseOffset),
        chunk,
        async (head, position, reader) => {
          if (head.lastOffset < offset) return false;
          if (out.length > 0 && total + head.size > maxBytes) return true;
          out.push(await reader.bytes(position, head.size));
          total += head.size;
          return total >= maxBytes;
        },
      );
      return { used: total, full };
    });
  }

  /**
   * The baseOffset of the first visible batch whose maxTimestamp is at or
   * after `timestamp`, or null.
   */
  findByTimestamp(timestamp: number): Promise<number | null> {
    return this.#session(async () => {
      await this.#load();
      if (this.#maxTimestamp! < timestamp) return null;
      const after = this.#timeIndex!.scanStart(timestamp);
      let found: number | null = null;
      await this.#scan(
        Math.max(0, after),
        4 * this.#interval,
        (head) => {
          if (after >= 0 && head.baseOffset <= this.baseOffset + after) {
            return Promise.resolve(false);
          }
          if (head.maxTimestamp < timestamp) return Promise.resolve(false);
          found = head.baseOffset;
          return Promise.resolve(true);
        },
      );
      return found;
    });
  }

  /** Largest visible timestamp (-1 when none), from the time index. */
  async maxTimestamp(): Promise<number> {
    if (this.#maxTimestamp !== undefined) return this.#maxTimestamp;
    await this.#session(() => this.#load());
    return this.#maxTimestamp!;
  }

  /**
   * Closes the read handle once no read uses it, and forgets the indexes of
   * a closed segment; a later read opens and loads them again.
   */
  release(): Promise<void> {
    if (this.#sessions > 0) {
      return new Promise((resolve) => this.#releaseWaiters.push(resolve));
    }
    return this.#closeReader();
  }

  /** Releases the active segment: seals it and closes every handle. */
  async close(): Promise<void> {
    if (this.#writer !== undefined) await this.seal();
    await this.release();
  }

  /** Deletes the closed segment's files, log first. */
  async remove(): Promise<void> {
    this.#removed = true;
    await this.release();
    await removeIfExists(this.#path("log"));
    await removeIfExists(this.#path("index"));
    await removeIfExists(this.#path("timeindex"));
  }

  #path(kind: SegmentFileKind): string {
    return `${this.#dir}/${segmentFileName(this.baseOffset, kind)}`;
  }

  #activeWriter(): Deno.FsFile {
    if (this.#writer === undefined) {
      throw new Error(`Segment ${this.baseOffset} is not active`);
    }
    return this.#writer;
  }

  #undoIndexes(): void {
    this.#offsetIndex!.truncate(this.#committedOffsetEntries);
    this.#timeIndex!.truncate(
      this.#committedTimeEntries,
      this.#maxTimestamp ?? -1,
    );
    this.#lastBatchRelative = this.#committedLastBatchRelative;
  }

  async #session<T>(fn: () => Promise<T>): Promise<T> {
    this.#sessions++;
    try {
      return await fn();
    } finally {
      this.#sessions--;
      if (this.#sessions === 0 && this.#releaseWaiters.length > 0) {
        const waiters = this.#releaseWaiters;
        this.#releaseWaiters = [];
        await this.#closeReader();
        for (const wake of waiters) wake();
      }
    }
  }

  async #closeReader(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    if (this.#writer === undefined) {
      this.#offsetIndex = undefined;
      this.#timeIndex = undefined;
    }
    if (reader !== undefined) {
      await (await reader.catch(() => undefined))?.close();
    }
  }

  #readRange = async (
    position: number,
    length: number,
  ): Promise<Uint8Array> => {
    if (this.#reader === undefined) {
      const reader = openHandle(this.#path("log"), "r");
      this.#reader = reader;
      reader.catch(() => {
        if (this.#reader === reader) this.#reader = undefined;
      });
    }
    return await readAt(await this.#reader, position, length);
  };

  /**
   * Walks the visible batches from the one the offset index gives for
   * `relativeOffset`, until `visit` says stop. Returns whether it stopped.
   * An index entry that does not point at its batch is rebuilt from the log.
   */
  async #scan(
    relativeOffset: number,
    chunkBytes: number,
    visit: (
      head: Head,
      position: number,
      reader: ChunkReader,
    ) => Promise<boolean>,
  ): Promise<boolean> {
    await this.#load();
    for (let attempt = 0;; attempt++) {
      const end = this.#size;
      const entry = this.#offsetIndex!.lookup(relativeOffset);
      const reader = new ChunkReader(this.#readRange, end, chunkBytes);
      // A segment whose first bytes are damaged starts at the first batch
      // after them, which no index entry names.
      let position = this.#skipDamage(entry.position);
      if (position === entry.position && position < end) {
        const head = await reader.head(position);
        if (head.baseOffset !== this.baseOffset + entry.relativeOffset) {
          if (attempt > 0 || this.#writer !== undefined) {
            throw new EdgelogError(
              "INTERNAL",
              `Segment ${this.baseOffset} has no batch at offset ${
                this.baseOffset + entry.relativeOffset
              } where its index says`,
            );
          }
          await this.#rebuild();
          continue;
        }
      }
      while (position < end) {
        const head = await reader.head(position);
        if (await visit(head, position, reader)) return true;
        position = this.#skipDamage(position + head.size);
      }
      return false;
    }
  }

  /** Loads and checks a closed segment's indexes, rebuilding bad ones. */
  #load(): Promise<void> {
    if (this.#offsetIndex !== undefined && this.#timeIndex !== undefined) {
      return Promise.resolve();
    }
    this.#loading ??= this.#loadIndexes().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #loadIndexes(): Promise<void> {
    if (!this.#verified && await this.#verify()) return;
    const relativeEnd = this.#nextOffset - this.baseOffset;
    const offsetBytes = await readIfExists(this.#path("index"));
    const timeBytes = await readIfExists(this.#path("timeindex"));
    const offsetIndex = offsetBytes &&
      OffsetIndex.decode(offsetBytes, this.#interval, {
        segmentBytes: this.#size,
        relativeEnd,
      });
    const timeIndex = timeBytes && TimeIndex.decode(timeBytes, relativeEnd);
    if (
      offsetIndex !== undefined && timeIndex !== undefined &&
      this.#damaged.length === 0
    ) {
      const from = offsetIndex.lastPosition;
      const tail = await this.#readRange(from, this.#size - from);
      const scan = scanSegment(
        tail,
        this.baseOffset + offsetIndex.lastRelativeOffset,
      );
      const last = scan.headers.at(-1);
      if (
        last !== undefined && scan.validBytes === tail.length &&
        scan.damaged.length === 0 &&
        lastOffset(last) + 1 === this.#nextOffset &&
        timeIndex.lastRelativeOffset === last.baseOffset - this.baseOffset &&
        timeIndex.maxTimestamp >= last.maxTimestamp
      ) {
        this.#offsetIndex = offsetIndex;
        this.#timeIndex = timeIndex;
        this.#maxTimestamp = timeIndex.maxTimestamp;
        return;
      }
    }
    await this.#rebuild();
  }

  /**
   * Checks a closed segment's whole log, once per process: closed segments
   * are trusted on open, so damage in one (a bad disk, a stray write) is
   * found here, on first use. Damage is kept aside and skipped, and the
   * indexes are rebuilt around it; returns whether it was (false: the log
   * is sound and the index files are for the caller to check).
   */
  async #verify(): Promise<boolean> {
    const bytes = await this.#readRange(0, this.#size);
    const scan = scanSegment(bytes, this.baseOffset);
    const damaged = [...scan.damaged];
    if (scan.validBytes < bytes.length) {
      const last = scan.headers.at(-1);
      damaged.push({
        start: scan.validBytes,
        end: bytes.length,
        fromOffset: last === undefined ? this.baseOffset : lastOffset(last) + 1,
        toOffset: this.#nextOffset - 1,
      });
    }
    this.#verified = true;
    if (damaged.length === 0) return false;
    await this.#keepAside(bytes, damaged);
    this.#rebuildFrom(scan);
    await this.#writeIndexes(this.#encodeIndexes());
    return true;
  }

  /**
   * Copies each damaged range to a file beside the log (named by the
   * range, so a later check rewrites the same file), says so on stderr and
   * to `onDamage`, and remembers the ranges so that walks skip them.
   */
  async #keepAside(bytes: Uint8Array, damaged: DamagedRange[]): Promise<void> {
    this.#damaged = damaged;
    const log = segmentFileName(this.baseOffset, "log");
    for (const range of damaged) {
      const quarantine = `${log}.damaged-${range.start}-${range.end}`;
      await Deno.writeFile(
        `${this.#dir}/${quarantine}`,
        bytes.subarray(range.start, range.end),
      );
      const report: CorruptionReport = {
        segment: log,
        fromByte: range.start,
        toByte: range.end,
        fromOffset: range.fromOffset,
        toOffset: range.toOffset,
        quarantine,
      };
      console.error(
        `edgelog: damaged bytes ${range.start}-${range.end} of ${this.#dir}/${log} ` +
          `(offsets ${range.fromOffset}-${range.toOffset}) fail their checks; ` +
          `copied to ${quarantine}, the batches around them stay readable`,
      );
      this.#onDamage(report);
    }
  }

  /** Where a walk that reached `position` goes on: past any damage there. */
  #skipDamage(position: number): number {
    for (const range of this.#damaged) {
      if (range.start === position) return range.end;
    }
    return position;
  }

  /** Rebuilds a closed segment's indexes from its log and rewrites them. */
  async #rebuild(): Promise<void> {
    const bytes = await this.#readRange(0, this.#size);
    this.#rebuildFrom(scanSegment(bytes, this.baseOffset));
    await this.#writeIndexes(this.#encodeIndexes());
  }

  #rebuildFrom(scan: { headers: BatchHeader[]; positions: number[] }): void {
    this.#buildIndexes(scan.headers, scan.positions);
    if (this.#lastBatchRelative >= 0) {
      this.#timeIndex!.seal(this.#lastBatchRelative);
    }
    this.#maxTimestamp = this.#timeIndex!.maxTimestamp;
  }

  #buildIndexes(headers: BatchHeader[], positions: number[]): void {
    const offsetIndex = new OffsetIndex(this.#interval);
    const timeIndex = new TimeIndex();
    for (let i = 0; i < headers.length; i++) {
      const header = headers[i]!;
      const relative = header.baseOffset - this.baseOffset;
      const indexed = offsetIndex.observe(relative, positions[i]!);
      timeIndex.observe(relative, header.maxTimestamp, indexed);
      this.#lastBatchRelative = relative;
    }
    this.#offsetIndex = offsetIndex;
    this.#timeIndex = timeIndex;
  }

  #encodeIndexes(): { offsets: Uint8Array; times: Uint8Array } {
    return {
      offsets: this.#offsetIndex!.encode(),
      times: this.#timeIndex!.encode(),
    };
  }

  async #writeIndexes(
    indexes: { offsets: Uint8Array; times: Uint8Array },
  ): Promise<void> {
    await Deno.writeFile(this.#path("index"), indexes.offsets);
    await Deno.writeFile(this.#path("timeindex"), indexes.times);
  }
}
