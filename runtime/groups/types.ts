/**
 * The public shapes of consumer-group coordination: the options of
 * {@linkcode GroupCoordinator}, its requests and its answers. They mirror the
 * JSON bodies of PROTOCOL.md ("Consumer groups") so the server can pass them
 * through unchanged.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { MetaStore } from "../log/storage.ts";

/** What a coordinator needs from its surroundings; all of it injected. */
export interface GroupCoordinatorOptions {
  /** Where committed offsets are kept, so they survive a restart. */
  meta: MetaStore;
  /** Source of time for sessions; default the system clock. */
  clock?: Clock;
  /** Source of member ids; default `Math.random`. */
  random?: () => number;
  /** Partitions of a topic, or `undefined` when the topic does not exist. */
  partitionCount: (topic: string) => number | undefined;
  /** The high watermark of an existing partition, for lag. */
  highWatermark: (topic: string, partition: number) => number;
  /** Session timeout of members that do not ask for one; default 45 000. */
  defaultSessionTimeoutMs?: number;
  /** How often members are told to heartbeat; default 3 000. */
  heartbeatIntervalMs?: number;
  /**
   * Members one group may hold; a join past it is LIMIT_REACHED. Default
   * 1 000: every join recomputes the group's assignment over all members.
   */
  maxGroupMembers?: number;
}

/** Partitions of one topic, ascending. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** A `POST /v1/groups/{group}/heartbeat` body. */
export interface HeartbeatRequest {
  /** Absent on the first heartbeat (a join). */
  memberId?: string;
  /** The epoch of the last answer; 0 to (re)join, -1 to leave. */
  memberEpoch?: number;
  /** Topics the member subscribes to; unknown topics are allowed. */
  topics: string[];
  /** Evict the member after this long without a heartbeat. */
  sessionTimeoutMs?: number;
}

/** The answer to a heartbeat. */
export interface HeartbeatResponse {
  memberId: string;
  /** The epoch to send with the next heartbeat and with commits. */
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** The partitions the member owns now; topics without any are left out. */
  assignment: TopicPartitions[];
}

/** One committed offset in a commit request. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's rule). */
  offset: number;
}

/** A `POST /v1/groups/{group}/offsets` body. */
export interface CommitRequest {
  memberId: string;
  memberEpoch: number;
  offsets: OffsetToCommit[];
}

/** A committed offset with the lag behind its partition's end. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  highWatermark: number;
  /** `max(0, highWatermark - offset)`. */
  lag: number;
}

/**
 * "Empty": no members. "Stable": every member owns exactly its target
 * partitions and has acknowledged them. "Reconciling": partitions are still
 * moving.
 */
export type GroupState = "Empty" | "Stable" | "Reconciling";

/** A line of `GET /v1/groups`. */
export interface GroupSummary {
  group: string;
  members: number;
  state: GroupState;
}

/** A member as `GET /v1/groups/{group}` shows it. */
export interface GroupMemberDescription {
  memberId: string;
  memberEpoch: number;
  topics: string[];
  /** The assignment of the member's latest answer. */
  assignment: TopicPartitions[];
  lastHeartbeatMs: number;
  sessionTimeoutMs: number;
}

/** One partition a group reads: who owns it and how far behind it is. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The member whose latest answer holds the partition, if any. */
  memberId: string | null;
  /** The committed offset, or null when nothing was committed. */
  offset: number | null;
  highWatermark: number;
  /** `max(0, highWatermark - offset)`, or null without a committed offset. */
  lag: number | null;
}

/** The body of `GET /v1/groups/{group}`. */
export interface GroupDescription {
  group: string;
  state: GroupState;
  members: GroupMemberDescription[];
  /** Every partition of the topics the group subscribes to or committed to. */
  partitions: PartitionLag[];
}
