/**
 * The broker's scale-out path: every partition of the configured topics is
 * mirrored, batch by batch and in order, into the same-named Apache Kafka
 * topic at the same partition index (created with edgelog's partition count
 * when missing), with an idempotent producer. Batches are already Kafka's
 * RecordBatch v2, so the mirror sends copies of the stored bytes with only
 * the producer fields, baseOffset and leader epoch set: records, keys,
 * headers, timestamps and compression arrive in Kafka unchanged, and while
 * the mirror is the topic's only writer each record keeps its offset
 * (shifted by the log start offset edgelog had when mirroring began). See
 * `partition_mirror.ts` for why resuming after a restart is exact.
 *
 * @module
 */

import { type Clock, systemClock } from "../../runtime/clock.ts";
import type { Log } from "../../runtime/log/mod.ts";
import type { Metrics } from "../../runtime/server/metrics.ts";
import { KafkaClient } from "./client.ts";
import {
  type MirrorPartitionStatus,
  PartitionMirror,
} from "./partition_mirror.ts";

/** Options of {@linkcode KafkaMirror.start}; `bootstrap` and `topics` are the config section. */
export interface KafkaMirrorOptions {
  /** `host:port` addresses of the Kafka cluster. */
  bootstrap: readonly string[];
  /** edgelog topics to mirror; topics created later start when first appended to. */
  topics: readonly string[];
  /** Kafka client id; default "edgelog-mirror". */
  clientId?: string;
  /** Produce requests in flight per partition, 1 to 5 (Kafka's dedupe window); default 5. */
  maxInFlight?: number;
  /** Create missing Kafka topics; default true. */
  createTopics?: boolean;
  /** Replication factor of created topics; default -1 (the cluster's default). */
  replicationFactor?: number;
  /** Bytes of batches read from a partition at a time; default 1 MiB. */
  readBytes?: number;
  /** Default 30 s. */
  requestTimeoutMs?: number;
  /** Counters `edgelog_kafka_mirror_*` go here. */
  metrics?: Metrics;
  /** Default: the system clock (backoff after faults). */
  clock?: Clock;
  /** Reports faults (each new message once per partition); default console.error. */
  onError?: (err: unknown, topic: string, partition: number) => void;
}

/** A running mirror of a log's topics into Kafka. */
export class KafkaMirror {
  #log: Log;
  #options: KafkaMirrorOptions;
  #client: KafkaClient;
  #topics: ReadonlySet<string>;
  #mirrors = new Map<string, PartitionMirror[]>();
  #runs: Promise<void>[] = [];
  #stop = new AbortController();
  #unsubscribe: () => void;
  #reported = new Map<string, number>();
  #lastError = new Map<string, string>();
  #closing: Promise<void> | undefined;

  private constructor(log: Log, options: KafkaMirrorOptions) {
    const maxInFlight = options.maxInFlight ?? 5;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 5) {
      throw new RangeError(
        `maxInFlight ${maxInFlight} must be an integer from 1 to 5`,
      );
    }
    this.#log = log;
    this.#options = { ...options, maxInFlight };
    this.#client = new KafkaClient(options.bootstrap, {
      clientId: options.clientId ?? "edgelog-mirror",
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
    });
    this.#topics = new Set(options.topics);
    this.#unsubscribe = log.onAppend((event) => {
      if (!this.#topics.has(event.topic)) return;
      const mirrors = this.#mirrors.get(event.topic) ??
        this.#startTopic(event.topic);
      mirrors[event.partition]?.notify();
    });
  }

  /**
   * Starts mirroring the configured topics of `log` that exist; the others
   * start with their first append. Never waits for Kafka: faults show in
   * {@linkcode status} and the mirror retries.
   */
  static start(log: Log, options: KafkaMirrorOptions): KafkaMirror {
    const mirror = new KafkaMirror(log, options);
    for (const topic of mirror.#topics) {
      if (log.hasTopic(topic)) mirror.#startTopic(topic);
    }
    return mirror;
  }

  /** Per partition: mirrored offset, lag and last fault, by topic and partition. */
  status(): MirrorPartitionStatus[] {
    return [...this.#mirrors.keys()].sort().flatMap((topic) =>
      this.#mirrors.get(topic)!.map((m) => m.status())
    );
  }

  /**
   * Stops sending, waits for the answers in flight, stores the mirrored
   * offsets and closes the connections. Call it before closing the log.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#unsubscribe();
      this.#stop.abort();
      await Promise.allSettled(this.#runs);
      await this.#client.close();
    })();
  }

  #startTopic(topic: string): PartitionMirror[] {
    const partitions = this.#log.partitions(topic).length;
    const options = this.#options;
    const mirrors = Array.from({ length: partitions }, (_, p) => {
      const label = { topic, partition: p };
      const key = `${topic}/${p}`;
      return new PartitionMirror(this.#log.partition(topic, p), {
        client: this.#client,
        meta: this.#log.meta,
        clock: options.clock ?? systemClock,
        maxInFlight: options.maxInFlight ?? 5,
        readBytes: options.readBytes ?? 1 << 20,
        partitions,
        createTopic: options.createTopics ?? true,
        replicationFactor: options.replicationFactor ?? -1,
        onMirrored: (records, offset) => {
          const before = this.#reported.get(key) ?? 0;
          this.#reported.set(key, Math.max(before, offset));
          options.metrics?.inc(
            "edgelog_kafka_mirror_records_total",
            "Records Kafka acknowledged from the mirror, by topic and partition",
            label,
            records,
          );
          options.metrics?.inc(
            "edgelog_kafka_mirror_offset",
            "Next edgelog offset Kafka has acknowledged (counts up to it; lag = high watermark - this)",
            label,
            Math.max(0, offset - before),
          );
        },
        onError: (err) => {
          options.metrics?.inc(
            "edgelog_kafka_mirror_errors_total",
            "Faults of the Kafka mirror, by topic and partition",
            label,
          );
          const message = (err as Error).message;
          if (this.#lastError.get(key) === message) return;
          this.#lastError.set(key, message);
          if (options.onError) options.onError(err, topic, p);
          else console.error(`edgelog: kafka mirror ${topic}-${p}: ${message}`);
        },
      });
    });
    this.#mirrors.set(topic, mirrors);
    for (const mirror of mirrors) {
      this.#runs.push(mirror.run(this.#stop.signal));
    }
    return mirrors;
  }
}
