/**
 * A group consumer over the HTTP API: it heartbeats to keep its membership,
 * reads the partitions the broker assigns it with long polls, and commits
 * how far it got. Assignment is the broker's (KIP-848 style); the consumer
 * only follows it.
 *
 * Delivery is at least once: a record counts as consumed once it has been
 * handed out, and commits cover only records whose handling is over (the
 * consumer asked for the next one, `commit()` was called, or the consumer
 * was closed). A crash or an expired session replays from the last commit.
 * A revoked partition is given up once the record in hand is handled
 * (waiting at most one heartbeat interval for it), so a handover repeats
 * nothing unless handling one record takes longer than that.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import type { EdgelogClient } from "./client.ts";
import { isRetriable } from "./errors.ts";
import type { FetchedRecord } from "./json_records.ts";
import { DEFAULT_RETRY } from "./retry.ts";
import type {
  FetchResult,
  HeartbeatRequest,
  OffsetSpec,
  TopicPartitionOffset,
  TopicPartitions,
} from "./types.ts";

/** A record and the topic it came from. */
export interface ConsumerRecord extends FetchedRecord {
  topic: string;
}

/** Partitions that moved in a rebalance. */
export interface RebalanceEvent {
  assigned: TopicPartitions[];
  revoked: TopicPartitions[];
}

/** How a consumer joins its group and reads. */
export interface EdgelogConsumerOptions {
  group: string;
  topics: string[];
  /** Commit positions every `autoCommitIntervalMs`, when giving up a partition and on close; default true. */
  autoCommit?: boolean;
  /** Default 5000 ms. */
  autoCommitIntervalMs?: number;
  /** Sent on every heartbeat; the broker's default when absent. */
  sessionTimeoutMs?: number;
  /** Long-poll wait of each fetch; default 500 ms. */
  maxWaitMs?: number;
  maxRecords?: number;
  maxBytes?: number;
  /** Where a partition without a committed offset starts: earliest when true, else latest (default). */
  fromBeginning?: boolean;
  /** Called after each assignment change, once revoked partitions were committed. */
  onRebalance?: (event: RebalanceEvent) => void;
}

/** How one pass of {@linkcode EdgelogConsumer.records} ends. */
export interface RecordsOptions {
  /** Finish once every assigned partition was read up to its high watermark, instead of waiting for more. */
  untilCaughtUp?: boolean;
}

interface PartitionState {
  topic: string;
  partition: number;
  key: string;
  /** The next offset to read; undefined until the committed offset was looked up. */
  position: OffsetSpec | undefined;
  committed: number | undefined;
  caughtUp: boolean;
  revoked: boolean;
  controller: AbortController;
  inflight: Promise<FetchOutcome> | undefined;
}

type FetchOutcome =
  | { state: PartitionState; result: FetchResult }
  | { state: PartitionState; error: unknown };

const MEMBERSHIP_LOST = new Set([
  "UNKNOWN_MEMBER",
  "FENCED",
  "STALE_MEMBER_EPOCH",
]);

