/**
 * Mirrors one edgelog partition into the same-numbered partition of the
 * same-named Kafka topic, in order, exactly once, with one idempotent
 * producer identity that outlives the process.
 *
 * **Offsets.** Kafka offset `k` holds edgelog offset `k + delta`, where
 * `delta` is stored in the log's metadata (`kafkaMirror/<topic>/<partition>`)
 * when the partition is first mirrored (the edgelog log start then, while
 * the Kafka partition is empty). It grows only when retention deleted
 * edgelog records before they were mirrored (counted and reported), or when
 * an operator resumes a stopped partition at an offset they chose.
 *
 * **Why a late append cannot land twice.** The producer id and epoch are
 * asked of Kafka once per broker and kept in the metadata (see `mirror.ts`),
 * and every batch's baseSequence is its Kafka offset mod 2^31, so the same
 * edgelog batch carries the same (id, epoch, sequence) in every session and
 * in every process. Kafka keeps, per producer and partition, the sequence of
 * the last batch it appended and the last five batches: a batch whose
 * sequence range is one of those five is answered with the offset it was
 * first given and not appended again; any other sequence that does not
 * follow the last one is refused with OUT_OF_ORDER_SEQUENCE_NUMBER. So a
 * Produce request written by a process that was then killed, delivered by
 * the network after the new process asked Kafka where to resume, is either
 * the batch the new session was about to send (appended once, whichever
 * comes first) or refused. A new producer id per session, as before, let it
 * through. See docs/kafka_mirror.md for why not a transactional id.
 *
 * **Never skip silently.** Each session resumes at Kafka's end offset plus
 * `delta`. Whatever says that Kafka and edgelog disagree (Kafka puts a batch
 * at another offset than promised, Kafka ends past edgelog's high
 * watermark, the resume point is inside an edgelog batch, Kafka holds
 * records on a first start) stops the partition: the reason is stored, so it
 * stays stopped across restarts, and only {@linkcode PartitionMirror.resume}
 * (the admin route) starts it again, from an edgelog offset the operator
 * chose; a resume point inside a batch is then honoured by sending the
 * batch's tail re-encoded.
 *
 * @module
 */

import type { Clock } from "../../runtime/clock.ts";
import {
  batchSize,
  decodeBatch,
  encodeBatch,
  lastOffset,
  readBatchHeader,
  setBaseOffset,
  setProducer,
} from "../../runtime/format/mod.ts";
import type { MetaStore, PartitionLog } from "../../runtime/log/mod.ts";
import type { KafkaClient } from "./client.ts";
import { KafkaError } from "./errors.ts";
import type { ProducePartitionResult, ProducerIdentity } from "./messages.ts";

/** Kafka sequences wrap at 2^31. */
const SEQUENCE_MODULUS = 2 ** 31;
const META_PREFIX = "kafkaMirror/";
/** Sessions in a row refused for their sequence before the partition stops. */
const MAX_SEQUENCE_FAULTS = 5;
/** Kafka's codes that say its producer state disagrees with the mirror's. */
const OUT_OF_ORDER_SEQUENCE = 45;
const PRODUCER_STATE_CODES = new Set([47, 59, 90]);

/** What the metadata area keeps per mirrored partition. */
interface StoredState {
  /**
   * Dedicated mode: edgelog offset = Kafka offset + delta. Shared mode:
   * edgelog offset = sequence + delta (mod 2^31).
   */
  delta: number;
  /** The next edgelog offset Kafka had acknowledged, for operators. */
  offset: number;
  /** Why the partition stopped; set until an operator resumes it. */
  stopped?: string;
  /** The edgelog offset an operator resumed at: may be inside a batch. */
  resumedAt?: number;
  /**
   * Shared mode: the Kafka offset of the last batch Kafka acknowledged
   * (`acked`), or Kafka's end before the first batch was sent: this
   * broker's batches in Kafka are all at or after it.
   */
  scanFrom?: number;
  acked?: boolean;
}

/** Where a session starts. */
interface ResumePoint {
  state: StoredState;
  /** The edgelog offset of the next record to send. */
  next: number;
}

