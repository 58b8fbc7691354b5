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
 * `partition_mirror.ts` for why resuming after a restart is exact, and
 * docs/kafka_mirror.md for operating it.
 *
 * The broker has one idempotent producer identity for all its partitions,
 * asked of Kafka (InitProducerId) the first time and kept in the log's
 * metadata (`kafkaMirror/producer`) for ever after: the sequences derived
 * from Kafka offsets only let Kafka discard a late duplicate if every
 * process of this broker sends under the same producer id and epoch.
 *
 * @module
 */

import { type Clock, systemClock } from "../../runtime/clock.ts";
import type { Log } from "../../runtime/log/mod.ts";
import type { GaugeFamily, Metrics } from "../../runtime/server/metrics.ts";
import { KafkaClient } from "./client.ts";
import type { ProducerIdentity } from "./messages.ts";
import {
  MIRROR_STATES,
  type MirrorPartitionStatus,
  PartitionMirror,
} from "./partition_mirror.ts";

/** Where the broker's producer identity is kept. */
const PRODUCER_KEY = "kafkaMirror/producer";

/** The producer identity as stored, with the cluster that gave it. */
interface StoredProducer extends ProducerIdentity {
  clusterId: string | null;
}

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
  /**
   * "dedicated" (default): this broker is the only writer of its Kafka
   * topics and each record keeps its edgelog offset in Kafka. "shared":
   * several brokers append to the same Kafka topics, Kafka assigns the
   * offsets, and each broker finds where it stopped from its own batches in
   * Kafka (docs/kafka_mirror.md).
   */
  mode?: "dedicated" | "shared";
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
  /** Reports a partition stopping on a disagreement; default console.error. */
  onStopped?: (err: Error, topic: string, partition: number) => void;
}

/** The admin route that resumes a stopped partition, for log lines. */
export function resumeHint(topic: string, partition: number): string {
  return `POST /v1/topics/${
    encodeURIComponent(topic)
  }/partitions/${partition}` +
    `/mirror/resume?from=<edgelog offset> (docs/kafka_mirror.md)`;
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
  #producer: Promise<ProducerIdentity> | undefined;
  #removeGauges: () => void;

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
    this.#removeGauges = options.metrics?.addGauges(() => this.#gauges()) ??
      (() => {});
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

  /** One partition's state, or undefined when it is not mirrored (yet). */
  partitionStatus(
    topic: string,
    partition: number,
  ): MirrorPartitionStatus | undefined {
    return this.#mirrors.get(topic)?.[partition]?.status();
  }

  /**
   * Resumes a stopped partition at edgelog offset `from` (see
   * {@linkcode PartitionMirror.resume}); false when the partition is not
   * mirrored.
   */
  resume(topic: string, partition: number, from: number): boolean {
    const mirror = this.#mirrors.get(topic)?.[partition];
    if (mirror === undefined) return false;
    mirror.resume(from);
    return true;
  }

  /**
   * Stops sending, waits for the answers in flight, stores the mirrored
   * offsets and closes the connections. Call it before closing the log.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#unsubscribe();
      this.#removeGauges();
      this.#stop.abort();
      await Promise.allSettled(this.#runs);
      await this.#client.close();
    })();
  }

  /**
   * The stored producer identity, asked of Kafka and stored the first time,
   * and again only if the cluster is another one (its producer ids are its
   * own: a stored id could be another producer's there).
   */
  #producerIdentity(): Promise<ProducerIdentity> {
    const meta = this.#log.meta;
    const identity = this.#producer ??= (async () => {
      const { clusterId } = await this.#client.metadata([]);
      const stored = await meta.get(PRODUCER_KEY) as
        | StoredProducer
        | undefined;
      if (stored !== undefined && stored.clusterId === clusterId) {
        return {
          producerId: stored.producerId,
          producerEpoch: stored.producerEpoch,
        };
      }
      const fresh = await this.#client.initProducerId();
      await meta.set(PRODUCER_KEY, { ...fresh, clusterId });
      return fresh;
    })();
    identity.catch(() => {
      if (this.#producer === identity) this.#producer = undefined;
    });
    return identity;
  }

  #gauges(): GaugeFamily[] {
    const status = this.status();
    return [
      {
        name: "edgelog_kafka_mirror_lag",
        help:
          "Records appended to a partition and not yet acknowledged by Kafka",
        samples: status.map((s) => ({
          labels: { topic: s.topic, partition: s.partition },
          value: s.lag,
        })),
      },
      {
        name: "edgelog_kafka_mirror_state",
        help: "State of a partition's Kafka mirror: 1 for the current state " +
          "(stopped = edgelog and Kafka disagree, resume it by hand)",
        samples: status.flatMap((s) =>
          MIRROR_STATES.map((state) => ({
            labels: { topic: s.topic, partition: s.partition, state },
            value: s.state === state ? 1 : 0,
          }))
        ),
      },
    ];
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
        producer: () => this.#producerIdentity(),
        clock: options.clock ?? systemClock,
        maxInFlight: options.maxInFlight ?? 5,
        readBytes: options.readBytes ?? 1 << 20,
        partitions,
        shared: options.mode === "shared",
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
        onStopped: (err) => {
          this.#lastError.set(key, err.message);
          if (options.onStopped) options.onStopped(err, topic, p);
          else {
            console.error(
              `edgelog: kafka mirror ${topic}-${p} STOPPED: ${err.message}; ` +
                `nothing more of it goes to Kafka until resumed: ${
                  resumeHint(topic, p)
                }`,
            );
          }
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
