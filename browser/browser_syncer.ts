/**
 * Runs the portable {@linkcode Replicator}, unchanged, for one browser log,
 * with at most one syncer per log across the origin's tabs and its service
 * worker: the syncer holds the Web Lock `edgelog-sync:<name>` while it
 * syncs, and every other context waits in the lock's queue, taking over
 * when the holder releases it (tab closed, worker done).
 *
 * Each round opens a fresh read session (see `log_sessions.ts`) so it sees
 * what every tab appended, and hands it to the replicator through a
 * {@linkcode ReplicatorLog} whose partitions are the session's. The
 * replicator lives for one lock tenure: a context that regains the lock
 * starts a new one, which reloads the acked offsets another syncer saved.
 *
 * A round is started by a kick (a local append, another tab's append, the
 * `online` event, Background Sync), else by the backoff timer after a
 * failure, else by a slow idle timer, so syncing works where Background
 * Sync does not exist.
 *
 * @module
 */

import { type Clock, systemClock } from "../runtime/clock.ts";
import type { Log } from "../runtime/log/log.ts";
import type { MetaStore } from "../runtime/log/storage.ts";
import { backoffDelay } from "../runtime/sync/backoff.ts";
import {
  Replicator,
  type ReplicatorLog,
  type SyncUpstream,
} from "../runtime/sync/replicator.ts";
import type { LockManagerLike, LogSessions } from "./log_sessions.ts";

/** The Web Lock the one syncer of the log `name` holds. */
export function syncLockName(name: string): string {
  return `edgelog-sync:${name}`;
}

/** Meta key of the progress the syncer records for every context to read. */
export const SYNC_PROGRESS_KEY = "browser/sync-progress";

/** What the syncer records after each round, in the log's meta store. */
export interface SyncProgress {
  /** Whether the last round reached the upstream. */
  online: boolean;
  /** When the last round ended; absent in progress saved before it was kept. */
  roundMs?: number;
  lastSuccessMs: number | null;
  lastError: string | null;
  streams: {
    topic: string;
    partition: number;
    ackedOffset: number;
    droppedRecords: number;
  }[];
}

/** The outcome of one round, for listeners. */
export interface SyncRound {
  ok: boolean;
  progress: SyncProgress;
  error?: unknown;
}

/** Options of {@linkcode BrowserSyncer}. */
export interface BrowserSyncerOptions {
  sessions: LogSessions;
  /** A long-lived metadata store of the same database (acked offsets). */
  meta: MetaStore;
  client: SyncUpstream;
  nodeId: string;
  /** Topics to sync; default every local topic. */
  topics?: readonly string[];
  locks: LockManagerLike;
  /**
   * "hold" (pages): keep the lock and keep syncing until stopped. "drain"
   * (service worker): sync until caught up, then release the lock.
   */
  mode: "hold" | "drain";
  /** Retry delays after a failed round; default 500 ms doubling to 30 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** A round even without a kick this often, in "hold" mode; default 30 s. */
  idleMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Called after every round. */
  onRound?: (round: SyncRound) => void;
  /** Called when this context takes or releases the sync lock. */
  onLeader?: (leader: boolean) => void;
}

/** A ReplicatorLog whose partitions are those of the current session's Log. */
class SessionView implements ReplicatorLog {
  readonly meta: MetaStore;
  current: Log | undefined;

  constructor(meta: MetaStore) {
    this.meta = meta;
  }

  #log(): Log {
    if (this.current === undefined) {
      throw new Error("No sync round is running");
    }
    return this.current;
  }

  listTopics() {
    return this.#log().listTopics();
  }

  partition(topic: string, partition: number) {
    return this.#log().partition(topic, partition);
  }

  onAppend(): () => void {
    return () => {};
  }
}

/**
 * The syncer of one browser log in one context.
 *
 * @example Usage
 * ```ts ignore
 * const syncer = new BrowserSyncer({ sessions, meta, client, nodeId, locks: navigator.locks, mode: "hold" });
 * syncer.start();
 * syncer.kick();
 * ```
 */
export class BrowserSyncer {
  #options: BrowserSyncerOptions;
  #clock: Clock;
  #random: () => number;
  #replicator: Replicator | undefined;
  #stop = new AbortController();
  #kicked = false;
  #wake: (() => void) | undefined;
  #running: Promise<boolean> | undefined;

