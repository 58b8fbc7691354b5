/**
 * Group membership kept in the MetaStore, as Kafka's coordinator keeps it in
 * its offsets topic, so that a restart within the session timeout is
 * invisible to members: one key per group, `members/<group>`, holding every
 * member's id, epoch, subscription, session timeout, assignment and held
 * partitions, and the group's target assignment (so the assignor stays
 * sticky across the restart). Heartbeat times are not stored: a reloaded
 * member's session counts from the restart.
 *
 * A group is written only when its snapshot differs from the one written
 * last, so plain heartbeats never write.
 *
 * @module
 */

import type { MetaStore } from "../log/storage.ts";

const PREFIX = "members/";

/** topic → ascending partitions, as stored. */
export type StoredPartitions = [topic: string, partitions: number[]][];

/** One member as stored. */
export interface StoredMember {
  memberId: string;
  /** The caller that joined it (its token's id); absent on an open node. */
  principal?: string;
  epoch: number;
  topics: string[];
  sessionTimeoutMs: number;
  assignment: StoredPartitions;
  held: StoredPartitions;
}

/** One group's membership as stored. */
export interface GroupSnapshot {
  /** In join order. */
  members: StoredMember[];
  target: [memberId: string, partitions: StoredPartitions][];
}

interface StoredValue extends GroupSnapshot {
  group: string;
}

/** The stored membership of every group, and its writer. */
export class MembershipStore {
  readonly #meta: MetaStore;
  /** group → the JSON last written (or loaded). */
  readonly #written = new Map<string, string>();
  /** One write at a time, so the last one holds the latest snapshot. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  /**
   * Loads every stored group. Entries that are not snapshots this class
   * wrote are skipped, so one damaged entry cannot keep the node from
   * starting; those groups start empty and their members rejoin.
   */
  static async load(
    meta: MetaStore,
  ): Promise<{ store: MembershipStore; groups: Map<string, GroupSnapshot> }> {
    const store = new MembershipStore(meta);
    const groups = new Map<string, GroupSnapshot>();
    for (const [, value] of await meta.list(PREFIX)) {
      if (!isStoredValue(value)) continue;
      const { group, members, target } = value;
      groups.set(group, { members, target });
      store.#written.set(group, JSON.stringify({ members, target }));
    }
    return { store, groups };
  }

  /**
   * Writes the group's snapshot (undefined: the group is gone) unless it is
   * the one written last. Resolves once durable.
   */
  save(group: string, snapshot: GroupSnapshot | undefined): Promise<void> {
    const json = snapshot === undefined ? undefined : JSON.stringify(snapshot);
    if (json === this.#written.get(group)) return this.#queue;
    if (json === undefined) this.#written.delete(group);
    else this.#written.set(group, json);
    const key = PREFIX + group;
    const write = this.#queue.then(() =>
      snapshot === undefined
        ? this.#meta.delete(key)
        : this.#meta.set(key, { group, ...snapshot })
    );
    // A failed write is retried by the next change: forget what was written.
    this.#queue = write.catch(() => {
      this.#written.delete(group);
    });
    return write;
  }

  /** Resolves once every write begun so far has finished. */
  flush(): Promise<void> {
    return this.#queue;
  }
}

function isPartitions(value: unknown): value is StoredPartitions {
  return Array.isArray(value) &&
    value.every((entry) =>
      Array.isArray(entry) && entry.length === 2 &&
      typeof entry[0] === "string" && Array.isArray(entry[1]) &&
      entry[1].every((p: unknown) =>
        Number.isSafeInteger(p) && (p as number) >= 0
      )
    );
}

function isMember(value: unknown): value is StoredMember {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.memberId === "string" && m.memberId.length > 0 &&
    Number.isSafeInteger(m.epoch) && (m.epoch as number) >= 1 &&
    Array.isArray(m.topics) &&
    m.topics.every((t) => typeof t === "string") &&
    Number.isSafeInteger(m.sessionTimeoutMs) &&
    (m.sessionTimeoutMs as number) > 0 &&
    isPartitions(m.assignment) && isPartitions(m.held);
}

function isStoredValue(value: unknown): value is StoredValue {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.group === "string" && Array.isArray(v.members) &&
    v.members.every(isMember) && Array.isArray(v.target) &&
    v.target.every((entry) =>
      Array.isArray(entry) && entry.length === 2 &&
      typeof entry[0] === "string" && isPartitions(entry[1])
    );
}