/** The last batch of this broker's producer found in a Kafka partition. */
interface OwnBatch {
  kafkaOffset: number;
  /** The sequence the batch after it must carry. */
  nextSequence: number;
}

/**
 * `mirroring`: sending or caught up; `retrying`: a fault (Kafka away, a
 * leader move), backing off; `stopped`: edgelog and Kafka disagree and an
 * operator must resume it; `starting`: before the first session.
 */
export type MirrorState = "starting" | "mirroring" | "retrying" | "stopped";

/** Every {@linkcode MirrorState}, for gauges. */
export const MIRROR_STATES: readonly MirrorState[] = [
  "starting",
  "mirroring",
  "retrying",
  "stopped",
];

/** The mirror's state of one partition. */
export interface MirrorPartitionStatus {
  topic: string;
  partition: number;
  state: MirrorState;
  /** The next edgelog offset to mirror: everything below is in Kafka. */
  mirroredOffset: number;
  /** edgelog's high watermark. */
  highWatermark: number;
  /** Records appended to edgelog and not yet acknowledged by Kafka. */
  lag: number;
  /** Records retention deleted before they were mirrored, since start. */
  skippedRecords: number;
  /** The last fault, cleared by the next acknowledgement; why, when stopped. */
  error: string | null;
}

/** What a partition mirror needs from its owner. */
export interface PartitionMirrorContext {
  client: KafkaClient;
  meta: MetaStore;
  clock: Clock;
  /** The broker's durable producer identity. */
  producer(): Promise<ProducerIdentity>;
  /** Requests in flight per partition; at most 5 keeps Kafka's dedupe window. */
  maxInFlight: number;
  /** Bytes of batches read from the log at a time (at least one batch). */
  readBytes: number;
  /** Partitions of the edgelog topic, for a Kafka topic created to match. */
  partitions: number;
  /**
   * Shared mode: other brokers write the same Kafka partition, so Kafka
   * assigns the offsets; the resume point comes from this broker's last
   * batch in Kafka, found by reading the partition from `scanFrom`.
   */
  shared: boolean;
  /** Whether to create the Kafka topic when missing. */
  createTopic: boolean;
  /** Replication factor of created topics; -1 for the broker default. */
  replicationFactor: number;
  /** Called after Kafka acknowledged `records` records. */
  onMirrored(records: number, mirroredOffset: number): void;
  onError(err: unknown): void;
  /** Called when the partition stops on a disagreement, and at start while stopped. */
  onStopped(err: Error): void;
}

/** edgelog and Kafka disagree: the partition stops until resumed. */
export class MirrorDivergedError extends KafkaError {
  constructor(message: string) {
    super(-1, message, { type: "MIRROR_DIVERGED" });
  }
}

/** {@linkcode PartitionMirror.resume} on a partition that is not stopped. */
export class MirrorNotStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MirrorNotStoppedError";
  }
}

interface InFlight {
  answer: Promise<ProducePartitionResult>;
  /**
   * The Kafka offset Kafka must give the batch's first record (shared
   * mode: its sequence, since Kafka chooses the offset).
   */
  kafkaOffset: number;
  records: number;
  /** The edgelog offset after the batch. */
  nextOffset: number;
}

function metaKey(topic: string, partition: number): string {
  return `${META_PREFIX}${topic}/${partition}`;
}