  constructor(options: BrowserSyncerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** Whether this context holds the sync lock now. */
  get leader(): boolean {
    return this.#replicator !== undefined;
  }

  /**
   * The first local offset retention must keep: everything while another
   * context syncs (this one does not know its progress), else one past the
   * upstream's ack.
   */
  retentionFloor(topic: string, partition: number): number {
    return this.#replicator?.retentionFloor(topic, partition) ?? 0;
  }

  /**
   * Queues for the sync lock and syncs once it holds it. In "drain" mode,
   * resolves true once caught up, false when the lock was busy (with
   * `ifAvailable`) or `signal` aborted first.
   */
  start(
    options: { ifAvailable?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    if (this.#running) return this.#running;
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#stop.signal])
      : this.#stop.signal;
    const run = this.#options.locks.request(
      syncLockName(this.#options.sessions.name),
      { ...(options.ifAvailable ? { ifAvailable: true } : {}), signal },
      (lock) => lock === null ? false : this.#tenure(signal),
    ).catch((err) => {
      if (signal.aborted) return false;
      throw err;
    }).finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** Starts a round now (or right after the current one). */
  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /** Stops syncing and releases the lock once the round in flight ends. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#running?.catch(() => false);
  }

  async #tenure(signal: AbortSignal): Promise<boolean> {
    const view = new SessionView(this.#options.meta);
    this.#replicator = this.#newReplicator(view);
    this.#options.onLeader?.(true);
    let attempt = 0;
    try {
      while (!signal.aborted) {
        this.#kicked = false;
        const ok = await this.#round(view);
        if (ok) attempt = 0;
        if (ok && this.#options.mode === "drain") return true;
        const delay = ok
          ? this.#options.idleMs ?? 30_000
          : backoffDelay(attempt++, {
            baseMs: 500,
            ...this.#options.backoff,
            random: this.#random,
          });
        await this.#pause(delay, signal);
      }
      return false;
    } finally {
      this.#replicator = undefined;
      this.#options.onLeader?.(false);
    }
  }

  #newReplicator(view: SessionView): Replicator {
    return new Replicator({
      log: view,
      meta: this.#options.meta,
      client: this.#options.client,
      nodeId: this.#options.nodeId,
      clock: this.#clock,
      random: this.#random,
      ...(this.#options.topics ? { topics: this.#options.topics } : {}),
    });
  }

  /** Waits `ms`, or less when kicked or stopped. */
  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#kicked) return;
    const timer = new AbortController();
    const woken = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    try {
      await Promise.race([
        woken,
        this.#clock.sleep(ms, AbortSignal.any([timer.signal, signal]))
          .catch(() => {}),
      ]);
    } finally {
      this.#wake = undefined;
      timer.abort();
    }
  }

  /** One pass: push what the log holds now, record progress, apply retention. */
  async #round(view: SessionView): Promise<boolean> {
    const replicator = this.#replicator!;
    const { sessions, meta } = this.#options;
    let error: unknown;
    let progress: SyncProgress | undefined;
    const previous = await meta.get(SYNC_PROGRESS_KEY) as
      | SyncProgress
      | undefined;
    try {
      await sessions.read(async (log) => {
        view.current = log;
        try {
          await replicator.syncOnce().catch((err) => {
            error = err;
          });
          progress = this.#progress(replicator, error, previous);
        } finally {
          view.current = undefined;
        }
      });
      await meta.set(SYNC_PROGRESS_KEY, progress);
      if (error === undefined) {
        await sessions.write((log) => log.enforceRetention());
      }
    } catch (err) {
      error ??= err;
    }
    if ((error as { code?: unknown } | undefined)?.code === "FENCED") {
      this.#replicator = this.#newReplicator(view);
    }
    const round: SyncRound = {
      ok: error === undefined,
      progress: progress ?? {
        online: false,
        roundMs: this.#clock.now(),
        lastSuccessMs: previous?.lastSuccessMs ?? null,
        lastError: error instanceof Error ? error.message : String(error),
        streams: previous?.streams ?? [],
      },
      ...(error === undefined ? {} : { error }),
    };
    this.#options.onRound?.(round);
    return round.ok;
  }

  #progress(
    replicator: Replicator,
    error: unknown,
    previous: SyncProgress | undefined,
  ): SyncProgress {
    const status = replicator.status();
    const failed = error !== undefined;
    return {
      online: failed ? status.online : true,
      roundMs: this.#clock.now(),
      lastSuccessMs: failed
        ? previous?.lastSuccessMs ?? null
        : this.#clock.now(),
      lastError: failed
        ? (error instanceof Error ? error.message : String(error))
        : null,
      streams: status.streams.map((s) => ({
        topic: s.topic,
        partition: s.sourcePartition,
        ackedOffset: s.ackedOffset,
        droppedRecords: s.droppedRecords,
      })),
    };
  }
}
