/**
 * The shapes of the HTTP API's requests and answers (PROTOCOL.md), as the
 * client gives and returns them.
 *
 * @module
 */

import type { PartitionInfo, RecordPosition, TopicInfo } from "../log/types.ts";
import type { FetchedRecord } from "./json_records.ts";

export type { PartitionInfo, RecordPosition, TopicInfo };

/** `GET /v1/topics/{topic}`: a topic with its partitions' offsets. */
export interface TopicDescription extends Omit<TopicInfo, "partitions"> {
  partitions: PartitionInfo[];
}

/** `POST /v1/topics` settings besides the name. */
export interface CreateTopicOptions {
  partitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  cleanupPolicy?: "delete" | "compact";
}

/** Where a fetch starts: an offset, or the log's start or end. */
export type OffsetSpec = number | "earliest" | "latest";

/** How much to fetch and how long to wait for it. */
export interface FetchOptions {
  offset: OffsetSpec;
  maxRecords?: number;
  maxBytes?: number;
  /** Long poll: how long the server may wait for records; default 0. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

/** A page of fetched records. */
export interface FetchResult {
  records: FetchedRecord[];
  /** The offset to fetch next. */
  nextOffset: number;
  highWatermark: number;
}

/** Offsets the broker gave a binary produce. */
export interface BatchesAppended {
  partition: number;
  baseOffset: number;
  lastOffset: number;
}

/** Where and how a record stream reads. */
export interface StreamOptions {
  /** Where a fresh stream starts; default "latest". */
  from?: "earliest" | "latest";
  /** Resume after the event with this id (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Ends the stream; the iteration then finishes without an error. */
  signal?: AbortSignal;
  /** Reconnect (with backoff, resuming after the last event) when the connection drops; default true. */
  reconnect?: boolean;
}

/** One record of a stream with its resume token. */
export interface StreamEvent {
  id: string | undefined;
  record: FetchedRecord;
}

/** `POST /v1/groups/{group}/heartbeat` body. */
export interface HeartbeatRequest {
  /** Absent on the first heartbeat. */
  memberId?: string;
  /** -1 leaves the group. */
  memberEpoch?: number;
  topics: string[];
  sessionTimeoutMs?: number;
}

/** Partitions of one topic. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** The broker's answer to a heartbeat: identity, epoch and assignment. */
export interface HeartbeatResponse {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartitions[];
}

/** One partition's offset. */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** `POST /v1/groups/{group}/offsets` body. */
export interface CommitRequest {
  memberId: string;
  memberEpoch: number;
  offsets: TopicPartitionOffset[];
}

/** A committed offset (the next offset to read) and the lag behind it. */
export interface CommittedOffset extends TopicPartitionOffset {
  highWatermark: number;
  lag: number;
}

/** A row of `GET /v1/groups`. */
export interface GroupSummary {
  group: string;
  members: number;
  state: string;
}

/** A member as `GET /v1/groups/{group}` describes it. */
export interface GroupMemberDescription {
  memberId: string;
  memberEpoch?: number;
  assignment?: TopicPartitions[];
  [field: string]: unknown;
}

/** `GET /v1/groups/{group}`: members, their assignments and lag; other fields are the server's choice. */
export interface GroupDescription {
  group?: string;
  state?: string;
  members?: GroupMemberDescription[];
  [field: string]: unknown;
}

/** `POST /v1/sync/streams` answer. */
export interface StreamRegistration {
  producerId: number;
  producerEpoch: number;
  partition: number;
  /** The last local offset the upstream holds; -1 for none. */
  ackedOffset: number;
}

/** `POST /v1/sync/streams/{producerId}/batches` answer. */
export interface PushResult {
  ackedOffset: number;
  partition: number;
  lastOffset: number;
}

/** A row of `GET /v1/sync/streams`. */
export interface SyncStreamInfo {
  nodeId: string;
  topic: string;
  sourcePartition: number;
  producerId: number;
  partition: number;
  ackedOffset: number;
  lastSeenMs: number;
  droppedRecords: number;
}

/** One synced partition in `GET /v1/sync/status`. */
export interface SyncPartitionStatus {
  topic: string;
  sourcePartition: number;
  ackedOffset: number;
  highWatermark: number;
  lagRecords: number;
  lastSuccessMs: number | null;
  lastError: string | null;
  droppedRecords: number;
}

/** `GET /v1/sync/status` on a gateway. */
export interface SyncStatus {
  upstream: string;
  online: boolean;
  streams: SyncPartitionStatus[];
}
