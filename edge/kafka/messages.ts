/**
 * Bodies of the few Kafka requests the mirror sends, and of their responses,
 * each at one fixed non-flexible version that Kafka 3.x and 4.x both accept
 * (Kafka 4.0 dropped Produce below v3, CreateTopics below v2, ListOffsets
 * v0; {@linkcode checkApiVersions} verifies the choice against the broker).
 * Pure functions: bytes in, objects out.
 *
 * @module
 */

import { KafkaError } from "./errors.ts";
import { Reader, Writer } from "./wire.ts";

/** The API key and version of each request this client sends. */
export const API = {
  produce: { key: 0, version: 8 },
  fetch: { key: 1, version: 4 },
  listOffsets: { key: 2, version: 4 },
  metadata: { key: 3, version: 8 },
  apiVersions: { key: 18, version: 1 },
  createTopics: { key: 19, version: 4 },
  initProducerId: { key: 22, version: 1 },
} as const;

/** One API's supported range, as a broker reports it. */
export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

// ApiVersions v1 request: (empty)
// response: error_code int16 · [api_key int16 · min int16 · max int16] · throttle_time_ms int32

/** Decodes an ApiVersions v1 response. */
export function decodeApiVersions(body: Uint8Array): ApiRange[] {
  const r = new Reader(body);
  const errorCode = r.int16();
  const ranges = r.array((r) => ({
    apiKey: r.int16(),
    minVersion: r.int16(),
    maxVersion: r.int16(),
  }));
  if (errorCode !== 0) throw new KafkaError(errorCode, "ApiVersions failed");
  return ranges;
}

/** Throws unless the broker supports every version in {@linkcode API}. */
export function checkApiVersions(ranges: readonly ApiRange[]): void {
  for (const [name, { key, version }] of Object.entries(API)) {
    const range = ranges.find((r) => r.apiKey === key);
    if (
      range === undefined || version < range.minVersion ||
      version > range.maxVersion
    ) {
      const has = range ? `${range.minVersion}-${range.maxVersion}` : "none";
      throw new KafkaError(
        35,
        `Kafka does not support ${name} v${version} (it supports ${has})`,
      );
    }
  }
}

/** A broker of the cluster. */
export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** One partition in a Metadata response. */
export interface PartitionMetadata {
  errorCode: number;
  partition: number;
  leader: number;
}

/** One topic in a Metadata response. */
export interface TopicMetadata {
  errorCode: number;
  name: string;
  partitions: PartitionMetadata[];
}

/** A decoded Metadata response. */
export interface Metadata {
  /** Kafka's cluster id (null from very old brokers). */
  clusterId: string | null;
  brokers: BrokerAddress[];
  topics: TopicMetadata[];
}

// Metadata v8 request:
//   topics [name string] (null = all) · allow_auto_topic_creation bool ·
//   include_cluster_authorized_operations bool · include_topic_authorized_operations bool
// response:
//   throttle_time_ms int32 · brokers [node_id int32 · host string · port int32 · rack string|null] ·
//   cluster_id string|null · controller_id int32 ·
//   topics [error_code int16 · name string · is_internal bool ·
//           partitions [error_code int16 · partition_index int32 · leader_id int32 ·
//                       leader_epoch int32 · replica_nodes [int32] · isr_nodes [int32] ·
//                       offline_replicas [int32]] ·
//           topic_authorized_operations int32] ·
//   cluster_authorized_operations int32

/** Encodes a Metadata v8 request for `topics`, never auto-creating them. */
export function encodeMetadata(topics: readonly string[]): Uint8Array {
  return new Writer()
    .array(topics, (w, name) => w.string(name))
    .bool(false)
    .bool(false)
    .bool(false)
    .finish();
}

/** Decodes a Metadata v8 response. */
export function decodeMetadata(body: Uint8Array): Metadata {
  const r = new Reader(body);
  r.int32();
  const brokers = r.array((r) => {
    const broker = { nodeId: r.int32(), host: r.string(), port: r.int32() };
    r.nullableString();
    return broker;
  });
  const clusterId = r.nullableString();
  r.int32();
  const topics = r.array((r) => {
    const errorCode = r.int16();
    const name = r.string();
    r.bool();
    const partitions = r.array((r) => {
      const p = {
        errorCode: r.int16(),
        partition: r.int32(),
        leader: r.int32(),
      };
      r.int32();
      r.array((r) => r.int32());
      r.array((r) => r.int32());
      r.array((r) => r.int32());
      return p;
    });
    r.int32();
    return { errorCode, name, partitions };
  });
  return { clusterId, brokers, topics };
}

