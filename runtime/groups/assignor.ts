/**
 * The server-side partition assignor: a pure function from the members'
 * subscriptions, the topics' partition counts and the assignment in force to
 * the next target assignment.
 *
 * Each topic is assigned on its own among the members that subscribe to it:
 * with `n` subscribers and `P` partitions every subscriber gets `⌊P/n⌋` or
 * `⌈P/n⌉` partitions (balanced). The larger quotas go to the members that
 * already own the most partitions of the topic, each member keeps as many of
 * its current partitions as its quota allows, and only the rest move
 * (sticky). Keeping `min(owned, quota)` per member, with the large quotas on
 * the largest owners, is the most any balanced assignment can keep, so no
 * rebalance moves more partitions than it must.
 *
 * @module
 */

/** memberId → topic → partitions, ascending. */
export type Assignment = Map<string, Map<string, number[]>>;

/** Options of {@linkcode assignPartitions}. */
export interface AssignOptions {
  /**
   * The assignment to stay close to. Entries for departed members, for
   * topics a member no longer subscribes to, for partitions out of range,
   * and second claims on one partition are ignored.
   */
  current?: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
}

/**
 * Computes a balanced, sticky assignment. Every member of `subscriptions`
 * appears in the result (possibly with no topics); topics missing from
 * `partitionCounts` do not exist yet and are not assigned.
 *
 * @param subscriptions memberId → subscribed topics.
 * @param partitionCounts topic → number of partitions.
 * @returns memberId → topic → ascending partitions; topics with no
 * partitions for a member are left out.
 *
 * @example Adding a member moves only what the newcomer must take
 * ```ts
 * import { assignPartitions } from "./assignor.ts";
 * const counts = new Map([["t", 4]]);
 * const first = assignPartitions(new Map([["a", ["t"]]]), counts);
 * const second = assignPartitions(new Map([["a", ["t"]], ["b", ["t"]]]), counts, { current: first });
 * console.assert(second.get("a")?.get("t")?.join() === "0,1");
 * console.assert(second.get("b")?.get("t")?.join() === "2,3");
 * ```
 */
export function assignPartitions(
  subscriptions: ReadonlyMap<string, readonly string[]>,
  partitionCounts: ReadonlyMap<string, number>,
  options: AssignOptions = {},
): Assignment {
  const memberIds = [...subscriptions.keys()].sort();
  const subscribed = new Map<string, Set<string>>();
  const topics = new Set<string>();
  const result: Assignment = new Map();
  for (const id of memberIds) {
    const mine = new Set(subscriptions.get(id));
    subscribed.set(id, mine);
    for (const topic of mine) topics.add(topic);
    result.set(id, new Map());
  }
  for (const topic of [...topics].sort()) {
    const count = partitionCounts.get(topic);
    if (count === undefined) continue;
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(
        `Cannot assign topic '${topic}': partition count ${count} is not a non-negative integer`,
      );
    }
    const members = memberIds.filter((id) => subscribed.get(id)?.has(topic));
    const shares = assignTopic(topic, count, members, options.current);
    for (const [id, partitions] of shares) {
      if (partitions.length > 0) result.get(id)?.set(topic, partitions);
    }
  }
  return result;
}

/** Splits one topic's partitions among `members` (sorted ids). */
function assignTopic(
  topic: string,
  count: number,
  members: readonly string[],
  current: AssignOptions["current"],
): Map<string, number[]> {
  const shares = new Map<string, number[]>();
  if (members.length === 0) return shares;
  const claimed = new Set<number>();
  const owned = new Map<string, number[]>();
  for (const id of members) {
    const mine: number[] = [];
    for (const p of current?.get(id)?.get(topic) ?? []) {
      if (Number.isInteger(p) && p >= 0 && p < count && !claimed.has(p)) {
        claimed.add(p);
        mine.push(p);
      }
    }
    owned.set(id, mine.sort(ascending));
  }
  const ownedCount = (id: string) => owned.get(id)?.length ?? 0;
  const base = Math.floor(count / members.length);
  let larger = count % members.length;
  const quota = new Map<string, number>();
  const byOwned = [...members].sort((a, b) =>
    ownedCount(b) - ownedCount(a) || (a < b ? -1 : 1)
  );
  for (const id of byOwned) {
    quota.set(id, larger > 0 ? base + 1 : base);
    larger--;
  }
  const free: number[] = [];
  for (let p = 0; p < count; p++) if (!claimed.has(p)) free.push(p);
  for (const id of members) {
    const mine = owned.get(id) ?? [];
    const q = quota.get(id) ?? 0;
    shares.set(id, mine.slice(0, q));
    free.push(...mine.slice(q));
  }
  free.sort(ascending);
  let next = 0;
  for (const id of members) {
    const share = shares.get(id) ?? [];
    const q = quota.get(id) ?? 0;
    while (share.length < q && next < free.length) share.push(free[next++]!);
    share.sort(ascending);
  }
  return shares;
}

function ascending(a: number, b: number): number {
  return a - b;
}
