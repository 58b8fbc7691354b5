/**
 * Mirrors one edgelog partition into the same-numbered partition of the
 * same-named Kafka topic, in order, with an idempotent producer.
 *
 * A **session** is one producer identity (InitProducerId) on one partition:
 * the batch holding edgelog offset `o` is sent with baseSequence
 * `(o - start) mod 2^31`, where `start` is where the session began. So a
 * resent batch carries the sequence it had before, and Kafka appends it at
 * most once. Any fault (a lost connection, a leader move, an error code)
 * ends the session once its requests in flight have settled; the next
 * session asks Kafka where to resume.
 *
 * **Resuming is exact** because the mirror is the only writer of its Kafka
 * partitions and sends whole batches: Kafka offset `k` holds edgelog offset
 * `k + delta`, where `delta` is stored in the log's metadata
 * (`kafkaMirror/<topic>/<partition>`) when the partition is first mirrored
 * (the edgelog log start then, while the Kafka partition is empty) and grows
 * only when retention deleted edgelog records before they were mirrored (a
 * gap, counted in the status). Each session resumes at Kafka's end offset
 * plus `delta`: what Kafka holds is never sent again and nothing is skipped,
 * whether the previous session ended cleanly, by an error or by a crash.
 * One window remains: a request the previous process had written to its
 * socket but Kafka had not appended yet when the new session read the end
 * offset would be appended twice. A clean close waits for every answer,
 * so only a crash leaves such a request; broker start-up takes far longer
 * than Kafka takes to append a request it already read.
 *
 * @module
 */

import type { Clock } from "../../runtime/clock.ts";
import {
  lastOffset,
  readBatchHeader,
  setBaseOffset,
  setProducer,
} from "../../runtime/format/mod.ts";
import type { MetaStore, PartitionLog } from "../../runtime/log/mod.ts";
import type { KafkaClient } from "./client.ts";
import { KafkaError } from "./errors.ts";
import type { ProducePartitionResult } from "./messages.ts";

/** Kafka sequences wrap at 2^31. */
const SEQUENCE_MODULUS = 2 ** 31;
const META_PREFIX = "kafkaMirror/";

/** What the metadata area keeps per mirrored partition. */
interface StoredState {
  /** edgelog offset = Kafka offset + delta. */
  delta: number;
  /** The next edgelog offset Kafka had acknowledged, for operators. */
  offset: number;
}

/** The mirror's state of one partition. */
export interface MirrorPartitionStatus {
  topic: string;
  partition: number;
  /** The next edgelog offset to mirror: everything below is in Kafka. */
  mirroredOffset: number;
  /** edgelog's high watermark. */
  highWatermark: number;
  /** Records appended to edgelog and not yet acknowledged by Kafka. */
  lag: number;
  /** Records retention deleted before they were mirrored, since start. */
  skippedRecords: number;
  /** The last fault, cleared by the next acknowledgement. */
  error: string | null;
}

/** What a partition mirror needs from its owner. */
export interface PartitionMirrorContext {
  client: KafkaClient;
  meta: MetaStore;
  clock: Clock;
  /** Requests in flight per partition; at most 5 keeps Kafka's dedupe window. */
  maxInFlight: number;
  /** Bytes of batches read from the log at a time (at least one batch). */
  readBytes: number;
  /** Partitions of the edgelog topic, for a Kafka topic created to match. */
  partitions: number;
  /** Whether to create the Kafka topic when missing. */
  createTopic: boolean;
  /** Replication factor of created topics; -1 for the broker default. */
  replicationFactor: number;
  /** Called after Kafka acknowledged `records` records. */
  onMirrored(records: number, mirroredOffset: number): void;
  onError(err: unknown): void;
}

interface InFlight {
  answer: Promise<ProducePartitionResult>;
  /** The Kafka offset Kafka must give the batch's first record. */
  kafkaOffset: number;
  records: number;
  /** The edgelog offset after the batch. */
  nextOffset: number;
}

function metaKey(topic: string, partition: number): string {
  return `${META_PREFIX}${topic}/${partition}`;
}