/** A topic to create. */
export interface NewTopic {
  name: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

/** The outcome for one topic of a CreateTopics request. */
export interface CreateTopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

// CreateTopics v4 request:
//   topics [name string · num_partitions int32 · replication_factor int16 ·
//           assignments [partition_index int32 · broker_ids [int32]] ·
//           configs [name string · value string|null]] ·
//   timeout_ms int32 · validate_only bool
// response:
//   throttle_time_ms int32 · topics [name string · error_code int16 · error_message string|null]

/** Encodes a CreateTopics v4 request. */
export function encodeCreateTopics(
  topics: readonly NewTopic[],
  timeoutMs: number,
): Uint8Array {
  return new Writer()
    .array(topics, (w, t) =>
      w.string(t.name)
        .int32(t.partitions)
        .int16(t.replicationFactor ?? -1)
        .int32(0)
        .array(
          Object.entries(t.configs ?? {}),
          (w, [name, value]) => w.string(name).string(value),
        ))
    .int32(timeoutMs)
    .bool(false)
    .finish();
}

/** Decodes a CreateTopics v4 response. */
export function decodeCreateTopics(body: Uint8Array): CreateTopicResult[] {
  const r = new Reader(body);
  r.int32();
  return r.array((r) => ({
    name: r.string(),
    errorCode: r.int16(),
    errorMessage: r.nullableString(),
  }));
}

/** A producer identity for idempotent produce. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

// InitProducerId v1 request: transactional_id string|null · transaction_timeout_ms int32
// response: throttle_time_ms int32 · error_code int16 · producer_id int64 · producer_epoch int16

/** Encodes an InitProducerId v1 request of an idempotent, non-transactional producer. */
export function encodeInitProducerId(): Uint8Array {
  return new Writer().string(null).int32(-1).finish();
}

/** Decodes an InitProducerId v1 response. */
export function decodeInitProducerId(body: Uint8Array): ProducerIdentity {
  const r = new Reader(body);
  r.int32();
  const errorCode = r.int16();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  if (errorCode !== 0) throw new KafkaError(errorCode, "InitProducerId failed");
  return { producerId, producerEpoch };
}

/** One record batch to produce to one partition. */
export interface ProduceBatch {
  topic: string;
  partition: number;
  /** Exactly one RecordBatch v2 (Kafka refuses more per partition). */
  batch: Uint8Array;
}

/** The outcome for one partition of a Produce request. */
export interface ProducePartitionResult {
  topic: string;
  partition: number;
  errorCode: number;
  baseOffset: number;
  errorMessage: string | null;
}

// Produce v8 request:
//   transactional_id string|null · acks int16 · timeout_ms int32 ·
//   topic_data [name string · partition_data [index int32 · records bytes]]
// response:
//   responses [name string · partition_responses [index int32 · error_code int16 ·
//              base_offset int64 · log_append_time_ms int64 · log_start_offset int64 ·
//              record_errors [batch_index int32 · batch_index_error_message string|null] ·
//              error_message string|null]] ·
//   throttle_time_ms int32

/** Encodes a Produce v8 request with acks=-1 (all in-sync replicas). */
export function encodeProduce(
  batches: readonly ProduceBatch[],
  timeoutMs: number,
): Uint8Array {
  const byTopic = new Map<string, ProduceBatch[]>();
  for (const b of batches) {
    const list = byTopic.get(b.topic);
    if (list === undefined) byTopic.set(b.topic, [b]);
    else list.push(b);
  }
  return new Writer()
    .string(null)
    .int16(-1)
    .int32(timeoutMs)
    .array(
      [...byTopic],
      (w, [topic, list]) =>
        w.string(topic).array(
          list,
          (w, b) => w.int32(b.partition).bytes(b.batch),
        ),
    )
    .finish();
}

/** Decodes a Produce v8 response. */
export function decodeProduce(body: Uint8Array): ProducePartitionResult[] {
  const r = new Reader(body);
  return r.array((r) => {
    const topic = r.string();
    return r.array((r) => {
      const partition = r.int32();
      const errorCode = r.int16();
      const baseOffset = r.int64();
      r.int64();
      r.int64();
      const recordErrors = r.array((r) => {
        r.int32();
        return r.nullableString();
      });
      const errorMessage = r.nullableString() ??
        recordErrors.find((m) => m !== null) ?? null;
      return { topic, partition, errorCode, baseOffset, errorMessage };
    });
  }).flat();
}

/** The end offset of one partition. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  errorCode: number;
  offset: number;
}

/** ListOffsets' timestamp that asks for the log end offset. */
export const LATEST_TIMESTAMP = -1;

// ListOffsets v4 request:
//   replica_id int32 · isolation_level int8 ·
//   topics [name string · partitions [partition_index int32 · current_leader_epoch int32 · timestamp int64]]
// response:
//   throttle_time_ms int32 · topics [name string · partitions [partition_index int32 ·
//   error_code int16 · timestamp int64 · offset int64 · leader_epoch int32]]

/** Encodes a ListOffsets v4 request for the end offsets of `partitions`. */
export function encodeListOffsets(
  partitions: readonly { topic: string; partition: number }[],
): Uint8Array {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  return new Writer()
    .int32(-1)
    .int8(0)
    .array([...byTopic], (w, [topic, list]) =>
      w.string(topic).array(
        list,
        (w, p) => w.int32(p).int32(-1).int64(LATEST_TIMESTAMP),
      ))
    .finish();
}

/** Decodes a ListOffsets v4 response. */
export function decodeListOffsets(body: Uint8Array): PartitionOffset[] {
  const r = new Reader(body);
  r.int32();
  return r.array((r) => {
    const topic = r.string();
    return r.array((r) => {
      const partition = r.int32();
      const errorCode = r.int16();
      r.int64();
      const offset = r.int64();
      r.int32();
      return { topic, partition, errorCode, offset };
    });
  }).flat();
}

/** What a Fetch answered for one partition. */
export interface FetchedPartition {
  errorCode: number;
  highWatermark: number;
  /** Whole record batches, possibly followed by a truncated one. */
  records: Uint8Array;
}

// Fetch v4 request:
//   replica_id int32 · max_wait_ms int32 · min_bytes int32 · max_bytes int32 ·
//   isolation_level int8 ·
//   topics [topic string · partitions [partition int32 · fetch_offset int64 ·
//           partition_max_bytes int32]]
// response:
//   throttle_time_ms int32 · responses [topic string · partitions [
//     partition int32 · error_code int16 · high_watermark int64 ·
//     last_stable_offset int64 ·
//     aborted_transactions [producer_id int64 · first_offset int64] (nullable) ·
//     records bytes (nullable)]]

/**
 * Encodes a Fetch v4 request of one partition from `offset`, answering at
 * once (max wait 0) with up to `maxBytes`; Kafka still sends the first
 * batch whole when it is larger.
 */
export function encodeFetch(
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
): Uint8Array {
  return new Writer()
    .int32(-1)
    .int32(0)
    .int32(1)
    .int32(maxBytes)
    .int8(0)
    .array([topic], (w, name) =>
      w.string(name).array(
        [partition],
        (w, p) => w.int32(p).int64(offset).int32(maxBytes),
      ))
    .finish();
}

/** Decodes a Fetch v4 response of one partition. */
export function decodeFetch(
  body: Uint8Array,
  topic: string,
  partition: number,
): FetchedPartition {
  const r = new Reader(body);
  r.int32();
  const found = r.array((r) => {
    const name = r.string();
    return r.array((r) => {
      const index = r.int32();
      const errorCode = r.int16();
      const highWatermark = r.int64();
      r.int64();
      r.array((r) => {
        r.int64();
        r.int64();
      });
      const records = r.nullableBytes() ?? new Uint8Array(0);
      return { name, index, errorCode, highWatermark, records };
    });
  }).flat().find((p) => p.name === topic && p.index === partition);
  if (found === undefined) {
    throw new KafkaError(
      -1,
      `Fetch answered nothing for ${topic}-${partition}`,
    );
  }
  const { errorCode, highWatermark, records } = found;
  return { errorCode, highWatermark, records };
}
