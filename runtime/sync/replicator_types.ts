/**
 * The replicator's ports (the local log and the upstream it uses), its
 * options, and the status and events it reports.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { MetaStore } from "../log/storage.ts";
import type {
  PushResult,
  Registration,
  StreamPushOutcome,
} from "./stream_registry.ts";

/** The parts of a local partition the replicator reads (a PartitionLog). */
export interface ReplicatorPartition {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readBatches(offset: number, maxBytes: number): Promise<Uint8Array[]>;
}

/** An acknowledged local append, as the Log reports it (offsets inclusive). */
export interface ReplicatorAppend {
  topic: string;
  partition: number;
  baseOffset: number;
  lastOffset: number;
  bytes: number;
}

/** The parts of the local log the replicator uses (a Log). */
export interface ReplicatorLog {
  readonly meta: MetaStore;
  listTopics(): { name: string; partitions: number }[];
  partition(topic: string, partition: number): ReplicatorPartition;
  onAppend(listener: (event: ReplicatorAppend) => void): () => void;
}

/** The upstream calls the replicator makes (an EdgelogClient). */
export interface SyncUpstream {
  registerStream(
    nodeId: string,
    topic: string,
    sourcePartition: number,
  ): Promise<Registration>;
  pushBatches(
    producerId: number,
    bytes: Uint8Array,
    /**
     * `sourceHighWatermark`: the local high watermark, so the upstream can
     * tell how far behind the stream is.
     */
    options?: { dropped?: number; sourceHighWatermark?: number },
  ): Promise<PushResult>;
  /**
   * The multi-stream push (POST /v1/sync/batches); when present, a
   * replicator of several streams gathers their pushes into it.
   */
  pushStreams?(bytes: Uint8Array): Promise<StreamPushOutcome[]>;
}

/** Options of {@linkcode Replicator}. */
export interface ReplicatorOptions {
  log: ReplicatorLog;
  client: SyncUpstream;
  nodeId: string;
  /** Topics to sync; default every local topic, including ones created later. */
  topics?: readonly string[];
  /** Where acked offsets are kept; default the log's meta. */
  meta?: MetaStore;
  clock?: Clock;
  random?: () => number;
  /**
   * Requests in flight per stream; default 3. A sliding window: the next
   * request goes out as soon as one is answered, not once a round is.
   */
  maxInFlight?: number;
  /** Bytes of batches per request (at least one batch); default 1 MiB. */
  maxBatchBytes?: number;
  /**
   * How batches the local log holds uncompressed travel (compressed ones
   * always go as they are). "none" (default) sends them as stored; "gzip"
   * re-encodes each with gzip, keeping offsets, records and producer fields,
   * whenever that makes it smaller; "auto" does so only if gzip saved at
   * least 10 % on the stream's first 256 KiB.
   * The upstream stores what it receives, so its copy is then gzip (readers
   * decode it transparently). On loopback (bench/sync_bench.ts, highly
   * compressible values) gzip roughly doubles the device's CPU and cuts the
   * broker's by two thirds for no throughput gain, so it is off by default;
   * on slow or metered links, where bytes cost more than CPU, it wins.
   */
  compression?: "none" | "gzip" | "auto";
  /**
   * Whether pushes of several streams may share a request (the upstream's
   * multi-stream push, when the client has it); default true. See
   * push_batcher.ts: a lone push still goes at once by its own route.
   */
  multiStreamPush?: boolean;
  /** Backoff of retries after network and server errors. */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * Least time between two writes of a stream's acked offset to meta;
   * default 1000 ms. See {@linkcode Replicator} on why a stale one is safe.
   */
  progressIntervalMs?: number;
}

/** PROTOCOL.md's per-stream entry of GET /v1/sync/status. */
export interface StreamStatus {
  topic: string;
  sourcePartition: number;
  ackedOffset: number;
  highWatermark: number;
  lagRecords: number;
  lastSuccessMs: number | null;
  lastError: string | null;
  /**
   * The code of `lastError`: the upstream's error code (TOPIC_NOT_FOUND when
   * the upstream lacks the topic), UNREACHABLE when it did not answer.
   */
  lastErrorCode: string | null;
  /** When `lastError` happened; null with it. */
  lastErrorMs: number | null;
  droppedRecords: number;
  /** Stopped for good because a newer replicator took the stream over. */
  fenced: boolean;
  /**
   * Bytes of the local batches after `ackedOffset` (as stored, before any
   * sync compression); null while they are being measured. See
   * {@linkcode Replicator.measureLag}.
   */
  lagBytes: number | null;
}

/** PROTOCOL.md's GET /v1/sync/status body, less `upstream`. */
export interface ReplicatorStatus {
  online: boolean;
  streams: StreamStatus[];
}

/** Events of a replicator. */
export interface ReplicatorEvents {
  ack: { topic: string; sourcePartition: number; ackedOffset: number };
  error: { topic: string; sourcePartition: number; error: unknown };
  fenced: { topic: string; sourcePartition: number };
  dropped: { topic: string; sourcePartition: number; records: number };
}