function isMembershipLost(error: unknown): boolean {
  return error instanceof EdgelogError && MEMBERSHIP_LOST.has(error.code);
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function group(states: readonly PartitionState[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const state of states) {
    const partitions = byTopic.get(state.topic) ?? [];
    partitions.push(state.partition);
    byTopic.set(state.topic, partitions);
  }
  return [...byTopic].map(([topic, partitions]) => ({
    topic,
    partitions: partitions.sort((a, b) => a - b),
  }));
}

/**
 * A member of a consumer group. Iterate it (or call `run`) to receive
 * records; always `close()` it, which commits and leaves the group so its
 * partitions move at once instead of after the session timeout.
 *
 * @example Usage
 * ```ts ignore
 * import { EdgelogClient } from "./client.ts";
 * const client = new EdgelogClient("http://127.0.0.1:9092");
 * const consumer = client.consumer({ group: "billing", topics: ["orders"] });
 * for await (const record of consumer) {
 *   console.log(record.topic, record.partition, record.offset, record.value);
 * }
 * ```
 */
export class EdgelogConsumer implements AsyncIterable<ConsumerRecord> {
  #client: EdgelogClient;
  #clock: Clock;
  #options: EdgelogConsumerOptions;
  #memberId: string | undefined;
  #memberEpoch = 0;
  #heartbeatIntervalMs = 3000;
  #partitions = new Map<string, PartitionState>();
  #joined: Promise<void> | undefined;
  #heartbeats: Promise<void> | undefined;
  #stop = new AbortController();
  #closing: Promise<void> | undefined;
  #iterating = false;
  #inHand: { state: PartitionState; offset: number } | undefined;
  #released: PromiseWithResolvers<void> | undefined;
  #nextAutoCommit = 0;
  #wake = Promise.withResolvers<"wake">();

  constructor(client: EdgelogClient, options: EdgelogConsumerOptions) {
    if (options.topics.length === 0) {
      throw new RangeError("A consumer needs at least one topic");
    }
    this.#client = client;
    this.#clock = client.clock;
    this.#options = options;
  }

  /** The id the broker gave this member; undefined before it joined. */
  get memberId(): string | undefined {
    return this.#memberId;
  }

  /** The member epoch of the last heartbeat. */
  get memberEpoch(): number {
    return this.#memberEpoch;
  }

  /** The partitions this member owns now. */
  assignment(): TopicPartitions[] {
    return group([...this.#partitions.values()]);
  }

  /** Joins the group (on first use), then starts heartbeating. */
  #join(): Promise<void> {
    this.#joined ??= this.#heartbeat().then(() => {
      this.#heartbeats = this.#heartbeatLoop();
    }, (error) => {
      this.#joined = undefined;
      throw error;
    });
    return this.#joined;
  }

  async #heartbeatLoop(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await this.#clock.sleep(this.#heartbeatIntervalMs, this.#stop.signal);
      } catch {
        return;
      }
      try {
        await this.#heartbeat();
      } catch (error) {
        if (!isMembershipLost(error)) continue;
        // The broker has moved on without us: drop everything uncommitted and rejoin.
        this.#memberId = undefined;
        this.#memberEpoch = 0;
        await this.#heartbeat().catch(() => {});
      }
    }
  }

  async #heartbeat(): Promise<void> {
    const request: HeartbeatRequest = { topics: this.#options.topics };
    if (this.#memberId !== undefined) {
      request.memberId = this.#memberId;
      request.memberEpoch = this.#memberEpoch;
    }
    if (this.#options.sessionTimeoutMs !== undefined) {
      request.sessionTimeoutMs = this.#options.sessionTimeoutMs;
    }
    let response;
    try {
      response = await this.#client.heartbeat(this.#options.group, request);
    } catch (error) {
      if (isMembershipLost(error)) await this.#assign([], { commit: false });
      throw error;
    }
    this.#memberId = response.memberId;
    this.#memberEpoch = response.memberEpoch;
    this.#heartbeatIntervalMs = response.heartbeatIntervalMs;
    if (this.#stop.signal.aborted) return;
    await this.#assign(response.assignment, {
      commit: this.#options.autoCommit !== false,
    });
  }

  /** Follows a new assignment: commits and drops revoked partitions, adds new ones. */
  async #assign(
    assignment: readonly TopicPartitions[],
    options: { commit: boolean },
  ): Promise<void> {
    const wanted = new Set<string>();
    const assigned: PartitionState[] = [];
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const key = keyOf(topic, partition);
        wanted.add(key);
        if (this.#partitions.has(key)) continue;
        assigned.push({
          topic,
          partition,
          key,
          position: undefined,
          committed: undefined,
          caughtUp: false,
          revoked: false,
          controller: new AbortController(),
          inflight: undefined,
        });
      }
    }
    const revoked = [...this.#partitions.values()].filter((s) =>
      !wanted.has(s.key)
    );
    for (const state of revoked) {
      state.revoked = true;
      state.controller.abort();
      this.#partitions.delete(state.key);
    }
    for (const state of assigned) this.#partitions.set(state.key, state);
    if (revoked.length === 0 && assigned.length === 0) return;
    this.#wake.resolve("wake");
    if (options.commit && revoked.length > 0) {
      await this.#handled(revoked);
      await this.#commitStates(revoked, { includeInHand: false }).catch(
        (error) => {
          if (!isMembershipLost(error)) throw error;
        },
      );
    }
    this.#options.onRebalance?.({
      assigned: group(assigned),
      revoked: group(revoked),
    });
  }

  /**
   * Waits until the record in hand, when it is from one of `states`, is
   * handled, so the commit that precedes the handover covers it; at most
   * one heartbeat interval, so the membership stays alive.
   */
  async #handled(states: readonly PartitionState[]): Promise<void> {
    const inHand = this.#inHand;
    if (inHand === undefined || !states.includes(inHand.state)) return;
    this.#released ??= Promise.withResolvers();
    const timeout = new AbortController();
    const signal = AbortSignal.any([timeout.signal, this.#stop.signal]);
    await Promise.race([
      this.#released.promise,
      this.#clock.sleep(this.#heartbeatIntervalMs, signal).catch(() => {}),
    ]);
    timeout.abort();
  }

  /** The record handed out last is handled: the user asked for the next one or stopped. */
  #release(): void {
    this.#inHand = undefined;
    this.#released?.resolve();
    this.#released = undefined;
  }

  /** The offset to commit for a partition: a record still being handled by the background is not yet consumed. */
  #commitOffset(
    state: PartitionState,
    includeInHand: boolean,
  ): number | undefined {
    if (!includeInHand && this.#inHand?.state === state) {
      return this.#inHand.offset;
    }
    return typeof state.position === "number" ? state.position : undefined;
  }

  async #commitStates(
    states: readonly PartitionState[],
    options: { includeInHand: boolean },
  ): Promise<void> {
    if (this.#memberId === undefined) return;
    const offsets: TopicPartitionOffset[] = [];
    const committing: [PartitionState, number][] = [];
    for (const state of states) {
      const offset = this.#commitOffset(state, options.includeInHand);
      if (offset === undefined || offset === state.committed) continue;
      offsets.push({ topic: state.topic, partition: state.partition, offset });
      committing.push([state, offset]);
    }
    if (offsets.length === 0) return;
    await this.#client.commitOffsets(this.#options.group, {
      memberId: this.#memberId,
      memberEpoch: this.#memberEpoch,
      offsets,
    });
    for (const [state, offset] of committing) state.committed = offset;
  }

  /**
   * Commits the position of every owned partition: each record handed out
   * so far, the one being handled included. STALE_MEMBER_EPOCH or
   * UNKNOWN_MEMBER when the broker has moved the partitions on.
   */
  async commit(): Promise<void> {
    await this.#commitStates([...this.#partitions.values()], {
      includeInHand: true,
    });
  }

  async #startingOffset(state: PartitionState): Promise<OffsetSpec> {
    const committed = await this.#client.committedOffsets(
      this.#options.group,
      state.topic,
    );
    const entry = committed.find((c) => c.partition === state.partition);
    if (entry !== undefined && entry.offset >= 0) {
      state.committed = entry.offset;
      return entry.offset;
    }
    return this.#options.fromBeginning ? "earliest" : "latest";
  }

  async #fetchPartition(
    state: PartitionState,
    maxWaitMs: number,
  ): Promise<FetchOutcome> {
    try {
      state.position ??= await this.#startingOffset(state);
      const result = await this.#client.fetch(state.topic, state.partition, {
        offset: state.position,
        maxWaitMs,
        ...(this.#options.maxRecords === undefined
          ? {}
          : { maxRecords: this.#options.maxRecords }),
        ...(this.#options.maxBytes === undefined
          ? {}
          : { maxBytes: this.#options.maxBytes }),
        signal: state.controller.signal,
      });
      return { state, result };
    } catch (error) {
      return { state, error };
    }
  }

  async #recover(
    state: PartitionState,
    error: unknown,
    failures: number,
  ): Promise<void> {
    if (error instanceof EdgelogError && error.code === "OFFSET_OUT_OF_RANGE") {
      // Retention moved the log start past us, or the log was cut back: go to the nearest end.
      const { logStartOffset, highWatermark } = error.extra;
      const below = typeof logStartOffset === "number" &&
        typeof state.position === "number" &&
        state.position < logStartOffset;
      state.position = below
        ? logStartOffset
        : typeof highWatermark === "number"
        ? highWatermark
        : "latest";
      return;
    }
    if (!isRetriable(error)) throw error;
    // The client has retried with jitter already; this only keeps a failing partition from spinning.
    const delay = Math.min(
      DEFAULT_RETRY.maxMs,
      DEFAULT_RETRY.baseMs * 2 ** Math.min(failures, 16),
    );
    await this.#clock.sleep(delay, this.#stop.signal).catch(() => {});
  }

  async #maybeAutoCommit(): Promise<void> {
    if (
      this.#options.autoCommit === false ||
      this.#clock.now() < this.#nextAutoCommit
    ) return;
    this.#nextAutoCommit = this.#clock.now() +
      (this.#options.autoCommitIntervalMs ?? 5000);
    await this.#commitStates([...this.#partitions.values()], {
      includeInHand: true,
    }).catch((error) => {
      // A broker that is restarting gets the same positions next interval.
      if (!isMembershipLost(error) && !isRetriable(error)) throw error;
    });
  }

  /**
   * The records of the assigned partitions, in offset order per partition,
   * until `close()` (or, with `untilCaughtUp`, until the end of every
   * partition). Only one iteration may run at a time.
   */
  async *records(options: RecordsOptions = {}): AsyncGenerator<ConsumerRecord> {
    if (this.#iterating) {
      throw new Error("Cannot iterate a consumer twice at once");
    }
    this.#iterating = true;
    const maxWaitMs = options.untilCaughtUp
      ? 0
      : this.#options.maxWaitMs ?? 500;
    let failures = 0;
    for (const state of this.#partitions.values()) state.caughtUp = false;
    try {
      await this.#join();
      while (!this.#stop.signal.aborted) {
        const states = [...this.#partitions.values()];
        if (options.untilCaughtUp && states.every((s) => s.caughtUp)) return;
        const pending: Promise<FetchOutcome>[] = [];
        for (const state of states) {
          if (options.untilCaughtUp && state.caughtUp) continue;
          state.inflight ??= this.#fetchPartition(state, maxWaitMs);
          pending.push(state.inflight);
        }
        const outcome = await Promise.race([this.#wake.promise, ...pending]);
        if (outcome === "wake") {
          this.#wake = Promise.withResolvers();
          continue;
        }
        const { state } = outcome;
        state.inflight = undefined;
        if (state.revoked || this.#stop.signal.aborted) continue;
        if ("error" in outcome) {
          await this.#recover(state, outcome.error, failures++);
          continue;
        }
        failures = 0;
        const { records, nextOffset, highWatermark } = outcome.result;
        let complete = true;
        for (const record of records) {
          if (state.revoked || this.#stop.signal.aborted) {
            complete = false;
            break;
          }
          if (
            typeof state.position === "number" && record.offset < state.position
          ) continue;
          state.position = record.offset + 1;
          this.#inHand = { state, offset: record.offset };
          yield { ...record, topic: state.topic };
          this.#release();
        }
        if (complete && !state.revoked) {
          if (
            typeof state.position !== "number" || state.position < nextOffset
          ) state.position = nextOffset;
          state.caughtUp = state.position >= highWatermark;
        }
        await this.#maybeAutoCommit();
      }
    } finally {
      this.#release();
      this.#iterating = false;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord> {
    return this.records();
  }

  /**
   * Calls `handler` for each record, one at a time, until `close()`. When
   * the handler throws, that record is not counted as consumed and the
   * error is rethrown.
   */
  async run(
    handler: (record: ConsumerRecord) => void | Promise<void>,
    options: RecordsOptions = {},
  ): Promise<void> {
    for await (const record of this.records(options)) {
      const inHand = this.#inHand;
      try {
        await handler(record);
      } catch (error) {
        if (
          inHand !== undefined && inHand.state.position === inHand.offset + 1
        ) {
          inHand.state.position = inHand.offset;
        }
        throw error;
      }
    }
  }

  /**
   * Stops reading, commits (with autoCommit) and leaves the group with
   * memberEpoch -1. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      for (const state of this.#partitions.values()) state.controller.abort();
      this.#wake.resolve("wake");
      await this.#joined?.catch(() => {});
      await this.#heartbeats;
      if (this.#memberId === undefined) return;
      try {
        if (this.#options.autoCommit !== false) await this.commit();
      } finally {
        await this.#client.heartbeat(this.#options.group, {
          memberId: this.#memberId,
          memberEpoch: -1,
          topics: this.#options.topics,
        }).catch(() => {});
        this.#memberId = undefined;
        this.#partitions.clear();
      }
    })();
    return this.#closing;
  }
}
