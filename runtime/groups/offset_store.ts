/**
 * Committed group offsets, kept in memory for reads and in the MetaStore for
 * restarts. Each offset is one key, `group/<group>/<topic>/<partition>`,
 * whose value repeats the group, topic and partition so that reloading never
 * has to split a key (a group name may contain "/").
 *
 * @module
 */

import type { MetaStore } from "../log/storage.ts";

const PREFIX = "group/";

/** One committed offset: the next offset the group will read. */
export interface StoredOffset {
  topic: string;
  partition: number;
  offset: number;
}

interface StoredValue extends StoredOffset {
  group: string;
}

/** The committed offsets of every group. */
export class OffsetStore {
  readonly #meta: MetaStore;
  /** group → "topic/partition" → offset. */
  readonly #groups = new Map<string, Map<string, StoredOffset>>();
  /** Writes run one after another so memory follows the store's order. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  /**
   * Loads every stored offset. Values that are not offsets this class wrote
   * are skipped, so one damaged entry cannot keep the node from starting.
   */
  static async load(meta: MetaStore): Promise<OffsetStore> {
    const store = new OffsetStore(meta);
    for (const [, value] of await meta.list(PREFIX)) {
      if (isStoredValue(value)) store.#remember(value.group, value);
    }
    return store;
  }

  /** Names of groups with at least one committed offset. */
  groups(): string[] {
    return [...this.#groups.keys()];
  }

  has(group: string): boolean {
    return this.#groups.has(group);
  }

  /** The group's offsets, by topic then partition; one topic if given. */
  list(group: string, topic?: string): StoredOffset[] {
    return [...(this.#groups.get(group)?.values() ?? [])]
      .filter((entry) => topic === undefined || entry.topic === topic)
      .sort((a, b) =>
        a.topic === b.topic
          ? a.partition - b.partition
          : a.topic < b.topic
          ? -1
          : 1
      )
      .map((entry) => ({ ...entry }));
  }

  get(group: string, topic: string, partition: number): number | undefined {
    return this.#groups.get(group)?.get(`${topic}/${partition}`)?.offset;
  }

  /**
   * Stores offsets (already validated); a later entry for the same
   * partition wins. Resolves once durable; readers see them from then on.
   */
  commit(group: string, offsets: readonly StoredOffset[]): Promise<void> {
    const latest = new Map<string, StoredValue>();
    for (const { topic, partition, offset } of offsets) {
      latest.set(`${topic}/${partition}`, { group, topic, partition, offset });
    }
    const write = this.#queue.then(async () => {
      await Promise.all(
        [...latest.values()].map((value) =>
          this.#meta.set(
            `${PREFIX}${group}/${value.topic}/${value.partition}`,
            value,
          )
        ),
      );
      for (const value of latest.values()) this.#remember(group, value);
    });
    this.#queue = write.catch(() => {});
    return write;
  }

  /** Removes every offset of `group`; resolves once durable. */
  deleteGroup(group: string): Promise<void> {
    const write = this.#queue.then(async () => {
      const offsets = [...(this.#groups.get(group)?.values() ?? [])];
      await Promise.all(
        offsets.map((o) =>
          this.#meta.delete(`${PREFIX}${group}/${o.topic}/${o.partition}`)
        ),
      );
      this.#groups.delete(group);
    });
    this.#queue = write.catch(() => {});
    return write;
  }

  #remember(group: string, value: StoredOffset): void {
    const offsets = this.#groups.get(group) ?? new Map<string, StoredOffset>();
    this.#groups.set(group, offsets);
    offsets.set(`${value.topic}/${value.partition}`, {
      topic: value.topic,
      partition: value.partition,
      offset: value.offset,
    });
  }
}

function isStoredValue(value: unknown): value is StoredValue {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.group === "string" && typeof v.topic === "string" &&
    Number.isSafeInteger(v.partition) && (v.partition as number) >= 0 &&
    Number.isSafeInteger(v.offset) && (v.offset as number) >= 0;
}
