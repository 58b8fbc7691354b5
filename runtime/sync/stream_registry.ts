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
import {
  type DroppedRange,
  noteDropped,
  planPush,
  replayStoredBatch,
} from "./producer_state.ts";
import { sequenceForOffset } from "./sequence.ts";

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
  /** Least time between two meta snapshots of one stream; default 1000 ms. */
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
}

/** Counters for /metrics. */
export interface SyncCounters {
  appendedBatches: number;
  appendedRecords: number;
  duplicateBatches: number;
  outOfOrder: number;
  fenced: number;
}

/** What meta holds per stream: its identity and a consistent snapshot. */
interface StreamRecord extends StreamInfo {
  /** Central offset of the stream's last record, -1 for none. */
  lastCentralOffset: number;
  /** Every batch of the stream below this central offset is in ackedOffset. */
  snapshotOffset: number;
  /** The latest gaps accepted as dropped (absent in older snapshots). */
  droppedRanges?: DroppedRange[];
}

const PREFIX = "sync/streams/";
const SCAN_BYTES = 1 << 20;

function streamKey(producerId: number): string {
  return PREFIX + String(producerId).padStart(12, "0");
}

function identity(nodeId: string, topic: string, sourcePartition: number) {
  return JSON.stringify([nodeId, topic, sourcePartition]);
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
  #streams = new Map<number, StreamRecord>();
  #byIdentity = new Map<string, number>();
  #queues = new Map<number, Promise<unknown>>();
  #lastSnapshotMs = new Map<number, number>();
  /** Per stream, the last snapshot write: writes land in the order taken. */
  #snapshots = new Map<number, Promise<void>>();
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
    this.#snapshotIntervalMs = options.snapshotIntervalMs ?? 1000;
    this.#maxDeclaredDropped = options.maxDeclaredDropped;
    this.#metrics = options.metrics;
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
    const groups = new Map<string, StreamRecord[]>();
    for (const [, value] of await this.#log.meta.list(PREFIX)) {
      const record = value as StreamRecord;
      this.#streams.set(record.producerId, record);
      this.#byIdentity.set(
        identity(record.nodeId, record.topic, record.sourcePartition),
        record.producerId,
      );
      const key = JSON.stringify([record.topic, record.partition]);
      groups.set(key, [...(groups.get(key) ?? []), record]);
    }
    for (const records of groups.values()) await this.#replay(records);
  }

  /** Rebuilds the streams of one central partition from the log after their snapshots. */
  async #replay(records: StreamRecord[]): Promise<void> {
    const first = records[0];
    if (first === undefined || !this.#log.hasTopic(first.topic)) return;
    if (first.partition >= this.#log.topicConfig(first.topic).partitions) {
      return;
    }
    const partition = this.#log.partition(first.topic, first.partition);
    const byId = new Map(records.map((r) => [r.producerId, r]));
    let offset = Math.max(
      partition.logStartOffset,
      Math.min(...records.map((r) => r.snapshotOffset)),
    );
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
    const existing = this.#byIdentity.get(
      identity(nodeId, topic, sourcePartition),
    );
    if (existing !== undefined) {
      return this.#serialize(existing, async () => {
        const record = this.#streams.get(existing)!;
        await this.#ensureTopic(topic);
        record.producerEpoch = record.producerEpoch >= 0x7fff
          ? 0
          : record.producerEpoch + 1;
        record.lastSeenMs = this.#clock.now();
        await this.#snapshot(record);
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
    const again = this.#byIdentity.get(
      identity(nodeId, topic, sourcePartition),
    );
    if (again !== undefined) {
      return this.register(nodeId, topic, sourcePartition);
    }
    const partitions = this.#log.topicConfig(topic).partitions;
    const producerId = Math.max(0, ...this.#streams.keys()) + 1;
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
    };
    this.#streams.set(producerId, record);
    this.#byIdentity.set(identity(nodeId, topic, sourcePartition), producerId);
    await this.#serialize(producerId, () => this.#snapshot(record));
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
   * Takes a consistent snapshot now and writes it after the stream's
   * earlier ones; callers hold the stream's queue. Resolves once written.
   */
  #snapshot(record: StreamRecord): Promise<void> {
    if (this.#log.hasTopic(record.topic)) {
      const hw = this.#log.partition(record.topic, record.partition)
        .highWatermark;
      record.snapshotOffset = Math.max(record.snapshotOffset, hw);
    }
    this.#lastSnapshotMs.set(record.producerId, this.#clock.now());
    const copy = { ...record };
    const id = record.producerId;
    const written = (this.#snapshots.get(id) ?? Promise.resolve())
      .then(() => this.#log.meta.set(streamKey(id), copy));
    const tail = written.catch(() => {});
    this.#snapshots.set(id, tail);
    tail.then(() => {
      if (this.#snapshots.get(id) === tail) this.#snapshots.delete(id);
    });
    return written;
  }

  /** The stream with this producerId; UNKNOWN_STREAM when there is none. */
  stream(producerId: number): StreamInfo {
    const record = this.#streams.get(producerId);
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
    };
  }

  /** Every stream, or those of one node, by producerId. */
  list(nodeId?: string): StreamInfo[] {
    return [...this.#streams.values()]
      .filter((r) => nodeId === undefined || r.nodeId === nodeId)
      .sort((a, b) => a.producerId - b.producerId)
      .map((r) => this.#info(r));
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
    options: { dropped?: number } = {},
  ): Promise<PushResult> {
    const record = this.#streams.get(producerId);
    if (record === undefined) {
      return Promise.reject(
        new EdgelogError(
          "UNKNOWN_STREAM",
          `No stream has producerId ${producerId}`,
        ),
      );
    }
    const batches = splitBatches(body);
    return this.#serialize(
      producerId,
      () => this.#push(record, batches, options.dropped ?? 0),
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
      this.#counters.appendedBatches += toAppend.length;
      this.#counters.appendedRecords += result.lastOffset - result.baseOffset +
        1;
      const last = this.#lastSnapshotMs.get(record.producerId) ?? -Infinity;
      if (this.#clock.now() - last >= this.#snapshotIntervalMs) {
        // Not awaited: the snapshot only shortens the replay on open, and a
        // meta write (two fsyncs on FsStorage) held this push's answer and
        // every push queued behind it for tens of ms once a second.
        this.#snapshot(record).catch((err) => {
          console.error("edgelog: cannot snapshot sync stream", err);
        });
      }
    }
    return {
      ackedOffset: record.ackedOffset,
      partition: record.partition,
      lastOffset: record.lastCentralOffset,
    };
  }

  /** Snapshots every stream, so the next open replays nothing. */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.#streams.values()].map((record) =>
        this.#serialize(record.producerId, () => this.#snapshot(record))
      ),
    );
  }
}
