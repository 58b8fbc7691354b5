/**
 * The shapes of the HTTP API's requests and answers (PROTOCOL.md), as the
 * client gives and returns them. Shapes the server's own modules already
 * declare are re-exported from there, so the two ends share one definition.
 *
 * @module
 */

import type { OffsetToCommit } from "../groups/types.ts";
import type { PartitionInfo, TopicInfo } from "../log/types.ts";
import type { StreamStatus } from "../sync/replicator.ts";
import type { Registration, StreamInfo } from "../sync/stream_registry.ts";
import type { FetchedRecord } from "./json_records.ts";

export type {
  CommitRequest,
  CommittedOffset,
  GroupDescription,
  GroupMemberDescription,
  GroupSummary,
  HeartbeatRequest,
  HeartbeatResponse,
  TopicPartitions,
} from "../groups/types.ts";
export type { PartitionInfo, RecordPosition, TopicInfo } from "../log/types.ts";
export type { PushResult } from "../sync/stream_registry.ts";

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
  segmentBytes?: number;
  segmentMs?: number;
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

/** The client's name for one partition's offset in a commit. */
export type TopicPartitionOffset = OffsetToCommit;

/** `POST /v1/sync/streams` answer. */
export type StreamRegistration = Registration;

/**
 * A row of `GET /v1/sync/streams`. The registry's row also carries
 * `producerEpoch`, which PROTOCOL.md does not promise, so it is left out.
 */
export type SyncStreamInfo = Omit<StreamInfo, "producerEpoch">;

/** A page of `GET /v1/sync/streams`; `next` is the `after` of the next one. */
export interface SyncStreamPage {
  streams: SyncStreamInfo[];
  next?: number;
}

/** The filters and cursor of `GET /v1/sync/streams`. */
export interface SyncStreamQuery {
  nodeId?: string | undefined;
  topic?: string | undefined;
  minLag?: number | undefined;
  silentSinceMs?: number | undefined;
  after?: number | undefined;
  limit?: number | undefined;
}

export type { StreamPushOutcome } from "../sync/stream_registry.ts";

/**
 * One synced partition in `GET /v1/sync/status`. The replicator's status
 * also has `fenced` and `lagBytes`, which PROTOCOL.md does not promise, so
 * they are left out.
 */
export type SyncPartitionStatus =
  & Omit<StreamStatus, "fenced" | "lagBytes" | "lastErrorCode">
  & {
    /** The code of `lastError` (TOPIC_NOT_FOUND, UNREACHABLE, …); newer gateways. */
    lastErrorCode?: string | null;
  };

/** `GET /v1/sync/status` on a gateway. */
export interface SyncStatus {
  upstream: string;
  online: boolean;
  streams: SyncPartitionStatus[];
}

/** `POST /v1/groups/{group}/offsets/reset` body. */
export interface ResetOffsetsRequest {
  to: "earliest" | "latest" | "timestamp" | "offset";
  /** Only this topic; default every topic the group committed. */
  topic?: string;
  /** Only this partition (needs `topic`). */
  partition?: number;
  /** With `to: "timestamp"`. */
  timestamp?: number;
  /** With `to: "offset"`; clamped to the partition's range. */
  offset?: number;
}

/** `GET /v1/broker`. */
export interface BrokerInfo {
  role: "broker" | "gateway";
  version: string;
  startedMs: number;
  uptimeMs: number;
  fsync: string;
  auth: boolean;
  storage: { usedBytes: number; freeBytes: number | null };
  counts: {
    topics: number;
    partitions: number;
    records: number;
    groups: number;
  };
  sync: {
    streams: number;
    devices: number;
    silentDevices: number;
    laggingDevices: number;
    silentAfterMs: number;
  } | null;
}

/** `GET /v1/broker/rates`. */
export interface BrokerRates {
  windowSeconds: number;
  averagedSeconds: number;
  topics: { topic: string; inPerSec: number; outPerSec: number }[];
  series: { t: number[]; in: number[]; out: number[] };
}

/** A row of `GET /v1/broker/topics`. */
export interface TopicSummary extends TopicInfo {
  records: number;
  sizeBytes: number;
  inPerSec: number;
  outPerSec: number;
}
