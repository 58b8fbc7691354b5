/**
 * The time index of one segment: it narrows "first batch with a timestamp at
 * or after T" to the stretch between two entries, and its last entry holds
 * the segment's largest timestamp, which retention needs.
 *
 * ```
 * entry (12 bytes, big-endian)
 * offset size field
 *      0    8 maxTimestamp    int64  largest timestamp of every batch up to
 *                                    and including this one
 *      8    4 relativeOffset  int32  batch baseOffset - segment baseOffset
 * ```
 *
 * An entry is added beside each offset index entry when the running maximum
 * grew, and a final entry for the last batch when the segment is sealed.
 * Timestamps and relative offsets never decrease.
 *
 * @module
 */

/** Bytes of one time index entry. */
export const TIME_INDEX_ENTRY_SIZE = 12;

/**
 * An in-memory time index.
 *
 * @example Usage
 * ```ts
 * import { TimeIndex } from "./time_index.ts";
 * const index = new TimeIndex();
 * index.observe(0, 100, false);
 * index.observe(7, 300, true);
 * console.assert(index.maxTimestamp === 300);
 * console.assert(index.scanStart(200) === -1);
 * ```
 */
export class TimeIndex {
  #timestamp: Float64Array;
  #relative: Int32Array;
  #count = 0;
  #max = -1;

  constructor() {
    this.#timestamp = new Float64Array(16);
    this.#relative = new Int32Array(16);
  }

  /**
   * Decodes a time index file, or returns undefined when its bytes are not a
   * consistent index for a segment whose offsets end before `relativeEnd`.
   */
  static decode(bytes: Uint8Array, relativeEnd: number): TimeIndex | undefined {
    if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const index = new TimeIndex();
    let lastRelative = -1;
    for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_SIZE) {
      const timestamp = Number(view.getBigInt64(at));
      const relative = view.getInt32(at + 8);
      if (relative <= lastRelative || relative >= relativeEnd) return undefined;
      if (index.#count > 0 && timestamp < index.#max) return undefined;
      index.#push(timestamp, relative);
      index.#max = timestamp;
      lastRelative = relative;
    }
    return index;
  }

  /** Number of entries. */
  get length(): number {
    return this.#count;
  }

  /** Largest timestamp seen, -1 when none. */
  get maxTimestamp(): number {
    return this.#max;
  }

  /** Relative offset of the last entry, -1 when there is none. */
  get lastRelativeOffset(): number {
    return this.#count === 0 ? -1 : this.#relative[this.#count - 1]!;
  }

  /** Largest timestamp of the last entry, -1 when there is none. */
  get lastTimestamp(): number {
    return this.#count === 0 ? -1 : this.#timestamp[this.#count - 1]!;
  }

  /**
   * Records a batch; `indexed` says whether the offset index took an entry
   * for it, in which case a time entry follows if the maximum grew.
   */
  observe(
    relativeOffset: number,
    maxTimestamp: number,
    indexed: boolean,
  ): void {
    if (maxTimestamp > this.#max) this.#max = maxTimestamp;
    if (indexed && this.#max > this.lastTimestamp) {
      this.#push(this.#max, relativeOffset);
    }
  }

  /** Adds the final entry for the segment's last batch, if it is missing. */
  seal(lastRelativeOffset: number): void {
    if (this.lastRelativeOffset !== lastRelativeOffset) {
      this.#push(this.#max, lastRelativeOffset);
    }
  }

  /**
   * Every batch up to and including the returned relative offset has all
   * timestamps below `timestamp`, so a search starts after it (-1: from the
   * first batch).
   */
  scanStart(timestamp: number): number {
    let lo = 0;
    let hi = this.#count - 1;
    let first = this.#count;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#timestamp[mid]! >= timestamp) {
        first = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return first === 0 ? -1 : this.#relative[first - 1]!;
  }

  /** Keeps the first `count` entries and a running maximum of `max`. */
  truncate(count: number, max: number): void {
    this.#count = Math.min(this.#count, count);
    this.#max = max;
  }

  /** The index file bytes. */
  encode(): Uint8Array {
    const bytes = new Uint8Array(this.#count * TIME_INDEX_ENTRY_SIZE);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < this.#count; i++) {
      view.setBigInt64(
        i * TIME_INDEX_ENTRY_SIZE,
        BigInt(this.#timestamp[i]!),
      );
      view.setInt32(i * TIME_INDEX_ENTRY_SIZE + 8, this.#relative[i]!);
    }
    return bytes;
  }

  #push(timestamp: number, relativeOffset: number): void {
    if (this.#count === this.#relative.length) {
      const timestamps = new Float64Array(this.#count * 2);
      const relative = new Int32Array(this.#count * 2);
      timestamps.set(this.#timestamp);
      relative.set(this.#relative);
      this.#timestamp = timestamps;
      this.#relative = relative;
    }
    this.#timestamp[this.#count] = timestamp;
    this.#relative[this.#count] = relativeOffset;
    this.#count++;
  }
}
