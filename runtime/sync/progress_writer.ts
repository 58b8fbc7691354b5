/**
 * A stream's sync progress (acked offset, records dropped) kept in meta,
 * written coalesced: one write at a time, at most one per interval, each
 * carrying the latest progress.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { MetaStore } from "../log/storage.ts";

/** What is recorded of a stream's sync. */
export interface SyncProgress {
  ackedOffset: number;
  droppedRecords: number;
}

const META_PREFIX = "sync/acked/";

/** The meta key of a stream's progress. */
export function progressKey(topic: string, partition: number): string {
  return `${META_PREFIX}${topic}/${partition}`;
}

/**
 * Writes one stream's progress to meta, coalesced. Nothing needs to wait
 * on it but a stop or a one-shot sync: the upstream is the truth for acked
 * offsets (every drain starts by registering, which resets them), so the
 * local record only raises the retention floor early after a restart, and
 * a stale one merely keeps more. A write per ack (two fsyncs on FsStorage)
 * would compete with the appends on the same disk and, awaited by the
 * drain, stall pushes.
 */
export class ProgressWriter {
  #meta: MetaStore;
  #key: string;
  #current: () => SyncProgress;
  #clock: Clock;
  #intervalMs: number;
  /** The meta write under way (resolved when none). */
  #persisting: Promise<void> = Promise.resolve();
  #writing = false;
  /** Progress changed since the last write started. */
  #dirty = false;
  #lastWriteMs = Number.NEGATIVE_INFINITY;
  /** Cuts the wait before the next write short (flush). */
  #urgent = false;
  #delay: AbortController | undefined;

  constructor(
    meta: MetaStore,
    options: {
      key: string;
      current: () => SyncProgress;
      clock: Clock;
      intervalMs: number;
    },
  ) {
    this.#meta = meta;
    this.#key = options.key;
    this.#current = options.current;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs;
  }

  /** Notes that progress changed; a write follows within the interval. */
  changed(): void {
    this.#dirty = true;
    if (this.#writing) return;
    this.#writing = true;
    this.#persisting = this.#write().finally(() => {
      this.#writing = false;
      this.#urgent = false;
    });
  }

  /** Writes the progress now if it changed; resolves once written. */
  flush(): Promise<void> {
    if (this.#writing) {
      this.#urgent = true;
      this.#delay?.abort();
    }
    return this.#persisting;
  }

  async #write(): Promise<void> {
    try {
      while (this.#dirty) {
        const wait = this.#lastWriteMs + this.#intervalMs - this.#clock.now();
        if (wait > 0 && !this.#urgent) {
          this.#delay = new AbortController();
          await this.#clock.sleep(wait, this.#delay.signal).catch(() => {});
          this.#delay = undefined;
        }
        this.#dirty = false;
        this.#lastWriteMs = this.#clock.now();
        await this.#meta.set(this.#key, this.#current());
      }
    } catch (err) {
      console.error("edgelog: cannot record sync progress", err);
    }
  }
}