/** The baseSequence of the batch Kafka must put at `kafkaOffset`. */
export function sequenceAt(kafkaOffset: number): number {
  return kafkaOffset % SEQUENCE_MODULUS;
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
  #phase: MirrorState = "starting";
  #wake: (() => void) | undefined;
  #persisted: Promise<void> = Promise.resolve();
  #dirty = false;
  #state: StoredState | undefined;
  #resumeFrom: number | undefined;
  /** Shared mode: Kafka offset of the last batch Kafka acknowledged. */
  #lastBatch: number | undefined;

  constructor(log: PartitionLog, ctx: PartitionMirrorContext) {
    this.topic = log.topic;
    this.partition = log.partition;
    this.#log = log;
    this.#ctx = ctx;
    this.#mirrored = log.logStartOffset;
  }

  /** Wakes the loop after an append or a resume. */
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
      state: this.#phase,
      mirroredOffset: this.#mirrored,
      highWatermark,
      lag: Math.max(0, highWatermark - this.#mirrored),
      skippedRecords: this.#skipped,
      error: this.#error,
    };
  }

  /**
   * Starts a stopped partition again: Kafka's current end offset is taken
   * to hold edgelog offset `from`, and mirroring goes on from there. `from`
   * below what Kafka holds of edgelog leaves those records twice in Kafka;
   * above, it leaves them out: the operator decides (docs/kafka_mirror.md).
   * Throws {@linkcode MirrorNotStoppedError} unless stopped, RangeError
   * unless `from` is within the partition's offsets.
   */
  resume(from: number): void {
    if (this.#phase !== "stopped") {
      throw new MirrorNotStoppedError(
        `The mirror of ${this.topic}-${this.partition} is ${this.#phase}, not stopped`,
      );
    }
    const { logStartOffset, highWatermark } = this.#log;
    if (
      !Number.isSafeInteger(from) || from < logStartOffset ||
      from > highWatermark
    ) {
      throw new RangeError(
        `Offset ${from} is outside ${this.topic}-${this.partition}'s ${logStartOffset}-${highWatermark}`,
      );
    }
    this.#resumeFrom = from;
    this.#phase = "starting";
    this.notify();
  }

  /**
   * Runs sessions until `signal` aborts, backing off after faults (100 ms
   * doubling to 5 s) and waiting for {@linkcode resume} after a
   * disagreement. Resolves once the last session's requests settled and
   * the mirrored offset is stored.
   */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 100;
    let sequenceFaults = 0;
    const stored = await this.#ctx.meta.get(
      metaKey(this.topic, this.partition),
    ) as StoredState | undefined;
    if (stored !== undefined) {
      this.#state = { ...stored };
      this.#mirrored = Math.max(this.#mirrored, stored.offset);
      if (stored.stopped !== undefined) {
        // Said again at every start: a stopped partition stays loud.
        this.#phase = "stopped";
        this.#error = stored.stopped;
        this.#ctx.onStopped(new Error(stored.stopped));
      }
    }
    while (!signal.aborted) {
      if (this.#phase === "stopped") {
        await this.#woken(signal);
        continue;
      }
      try {
        await this.#session(signal);
        backoff = 100;
      } catch (err) {
        if (signal.aborted) break;
        const code = err instanceof KafkaError ? err.code : 0;
        sequenceFaults = code === OUT_OF_ORDER_SEQUENCE
          ? sequenceFaults + 1
          : 0;
        if (sequenceFaults >= MAX_SEQUENCE_FAULTS) {
          await this.#stop(
            new MirrorDivergedError(
              `Kafka refused ${sequenceFaults} sessions in a row for their sequence ` +
                `at edgelog offset ${this.#mirrored} of ${this.topic}-${this.partition} ` +
                `(${(err as Error).message})`,
            ),
          );
          sequenceFaults = 0;
          continue;
        }
        if (err instanceof MirrorDivergedError) {
          await this.#stop(err);
          continue;
        }
        this.#phase = "retrying";
        this.#error = (err as Error).message;
        this.#ctx.onError(err);
        await this.#ctx.clock.sleep(backoff, signal).catch(() => {});
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    await this.#persist();
  }

  async #stop(err: MirrorDivergedError): Promise<void> {
    this.#phase = "stopped";
    this.#error = err.message;
    const state = this.#state ?? { delta: 0, offset: this.#mirrored };
    state.stopped = err.message;
    this.#state = state;
    await this.#store().catch((e) => this.#ctx.onError(e));
    this.#ctx.onStopped(err);
  }

  async #session(signal: AbortSignal): Promise<void> {
    const { client } = this.#ctx;
    const leader = await this.#leader();
    const producer = await this.#ctx.producer();
    const kafkaEnd = await client.endOffset(this.topic, this.partition, leader);
    const resume = await this.#resumePoint(kafkaEnd, leader, producer);
    const { state } = resume;
    let next = resume.next;
    if (next > this.#log.highWatermark) {
      throw new MirrorDivergedError(
        `Kafka partition ${this.topic}-${this.partition} ends at ${kafkaEnd}, ` +
          `which puts the mirror at edgelog offset ${next}, past edgelog's high ` +
          `watermark ${this.#log.highWatermark} (delta ${state.delta}): Kafka holds ` +
          `records the mirror did not write, or edgelog lost acknowledged records`,
      );
    }
    this.#advance(next, 0);
    this.#phase = "mirroring";
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
          await this.#store();
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
          await this.#woken(signal);
          continue;
        }
        const batches = await this.#log.readBatches(next, this.#ctx.readBytes);
        for (const batch of batches) {
          if (inFlight.length >= this.#ctx.maxInFlight) break;
          const kafkaOffset = next - state.delta;
          const { bytes, after } = await this.#outgoing(
            batch,
            next,
            state,
            producer,
            sequenceAt(kafkaOffset),
          );
          inFlight.push({
            answer: client.produce(
              { topic: this.topic, partition: this.partition, batch: bytes },
              leader,
            ),
            kafkaOffset,
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

  /**
   * The bytes to send for the stored `batch` when the mirror is at `next`:
   * a copy with the producer fields set, or, when an operator resumed
   * inside the batch, its tail re-encoded. Any other misfit is a
   * disagreement.
   */
  async #outgoing(
    batch: Uint8Array,
    next: number,
    state: StoredState,
    producer: ProducerIdentity,
    sequence: number,
  ): Promise<{ bytes: Uint8Array; after: number }> {
    const header = readBatchHeader(batch);
    const after = lastOffset(header) + 1;
    if (header.baseOffset === next) {
      const copy = batch.slice();
      setBaseOffset(copy, 0);
      new DataView(copy.buffer).setInt32(12, -1);
      setProducer(copy, producer.producerId, producer.producerEpoch, sequence);
      return { bytes: copy, after };
    }
    if (header.baseOffset < next && next < after && state.resumedAt === next) {
      const { records } = await decodeBatch(batch);
      const tail = records.filter((r) => r.offset >= next);
      const bytes = await encodeBatch(tail, {
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        baseSequence: sequence,
        now: header.maxTimestamp,
      });
      return { bytes, after };
    }
    throw new MirrorDivergedError(
      `The mirror of ${this.topic}-${this.partition} is to resume at edgelog offset ${next}, ` +
        `but edgelog's batch there spans ` +
        `${header.baseOffset}-${
          after - 1
        }: Kafka holds records the mirror did not ` +
        `write, or some twice`,
    );
  }

  async #settle(flight: InFlight): Promise<void> {
    const result = await flight.answer;
    const at = flight.nextOffset - flight.records;
    if (result.errorCode !== 0) {
      const detail =
        `Kafka refused edgelog offsets ${at}-${flight.nextOffset - 1} of ` +
        `${this.topic}-${this.partition} (${
          this.#ctx.shared ? "sequence" : "Kafka offset"
        } ${flight.kafkaOffset})` +
        (result.errorMessage ? ` (${result.errorMessage})` : "");
      if (PRODUCER_STATE_CODES.has(result.errorCode)) {
        throw new MirrorDivergedError(
          `${detail}: ${new KafkaError(result.errorCode, "").type}, ` +
            `another writer uses this broker's producer id`,
        );
      }
      throw new KafkaError(result.errorCode, detail);
    }
    if (this.#ctx.shared) {
      this.#lastBatch = result.baseOffset;
    } else if (result.baseOffset !== flight.kafkaOffset) {
      throw new MirrorDivergedError(
        `Kafka put edgelog offset ${at} of ${this.topic}-${this.partition} at ` +
          `Kafka offset ${result.baseOffset}, expected ${flight.kafkaOffset}`,
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
    if (this.#lastBatch !== undefined) {
      state.scanFrom = this.#lastBatch;
      state.acked = true;
    }
    await this.#store();
  }

  async #store(): Promise<void> {
    const state = this.#state;
    if (state === undefined) return;
    await this.#ctx.meta.set(metaKey(this.topic, this.partition), {
      ...state,
    });
  }

  /**
   * Where the session starts and its mapping: an operator's resume, the
   * stored mapping, or a new one.
   */
  async #resumePoint(
    kafkaEnd: number,
    leader: number,
    producer: ProducerIdentity,
  ): Promise<ResumePoint> {
    const { shared } = this.#ctx;
    const from = this.#resumeFrom;
    if (from !== undefined) {
      this.#resumeFrom = undefined;
      let state: StoredState = {
        delta: from - kafkaEnd,
        offset: from,
        resumedAt: from,
      };
      if (shared) {
        const own = await this.#ownTail(
          this.#state?.scanFrom ?? kafkaEnd,
          kafkaEnd,
          leader,
          producer,
        );
        state = {
          delta: from - (own?.nextSequence ?? 0),
          offset: from,
          resumedAt: from,
          scanFrom: own?.kafkaOffset ?? kafkaEnd,
          acked: own !== undefined,
        };
      }
      this.#state = state;
      this.#lastBatch = undefined;
      this.#mirrored = from;
      await this.#store();
      return { state, next: from };
    }
    const stored = this.#state;
    if (stored === undefined) {
      if (!shared && kafkaEnd !== 0) {
        throw new MirrorDivergedError(
          `Kafka partition ${this.topic}-${this.partition} already holds ${kafkaEnd} records ` +
            `this broker did not mirror; resume at the edgelog offset Kafka's end stands for, ` +
            `delete the Kafka topic, or mirror into another one`,
        );
      }
      const start = this.#log.logStartOffset;
      const state: StoredState = shared
        ? { delta: start, offset: start, scanFrom: kafkaEnd, acked: false }
        : { delta: start, offset: start };
      this.#state = state;
      await this.#store();
      return { state, next: start };
    }
    if (!shared) return { state: stored, next: kafkaEnd + stored.delta };
    return {
      state: stored,
      next: await this.#sharedNext(stored, kafkaEnd, leader, producer),
    };
  }

  /**
   * Shared mode: the edgelog offset after this broker's last batch in
   * Kafka. Kafka's own record of the producer is the truth here, not the
   * stored offset, which may lag it after a crash.
   */
  async #sharedNext(
    state: StoredState,
    kafkaEnd: number,
    leader: number,
    producer: ProducerIdentity,
  ): Promise<number> {
    const scanFrom = state.scanFrom ?? kafkaEnd;
    const own = await this.#ownTail(scanFrom, kafkaEnd, leader, producer);
    if (own === undefined) {
      if (state.acked) {
        throw new MirrorDivergedError(
          `Kafka partition ${this.topic}-${this.partition} no longer holds this broker's ` +
            `batch at Kafka offset ${scanFrom} (edgelog offsets up to ${
              state.offset - 1
            }): ` +
            `the partition was truncated or its records deleted`,
        );
      }
      return state.offset;
    }
    const stored = state.offset - state.delta;
    const ahead = (((own.nextSequence - stored) % SEQUENCE_MODULUS) +
      SEQUENCE_MODULUS) % SEQUENCE_MODULUS;
    return state.offset + ahead;
  }

  /** Shared mode: reads the Kafka partition from `from` for this broker's last batch. */
  async #ownTail(
    from: number,
    kafkaEnd: number,
    leader: number,
    producer: ProducerIdentity,
  ): Promise<OwnBatch | undefined> {
    let own: OwnBatch | undefined;
    let offset = from;
    while (offset < kafkaEnd) {
      const { records } = await this.#ctx.client.fetch(
        this.topic,
        this.partition,
        offset,
        leader,
        this.#ctx.readBytes,
      );
      const before = offset;
      for (let at = 0; at < records.length;) {
        let header;
        try {
          header = readBatchHeader(records, at);
        } catch {
          break;
        }
        if (
          header.producerId === producer.producerId &&
          header.producerEpoch === producer.producerEpoch
        ) {
          own = {
            kafkaOffset: header.baseOffset,
            nextSequence: (header.baseSequence + header.lastOffsetDelta + 1) %
              SEQUENCE_MODULUS,
          };
        }
        offset = lastOffset(header) + 1;
        at += batchSize(header);
      }
      if (offset === before) {
        throw new KafkaError(
          -1,
          `Reading ${this.topic}-${this.partition} at Kafka offset ${offset} returned no whole batch`,
          { retriable: true },
        );
      }
    }
    return own;
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

  /** Resolves at the next append, resume or abort. */
  #woken(signal: AbortSignal): Promise<void> {
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
