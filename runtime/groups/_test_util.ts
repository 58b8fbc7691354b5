/**
 * Test helpers for the groups tests: a Map-backed MetaStore, a seeded random
 * source and a coordinator over topics whose partition counts a test can
 * change.
 *
 * @module
 */

import { ManualClock } from "../clock.ts";
import type { MetaStore } from "../log/storage.ts";
import { GroupCoordinator } from "./coordinator.ts";
import type { GroupCoordinatorOptions } from "./types.ts";

/** A MetaStore over a Map, with values copied as JSON like a real store. */
export class MapMetaStore implements MetaStore {
  readonly data = new Map<string, string>();

  get(key: string): Promise<unknown | undefined> {
    const raw = this.data.get(key);
    return Promise.resolve(raw === undefined ? undefined : JSON.parse(raw));
  }

  set(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.stringify(value));
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.data.delete(key);
    return Promise.resolve();
  }

  list(prefix: string): Promise<[string, unknown][]> {
    return Promise.resolve(
      [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort()
        .map((k) => [k, JSON.parse(this.data.get(k)!)]),
    );
  }
}

/** A small deterministic generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A coordinator over `topics` (name → partitions), every high watermark 100. */
export async function openCoordinator(
  topics: Map<string, number>,
  options: Partial<GroupCoordinatorOptions> = {},
): Promise<
  { groups: GroupCoordinator; clock: ManualClock; meta: MapMetaStore }
> {
  const clock = new ManualClock(1_000);
  const meta = new MapMetaStore();
  const groups = await GroupCoordinator.open({
    meta,
    clock,
    random: seededRandom(7),
    partitionCount: (topic) => topics.get(topic),
    highWatermark: () => 100,
    ...options,
  });
  return { groups, clock, meta };
}
