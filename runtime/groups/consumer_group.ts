/**
 * The membership of one consumer group and the cooperative handover of its
 * partitions, without I/O: the coordinator validates requests, keeps time
 * and stores offsets; this class decides who owns what.
 *
 * Every member has three views of the partitions:
 * - its **target**, from the assignor over all current members;
 * - its **assignment**, what the member's latest answer (at its current
 *   epoch) told it to own;
 * - its **held** partitions: the assignment plus whatever earlier answers
 *   gave it that it has not yet acknowledged giving up.
 *
 * A heartbeat at the member's current epoch acknowledges the latest answer,
 * so held shrinks to the assignment. Only then does the member get a new
 * answer, whose assignment is its target minus every partition another
 * member still holds. Held sets therefore never overlap: a partition moves
 * to its new owner only after the old owner acknowledged losing it, left, or
 * expired. Whenever the assignment changes the member's epoch goes up by one.
 *
 * @module
 */

import { type Assignment, assignPartitions } from "./assignor.ts";
import { EdgelogError } from "../errors.ts";
import type {
  GroupSnapshot,
  StoredMember,
  StoredPartitions,
} from "./membership_store.ts";
import type {
  GroupMemberDescription,
  GroupState,
  TopicPartitions,
} from "./types.ts";

/** topic → ascending partitions. */
type Partitions = Map<string, number[]>;

interface Member {
  readonly memberId: string;
  /** The caller that joined it (GroupCaller.id); undefined on an open node. */
  readonly principal: string | undefined;
  epoch: number;
  topics: string[];
  sessionTimeoutMs: number;
  lastHeartbeatMs: number;
  assignment: Partitions;
  held: Partitions;
}

/** What a member is told by a heartbeat. */
export interface MemberAnswer {
  memberEpoch: number;
  assignment: TopicPartitions[];
}

/** A heartbeat as the group sees it, after validation. */
export interface MemberHeartbeat {
  topics: string[];
  sessionTimeoutMs: number;
  now: number;
}

/** One group's members, target assignment and handover state. */
export class ConsumerGroup {
  readonly #partitionCount: (topic: string) => number | undefined;
  readonly #members = new Map<string, Member>();
  #target: Assignment = new Map();

  constructor(partitionCount: (topic: string) => number | undefined) {
    this.#partitionCount = partitionCount;
  }

