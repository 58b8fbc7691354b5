/**
 * The read handles of closed segments that stay open, shared by every
 * partition of one storage, least recently used first. A node with many
 * partitions thus holds at most `max` of them however its reads spread;
 * an evicted segment closes its handle and reopens it on its next read.
 *
 * @module
 */

/** What the cache needs of a segment. */
export interface Releasable {
  /** Closes the read handle once no read uses it. */
  release(): Promise<void>;
}

/**
 * An LRU of segments with open read handles.
 *
 * @example Usage
 * ```ts
 * import { OpenSegments } from "./open_segments.ts";
 * const open = new OpenSegments(1);
 * const segment = { release: () => Promise.resolve() };
 * open.touch(segment);
 * console.assert(open.size === 1);
 * ```
 */
export class OpenSegments {
  readonly max: number;
  #recent = new Set<Releasable>();

  constructor(max: number) {
    this.max = max;
  }

  /** Segments with an open read handle now. */
  get size(): number {
    return this.#recent.size;
  }

  /** Marks `segment` used now; releases the least recently used past `max`. */
  touch(segment: Releasable): void {
    this.#recent.delete(segment);
    this.#recent.add(segment);
    if (this.#recent.size > this.max) {
      const oldest = this.#recent.values().next().value!;
      this.#recent.delete(oldest);
      oldest.release().catch(() => {});
    }
  }

  /** Drops a segment that is being removed or closed by its partition. */
  forget(segment: Releasable): void {
    this.#recent.delete(segment);
  }
}
