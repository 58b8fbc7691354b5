/**
 * The broker side of replication: the registry of device streams, each a
 * (nodeId, topic, sourcePartition) with a stable producerId, an epoch that
 * fences older replicators, and the last local offset the broker holds.
 *
 * Producer state lives in the central log itself: appended batches keep the
 * producerId and baseSequence the device gave them (only baseOffset is
 * rewritten). The meta snapshot is a shortcut, never the truth: on open the
 * registry replays the log after each stream's snapshot, so a crash between
 * an append and its snapshot or its ack can never cause a duplicate.
 * Streams are persisted in chunks (see stream_chunks.ts), so the meta area
 * holds a few hundred keys for a fleet of 100 000 devices.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import {
  lastOffset as batchLastOffset,
  readBatchHeader,
  splitBatches,
} from "../format/batch_header.ts";
import { partitionForKey } from "../format/partitioner.ts";
import type { MetaStore } from "../log/storage.ts";
import type { AppendResult, TopicConfig, TopicInfo } from "../log/types.ts";
import { noteDropped, planPush, replayStoredBatch } from "./producer_state.ts";
import { sequenceForOffset } from "./sequence.ts";
import {
  CHUNK_PREFIX,
  CHUNK_SIZE,
  chunkKey,
  chunkOf,
  ChunkWriter,
  decodeChunk,
  encodeChunk,
  type StreamRow,
} from "./stream_chunks.ts";

/** The parts of a central partition the registry uses (a PartitionLog). */
export interface RegistryPartition {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  appendBatches(batches: readonly Uint8Array[]): Promise<AppendResult>;
  readBatches(offset: number, maxBytes: number): Promise<Uint8Array[]>;
}

/** The parts of the central log the registry uses (a Log). */
export interface RegistryLog {
  readonly meta: MetaStore;
  hasTopic(name: string): boolean;
  topicConfig(name: string): TopicConfig;
  createTopic(name: string, config?: Partial<TopicConfig>): Promise<TopicInfo>;
  partition(topic: string, partition: number): RegistryPartition;
}

/** Where the registry counts for /metrics (the server's Metrics). */
export interface MetricsSink {
  inc(
    name: string,
    help: string,
    labels?: Record<string, string>,
    by?: number,
  ): void;
}

/** Options of {@linkcode StreamRegistry.open}. */
export interface StreamRegistryOptions {
  /** Counters for /metrics; see also {@linkcode StreamRegistry.useMetrics}. */
  metrics?: MetricsSink;
  clock?: Clock;
  /** Create a stream's topic when absent instead of TOPIC_NOT_FOUND. */
  autoCreateTopics?: boolean;
  /**
   * Least time between two periodic snapshots of one chunk of streams (see
   * stream_chunks.ts); default 5000 ms. It bounds the log a restart after a
   * crash replays; registrations and flush write at once.
   */
  snapshotIntervalMs?: number;
  /**
   * Largest gap one push may declare dropped (Edgelog-Dropped); default
   * and ceiling 2^31 - 1, see producer_state.ts.
   */
  maxDeclaredDropped?: number;
}

/** PROTOCOL.md's answer to a registration. */
export interface Registration {
  producerId: number;
  producerEpoch: number;
  partition: number;
  ackedOffset: number;
}

/** PROTOCOL.md's answer to a push. */
export interface PushResult {
  ackedOffset: number;
  partition: number;
  lastOffset: number;
}

/**
 * One stream's answer in a multi-stream push: its PushResult, or the error
 * body a single-stream push of the same batches would have answered.
 */
export type StreamPushOutcome =
  & { producerId: number }
  & (PushResult | { status: number; error: Record<string, unknown> });

/** Most distinct streams in one multi-stream push. */
export const MAX_STREAMS_PER_PUSH = 1000;

