/**
 * When appended bytes reach the disk. An append is acknowledged once its
 * bytes are durable under the policy, so the policy is the trade between
 * latency and what a power cut may take back.
 *
 * @module
 */

import type { Clock } from "../../runtime/clock.ts";

/**
 * - `"always"`: fsync before every acknowledgement (appends waiting meanwhile
 *   share the next fsync).
 * - `{ intervalMs }`: acknowledge after the write; a timer fsyncs within
 *   `intervalMs`.
 * - `"never"`: leave it to the OS; only flush, segment roll and close fsync.
 */
export type FsyncPolicy = "always" | "never" | { intervalMs: number };

/** Throws a TypeError or RangeError unless `policy` is a valid policy. */
export function checkFsyncPolicy(policy: unknown): FsyncPolicy {
  if (policy === "always" || policy === "never") return policy;
  if (typeof policy === "object" && policy !== null && "intervalMs" in policy) {
    const { intervalMs } = policy;
    if (typeof intervalMs !== "number" || !(intervalMs > 0)) {
      throw new RangeError(
        `fsync intervalMs must be a positive number, got ${intervalMs}`,
      );
    }
    return { intervalMs };
  }
  throw new TypeError(
    `fsync must be "always", "never" or { intervalMs }, got ${
      JSON.stringify(policy)
    }`,
  );
}

/** What a {@linkcode SyncScheduler} needs. */
export interface SyncSchedulerOptions {
  /** Times the interval policy. */
  clock: Clock;
  /** Makes the bytes written so far durable. */
  sync: () => Promise<void>;
}

/**
 * Applies a policy to one file being appended to: told after each write, it
 * syncs at once, later, or not at all, and it syncs on demand.
 *
 * @example Usage
 * ```ts
 * import { SyncScheduler } from "./sync_policy.ts";
 * import { ManualClock } from "../../runtime/clock.ts";
 * let syncs = 0;
 * const clock = new ManualClock();
 * const scheduler = new SyncScheduler({ intervalMs: 10 }, {
 *   clock,
 *   sync: () => Promise.resolve(void syncs++),
 * });
 * await scheduler.afterWrite();
 * console.assert(syncs === 0);
 * await scheduler.close();
 * console.assert(syncs === 1);
 * ```
 */
export class SyncScheduler {
  #policy: FsyncPolicy;
  #clock: Clock;
  #sync: () => Promise<void>;
  #dirty = false;
  #inflight: Promise<void> | undefined;
  #timer: Promise<void> | undefined;
  #abort = new AbortController();
  #error: unknown;

  constructor(policy: FsyncPolicy, options: SyncSchedulerOptions) {
    this.#policy = checkFsyncPolicy(policy);
    this.#clock = options.clock;
    this.#sync = options.sync;
  }

  /** Whether written bytes await an fsync. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Called after each write; resolves once the write is durable as the
   * policy requires. A failed background fsync is reported here, once.
   */
  async afterWrite(): Promise<void> {
    this.#throwBackgroundError();
    this.#dirty = true;
    if (this.#policy === "always") return await this.flush();
    if (this.#policy !== "never" && this.#timer === undefined) {
      this.#timer = this.#clock.sleep(
        this.#policy.intervalMs,
        this.#abort.signal,
      ).then(
        () => {
          this.#timer = undefined;
          return this.flush().catch((error) => {
            this.#error = error;
          });
        },
        () => {
          this.#timer = undefined;
        },
      );
    }
  }

  /** Makes every write so far durable. */
  async flush(): Promise<void> {
    if (this.#inflight !== undefined) await this.#inflight.catch(() => {});
    this.#throwBackgroundError();
    if (!this.#dirty) return;
    this.#dirty = false;
    const inflight = this.#sync();
    this.#inflight = inflight;
    try {
      await inflight;
    } catch (error) {
      this.#dirty = true;
      throw error;
    } finally {
      if (this.#inflight === inflight) this.#inflight = undefined;
    }
  }

  /** Stops the timer and flushes. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#timer;
    await this.flush();
  }

  #throwBackgroundError(): void {
    if (this.#error === undefined) return;
    const error = this.#error;
    this.#error = undefined;
    throw error;
  }
}
