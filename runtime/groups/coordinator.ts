/**
 * Server-side consumer groups in the manner of Kafka's KIP-848: members
 * heartbeat, the coordinator assigns partitions, and each member's epoch
 * fences what it sends.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { EdgelogError, limitError } from "../errors.ts";
import { ConsumerGroup } from "./consumer_group.ts";
import { newMemberId } from "./member_id.ts";
import { MembershipStore } from "./membership_store.ts";
import { OffsetStore, type StoredOffset } from "./offset_store.ts";
import type {
  CommitRequest,
  CommittedOffset,
  GroupCaller,
  GroupCoordinatorOptions,
  GroupDescription,
  GroupSummary,
  HeartbeatRequest,
  HeartbeatResponse,
  PartitionLag,
} from "./types.ts";

const DEFAULT_SESSION_TIMEOUT_MS = 45_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;
/** Members of one group by default. */
export const DEFAULT_MAX_GROUP_MEMBERS = 1000;

/**
 * Coordinates every consumer group of a node.
 *
 * Heartbeats:
 * - no `memberId` (and `memberEpoch` absent or 0) joins: the member gets a
 *   fresh id, epoch 1 and the free part of its share;
 * - `memberEpoch: -1` leaves: the member's partitions are free at once;
 * - the member's current epoch acknowledges the latest answer; the member's
 *   epoch goes up by one whenever its assignment changes;
 * - the previous epoch means the latest answer was lost: it is sent again;
 * - epoch 0 with a known `memberId` rejoins after the member dropped all
 *   its partitions (what a fenced member does);
 * - any other epoch is FENCED (409), as KIP-848's FENCED_MEMBER_EPOCH: the
 *   member stays in the group, keeps its partitions until it rejoins or
 *   expires, and the request changes nothing;
 * - an id the group does not know (never joined, left or expired) is
 *   UNKNOWN_MEMBER (404); the client joins again without an id;
 * - a member is bound to the caller that joined it: a heartbeat, leave or
 *   commit for it from another caller (not an admin) is FORBIDDEN (403)
 *   and changes nothing, so knowing a member id is not enough to evict it
 *   or commit in its name.
 *
 * Handover is cooperative: a partition that moves is given to its new owner
 * only after the old owner acknowledged the answer that took it away, left
 * or expired, so two members never own one partition at once (see
 * consumer_group.ts). Members whose session ran out are removed lazily on
 * every call and by {@linkcode expireMembers}.
 *
 * Commits must carry the member's current epoch (else STALE_MEMBER_EPOCH,
 * 409), as in KIP-848, so a member that lost partitions cannot overwrite
 * the offsets of their new owner once it has acknowledged the loss. A
 * member that gives partitions up commits their offsets before it
 * acknowledges. Committed offsets and membership survive a restart:
 * members, epochs, assignments and the target are written to the
 * MetaStore whenever they change (never for a plain heartbeat), before the
 * answer that tells of the change, and a reloaded member's session counts
 * from the restart, so members that come back within their session
 * timeout carry on as if nothing happened.
 *
 * @example Join, commit, read back
 * ```ts
 * import { GroupCoordinator } from "./coordinator.ts";
 * const data = new Map<string, unknown>();
 * const meta = {
 *   get: (k: string) => Promise.resolve(data.get(k)),
 *   set: (k: string, v: unknown) => Promise.resolve(void data.set(k, v)),
 *   delete: (k: string) => Promise.resolve(void data.delete(k)),
 *   list: (p: string) => Promise.resolve([...data].filter(([k]) => k.startsWith(p))),
 * };
 * const groups = await GroupCoordinator.open({
 *   meta,
 *   partitionCount: (topic) => (topic === "orders" ? 2 : undefined),
 *   highWatermark: () => 10,
 * });
 * const joined = await groups.heartbeat("billing", { topics: ["orders"] });
 * console.assert(joined.assignment[0]?.partitions.length === 2);
 * await groups.commit("billing", {
 *   memberId: joined.memberId,
 *   memberEpoch: joined.memberEpoch,
 *   offsets: [{ topic: "orders", partition: 0, offset: 4 }],
 * });
 * console.assert(groups.committed("billing")[0]?.lag === 6);
 * ```
 */
export class GroupCoordinator {
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #partitionCount: (topic: string) => number | undefined;
  readonly #highWatermark: (topic: string, partition: number) => number;
  readonly #sessionTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #maxGroupMembers: number;
  readonly #offsets: OffsetStore;
  readonly #memberships: MembershipStore;
  readonly #groups = new Map<string, ConsumerGroup>();