  /**
   * A group as {@linkcode snapshot} left it, every member's session
   * starting at `now`.
   */
  static restore(
    partitionCount: (topic: string) => number | undefined,
    snapshot: GroupSnapshot,
    now: number,
  ): ConsumerGroup {
    const group = new ConsumerGroup(partitionCount);
    for (const stored of snapshot.members) {
      group.#members.set(stored.memberId, {
        memberId: stored.memberId,
        principal: stored.principal,
        epoch: stored.epoch,
        topics: [...stored.topics],
        sessionTimeoutMs: stored.sessionTimeoutMs,
        lastHeartbeatMs: now,
        assignment: fromStored(stored.assignment),
        held: fromStored(stored.held),
      });
    }
    group.#target = new Map(
      snapshot.target.map(([memberId, partitions]) => [
        memberId,
        fromStored(partitions),
      ]),
    );
    return group;
  }

  /** What a restart must keep: everything but heartbeat times. */
  snapshot(): GroupSnapshot {
    const members: StoredMember[] = [...this.#members.values()].map((m) => ({
      memberId: m.memberId,
      ...(m.principal === undefined ? {} : { principal: m.principal }),
      epoch: m.epoch,
      topics: [...m.topics],
      sessionTimeoutMs: m.sessionTimeoutMs,
      assignment: toStored(m.assignment),
      held: toStored(m.held),
    }));
    return {
      members,
      target: [...this.#target].map(([memberId, partitions]) => [
        memberId,
        toStored(partitions),
      ]),
    };
  }

  /** Number of members. */
  get size(): number {
    return this.#members.size;
  }

  has(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  /**
   * Adds a member at epoch 1 with whatever of its target is free, bound to
   * `principal`.
   */
  join(
    memberId: string,
    heartbeat: MemberHeartbeat,
    principal?: string,
  ): MemberAnswer {
    const member: Member = {
      memberId,
      principal,
      epoch: 1,
      topics: heartbeat.topics,
      sessionTimeoutMs: heartbeat.sessionTimeoutMs,
      lastHeartbeatMs: heartbeat.now,
      assignment: new Map(),
      held: new Map(),
    };
    this.#members.set(memberId, member);
    this.#reconcile(member, { bump: false });
    return answer(member);
  }

  /**
   * A heartbeat of a known member. `epoch` is the current epoch (an
   * acknowledgement: the member may get a new assignment), the previous one
   * (the latest answer was lost: it is sent again unchanged) or 0 (the
   * member dropped all its partitions and rejoins). Any other epoch throws
   * FENCED and changes nothing.
   */
  heartbeat(
    memberId: string,
    epoch: number,
    heartbeat: MemberHeartbeat,
  ): MemberAnswer {
    const member = this.#member(memberId);
    const replay = epoch === member.epoch - 1 && epoch >= 1;
    if (epoch !== 0 && epoch !== member.epoch && !replay) {
      throw new EdgelogError(
        "FENCED",
        `Cannot accept heartbeat of member ${memberId} at epoch ${epoch}: its epoch is ${member.epoch}; rejoin with epoch 0`,
      );
    }
    member.topics = heartbeat.topics;
    member.sessionTimeoutMs = heartbeat.sessionTimeoutMs;
    member.lastHeartbeatMs = heartbeat.now;
    if (replay) return answer(member);
    if (epoch === 0) {
      member.epoch++;
      member.assignment = new Map();
      member.held = new Map();
      this.#reconcile(member, { bump: false });
    } else {
      member.held = copy(member.assignment);
      this.#reconcile(member, { bump: true });
    }
    return answer(member);
  }

  /** Removes a member; its partitions are free at once. */
  leave(memberId: string): void {
    this.#member(memberId);
    this.#members.delete(memberId);
  }

  /** Removes every member whose session ran out by `now`; returns how many. */
  expire(now: number): number {
    let removed = 0;
    for (const member of [...this.#members.values()]) {
      if (now - member.lastHeartbeatMs >= member.sessionTimeoutMs) {
        this.#members.delete(member.memberId);
        removed++;
      }
    }
    return removed;
  }

  /** The epoch that commits of `memberId` must carry. */
  epochOf(memberId: string): number {
    return this.#member(memberId).epoch;
  }

  state(): GroupState {
    if (this.#members.size === 0) return "Empty";
    const target = this.#retarget();
    for (const member of this.#members.values()) {
      if (
        !same(member.held, member.assignment) ||
        !same(member.assignment, target.get(member.memberId) ?? new Map())
      ) {
        return "Reconciling";
      }
    }
    return "Stable";
  }

  /** The caller a member is bound to; UNKNOWN_MEMBER if absent. */
  principalOf(memberId: string): string | undefined {
    return this.#member(memberId).principal;
  }

  /** Members in join order; ids only where `visible` says so. */
  describeMembers(
    visible: (memberId: string) => boolean = () => true,
  ): GroupMemberDescription[] {
    return [...this.#members.values()].map((member) => ({
      ...(visible(member.memberId) ? { memberId: member.memberId } : {}),
      memberEpoch: member.epoch,
      topics: [...member.topics],
      assignment: toTopicPartitions(member.assignment),
      lastHeartbeatMs: member.lastHeartbeatMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    }));
  }

  /** Every topic some member subscribes to. */
  subscribedTopics(): Set<string> {
    const topics = new Set<string>();
    for (const member of this.#members.values()) {
      for (const topic of member.topics) topics.add(topic);
    }
    return topics;
  }

  /** The member whose latest answer holds the partition, if any. */
  ownerOf(topic: string, partition: number): string | null {
    for (const member of this.#members.values()) {
      if (member.assignment.get(topic)?.includes(partition)) {
        return member.memberId;
      }
    }
    return null;
  }

  #member(memberId: string): Member {
    const member = this.#members.get(memberId);
    if (member === undefined) {
      throw new EdgelogError(
        "UNKNOWN_MEMBER",
        `Member ${memberId} is not in the group`,
      );
    }
    return member;
  }

  /** Recomputes the target from the members and today's partition counts. */
  #retarget(): Assignment {
    const subscriptions = new Map<string, string[]>();
    const counts = new Map<string, number>();
    for (const member of this.#members.values()) {
      subscriptions.set(member.memberId, member.topics);
      for (const topic of member.topics) {
        const count = this.#partitionCount(topic);
        if (count !== undefined) counts.set(topic, count);
      }
    }
    this.#target = assignPartitions(subscriptions, counts, {
      current: this.#target,
    });
    return this.#target;
  }

  /**
   * Gives `member` its target minus what others still hold. Partitions it
   * loses stay held until it acknowledges; partitions it gains are held
   * from now on.
   */
  #reconcile(member: Member, options: { bump: boolean }): void {
    const target = this.#retarget().get(member.memberId) ?? new Map();
    const others = new Map<string, Set<number>>();
    for (const other of this.#members.values()) {
      if (other === member) continue;
      for (const [topic, partitions] of other.held) {
        const set = others.get(topic) ?? new Set<number>();
        others.set(topic, set);
        for (const p of partitions) set.add(p);
      }
    }
    const next: Partitions = new Map();
    for (const [topic, partitions] of target) {
      const free = partitions.filter((p: number) => !others.get(topic)?.has(p));
      if (free.length > 0) next.set(topic, free);
    }
    if (same(next, member.assignment)) return;
    if (options.bump) member.epoch++;
    member.assignment = next;
    member.held = union(member.held, next);
  }
}

function answer(member: Member): MemberAnswer {
  return {
    memberEpoch: member.epoch,
    assignment: toTopicPartitions(member.assignment),
  };
}

/** A fresh, topic-sorted list, safe to hand out. */
export function toTopicPartitions(partitions: Partitions): TopicPartitions[] {
  return [...partitions.keys()].sort().map((topic) => ({
    topic,
    partitions: [...(partitions.get(topic) ?? [])],
  }));
}

function toStored(partitions: Partitions): StoredPartitions {
  return [...partitions].map(([topic, ps]) => [topic, [...ps]]);
}

function fromStored(stored: StoredPartitions): Partitions {
  return new Map(stored.map(([topic, ps]) => [topic, [...ps]]));
}

function copy(partitions: Partitions): Partitions {
  return new Map([...partitions].map(([t, ps]) => [t, [...ps]]));
}

function union(a: Partitions, b: Partitions): Partitions {
  const result = copy(a);
  for (const [topic, partitions] of b) {
    const merged = new Set([...(result.get(topic) ?? []), ...partitions]);
    result.set(topic, [...merged].sort((x, y) => x - y));
  }
  return result;
}

function same(a: Partitions, b: Partitions): boolean {
  if (a.size !== b.size) return false;
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    if (other === undefined || other.length !== partitions.length) return false;
    if (partitions.some((p, i) => other[i] !== p)) return false;
  }
  return true;
}
