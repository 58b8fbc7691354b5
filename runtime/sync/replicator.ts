/**
 * The device side of replication: each local partition of a synced topic is
 * a stream, pushed to the upstream exactly once. The local log is the retry
 * buffer — batches go out unchanged but for producerId, producerEpoch and
 * baseSequence (derived from the local offset), so any retry, lost answer,
 * crash or offline stretch is resolved by the upstream's idempotent-producer
 * rule, never by state kept only here.
 *
 * Portable: Web-standard APIs only, time and randomness injected, so the
 * browser SDK runs this file unchanged.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import {
  lastOffset as batchLastOffset,
  readBatchHeader,
} from "../format/batch_header.ts";
import type { MetaStore } from "../log/storage.ts";
import { BacklogBytes } from "./backlog_bytes.ts";
import { backoffDelay } from "./backoff.ts";
import {
  type InFlight,
  openPushes,
  takeAnsweredPrefix,
  windowSettled,
} from "./in_flight_window.ts";
import { progressKey, ProgressWriter } from "./progress_writer.ts";
import { PushBatcher } from "./push_batcher.ts";
import { batchesFrom, pushBody } from "./push_body.ts";
import { type PushCompression, StreamCompression } from "./push_compression.ts";
import type {
  ReplicatorEvents,
  ReplicatorLog,
  ReplicatorOptions,
  ReplicatorPartition,
  ReplicatorStatus,
  SyncUpstream,
} from "./replicator_types.ts";
import type { PushResult, Registration } from "./stream_registry.ts";

export type {
  ReplicatorAppend,
  ReplicatorEvents,
  ReplicatorLog,
  ReplicatorOptions,
  ReplicatorPartition,
  ReplicatorStatus,
  StreamStatus,
  SyncUpstream,
} from "./replicator_types.ts";

interface StreamState {
  topic: string;
  sourcePartition: number;
  registration: Registration | undefined;
  ackedOffset: number;
  droppedRecords: number;
  lastSuccessMs: number | null;
  lastError: string | null;
  lastErrorCode: string | null;
  lastErrorMs: number | null;
  fenced: boolean;
  loaded: Promise<void>;
  /** The stream's progress in meta, see #acked. */
  progress: ProgressWriter;
  wake: (() => void) | undefined;
  /** Wakes a following drain waiting on its window (a local append). */
  nudge: (() => void) | undefined;
  sleep: AbortController | undefined;
  running: Promise<void> | undefined;
  /** Drains run one at a time per stream (background loop and syncOnce). */
  draining: Promise<void>;
  compression: StreamCompression;
  /** Sizes of the unsynced batches, once measured. */
  backlog: BacklogBytes | undefined;
  measuring: Promise<void> | undefined;
}

/** A body of batches to push, and the local offsets it covers. */
interface Request {
  body: Uint8Array;
  lastOffset: number;
  /** Records dropped unsynced just before it (the declared gap). */
  dropped: number;
}

/** Why a drain stops sending: a failure to report or a rewind. */
interface Halt {
  failure: unknown;
  rewindTo: number | undefined;
}

/** Stops the retries of a stream: a newer replicator owns it. */
class Fenced extends Error {}

/** Consecutive rewinds without progress before a drain gives up. */
const MAX_REWINDS = 16;

function streamKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * The code a status shows for a failure: the upstream's error code, or
 * UNREACHABLE when the request never got an answer.
 */