  private constructor(
    options: GroupCoordinatorOptions,
    offsets: OffsetStore,
    memberships: MembershipStore,
  ) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#partitionCount = options.partitionCount;
    this.#highWatermark = options.highWatermark;
    this.#sessionTimeoutMs = options.defaultSessionTimeoutMs ??
      DEFAULT_SESSION_TIMEOUT_MS;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ??
      DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#maxGroupMembers = options.maxGroupMembers ??
      DEFAULT_MAX_GROUP_MEMBERS;
    this.#offsets = offsets;
    this.#memberships = memberships;
  }

  /** Members one group may hold. */
  get maxGroupMembers(): number {
    return this.#maxGroupMembers;
  }

  /**
   * Opens a coordinator over `options.meta`, reloading committed offsets
   * and membership; every reloaded member's session starts now.
   */
  static async open(
    options: GroupCoordinatorOptions,
  ): Promise<GroupCoordinator> {
    const offsets = await OffsetStore.load(options.meta);
    const { store, groups } = await MembershipStore.load(options.meta);
    const coordinator = new GroupCoordinator(options, offsets, store);
    const now = coordinator.#clock.now();
    for (const [name, snapshot] of groups) {
      const members = ConsumerGroup.restore(
        options.partitionCount,
        snapshot,
        now,
      );
      if (members.size > 0) coordinator.#groups.set(name, members);
    }
    return coordinator;
  }

  /**
   * Joins, leaves or keeps a member alive; answers with its epoch and the
   * partitions it owns now, once a change to the group is durable.
   * BAD_REQUEST, UNKNOWN_MEMBER, FENCED.
   */
  async heartbeat(
    group: string,
    request: HeartbeatRequest,
    caller?: GroupCaller,
  ): Promise<HeartbeatResponse> {
    await Promise.resolve();
    const response = this.#heartbeat(group, request, caller);
    await this.#save(group);
    return response;
  }

  /** Resolves once every membership change so far is durable. */
  flush(): Promise<void> {
    return this.#memberships.flush();
  }

  /**
   * Stores offsets for the member's group. BAD_REQUEST, UNKNOWN_MEMBER,
   * STALE_MEMBER_EPOCH, TOPIC_NOT_FOUND, PARTITION_NOT_FOUND; nothing is
   * stored unless every offset is valid.
   */
  async commit(
    group: string,
    request: CommitRequest,
    caller?: GroupCaller,
  ): Promise<void> {
    validateGroup(group);
    const { memberId, memberEpoch, offsets } = request;
    validateMemberId(memberId);
    if (!Number.isSafeInteger(memberEpoch)) {
      throw badRequest(`memberEpoch must be an integer, got ${memberEpoch}`);
    }
    if (!Array.isArray(offsets)) throw badRequest("offsets must be an array");
    for (const entry of offsets) validateOffset(entry);
    this.expireMembers();
    const members = this.#groups.get(group);
    if (members === undefined || !members.has(memberId)) {
      throw new EdgelogError(
        "UNKNOWN_MEMBER",
        `Cannot commit for member ${memberId}: not in group '${group}'`,
      );
    }
    checkCaller(members, memberId, caller);
    const current = members.epochOf(memberId);
    if (memberEpoch !== current) {
      throw new EdgelogError(
        "STALE_MEMBER_EPOCH",
        `Cannot commit at epoch ${memberEpoch}: member ${memberId} is at epoch ${current}`,
      );
    }
    for (const { topic, partition } of offsets) {
      this.#checkPartition(topic, partition);
    }
    await this.#offsets.commit(group, offsets);
  }

  /** The group's committed offsets with lag; one topic if given. */
  committed(group: string, topic?: string): CommittedOffset[] {
    this.expireMembers();
    const result: CommittedOffset[] = [];
    for (const entry of this.#offsets.list(group, topic)) {
      const count = this.#partitionCount(entry.topic);
      if (count === undefined || entry.partition >= count) continue;
      const highWatermark = this.#highWatermark(entry.topic, entry.partition);
      result.push({
        ...entry,
        highWatermark,
        lag: Math.max(0, highWatermark - entry.offset),
      });
    }
    return result;
  }

  /** Every group with members or committed offsets, by name. */
  listGroups(): GroupSummary[] {
    this.expireMembers();
    const names = new Set([...this.#groups.keys(), ...this.#offsets.groups()]);
    return [...names].sort().map((group) => {
      const members = this.#groups.get(group);
      return {
        group,
        members: members?.size ?? 0,
        state: members?.state() ?? "Empty",
      };
    });
  }

  /** The topics a group's members subscribe to or it committed offsets of. */
  topicsOf(group: string): string[] {
    this.expireMembers();
    const topics = new Set(this.#groups.get(group)?.subscribedTopics());
    for (const entry of this.#offsets.list(group)) topics.add(entry.topic);
    return [...topics].sort();
  }

  /**
   * Members, assignments and per-partition lag; NOT_FOUND if unknown. With
   * a `caller`, member ids show only for its own members (all for admins).
   */
  describeGroup(group: string, caller?: GroupCaller): GroupDescription {
    this.expireMembers();
    const members = this.#groups.get(group);
    if (members === undefined && !this.#offsets.has(group)) {
      throw new EdgelogError("NOT_FOUND", `Group '${group}' does not exist`);
    }
    const visible = (memberId: string) =>
      caller === undefined || caller.admin ||
      members?.principalOf(memberId) === caller.id;
    const partitions: PartitionLag[] = [];
    for (const topic of this.topicsOf(group)) {
      const count = this.#partitionCount(topic) ?? 0;
      for (let partition = 0; partition < count; partition++) {
        const offset = this.#offsets.get(group, topic, partition) ?? null;
        const highWatermark = this.#highWatermark(topic, partition);
        const owner = members?.ownerOf(topic, partition) ?? null;
        partitions.push({
          topic,
          partition,
          ...(owner === null || visible(owner) ? { memberId: owner } : {}),
          offset,
          highWatermark,
          lag: offset === null ? null : Math.max(0, highWatermark - offset),
        });
      }
    }
    return {
      group,
      state: members?.state() ?? "Empty",
      members: members?.describeMembers(visible) ?? [],
      partitions,
    };
  }

  /**
   * Sets a group's committed offsets from outside the group, as Kafka's
   * `--reset-offsets`: only while the group has no members, since a member
   * would overwrite them with its next commit (GROUP_NOT_EMPTY). The caller
   * resolves where each partition goes; TOPIC_NOT_FOUND and
   * PARTITION_NOT_FOUND store nothing.
   */
  async resetOffsets(
    group: string,
    offsets: readonly StoredOffset[],
  ): Promise<void> {
    validateGroup(group);
    for (const entry of offsets) validateOffset(entry);
    this.#requireEmpty(group, "reset the offsets of");
    for (const { topic, partition } of offsets) {
      this.#checkPartition(topic, partition);
    }
    await this.#offsets.commit(group, offsets);
  }

  /**
   * Deletes a group with no members and its committed offsets: NOT_FOUND
   * when unknown, GROUP_NOT_EMPTY while members remain.
   */
  async deleteGroup(group: string): Promise<void> {
    validateGroup(group);
    this.#requireEmpty(group, "delete");
    if (!this.#offsets.has(group)) {
      throw new EdgelogError("NOT_FOUND", `Group '${group}' does not exist`);
    }
    await this.#offsets.deleteGroup(group);
  }

  /** Evicts members past their session timeout; their partitions move. */
  expireMembers(): void {
    const now = this.#clock.now();
    for (const [name, members] of this.#groups) {
      if (members.expire(now) === 0) continue;
      if (members.size === 0) this.#groups.delete(name);
      // A failed write is retried by the group's next change; until then a
      // restart brings the expired members back for one more session.
      this.#save(name).catch(() => {});
    }
  }

  #save(group: string): Promise<void> {
    return this.#memberships.save(group, this.#groups.get(group)?.snapshot());
  }

  #heartbeat(
    group: string,
    request: HeartbeatRequest,
    caller: GroupCaller | undefined,
  ): HeartbeatResponse {
    validateGroup(group);
    const { memberId, memberEpoch } = request;
    const topics = validateTopics(request.topics);
    const sessionTimeoutMs = request.sessionTimeoutMs ??
      this.#sessionTimeoutMs;
    if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs <= 0) {
      throw badRequest(
        `sessionTimeoutMs must be a positive integer, got ${sessionTimeoutMs}`,
      );
    }
    if (
      memberEpoch !== undefined &&
      (!Number.isSafeInteger(memberEpoch) || memberEpoch < -1)
    ) {
      throw badRequest(
        `memberEpoch must be an integer >= -1, got ${memberEpoch}`,
      );
    }
    this.expireMembers();
    const heartbeat = { topics, sessionTimeoutMs, now: this.#clock.now() };
    if (memberId === undefined) {
      if (memberEpoch !== undefined && memberEpoch !== 0) {
        throw badRequest(
          `Cannot join with memberEpoch ${memberEpoch}: a join carries no memberId and epoch 0`,
        );
      }
      const members = this.#groups.get(group) ?? new ConsumerGroup(
        this.#partitionCount,
      );
      if (members.size >= this.#maxGroupMembers) {
        throw limitError(
          "maxGroupMembers",
          `Group '${group}' already has ${members.size} of ${this.#maxGroupMembers} members`,
        );
      }
      this.#groups.set(group, members);
      const id = newMemberId(
        this.#random,
        (candidate) => members.has(candidate),
      );
      return this.#respond(id, members.join(id, heartbeat, caller?.id));
    }
    validateMemberId(memberId);
    const members = this.#groups.get(group);
    if (members === undefined || !members.has(memberId)) {
      throw new EdgelogError(
        "UNKNOWN_MEMBER",
        `Member ${memberId} is not in group '${group}'; join again without a memberId`,
      );
    }
    checkCaller(members, memberId, caller);
    if (memberEpoch === -1) {
      members.leave(memberId);
      if (members.size === 0) this.#groups.delete(group);
      return this.#respond(memberId, { memberEpoch: -1, assignment: [] });
    }
    if (memberEpoch === undefined) {
      throw badRequest(`memberEpoch is required with memberId ${memberId}`);
    }
    return this.#respond(
      memberId,
      members.heartbeat(memberId, memberEpoch, heartbeat),
    );
  }

  #requireEmpty(group: string, action: string): void {
    this.expireMembers();
    const members = this.#groups.get(group)?.size ?? 0;
    if (members > 0) {
      throw new EdgelogError(
        "GROUP_NOT_EMPTY",
        `Cannot ${action} group '${group}': it has ${members} active member${
          members === 1 ? "" : "s"
        }; stop its consumers first`,
        { members },
      );
    }
  }

  #respond(
    memberId: string,
    answer: Omit<HeartbeatResponse, "memberId" | "heartbeatIntervalMs">,
  ): HeartbeatResponse {
    return {
      memberId,
      memberEpoch: answer.memberEpoch,
      heartbeatIntervalMs: this.#heartbeatIntervalMs,
      assignment: answer.assignment,
    };
  }

  #checkPartition(topic: string, partition: number): void {
    const count = this.#partitionCount(topic);
    if (count === undefined) {
      throw new EdgelogError(
        "TOPIC_NOT_FOUND",
        `Topic '${topic}' does not exist`,
      );
    }
    if (partition >= count) {
      throw new EdgelogError(
        "PARTITION_NOT_FOUND",
        `Partition ${partition} of '${topic}' does not exist: it has ${count}`,
      );
    }
  }
}