/** The loop that mirrors one partition until its signal aborts. */
export class PartitionMirror {
  readonly topic: string;
  readonly partition: number;
  #log: PartitionLog;
  #ctx: PartitionMirrorContext;
  #mirrored: number;
  #skipped = 0;
  #error: string | null = null;
  #wake: (() => void) | undefined;
  #persisted: Promise<void> = Promise.resolve();
  #dirty = false;
  #state: StoredState | undefined;

  constructor(log: PartitionLog, ctx: PartitionMirrorContext) {
    this.topic = log.topic;
    this.partition = log.partition;
    this.#log = log;
    this.#ctx = ctx;
    this.#mirrored = log.logStartOffset;
  }

  /** Wakes the loop after an append. */
  notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  status(): MirrorPartitionStatus {
    const highWatermark = this.#log.highWatermark;
    return {
      topic: this.topic,
      partition: this.partition,
      mirroredOffset: this.#mirrored,
      highWatermark,
      lag: Math.max(0, highWatermark - this.#mirrored),
      skippedRecords: this.#skipped,
      error: this.#error,
    };
  }

  /**
   * Runs sessions until `signal` aborts, backing off after faults (100 ms
   * doubling to 5 s). Resolves once the last session's requests settled and
   * the mirrored offset is stored.
   */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 100;
    while (!signal.aborted) {
      try {
        await this.#session(signal);
        backoff = 100;
      } catch (err) {
        if (signal.aborted) break;
        this.#error = (err as Error).message;
        this.#ctx.onError(err);
        await this.#ctx.clock.sleep(backoff, signal).catch(() => {});
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    await this.#persist();
  }

  async #session(signal: AbortSignal): Promise<void> {
    const { client } = this.#ctx;
    const leader = await this.#leader();
    const producer = await client.initProducerId();
    const kafkaEnd = await client.endOffset(this.topic, this.partition, leader);
    const state = await this.#loadState(kafkaEnd);
    let next = kafkaEnd + state.delta;
    if (next > this.#log.highWatermark) {
      throw new KafkaError(
        -1,
        `Kafka partition ${this.topic}-${this.partition} ends at ${kafkaEnd}, ` +
          `past edgelog's high watermark ${this.#log.highWatermark} (delta ${state.delta}): ` +
          `another writer, or edgelog lost acknowledged records`,
        { type: "MIRROR_DIVERGED" },
      );
    }
    this.#advance(next, 0);
    const start = next;
    const inFlight: InFlight[] = [];
    try {
      while (!signal.aborted) {
        if (next < this.#log.logStartOffset) {
          if (inFlight.length > 0) {
            await this.#settle(inFlight.shift()!);
            continue;
          }
          const lost = this.#log.logStartOffset - next;
          this.#skipped += lost;
          state.delta += lost;
          state.offset = this.#log.logStartOffset;
          await this.#ctx.meta.set(metaKey(this.topic, this.partition), {
            ...state,
          });
          throw new KafkaError(
            -1,
            `Retention deleted ${lost} records of ${this.topic}-${this.partition} ` +
              `before they were mirrored (offsets ${next}-${next + lost - 1})`,
            { type: "RECORDS_LOST" },
          );
        }
        const idle = next >= this.#log.highWatermark;
        if (
          inFlight.length > 0 &&
          (idle || inFlight.length >= this.#ctx.maxInFlight)
        ) {
          await this.#settle(inFlight.shift()!);
          continue;
        }
        if (idle) {
          await this.#appended(signal);
          continue;
        }
        const batches = await this.#log.readBatches(next, this.#ctx.readBytes);
        for (const batch of batches) {
          if (inFlight.length >= this.#ctx.maxInFlight) break;
          const header = readBatchHeader(batch);
          if (header.baseOffset !== next) {
            throw new Error(
              `Batch of ${this.topic}-${this.partition} starts at ${header.baseOffset}, expected ${next}`,
            );
          }
          const copy = batch.slice();
          setBaseOffset(copy, 0);
          new DataView(copy.buffer).setInt32(12, -1);
          setProducer(
            copy,
            producer.producerId,
            producer.producerEpoch,
            (next - start) % SEQUENCE_MODULUS,
          );
          const after = lastOffset(header) + 1;
          inFlight.push({
            answer: client.produce(
              { topic: this.topic, partition: this.partition, batch: copy },
              leader,
            ),
            kafkaOffset: next - state.delta,
            records: after - next,
            nextOffset: after,
          });
          next = after;
        }
      }
      while (inFlight.length > 0) await this.#settle(inFlight.shift()!);
    } finally {
      // Later answers are failures after an earlier one failed; let them settle.
      await Promise.allSettled(inFlight.map((f) => f.answer));
    }
  }

  async #settle(flight: InFlight): Promise<void> {
    const result = await flight.answer;
    if (result.errorCode !== 0) {
      throw new KafkaError(
        result.errorCode,
        `Kafka refused a batch of ${this.topic}-${this.partition}` +
          (result.errorMessage ? ` (${result.errorMessage})` : ""),
      );
    }
    if (result.baseOffset !== flight.kafkaOffset) {
      throw new KafkaError(
        -1,
        `Kafka put edgelog offset ${flight.nextOffset - flight.records} of ` +
          `${this.topic}-${this.partition} at ${result.baseOffset}, expected ${flight.kafkaOffset}`,
        { type: "MIRROR_DIVERGED" },
      );
    }
    this.#error = null;
    this.#advance(flight.nextOffset, flight.records);
  }