export function syncErrorCode(err: unknown): string {
  if (err instanceof TypeError) return "UNREACHABLE";
  return codeOf(err) ?? "INTERNAL";
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A retention floor for `LogOptions.retentionFloor` that a replicator made
 * after the log fills in: offsets the upstream does not hold yet are never
 * removed by retention. Until the replicator exists, everything is kept.
 *
 * @example Usage
 * ```ts ignore
 * let replicator: Replicator | undefined;
 * const log = await Log.open({ storage, retentionFloor: syncRetentionFloor(() => replicator) });
 * replicator = new Replicator({ log, client, nodeId });
 * ```
 */
export function syncRetentionFloor(
  replicator: () =>
    | { retentionFloor(topic: string, partition: number): number }
    | undefined,
): (topic: string, partition: number) => number {
  return (topic, partition) =>
    replicator()?.retentionFloor(topic, partition) ?? 0;
}

/**
 * Replicates local streams to an upstream.
 *
 * @example Usage
 * ```ts ignore
 * const replicator = new Replicator({ log, client, nodeId: "gw-1" });
 * replicator.start();
 * replicator.on("ack", (e) => console.log(e.topic, e.ackedOffset));
 * ```
 */
export class Replicator {
  #log: ReplicatorLog;
  #client: SyncUpstream;
  #nodeId: string;
  #topics: ReadonlySet<string> | undefined;
  #meta: MetaStore;
  #clock: Clock;
  #random: () => number;
  #maxInFlight: number;
  #maxBatchBytes: number;
  #compression: PushCompression;
  #backoff: { baseMs?: number; maxMs?: number };
  #progressIntervalMs: number;
  /** Gathers pushes of several streams; absent when the client cannot. */
  #batcher: PushBatcher | undefined;
  #streams = new Map<string, StreamState>();
  #listeners = new Map<keyof ReplicatorEvents, Set<(e: never) => void>>();
  #online = false;
  #running = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: ReplicatorOptions) {
    this.#log = options.log;
    this.#client = options.client;
    this.#nodeId = options.nodeId;
    this.#topics = options.topics === undefined
      ? undefined
      : new Set(options.topics);
    this.#meta = options.meta ?? options.log.meta;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 3);
    this.#maxBatchBytes = options.maxBatchBytes ?? 1 << 20;
    this.#compression = options.compression ?? "none";
    this.#backoff = options.backoff ?? {};
    this.#progressIntervalMs = options.progressIntervalMs ?? 1000;
    const client = options.client;
    if (client.pushStreams !== undefined && options.multiStreamPush !== false) {
      this.#batcher = new PushBatcher({
        pushBatches: (id, bytes) => client.pushBatches(id, bytes),
        pushStreams: (bytes) => client.pushStreams!(bytes),
      }, { maxRequests: this.#maxInFlight });
    }
  }

  /** Whether the replicator syncs `topic`. */
  syncs(topic: string): boolean {
    return this.#topics === undefined || this.#topics.has(topic);
  }

  /**
   * The first local offset that retention must keep: one past the upstream's
   * ack (0 until it is known); no floor for topics that are not synced.
   */
  retentionFloor(topic: string, partition: number): number {
    if (!this.syncs(topic)) return Number.POSITIVE_INFINITY;
    const stream = this.#streams.get(streamKey(topic, partition));
    return stream === undefined ? 0 : stream.ackedOffset + 1;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ReplicatorEvents>(
    type: K,
    listener: (event: ReplicatorEvents[K]) => void,
  ): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener as (e: never) => void);
    this.#listeners.set(type, set);
    return () => set.delete(listener as (e: never) => void);
  }

  #emit<K extends keyof ReplicatorEvents>(
    type: K,
    event: ReplicatorEvents[K],
  ): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (e: ReplicatorEvents[K]) => void)(event);
      } catch (err) {
        console.error("edgelog: replicator listener failed", err);
      }
    }
  }

  /** The streams the local log holds now, created (and their acks loaded) on first sight. */
  #discover(): StreamState[] {
    for (const topic of this.#log.listTopics()) {
      if (!this.syncs(topic.name)) continue;
      for (let p = 0; p < topic.partitions; p++) this.#stream(topic.name, p);
    }
    return [...this.#streams.values()];
  }

  #stream(topic: string, partition: number): StreamState {
    const key = streamKey(topic, partition);
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      const created: StreamState = {
        topic,
        sourcePartition: partition,
        registration: undefined,
        ackedOffset: -1,
        droppedRecords: 0,
        lastSuccessMs: null,
        lastError: null,
        lastErrorCode: null,
        lastErrorMs: null,
        fenced: false,
        loaded: Promise.resolve(),
        progress: new ProgressWriter(this.#meta, {
          key: progressKey(topic, partition),
          current: () => ({
            ackedOffset: created.ackedOffset,
            droppedRecords: created.droppedRecords,
          }),
          clock: this.#clock,
          intervalMs: this.#progressIntervalMs,
        }),
        wake: undefined,
        nudge: undefined,
        sleep: undefined,
        running: undefined,
        draining: Promise.resolve(),
        compression: new StreamCompression(this.#compression),
        backlog: undefined,
        measuring: undefined,
      };
      created.loaded = this.#meta.get(progressKey(topic, partition)).then(
        (saved) => {
          const s = saved as
            | { ackedOffset: number; droppedRecords: number }
            | undefined;
          if (s !== undefined) {
            created.ackedOffset = Math.max(created.ackedOffset, s.ackedOffset);
            created.droppedRecords = Math.max(
              created.droppedRecords,
              s.droppedRecords,
            );
          }
        },
      );
      this.#streams.set(key, created);
      stream = created;
      if (this.#running) this.#runStream(created);
    }
    return stream;
  }

  /** Starts replicating in the background, waking on local appends. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#log.onAppend((event) => {
      if (!this.syncs(event.topic)) return;
      const stream = this.#stream(event.topic, event.partition);
      stream.backlog?.add(event.baseOffset, event.lastOffset, event.bytes);
      stream.nudge?.();
      stream.wake?.();
    });
    for (const stream of this.#discover()) this.#runStream(stream);
  }

  /** Stops replicating; resolves once no request is in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const runs: Promise<void>[] = [];
    for (const stream of this.#streams.values()) {
      stream.nudge?.();
      stream.wake?.();
      stream.sleep?.abort();
      if (stream.running) runs.push(stream.running);
    }
    await Promise.all(runs);
    await Promise.all(
      [...this.#streams.values()].map((s) => s.progress.flush()),
    );
  }

  /** Retries at once instead of waiting out the backoff: the network is back. */
  notifyOnline(): void {
    for (const stream of this.#streams.values()) {
      stream.sleep?.abort();
      stream.wake?.();
    }
  }

  /**
   * Pushes everything every stream holds now, then resolves; rejects with
   * the first error (no backoff). For tests and one-shot syncs.
   */
  async syncOnce(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      this.#discover().map(async (stream) => {
        if (stream.fenced) return;
        try {
          await this.#drain(stream);
        } catch (err) {
          errors.push(err instanceof Fenced ? this.#fencedError(stream) : err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  #fencedError(stream: StreamState): EdgelogError {
    return new EdgelogError(
      "FENCED",
      `Stream ${stream.topic}/${stream.sourcePartition} is fenced by a newer replicator`,
    );
  }

  /**
   * Per-stream progress, PROTOCOL.md's status shape. A stream's `lagBytes`
   * is null until its unsynced batches were measured once; asking starts
   * that (see {@linkcode measureLag}).
   */
  status(): ReplicatorStatus {
    const streams = [...this.#streams.values()].map((s) => {
      const partition = this.#partition(s);
      const hw = partition.highWatermark;
      return {
        topic: s.topic,
        sourcePartition: s.sourcePartition,
        ackedOffset: s.ackedOffset,
        highWatermark: hw,
        lagRecords: Math.max(0, hw - s.ackedOffset - 1),
        lastSuccessMs: s.lastSuccessMs,
        lastError: s.lastError,
        lastErrorCode: s.lastErrorCode,
        lastErrorMs: s.lastErrorMs,
        droppedRecords: s.droppedRecords,
        fenced: s.fenced,
        lagBytes: this.#lagBytes(s, partition),
      };
    });
    return {
      online: this.#online,
      streams: streams.sort((a, b) =>
        a.topic === b.topic
          ? a.sourcePartition - b.sourcePartition
          : a.topic < b.topic
          ? -1
          : 1
      ),
    };
  }

  /**
   * Measures the bytes of every stream's unsynced batches, so that
   * status() reports `lagBytes` at once afterwards. A stream's first
   * measure reads its unsynced batches once (their sizes, in pages of
   * maxBatchBytes); after that the ledger is kept by the replicator's
   * append events, cut by acks and by records dropped before the log
   * start, and read again only for appends it did not see (before start(),
   * or while stopped). Costs 24 bytes of memory per unsynced append.
   */
  async measureLag(): Promise<void> {
    await Promise.all(this.#discover().map((s) => this.#measure(s)));
  }

  #measure(stream: StreamState): Promise<void> {
    stream.measuring ??= this.#measureNow(stream).finally(() => {
      stream.measuring = undefined;
    });
    return stream.measuring;
  }

  async #measureNow(stream: StreamState): Promise<void> {
    await stream.loaded;
    const partition = this.#partition(stream);
    for (;;) {
      const backlog = this.#trimmedBacklog(stream, partition);
      if (backlog.end >= partition.highWatermark) return;
      const batches = await partition.readBatches(
        backlog.end,
        this.#maxBatchBytes,
      );
      if (stream.backlog !== backlog) continue;
      for (const batch of batches) {
        const header = readBatchHeader(batch);
        backlog.add(header.baseOffset, batchLastOffset(header), batch.length);
      }
    }
  }

  /**
   * The stream's ledger cut to what is still unsynced; a new one when
   * there is none yet or the ack moved back (a registration said the
   * upstream holds less than this device thought).
   */
  #trimmedBacklog(
    stream: StreamState,
    partition: ReplicatorPartition,
  ): BacklogBytes {
    const floor = Math.max(stream.ackedOffset + 1, partition.logStartOffset);
    let backlog = stream.backlog;
    if (backlog === undefined || backlog.start > floor) {
      backlog = new BacklogBytes(floor);
      stream.backlog = backlog;
    }
    backlog.trimThrough(floor - 1);
    return backlog;
  }

  #lagBytes(
    stream: StreamState,
    partition: ReplicatorPartition,
  ): number | null {
    const backlog = stream.backlog === undefined
      ? undefined
      : this.#trimmedBacklog(stream, partition);
    if (backlog !== undefined && backlog.end >= partition.highWatermark) {
      return backlog.bytes;
    }
    this.#measure(stream).catch(() => undefined);
    return null;
  }

  #runStream(stream: StreamState): void {
    if (stream.running !== undefined || stream.fenced) return;
    stream.running = this.#loop(stream).finally(() => {
      stream.running = undefined;
    });
  }

  async #loop(stream: StreamState): Promise<void> {
    let attempt = 0;
    while (this.#running && !stream.fenced) {
      try {
        const woken = this.#waitForWake(stream);
        await this.#drain(stream, true);
        attempt = 0;
        const hw = this.#partition(stream).highWatermark;
        if (this.#running && hw <= stream.ackedOffset + 1) await woken;
      } catch (err) {
        if (err instanceof Fenced) break;
        const delay = backoffDelay(attempt++, {
          ...this.#backoff,
          random: this.#random,
        });
        stream.sleep = new AbortController();
        try {
          await this.#clock.sleep(delay, stream.sleep.signal);
        } catch {
          attempt = 0;
        } finally {
          stream.sleep = undefined;
        }
      }
    }
  }

  /**
   * Resolves on the stream's next local append: a following drain with
   * room in its window sends it at once rather than after the next answer.
   */
  #nudged(stream: StreamState): Promise<void> {
    return new Promise((resolve) => {
      stream.nudge = resolve;
    });
  }

  #waitForWake(stream: StreamState): Promise<void> {
    return new Promise((resolve) => {
      stream.wake = () => {
        stream.wake = undefined;
        resolve();
      };
    });
  }

  #partition(stream: StreamState): ReplicatorPartition {
    return this.#log.partition(stream.topic, stream.sourcePartition);
  }

  async #register(stream: StreamState): Promise<Registration> {
    const registration = await this.#client.registerStream(
      this.#nodeId,
      stream.topic,
      stream.sourcePartition,
    );
    stream.registration = registration;
    stream.ackedOffset = registration.ackedOffset;
    stream.progress.changed();
    return registration;
  }

  /** Records an ack from the upstream, durably and in order. */
  #acked(stream: StreamState, ackedOffset: number): void {
    if (ackedOffset <= stream.ackedOffset) return;
    stream.ackedOffset = ackedOffset;
    stream.progress.changed();
    this.#emit("ack", {
      topic: stream.topic,
      sourcePartition: stream.sourcePartition,
      ackedOffset,
    });
  }

  #failed(stream: StreamState, err: unknown): void {
    const status = (err as { status?: unknown } | null)?.status;
    this.#online = !(err instanceof TypeError) &&
      codeOf(err) !== "UNAVAILABLE" &&
      !(typeof status === "number" && status >= 500);
    stream.lastError = err instanceof Error ? err.message : String(err);
    stream.lastErrorCode = syncErrorCode(err);
    stream.lastErrorMs = this.#clock.now();
    this.#emit("error", {
      topic: stream.topic,
      sourcePartition: stream.sourcePartition,
      error: err,
    });
  }

  /**
   * Sends the stream's records up to the high watermark seen on entry (or,
   * when `follow`ing for the background loop, as far as the log grows while
   * it runs), keeping up to maxInFlight requests in flight: each answer
   * makes room for the next request, and a following drain sends a local
   * append at once while its window has room. Answers may come back in any order;
   * the durable ack only advances over the contiguous answered prefix of
   * the window; an out-of-order answer or a failure stops sending, lets the
   * window settle, then rewinds to the upstream's expected offset or
   * reports the failure.
   */
  #drain(stream: StreamState, follow = false): Promise<void> {
    const run = stream.draining.then(() => this.#drainNow(stream, follow));
    stream.draining = run.catch(() => undefined);
    return run;
  }

  async #drainNow(stream: StreamState, follow: boolean): Promise<void> {
    await stream.loaded;
    try {
      const registration = stream.registration ?? await this.#register(stream);
      let target = this.#partition(stream).highWatermark;
      let cursor = stream.ackedOffset + 1;
      let rewinds = 0;
      let rewoundAt = stream.ackedOffset;
      const inFlight: InFlight[] = [];
      const halt: Halt = { failure: undefined, rewindTo: undefined };
      const halted = () =>
        halt.failure !== undefined || halt.rewindTo !== undefined;
      for (;;) {
        let exhausted = false;
        while (inFlight.length < this.#maxInFlight && !halted()) {
          if (follow && !this.#running) break;
          if (cursor >= target && follow) {
            target = this.#partition(stream).highWatermark;
          }
          if (cursor >= target) break;
          let request;
          try {
            request = await this.#nextRequest(stream, registration, cursor);
          } catch (err) {
            halt.failure ??= err;
            break;
          }
          if (request === undefined) {
            exhausted = true;
            break;
          }
          if (halted()) break;
          inFlight.push(this.#send(stream, registration, request, halt));
          cursor = request.lastOffset + 1;
        }
        if (inFlight.length > 0) {
          const waits = openPushes(inFlight).map((r) => r.settled);
          if (
            waits.length > 0 && follow && !halted() &&
            inFlight.length < this.#maxInFlight
          ) waits.push(this.#nudged(stream));
          if (waits.length > 0) await Promise.race(waits);
          stream.nudge = undefined;
          this.#advance(stream, inFlight);
          if (halted() && windowSettled(inFlight)) {
            inFlight.length = 0;
          }
          continue;
        }
        if (halt.failure !== undefined) this.#fail(stream, halt.failure);
        if (exhausted || (follow && !this.#running)) break;
        if (halt.rewindTo === undefined && stream.ackedOffset + 1 >= target) {
          break;
        }
        if (stream.ackedOffset > rewoundAt) rewinds = 0;
        rewoundAt = stream.ackedOffset;
        if (++rewinds > MAX_REWINDS) {
          throw new EdgelogError(
            "OUT_OF_ORDER_SEQUENCE",
            `Stream ${stream.topic}/${stream.sourcePartition} keeps being refused at offset ${
              halt.rewindTo ?? stream.ackedOffset + 1
            }`,
          );
        }
        halt.rewindTo = undefined;
        cursor = stream.ackedOffset + 1;
      }
      if (!follow) await stream.progress.flush();
    } catch (err) {
      if (!(err instanceof Fenced)) this.#failed(stream, err);
      throw err;
    }
  }

  /**
   * Applies the answers of the window's contiguous answered prefix, in
   * offset order, and removes them: an answer behind a request still in
   * flight (or failed) waits, so the durable ack never passes a hole.
   */
  #advance(stream: StreamState, inFlight: InFlight[]): void {
    for (const { entry: request, answer } of takeAnsweredPrefix(inFlight)) {
      if (request.dropped > 0 && answer.ackedOffset >= request.lastOffset) {
        stream.droppedRecords += request.dropped;
        this.#emit("dropped", {
          topic: stream.topic,
          sourcePartition: stream.sourcePartition,
          records: request.dropped,
        });
      }
      this.#acked(stream, answer.ackedOffset);
    }
  }

  /** Throws a drain's failure once its window settled, fencing if need be. */
  #fail(stream: StreamState, failure: unknown): never {
    const code = codeOf(failure);
    if (code === "FENCED") {
      stream.fenced = true;
      stream.lastError = failure instanceof Error
        ? failure.message
        : String(failure);
      stream.lastErrorCode = "FENCED";
      stream.lastErrorMs = this.#clock.now();
      this.#emit("fenced", {
        topic: stream.topic,
        sourcePartition: stream.sourcePartition,
      });
      throw new Fenced();
    }
    if (code === "UNKNOWN_STREAM" || code === "BAD_REQUEST") {
      stream.registration = undefined;
    }
    throw failure;
  }

  /**
   * Pushes a request. Its outcome lands in the returned entry and, for an
   * out-of-order answer or a failure, in `halt`.
   */
  #send(
    stream: StreamState,
    registration: Registration,
    request: Request,
    halt: Halt,
  ): InFlight {
    const entry: InFlight = {
      lastOffset: request.lastOffset,
      dropped: request.dropped,
      answer: undefined,
      failed: false,
      settled: Promise.resolve(),
    };
    let pushed: Promise<PushResult>;
    try {
      // One stream gains nothing from the batcher; a declared gap needs
      // the stream's own route.
      pushed = this.#batcher !== undefined && this.#streams.size > 1 &&
          request.dropped === 0
        ? this.#batcher.push(registration.producerId, request.body)
        : this.#client.pushBatches(
          registration.producerId,
          request.body,
          {
            ...(request.dropped > 0 ? { dropped: request.dropped } : {}),
            sourceHighWatermark: this.#partition(stream).highWatermark,
          },
        );
    } catch (err) {
      pushed = Promise.reject(err);
    }
    entry.settled = pushed.then(
      (answer) => {
        const diverged = this.#pastLog(stream, answer.ackedOffset);
        if (diverged !== undefined) {
          entry.failed = true;
          halt.failure ??= diverged;
          return;
        }
        stream.lastSuccessMs = this.#clock.now();
        stream.lastError = null;
        stream.lastErrorCode = null;
        stream.lastErrorMs = null;
        this.#online = true;
        entry.answer = answer;
      },
      (err) => {
        entry.failed = true;
        const expected = codeOf(err) === "OUT_OF_ORDER_SEQUENCE"
          ? (err as EdgelogError).extra.expectedOffset
          : undefined;
        const diverged = typeof expected === "number"
          ? this.#pastLog(stream, expected - 1)
          : undefined;
        if (typeof expected === "number" && diverged === undefined) {
          this.#online = true;
          this.#acked(stream, expected - 1);
          halt.rewindTo = expected;
        } else halt.failure ??= diverged ?? err;
      },
    );
    return entry;
  }

  /**
   * STREAM_DIVERGED when the upstream claims to hold `ackedOffset`, past
   * this log's last offset: only another writer could have pushed it there,
   * and believing it would mark records the upstream never took as synced,
   * for retention to delete.
   */
  #pastLog(stream: StreamState, ackedOffset: number): EdgelogError | undefined {
    const end = this.#partition(stream).highWatermark - 1;
    if (ackedOffset <= end) return undefined;
    return new EdgelogError(
      "STREAM_DIVERGED",
      `The upstream holds ${stream.topic}/${stream.sourcePartition} up to local offset ${ackedOffset}, past this log's last offset ${end}: another writer pushed this stream`,
      { ackedOffset },
    );
  }

  /**
   * The body starting at local offset `cursor`: the local batches with the
   * producer fields set, copied once into one buffer (gzip re-encoded when
   * the compression option says so). When records before the log start
   * were dropped unsynced, the request declares the exact gap.
   */
  async #nextRequest(
    stream: StreamState,
    registration: Registration,
    cursor: number,
  ): Promise<Request | undefined> {
    const partition = this.#partition(stream);
    let from = cursor;
    if (from < partition.logStartOffset) from = partition.logStartOffset;
    let batches: Uint8Array[];
    try {
      batches = await partition.readBatches(from, this.#maxBatchBytes);
    } catch (err) {
      if (codeOf(err) !== "OFFSET_OUT_OF_RANGE") throw err;
      const start = partition.logStartOffset;
      if (start <= from) throw err;
      from = start;
      batches = await partition.readBatches(from, this.#maxBatchBytes);
    }
    const kept = batchesFrom(batches, from);
    if (kept.length === 0) return undefined;
    const body = pushBody(kept, {
      producer: registration,
      replacements: await stream.compression.packAll(kept, registration),
    });
    const firstOffset = kept[0]!.header.baseOffset;
    return {
      body,
      lastOffset: batchLastOffset(kept.at(-1)!.header),
      dropped: firstOffset > cursor ? firstOffset - cursor : 0,
    };
  }
}
