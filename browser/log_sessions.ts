/**
 * Short-lived views of one IndexedDB log, shared safely by every tab and
 * the service worker of an origin.
 *
 * A {@linkcode Log} caches each partition's next offset in memory and
 * assumes it is the only writer. In a browser, every tab and the service
 * worker may open the same database, so a long-lived Log per context would
 * hand out colliding offsets. The rule here is simple instead of clever:
 *
 * - Every change (produce, topic creation, retention, the node id) runs in
 *   a **write session**: under the Web Lock `edgelog-write:<name>`, a fresh
 *   Log is opened over its own database connection (so it reads the
 *   partition state IndexedDB holds now, including other tabs' appends),
 *   used, and closed before the lock is released. Only one Log appends at a
 *   time, and it always starts from the committed state.
 * - A read opens a fresh Log without the lock: each IndexedDB transaction
 *   sees a consistent snapshot, and a partition's batches and state row are
 *   committed together.
 *
 * Opening a Log costs a database open and one read per partition (a few
 * milliseconds), paid once per `produce` call, not per record.
 *
 * @module
 */

import { Log } from "../runtime/log/log.ts";
import type { TopicConfig } from "../runtime/log/types.ts";
import { IdbStorage, type IdbStorageOptions } from "./idb_storage.ts";

/** The part of `navigator.locks` (LockManager) the SDK uses. */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: {
      mode?: "exclusive";
      ifAvailable?: boolean;
      signal?: AbortSignal;
    },
    callback: (lock: unknown) => Promise<T> | T,
  ): Promise<T>;
}

/** Options of {@linkcode LogSessions}. */
export interface LogSessionsOptions {
  /** Defaults for topics created through these sessions. */
  defaults?: Partial<TopicConfig>;
  /** Offsets at or above the answer survive retention (unsynced records). */
  retentionFloor?: (topic: string, partition: number) => number;
  /** Storage options; persistence is asked for once, by the caller. */
  storage?: Omit<IdbStorageOptions, "quota">;
  /** Default `navigator.locks`. */
  locks?: LockManagerLike;
}

/** The Web Lock every writer of the log `name` holds. */
export function writeLockName(name: string): string {
  return `edgelog-write:${name}`;
}

/** The default LockManager, or a TypeError naming what is missing. */
export function defaultLocks(): LockManagerLike {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } })
    .navigator?.locks;
  if (!locks) {
    throw new TypeError(
      "Web Locks (navigator.locks) are not available in this context",
    );
  }
  return locks;
}

/**
 * Opens read and write sessions over the IndexedDB database `name`.
 *
 * @example Usage
 * ```ts ignore
 * const sessions = new LogSessions("field-sensor");
 * await sessions.write((log) => log.produce("readings", records));
 * const hw = await sessions.read((log) => log.partition("readings", 0).highWatermark);
 * ```
 */
export class LogSessions {
  readonly name: string;
  #options: LogSessionsOptions;
  #locks: LockManagerLike;

  constructor(name: string, options: LogSessionsOptions = {}) {
    this.name = name;
    this.#options = options;
    this.#locks = options.locks ?? defaultLocks();
  }

  /**
   * Runs `fn` on a fresh Log (and the storage under it), holding the write
   * lock throughout.
   */
  write<T>(fn: (log: Log, storage: IdbStorage) => Promise<T>): Promise<T> {
    return this.#locks.request(
      writeLockName(this.name),
      {},
      () => this.read(fn),
    );
  }

  /** Runs `fn` on a fresh Log without the write lock: it must not change it. */
  async read<T>(fn: (log: Log, storage: IdbStorage) => Promise<T>): Promise<T> {
    const storage = await IdbStorage.open(this.name, {
      ...this.#options.storage,
      quota: { persist: false },
    });
    let log: Log;
    try {
      log = await Log.open({
        storage,
        autoCreateTopics: true,
        ...(this.#options.defaults ? { defaults: this.#options.defaults } : {}),
        ...(this.#options.retentionFloor
          ? { retentionFloor: this.#options.retentionFloor }
          : {}),
      });
    } catch (err) {
      await storage.close();
      throw err;
    }
    try {
      return await fn(log, storage);
    } finally {
      await log.close();
    }
  }
}
