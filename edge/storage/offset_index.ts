/**
 * The sparse offset index of one segment: it maps an offset to a byte
 * position at or before its batch, so a read seeks instead of scanning.
 *
 * ```
 * entry (8 bytes, big-endian), one per `indexIntervalBytes` of log
 * offset size field
 *      0    4 relativeOffset  int32  batch baseOffset - segment baseOffset
 *      4    4 position        int32  byte position of that batch
 * ```
 *
 * Position 0 (the first batch) is implied and never stored. The index can
 * always be rebuilt from the log, so a decoded index is checked against the
 * segment and thrown away when it does not fit.
 *
 * @module
 */

/** Bytes of one offset index entry. */
export const OFFSET_INDEX_ENTRY_SIZE = 8;

/** Limits a decoded index must respect to be trusted for a segment. */
export interface OffsetIndexLimits {
  /** Bytes of the segment's log file: every position lies below it. */
  segmentBytes: number;
  /** One past the segment's last relative offset. */
  relativeEnd: number;
}

/**
 * An in-memory offset index with strictly increasing entries.
 *
 * @example Usage
 * ```ts
 * import { OffsetIndex } from "./offset_index.ts";
 * const index = new OffsetIndex(4096);
 * index.observe(0, 0);
 * index.observe(10, 5000);
 * console.assert(index.lookup(12).position === 5000);
 * ```
 */
export class OffsetIndex {
  #interval: number;
  #relative: Int32Array;
  #position: Int32Array;
  #count = 0;

  /** An empty index adding an entry every `intervalBytes` of log. */
  constructor(intervalBytes: number) {
    this.#interval = intervalBytes;
    this.#relative = new Int32Array(16);
    this.#position = new Int32Array(16);
  }

  /**
   * Decodes an index file, or returns undefined when its bytes are not a
   * consistent index for a segment within `limits`.
   */
  static decode(
    bytes: Uint8Array,
    intervalBytes: number,
    limits: OffsetIndexLimits,
  ): OffsetIndex | undefined {
    if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const index = new OffsetIndex(intervalBytes);
    let lastRelative = 0;
    let lastPosition = 0;
    for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_SIZE) {
      const relative = view.getInt32(at);
      const position = view.getInt32(at + 4);
      if (relative <= lastRelative || relative >= limits.relativeEnd) {
        return undefined;
      }
      if (position <= lastPosition || position >= limits.segmentBytes) {
        return undefined;
      }
      index.#push(relative, position);
      lastRelative = relative;
      lastPosition = position;
    }
    return index;
  }

  /** Number of stored entries (the implied first one not counted). */
  get length(): number {
    return this.#count;
  }

  /** Position of the last indexed batch (0 when none is). */
  get lastPosition(): number {
    return this.#count === 0 ? 0 : this.#position[this.#count - 1]!;
  }

  /** Relative offset of the last indexed batch (0 when none is). */
  get lastRelativeOffset(): number {
    return this.#count === 0 ? 0 : this.#relative[this.#count - 1]!;
  }

  /**
   * Records a batch written at `position`; it becomes an entry when it
   * starts at least `intervalBytes` after the last entry. Returns whether it
   * did.
   */
  observe(relativeOffset: number, position: number): boolean {
    if (position - this.lastPosition < this.#interval || position === 0) {
      return false;
    }
    this.#push(relativeOffset, position);
    return true;
  }

  /**
   * The last entry at or before `relativeOffset`: the batch holding it
   * starts at `position` or later. `relativeOffset` is that entry's batch.
   */
  lookup(relativeOffset: number): { relativeOffset: number; position: number } {
    let lo = 0;
    let hi = this.#count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#relative[mid]! <= relativeOffset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { relativeOffset: 0, position: 0 } : {
      relativeOffset: this.#relative[found]!,
      position: this.#position[found]!,
    };
  }

  /** Drops entries past the first `count`, undoing a failed write. */
  truncate(count: number): void {
    this.#count = Math.min(this.#count, count);
  }

  /** The index file bytes. */
  encode(): Uint8Array {
    const bytes = new Uint8Array(this.#count * OFFSET_INDEX_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < this.#count; i++) {
      view.setInt32(i * OFFSET_INDEX_ENTRY_SIZE, this.#relative[i]!);
      view.setInt32(i * OFFSET_INDEX_ENTRY_SIZE + 4, this.#position[i]!);
    }
    return bytes;
  }

  #push(relativeOffset: number, position: number): void {
    if (this.#count === this.#relative.length) {
      const relative = new Int32Array(this.#count * 2);
      const positions = new Int32Array(this.#count * 2);
      relative.set(this.#relative);
      positions.set(this.#position);
      this.#relative = relative;
      this.#position = positions;
    }
    this.#relative[this.#count] = relativeOffset;
    this.#position[this.#count] = position;
    this.#count++;
  }
}
