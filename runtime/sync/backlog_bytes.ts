/**
 * The bytes of a stream's local batches that the upstream does not hold
 * yet: a ledger of offset ranges and their sizes, cut at the front as acks
 * and drops come in and grown at the back by appends. Knowing each range's
 * size spares reading the log again whenever the lag in bytes is asked for.
 *
 * @module
 */

/**
 * A ledger of contiguous offset ranges `[first, last]` and their bytes,
 * from `start` up to (not including) `end`.
 *
 * @example Usage
 * ```ts
 * import { BacklogBytes } from "./backlog_bytes.ts";
 * const backlog = new BacklogBytes(0);
 * backlog.add(0, 9, 500);
 * backlog.add(10, 19, 700);
 * backlog.trimThrough(9);
 * console.assert(backlog.bytes === 700);
 * ```
 */
export class BacklogBytes {
  #first: number[] = [];
  #last: number[] = [];
  #bytes: number[] = [];
  #head = 0;
  #total = 0;
  #end: number;

  /** An empty ledger whose first range will start at `start`. */
  constructor(start: number) {
    this.#end = start;
  }

  /** Bytes of every range held. */
  get bytes(): number {
    return this.#total;
  }

  /** The first offset the ledger covers (`end` when it is empty). */
  get start(): number {
    return this.#first[this.#head] ?? this.#end;
  }

  /** One past the last offset the ledger covers: where the next range starts. */
  get end(): number {
    return this.#end;
  }

  /**
   * Adds the range `[first, last]` of `bytes` if it runs on from `end`;
   * returns whether it did. A range wholly before `end` is known already
   * and one starting after it would leave a hole: both are left out.
   */
  add(first: number, last: number, bytes: number): boolean {
    if (last < this.#end || first > this.#end) return false;
    this.#first.push(this.#end);
    this.#last.push(last);
    this.#bytes.push(bytes);
    this.#total += bytes;
    this.#end = last + 1;
    return true;
  }

  /**
   * Forgets every offset up to and including `offset` (acked or dropped).
   * A range cut in the middle keeps the share of its bytes that its
   * remaining records make: ranges from a multi-batch append know only
   * their total size, and acks fall on batch boundaries inside them.
   */
  trimThrough(offset: number): void {
    while (this.#head < this.#last.length) {
      const first = this.#first[this.#head]!;
      const last = this.#last[this.#head]!;
      const bytes = this.#bytes[this.#head]!;
      if (offset < first) break;
      if (offset >= last) {
        this.#total -= bytes;
        this.#head++;
        continue;
      }
      const kept = Math.round(bytes * (last - offset) / (last - first + 1));
      this.#total -= bytes - kept;
      this.#bytes[this.#head] = kept;
      this.#first[this.#head] = offset + 1;
      break;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#last.length) {
      this.#first.splice(0, this.#head);
      this.#last.splice(0, this.#head);
      this.#bytes.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#end <= offset) this.#end = offset + 1;
  }
}