/** PROTOCOL.md's entry of GET /v1/sync/streams. */
export interface StreamInfo {
  nodeId: string;
  topic: string;
  sourcePartition: number;
  producerId: number;
  producerEpoch: number;
  partition: number;
  ackedOffset: number;
  lastSeenMs: number;
  droppedRecords: number;
  /**
   * Records the device holds that the broker does not: its local high
   * watermark as it last said (`Edgelog-Source-High-Watermark`) − 1 −
   * ackedOffset; null when it never said.
   */
  lagRecords: number | null;
}

/** A page of {@linkcode StreamRegistry.page}. */
export interface StreamPage {
  streams: StreamInfo[];
  /** The `after` of the next page; absent on the last page. */
  next?: number;
}

/** Filters and paging of {@linkcode StreamRegistry.page}. */
export interface StreamQuery {
  nodeId?: string | undefined;
  topic?: string | undefined;
  /** Only streams at least this many records behind (lag known). */
  minLag?: number | undefined;
  /** Only streams not seen since this time (lastSeenMs ≤ it). */
  silentSinceMs?: number | undefined;
  /** Only streams with a producerId above this (the cursor). */
  after?: number | undefined;
  /** Most streams in the page. */
  limit: number;
}

/** Counters for /metrics. */
export interface SyncCounters {
  appendedBatches: number;
  appendedRecords: number;
  duplicateBatches: number;
  outOfOrder: number;
  fenced: number;
}

/** What the registry keeps per stream. */
type StreamRecord = StreamRow;

/** Where earlier versions kept one meta key per stream; migrated on open. */
const LEGACY_PREFIX = "sync/streams/";
const SCAN_BYTES = 1 << 20;

/**
 * Where the registry keeps, per central partition, an offset below which
 * every batch of every stream is in the chunks: written by a flush with no
 * operation under way, so a restart after a clean stop replays nothing.
 */
const WATERMARKS_KEY = "sync/watermarks";

/** topic → per partition its watermark. */
type Watermarks = Map<string, number[]>;

function decodeWatermarks(value: unknown): Watermarks {
  const marks: Watermarks = new Map();
  const entries = (value as { topics?: unknown } | undefined)?.topics;
  if (typeof entries !== "object" || entries === null) return marks;
  for (const [topic, offsets] of Object.entries(entries)) {
    if (
      Array.isArray(offsets) &&
      offsets.every((o) => o === null || Number.isSafeInteger(o))
    ) marks.set(topic, offsets.map((o) => o ?? 0));
  }
  return marks;
}

/**
 * Streams and their producer state, over a central log.
 *
 * @example Usage
 * ```ts ignore
 * const registry = await StreamRegistry.open(log);
 * const { producerId } = await registry.register("node-1", "events", 0);
 * await registry.push(producerId, batchesFromTheDevice);
 * ```
 */