  #advance(offset: number, records: number): void {
    if (offset === this.#mirrored && records === 0) return;
    this.#mirrored = offset;
    this.#ctx.onMirrored(records, offset);
    this.#schedulePersist();
  }

  /** Stores the mirrored offset; writes coalesce, so a slow store never queues up. */
  #schedulePersist(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    this.#persisted = this.#persisted.then(() => {
      this.#dirty = false;
      return this.#write();
    }).catch((err) => this.#ctx.onError(err));
  }

  /** Waits for scheduled writes, then stores the latest offset. */
  async #persist(): Promise<void> {
    await this.#persisted;
    await this.#write();
  }

  async #write(): Promise<void> {
    const state = this.#state;
    if (state === undefined || state.offset === this.#mirrored) return;
    state.offset = this.#mirrored;
    await this.#ctx.meta.set(metaKey(this.topic, this.partition), { ...state });
  }

  async #loadState(kafkaEnd: number): Promise<StoredState> {
    const key = metaKey(this.topic, this.partition);
    const stored = await this.#ctx.meta.get(key) as StoredState | undefined;
    if (stored !== undefined) {
      this.#state = { delta: stored.delta, offset: stored.offset };
      return this.#state;
    }
    if (kafkaEnd !== 0) {
      throw new KafkaError(
        -1,
        `Kafka partition ${this.topic}-${this.partition} already holds ${kafkaEnd} records ` +
          `this broker did not mirror; delete the Kafka topic or mirror into another one`,
        { type: "MIRROR_DIVERGED" },
      );
    }
    const start = this.#log.logStartOffset;
    const state = { delta: start, offset: start };
    await this.#ctx.meta.set(key, { ...state });
    this.#state = state;
    return state;
  }

  /** The partition's leader, creating the Kafka topic first when allowed. */
  async #leader(): Promise<number> {
    const { client } = this.#ctx;
    if (this.#ctx.createTopic) {
      await client.createTopics([{
        name: this.topic,
        partitions: this.#ctx.partitions,
        replicationFactor: this.#ctx.replicationFactor,
      }]);
    }
    const metadata = await client.metadata([this.topic]);
    const topic = metadata.topics.find((t) => t.name === this.topic);
    if (topic === undefined || topic.errorCode !== 0) {
      throw new KafkaError(
        topic?.errorCode ?? 3,
        `Kafka has no topic '${this.topic}'`,
      );
    }
    const p = topic.partitions.find((p) => p.partition === this.partition);
    if (p === undefined) {
      throw new KafkaError(
        37,
        `Kafka topic '${this.topic}' has ${topic.partitions.length} partitions; ` +
          `edgelog mirrors partition ${this.partition} into the same index`,
      );
    }
    if (p.errorCode !== 0 || p.leader < 0) {
      throw new KafkaError(
        p.errorCode || 5,
        `Kafka partition ${this.topic}-${this.partition} has no leader`,
      );
    }
    return p.leader;
  }

  #appended(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