/** FORBIDDEN unless `caller` joined `memberId` or is an admin. */
function checkCaller(
  members: ConsumerGroup,
  memberId: string,
  caller: GroupCaller | undefined,
): void {
  if (caller === undefined || caller.admin) return;
  if (members.principalOf(memberId) !== caller.id) {
    throw new EdgelogError(
      "FORBIDDEN",
      `Member ${memberId} was joined with another token; only that token or an admin may act for it`,
    );
  }
}

function badRequest(message: string): EdgelogError {
  return new EdgelogError("BAD_REQUEST", message);
}

function validateGroup(group: unknown): void {
  if (typeof group !== "string" || group.length === 0 || group.length > 255) {
    throw badRequest("A group name must be 1 to 255 characters");
  }
}

function validateMemberId(memberId: unknown): void {
  if (typeof memberId !== "string" || memberId.length === 0) {
    throw badRequest("memberId must be a non-empty string");
  }
}

/** Deduplicated and sorted, so that the order of a subscription is moot. */
function validateTopics(topics: unknown): string[] {
  if (
    !Array.isArray(topics) ||
    !topics.every((t) => typeof t === "string" && t.length > 0)
  ) {
    throw badRequest("topics must be an array of topic names");
  }
  return [...new Set(topics as string[])].sort();
}

function validateOffset(entry: unknown): void {
  if (typeof entry !== "object" || entry === null) {
    throw badRequest("Each offset must be {topic, partition, offset}");
  }
  const { topic, partition, offset } = entry as Record<string, unknown>;
  if (typeof topic !== "string" || topic.length === 0) {
    throw badRequest("An offset's topic must be a non-empty string");
  }
  if (!Number.isSafeInteger(partition) || (partition as number) < 0) {
    throw badRequest(`Partition must be an integer >= 0, got ${partition}`);
  }
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw badRequest(`Offset must be an integer >= 0, got ${offset}`);
  }
}