export class StreamRegistry {
  #log: RegistryLog;
  #clock: Clock;
  #autoCreate: boolean;
  #snapshotIntervalMs: number;
  #maxDeclaredDropped: number | undefined;
  #metrics: MetricsSink | undefined;
  /**
   * By producerId, which the registry hands out densely from 1: an array
   * costs a fleet of 100 000 streams far less memory and load time than a
   * map.
   */
  #streams: (StreamRecord | undefined)[] = [];
  #held = 0;
  /**
   * topic → sourcePartition → nodeId → producerId: the keys are strings
   * the streams hold anyway, so a fleet's index costs no new strings.
   */
  #byIdentity = new Map<string, Map<number, Map<string, number>>>();
  /** Chunks changed since their last write began. */
  #dirty = new Set<number>();
  #nextProducerId = 1;
  #queues = new Map<number, Promise<unknown>>();
  /** Per chunk, when its last periodic snapshot was taken. */
  #chunkSnapshotMs = new Map<number, number>();
  #chunks: ChunkWriter;
  #counters: SyncCounters = {
    appendedBatches: 0,
    appendedRecords: 0,
    duplicateBatches: 0,
    outOfOrder: 0,
    fenced: 0,
  };

  private constructor(log: RegistryLog, options: StreamRegistryOptions) {
    this.#log = log;
    this.#clock = options.clock ?? systemClock;
    this.#autoCreate = options.autoCreateTopics ?? false;
    this.#snapshotIntervalMs = options.snapshotIntervalMs ?? 5000;
    this.#maxDeclaredDropped = options.maxDeclaredDropped;
    this.#metrics = options.metrics;
    this.#chunks = new ChunkWriter((chunk) => this.#writeChunk(chunk));
  }

  /** Counts into `metrics` from now on (the server's, once it exists). */
  useMetrics(metrics: MetricsSink): void {
    this.#metrics = metrics;
  }

  #count(
    name: string,
    help: string,
    labels: Record<string, string>,
    by = 1,
  ): void {
    if (by > 0) this.#metrics?.inc(name, help, labels, by);
  }

  /** Loads the streams from meta and replays the central log after their snapshots. */
  static async open(
    log: RegistryLog,
    options: StreamRegistryOptions = {},
  ): Promise<StreamRegistry> {
    const registry = new StreamRegistry(log, options);
    await registry.#load();
    return registry;
  }

  async #load(): Promise<void> {
    for (const [key, value] of await this.#log.meta.list(CHUNK_PREFIX)) {
      for (const row of decodeChunk(key, value)) this.#index(row);
    }
    const legacy = await this.#log.meta.list(LEGACY_PREFIX);
    for (const [, value] of legacy) {
      const record = value as StreamRecord;
      // A migration cut short left both: the chunk is at least as new.
      if (this.#streams[record.producerId] !== undefined) continue;
      this.#index({ ...record, sourceHighWatermark: -1 });
    }
    const marks = decodeWatermarks(await this.#log.meta.get(WATERMARKS_KEY));
    /** topic → partition → its streams. */
    const groups = new Map<string, StreamRecord[][]>();
    for (const record of this.#streams) {
      if (record === undefined) continue;
      let topic = groups.get(record.topic);
      if (topic === undefined) groups.set(record.topic, topic = []);
      (topic[record.partition] ??= []).push(record);
    }
    for (const [topic, partitions] of groups) {
      for (const records of partitions) {
        if (records !== undefined) await this.#replay(records, marks);
      }
      marks.delete(topic);
    }
    if (legacy.length > 0) {
      const chunks = new Set(
        legacy.map(([, v]) => chunkOf((v as StreamRecord).producerId)),
      );
      await Promise.all([...chunks].map((c) => this.#chunks.request(c)));
      for (const [key] of legacy) await this.#log.meta.delete(key);
    }
  }

  #index(record: StreamRecord): void {
    if (this.#streams[record.producerId] === undefined) this.#held++;
    this.#streams[record.producerId] = record;
    let bySource = this.#byIdentity.get(record.topic);
    if (bySource === undefined) {
      this.#byIdentity.set(record.topic, bySource = new Map());
    }
    let byNode = bySource.get(record.sourcePartition);
    if (byNode === undefined) {
      bySource.set(record.sourcePartition, byNode = new Map());
    }
    byNode.set(record.nodeId, record.producerId);
    this.#nextProducerId = Math.max(
      this.#nextProducerId,
      record.producerId + 1,
    );
  }

  /** The producerId of a stream, if registered. */
  #lookup(
    nodeId: string,
    topic: string,
    sourcePartition: number,
  ): number | undefined {
    return this.#byIdentity.get(topic)?.get(sourcePartition)?.get(nodeId);
  }

  /** Rebuilds the streams of one central partition from the log after their snapshots. */
  async #replay(
    records: StreamRecord[],
    marks: Watermarks,
  ): Promise<void> {
    const first = records[0];
    if (first === undefined || !this.#log.hasTopic(first.topic)) return;
    if (first.partition >= this.#log.topicConfig(first.topic).partitions) {
      return;
    }
    const partition = this.#log.partition(first.topic, first.partition);
    const mark = marks.get(first.topic)?.[first.partition] ?? 0;
    // A mark beyond the log is from a deleted topic of the same name.
    const floor = mark <= partition.highWatermark ? mark : 0;
    let from = Infinity;
    for (const r of records) {
      r.snapshotOffset = Math.max(r.snapshotOffset, floor);
      from = Math.min(from, r.snapshotOffset);
    }
    let offset = Math.max(partition.logStartOffset, from);
    if (offset >= partition.highWatermark) return;
    const byId = new Map(records.map((r) => [r.producerId, r]));
    while (offset < partition.highWatermark) {
      const batches = await partition.readBatches(offset, SCAN_BYTES);
      if (batches.length === 0) break;
      for (const batch of batches) {
        const header = readBatchHeader(batch);
        const record = byId.get(header.producerId);
        if (
          record !== undefined && header.baseOffset >= record.snapshotOffset
        ) {
          const next = replayStoredBatch(
            record,
            header.baseSequence,
            header.lastOffsetDelta,
          );
          record.ackedOffset = next.ackedOffset;
          record.droppedRecords = next.droppedRecords;
          record.droppedRanges = [...(next.droppedRanges ?? [])];
          record.lastCentralOffset = batchLastOffset(header);
          record.snapshotOffset = batchLastOffset(header) + 1;
        }
        offset = Math.max(offset, batchLastOffset(header) + 1);
      }
    }
  }

  /** Runs `fn` after every earlier operation on the same stream. */
  #serialize<T>(producerId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(producerId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#queues.set(producerId, tail);
    tail.then(() => {
      if (this.#queues.get(producerId) === tail) {
        this.#queues.delete(producerId);
      }
    });
    return run;
  }

  /**
   * Registers a stream, or re-registers it: the same producerId, the epoch
   * bumped by one, which fences every earlier replicator of the stream.
   */
  register(
    nodeId: string,
    topic: string,
    sourcePartition: number,
  ): Promise<Registration> {
    if (
      nodeId === "" || !Number.isInteger(sourcePartition) || sourcePartition < 0
    ) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `Cannot register stream ${nodeId}/${topic}/${sourcePartition}: bad nodeId or partition`,
      );
    }
    const existing = this.#lookup(nodeId, topic, sourcePartition);
    if (existing !== undefined) {
      return this.#serialize(existing, async () => {
        const record = this.#streams[existing]!;
        await this.#ensureTopic(topic);
        record.producerEpoch = record.producerEpoch >= 0x7fff
          ? 0
          : record.producerEpoch + 1;
        record.lastSeenMs = this.#clock.now();
        this.#dirty.add(chunkOf(existing));
        await this.#chunks.request(chunkOf(existing));
        return this.#registration(record);
      });
    }
    return this.#registerNew(nodeId, topic, sourcePartition);
  }

  async #registerNew(
    nodeId: string,
    topic: string,
    sourcePartition: number,
  ): Promise<Registration> {
    await this.#ensureTopic(topic);
    const again = this.#lookup(nodeId, topic, sourcePartition);
    if (again !== undefined) {
      return this.register(nodeId, topic, sourcePartition);
    }
    const partitions = this.#log.topicConfig(topic).partitions;
    const producerId = this.#nextProducerId;
    const record: StreamRecord = {
      nodeId,
      topic,
      sourcePartition,
      producerId,
      producerEpoch: 0,
      partition: partitionForKey(
        new TextEncoder().encode(`${nodeId}/${sourcePartition}`),
        partitions,
      ),
      ackedOffset: -1,
      lastSeenMs: this.#clock.now(),
      droppedRecords: 0,
      lastCentralOffset: -1,
      snapshotOffset: 0,
      sourceHighWatermark: -1,
    };
    this.#index(record);
    await this.#serialize(
      producerId,
      () => this.#chunks.request(chunkOf(producerId)),
    );
    return this.#registration(record);
  }

  async #ensureTopic(topic: string): Promise<void> {
    if (this.#log.hasTopic(topic)) return;
    if (!this.#autoCreate) {
      throw new EdgelogError(
        "TOPIC_NOT_FOUND",
        `Topic '${topic}' does not exist on the upstream`,
      );
    }
    try {
      await this.#log.createTopic(topic);
    } catch (err) {
      if (!(err instanceof EdgelogError && err.code === "TOPIC_EXISTS")) {
        throw err;
      }
    }
  }

  #registration(record: StreamRecord): Registration {
    return {
      producerId: record.producerId,
      producerEpoch: record.producerEpoch,
      partition: record.partition,
      ackedOffset: record.ackedOffset,
    };
  }

  /**
   * Writes `chunk` as its streams are now. A stream with no operation under
   * way holds every one of its batches below the high watermark, so its
   * replay may start there; one in the middle of a push may start only
   * after its last acknowledged batch.
   */
  #writeChunk(chunk: number): Promise<void> {
    this.#dirty.delete(chunk);
    const rows: StreamRecord[] = [];
    const end = (chunk + 1) * CHUNK_SIZE;
    for (let id = chunk * CHUNK_SIZE; id < end; id++) {
      const record = this.#streams[id];
      if (record === undefined) continue;
      record.snapshotOffset = Math.max(
        record.snapshotOffset,
        record.lastCentralOffset + 1,
      );
      if (!this.#queues.has(id) && this.#holds(record)) {
        record.snapshotOffset = Math.max(
          record.snapshotOffset,
          this.#log.partition(record.topic, record.partition).highWatermark,
        );
      }
      rows.push(record);
    }
    return this.#log.meta.set(chunkKey(chunk), encodeChunk(rows));
  }

  /** Whether the central partition of `record` exists. */
  #holds(record: StreamRecord): boolean {
    return this.#log.hasTopic(record.topic) &&
      record.partition < this.#log.topicConfig(record.topic).partitions;
  }

  /** The stream with this producerId; UNKNOWN_STREAM when there is none. */
  stream(producerId: number): StreamInfo {
    const record = this.#streams[producerId];
    if (record === undefined) {
      throw new EdgelogError(
        "UNKNOWN_STREAM",
        `No stream has producerId ${producerId}`,
      );
    }
    return this.#info(record);
  }

  #info(record: StreamRecord): StreamInfo {
    return {
      nodeId: record.nodeId,
      topic: record.topic,
      sourcePartition: record.sourcePartition,
      producerId: record.producerId,
      producerEpoch: record.producerEpoch,
      partition: record.partition,
      ackedOffset: record.ackedOffset,
      lastSeenMs: record.lastSeenMs,
      droppedRecords: record.droppedRecords,
      lagRecords: record.sourceHighWatermark < 0
        ? null
        : Math.max(0, record.sourceHighWatermark - 1 - record.ackedOffset),
    };
  }

  /** How many streams the registry holds. */
  get size(): number {
    return this.#held;
  }

  /** Every stream, or those of one node, by producerId. */
  list(nodeId?: string): StreamInfo[] {
    return this.page({ nodeId, limit: Infinity }).streams;
  }

  /**
   * Up to `limit` streams matching the query, by producerId after `after`,
   * and the cursor of the next page when more may match. It visits the
   * streams after the cursor until the page is full (a scan of 100 000
   * streams is a few milliseconds).
   */
  page(query: StreamQuery): StreamPage {
    const streams: StreamInfo[] = [];
    for (let id = (query.after ?? 0) + 1; id < this.#nextProducerId; id++) {
      const r = this.#streams[id];
      if (
        r === undefined ||
        (query.nodeId !== undefined && r.nodeId !== query.nodeId) ||
        (query.topic !== undefined && r.topic !== query.topic) ||
        (query.silentSinceMs !== undefined &&
          r.lastSeenMs > query.silentSinceMs)
      ) continue;
      const info = this.#info(r);
      if (
        query.minLag !== undefined && (info.lagRecords ?? -1) < query.minLag
      ) {
        continue;
      }
      if (streams.length === query.limit) {
        return { streams, next: streams.at(-1)!.producerId };
      }
      streams.push(info);
    }
    return { streams };
  }

  /** Counters since the registry opened. */
  counters(): Readonly<SyncCounters> {
    return { ...this.#counters };
  }

  /**
   * Appends a device's batches (concatenated, as the device's local log
   * holds them) under the idempotent-producer rule. `dropped` is the
   * request's Edgelog-Dropped: records the device lost before syncing.
   */
  push(
    producerId: number,
    body: Uint8Array,
    options: { dropped?: number; sourceHighWatermark?: number } = {},
  ): Promise<PushResult> {
    const record = this.#streams[producerId];
    if (record === undefined) {
      return Promise.reject(
        new EdgelogError(
          "UNKNOWN_STREAM",
          `No stream has producerId ${producerId}`,
        ),
      );
    }
    const batches = splitBatches(body);
    return this.#serialize(producerId, async () => {
      const result = await this.#push(record, batches, options.dropped ?? 0);
      if (options.sourceHighWatermark !== undefined) {
        record.sourceHighWatermark = options.sourceHighWatermark;
        this.#dirty.add(chunkOf(producerId));
      }
      return result;
    });
  }

  /**
   * A multi-stream push: `body` holds batches of several streams (each
   * batch names its producerId), grouped here by stream in order of first
   * appearance. `check` sees every stream before anything is appended and
   * may throw to refuse the whole request. Each stream is then pushed as
   * by {@linkcode push}, concurrently with the others, and answers alone.
   */
  async pushMany(
    body: Uint8Array,
    check: (stream: StreamInfo) => void,
  ): Promise<StreamPushOutcome[]> {
    const groups = new Map<number, Uint8Array[]>();
    for (const batch of splitBatches(body)) {
      const id = readBatchHeader(batch).producerId;
      const group = groups.get(id);
      if (group !== undefined) group.push(batch);
      else if (groups.size === MAX_STREAMS_PER_PUSH) {
        throw new EdgelogError(
          "PAYLOAD_TOO_LARGE",
          `A push may carry batches of at most ${MAX_STREAMS_PER_PUSH} streams`,
        );
      } else groups.set(id, [batch]);
    }
    for (const id of groups.keys()) {
      const record = this.#streams[id];
      if (record !== undefined) check(this.#info(record));
    }
    return await Promise.all(
      [...groups].map(async ([producerId, batches]) => {
        const record = this.#streams[producerId];
        try {
          if (record === undefined) {
            throw new EdgelogError(
              "UNKNOWN_STREAM",
              `No stream has producerId ${producerId}`,
            );
          }
          const result = await this.#serialize(
            producerId,
            () => this.#push(record, batches, 0),
          );
          return { producerId, ...result };
        } catch (err) {
          if (!(err instanceof EdgelogError)) throw err;
          return { producerId, status: err.status, ...err.toJSON() };
        }
      }),
    );
  }

  async #push(
    record: StreamRecord,
    batches: Uint8Array[],
    dropped: number,
  ): Promise<PushResult> {
    const spans = batches.map((batch) => {
      const header = readBatchHeader(batch);
      if (header.producerId !== record.producerId) {
        throw new EdgelogError(
          "BAD_REQUEST",
          `Batch carries producerId ${header.producerId}, not the stream's ${record.producerId}`,
        );
      }
      if (header.producerEpoch < record.producerEpoch) {
        this.#counters.fenced++;
        this.#count(
          "edgelog_sync_fenced_total",
          "Pushes refused because a newer replicator owns the stream",
          { topic: record.topic },
        );
        throw new EdgelogError(
          "FENCED",
          `Producer epoch ${header.producerEpoch} is fenced by epoch ${record.producerEpoch}`,
          { producerEpoch: record.producerEpoch },
        );
      }
      if (header.producerEpoch > record.producerEpoch) {
        throw new EdgelogError(
          "BAD_REQUEST",
          `Producer epoch ${header.producerEpoch} was never issued (current ${record.producerEpoch}); register again`,
        );
      }
      if (header.baseSequence !== sequenceForOffset(header.baseOffset)) {
        throw new EdgelogError(
          "BAD_REQUEST",
          `Batch baseSequence ${header.baseSequence} does not match local offset ${header.baseOffset}`,
        );
      }
      return {
        firstOffset: header.baseOffset,
        lastOffset: batchLastOffset(header),
      };
    });
    let plan;
    try {
      plan = planPush(record.ackedOffset, spans, {
        declaredDropped: dropped,
        droppedRanges: record.droppedRanges ?? [],
        ...(this.#maxDeclaredDropped === undefined
          ? {}
          : { maxDeclaredDropped: this.#maxDeclaredDropped }),
      });
    } catch (err) {
      if (err instanceof EdgelogError && err.code === "STREAM_DIVERGED") {
        this.#count(
          "edgelog_sync_diverged_total",
          "Pushes refused because they hold records the stream declared dropped",
          { topic: record.topic },
        );
        throw err;
      }
      this.#counters.outOfOrder++;
      this.#count(
        "edgelog_sync_out_of_order_total",
        "Pushes refused with OUT_OF_ORDER_SEQUENCE",
        { topic: record.topic },
      );
      throw err;
    }
    record.lastSeenMs = this.#clock.now();
    this.#dirty.add(chunkOf(record.producerId));
    const duplicates = batches.length - plan.append.length;
    this.#counters.duplicateBatches += duplicates;
    this.#count(
      "edgelog_sync_duplicate_batches_total",
      "Re-sent batches acknowledged without appending",
      { topic: record.topic },
      duplicates,
    );
    if (plan.append.length > 0) {
      const toAppend = plan.append.map((i) => batches[i]!);
      const result = await this.#log.partition(record.topic, record.partition)
        .appendBatches(toAppend);
      if (plan.dropped > 0) {
        const first = spans[plan.append[0]!]!.firstOffset;
        record.droppedRanges = noteDropped(
          record.droppedRanges,
          first - plan.dropped,
          first - 1,
        );
      }
      record.ackedOffset = plan.ackedOffset;
      record.droppedRecords += plan.dropped;
      this.#count(
        "edgelog_sync_dropped_records_total",
        "Records devices dropped before syncing (declared gaps), by node and topic",
        { node_id: record.nodeId, topic: record.topic },
        plan.dropped,
      );
      record.lastCentralOffset = result.lastOffset;
      // Again after the append: a snapshot of the chunk taken while it ran
      // (another stream's) wrote this stream as it was before.
      this.#dirty.add(chunkOf(record.producerId));
      this.#counters.appendedBatches += toAppend.length;
      this.#counters.appendedRecords += result.lastOffset - result.baseOffset +
        1;
      const chunk = chunkOf(record.producerId);
      const now = this.#clock.now();
      if (
        now - (this.#chunkSnapshotMs.get(chunk) ?? -Infinity) >=
          this.#snapshotIntervalMs
      ) {
        this.#chunkSnapshotMs.set(chunk, now);
        // Not awaited: the snapshot only shortens the replay on open, and a
        // meta write (two fsyncs on FsStorage) held this push's answer and
        // every push queued behind it for tens of ms once a second.
        this.#chunks.request(chunk).catch((err) => {
          console.error("edgelog: cannot snapshot sync streams", err);
        });
      }
    }
    return {
      ackedOffset: record.ackedOffset,
      partition: record.partition,
      lastOffset: record.lastCentralOffset,
    };
  }

  /**
   * Writes every chunk changed since its last write and then, when nothing
   * is under way or changed meanwhile, the watermarks, so the next open
   * replays nothing.
   */
  async flush(): Promise<void> {
    await Promise.all([...this.#dirty].map((c) => this.#chunks.request(c)));
    await this.#chunks.settle();
    if (this.#queues.size > 0 || this.#dirty.size > 0) return;
    const marks: Record<string, number[]> = {};
    for (const record of this.#streams) {
      if (record === undefined) continue;
      const topic = marks[record.topic] ??= [];
      if (topic[record.partition] !== undefined || !this.#holds(record)) {
        continue;
      }
      topic[record.partition] = this.#log
        .partition(record.topic, record.partition).highWatermark;
    }
    await this.#log.meta.set(WATERMARKS_KEY, { topics: marks });
  }
}
