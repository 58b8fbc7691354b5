/**
 * The log of a node: its topics, their partitions and the produce path, over
 * one storage adapter. Topic configurations live in the storage's metadata
 * area (key `topic/<name>`), so a reopened log finds its topics again.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { EdgelogError, limitError } from "../errors.ts";
import { partitionForKey } from "../format/mod.ts";
import {
  type AppendEvent,
  type DropEvent,
  PartitionLog,
} from "./partition_log.ts";
import type { MetaStore, PartitionStore, Storage } from "./storage.ts";
import { validateTopicName } from "./topic_name.ts";
import type {
  PartitionInfo,
  RecordInput,
  RecordPosition,
  TopicConfig,
  TopicInfo,
} from "./types.ts";

/** Options of {@linkcode Log.open}. */
export interface LogOptions {
  storage: Storage;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default `Math.random`; picks the sticky partition of key-less records. */
  random?: () => number;
  /** Defaults for new topics, over {@linkcode DEFAULT_TOPIC_CONFIG}. */
  defaults?: Partial<TopicConfig>;
  /** Default false: producing to an unknown topic is `TOPIC_NOT_FOUND`. */
  autoCreateTopics?: boolean;
  /** Offsets >= the returned value must not be removed by time/size retention (unsynced data). */
  retentionFloor?: (topic: string, partition: number) => number;
  /**
   * Cap on the bytes one batch's records decompress to, on append and on
   * read (a gzip bomb stops there); default the codec's default, 64 MiB.
   */
  maxDecompressedBytes?: number;
  /** Caps on topics and partitions, over {@linkcode DEFAULT_TOPIC_LIMITS}. */
  limits?: Partial<TopicLimits>;
}

/** How many topics and partitions a log may hold. */
export interface TopicLimits {
  maxTopics: number;
  maxPartitionsPerTopic: number;
  /** Partitions of all topics together. */
  maxPartitions: number;
}

/**
 * Defaults that keep a node's open files and start-up time bounded: each
 * partition holds its active segment open.
 */
export const DEFAULT_TOPIC_LIMITS: Readonly<TopicLimits> = Object.freeze({
  maxTopics: 1000,
  maxPartitionsPerTopic: 1000,
  maxPartitions: 4000,
});

/** Kafka's defaults: one partition, seven days, no size limit, no budget. */
export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = Object.freeze({
  partitions: 1,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  diskBudgetBytes: -1,
  whenFull: "reject",
});

/** Kafka's ceiling on partitions per topic, which edgelog keeps. */
const MAX_PARTITIONS = 10_000;
const TOPIC_KEY_PREFIX = "topic/";
/**
 * A topic being created or deleted: written before its partitions are made
 * or removed, cleared after, so a crash in between is finished at the next
 * open instead of leaving orphan partitions.
 */
const PENDING_KEY_PREFIX = "topic-pending/";

interface Topic {
  config: TopicConfig;
  partitions: PartitionLog[];
}

function badConfig(message: string): EdgelogError {
  return new EdgelogError("BAD_REQUEST", `Invalid topic config: ${message}`);
}

/** -1 (unlimited) or a positive safe integer. */
function checkLimit(name: string, value: unknown): number {
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) ||
    (value !== -1 && value <= 0)
  ) {
    throw badConfig(`${name} ${value} must be -1 or a positive integer`);
  }
  return value;
}

/** Merges `config` over `base`, ignoring undefined fields, and validates. */
function resolveConfig(
  base: Readonly<TopicConfig>,
  config: Readonly<Record<string, unknown>>,
): TopicConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined && Object.hasOwn(base, key)) merged[key] = value;
  }
  const { partitions, cleanupPolicy, whenFull } = merged;
  if (
    typeof partitions !== "number" || !Number.isInteger(partitions) ||
    partitions < 1 || partitions > MAX_PARTITIONS
  ) {
    throw badConfig(
      `partitions ${partitions} must be an integer from 1 to ${MAX_PARTITIONS}`,
    );
  }
  if (cleanupPolicy !== "delete" && cleanupPolicy !== "compact") {
    throw badConfig(
      `cleanupPolicy ${
        JSON.stringify(cleanupPolicy)
      } must be "delete" or "compact"`,
    );
  }
  if (whenFull !== "reject" && whenFull !== "dropOldest") {
    throw badConfig(
      `whenFull ${JSON.stringify(whenFull)} must be "reject" or "dropOldest"`,
    );
  }
  return {
    partitions,
    retentionMs: checkLimit("retentionMs", merged.retentionMs),
    retentionBytes: checkLimit("retentionBytes", merged.retentionBytes),
    cleanupPolicy,
    diskBudgetBytes: checkLimit("diskBudgetBytes", merged.diskBudgetBytes),
    whenFull,
  };
}

function topicInfo(name: string, config: TopicConfig): TopicInfo {
  return {
    name,
    partitions: config.partitions,
    retentionMs: config.retentionMs,
    retentionBytes: config.retentionBytes,
    cleanupPolicy: config.cleanupPolicy,
  };
}

/** Calls every listener; one listener's fault neither stops the others nor fails the append. */
function notify<E>(listeners: ReadonlySet<(event: E) => void>, event: E): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch {
      // The append is durable already; the listener reports its own faults.
    }
  }
}

/** The partition count a pending-topic record holds (0 when unreadable). */
function pendingPartitions(value: unknown): number {
  const partitions = (value as { partitions?: unknown } | null)?.partitions;
  return typeof partitions === "number" && Number.isSafeInteger(partitions) &&
      partitions > 0 && partitions <= MAX_PARTITIONS
    ? partitions
    : 0;
}

function topicNotFound(name: string): EdgelogError {
  return new EdgelogError("TOPIC_NOT_FOUND", `Topic '${name}' does not exist`);
}

/**
 * Topics and their partitions over one storage.
 *
 * @example Usage
 * ```ts
 * import { Log } from "./log.ts";
 * import { MemoryStorage } from "./memory_storage.ts";
 * const log = await Log.open({ storage: new MemoryStorage() });
 * await log.createTopic("events", { partitions: 3 });
 * const [position] = await log.produce("events", [
 *   { key: new TextEncoder().encode("device-7"), value: new Uint8Array([1]) },
 * ]);
 * console.assert(position!.offset === 0);
 * await log.close();
 * ```
 */
export class Log {
  /** The storage's metadata area, shared with groups and sync. */
  readonly meta: MetaStore;
  readonly clock: Clock;
  #storage: Storage;
  #random: () => number;
  #defaults: TopicConfig;
  #autoCreate: boolean;
  #retentionFloor: (topic: string, partition: number) => number;
  #decompression: { maxDecompressedBytes?: number };
  #topics = new Map<string, Topic>();
  #limits: TopicLimits;
  #partitionTotal = 0;
  #appendListeners = new Set<(event: AppendEvent) => void>();
  #dropListeners = new Set<(event: DropEvent) => void>();
  /** Serializes topic creation and deletion. */
  #admin: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: LogOptions, defaults: TopicConfig) {
    this.#storage = options.storage;
    this.meta = options.storage.meta;
    this.clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#defaults = defaults;
    this.#autoCreate = options.autoCreateTopics ?? false;
    this.#retentionFloor = options.retentionFloor ?? (() => Infinity);
    this.#decompression = options.maxDecompressedBytes === undefined
      ? {}
      : { maxDecompressedBytes: options.maxDecompressedBytes };
    this.#limits = { ...DEFAULT_TOPIC_LIMITS, ...options.limits };
  }

  /** The caps on topics and partitions. */
  get limits(): Readonly<TopicLimits> {
    return this.#limits;
  }

  /** Topics held now. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Partitions of all topics held now. */
  get partitionCount(): number {
    return this.#partitionTotal;
  }

  /** Opens the log, reloading every topic recorded in the storage's metadata. */
  static async open(options: LogOptions): Promise<Log> {
    const defaults = resolveConfig(
      DEFAULT_TOPIC_CONFIG,
      options.defaults ?? {},
    );
    const log = new Log(options, defaults);
    const configs = new Map<string, TopicConfig>();
    for (const [key, value] of await log.meta.list(TOPIC_KEY_PREFIX)) {
      configs.set(
        key.slice(TOPIC_KEY_PREFIX.length),
        resolveConfig(DEFAULT_TOPIC_CONFIG, value as Record<string, unknown>),
      );
    }
    for (const [key, value] of await log.meta.list(PENDING_KEY_PREFIX)) {
      const name = key.slice(PENDING_KEY_PREFIX.length);
      if (!configs.has(name)) {
        await log.#removePartitions(name, pendingPartitions(value));
      }
      await log.meta.delete(key);
    }
    for (const [name, config] of configs) {
      log.#topics.set(name, {
        config,
        partitions: await log.#openPartitions(name, config),
      });
      log.#partitionTotal += config.partitions;
    }
    return log;
  }

  /** Every topic, sorted by name. */
  listTopics(): TopicInfo[] {
    return [...this.#topics.keys()].sort().map((name) =>
      topicInfo(name, this.#topics.get(name)!.config)
    );
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name);
  }

  /** The full configuration of a topic; `TOPIC_NOT_FOUND` when absent. */
  topicConfig(name: string): TopicConfig {
    return { ...this.#topic(name).config };
  }

  /**
   * Creates a topic with `config` over the log's defaults. `BAD_REQUEST` for
   * an invalid name or config, `TOPIC_EXISTS` when the name is taken.
   */
  createTopic(
    name: string,
    config: Partial<TopicConfig> = {},
  ): Promise<TopicInfo> {
    return this.#adminTask(async () => {
      validateTopicName(name);
      const resolved = resolveConfig(this.#defaults, config);
      if (this.#topics.has(name)) {
        throw new EdgelogError(
          "TOPIC_EXISTS",
          `Topic '${name}' already exists`,
        );
      }
      this.#checkLimits(resolved.partitions);
      const pendingKey = PENDING_KEY_PREFIX + name;
      await this.meta.set(pendingKey, { partitions: resolved.partitions });
      // A crash during an earlier deletion may have left partitions behind.
      await this.#removePartitions(name, resolved.partitions);
      let partitions: PartitionLog[] = [];
      try {
        partitions = await this.#openPartitions(name, resolved);
        await this.meta.set(TOPIC_KEY_PREFIX + name, resolved);
      } catch (err) {
        await Promise.all(partitions.map((p) => p.close()));
        await this.#removePartitions(name, resolved.partitions);
        await this.meta.delete(pendingKey);
        throw err;
      }
      this.#topics.set(name, { config: resolved, partitions });
      this.#partitionTotal += resolved.partitions;
      await this.meta.delete(pendingKey);
      return topicInfo(name, resolved);
    });
  }

  /** Deletes a topic and all of its data; `TOPIC_NOT_FOUND` when absent. */
  deleteTopic(name: string): Promise<void> {
    return this.#adminTask(async () => {
      const topic = this.#topic(name);
      const pendingKey = PENDING_KEY_PREFIX + name;
      await this.meta.set(pendingKey, { partitions: topic.partitions.length });
      this.#topics.delete(name);
      this.#partitionTotal -= topic.partitions.length;
      await Promise.all(topic.partitions.map((p) => p.close()));
      await this.meta.delete(TOPIC_KEY_PREFIX + name);
      await this.#removePartitions(name, topic.partitions.length);
      await this.meta.delete(pendingKey);
    });
  }

  /** Offsets and sizes of a topic's partitions. */
  partitions(topic: string): PartitionInfo[] {
    return this.#topic(topic).partitions.map((p) => p.info());
  }

  /** One partition; `TOPIC_NOT_FOUND` or `PARTITION_NOT_FOUND`. */
  partition(topic: string, partition: number): PartitionLog {
    const log = this.#topic(topic).partitions[partition];
    if (log === undefined || !Number.isInteger(partition)) {
      throw this.#partitionNotFound(topic, partition);
    }
    return log;
  }

  /**
   * Appends records, each to its given partition, else its key's murmur2
   * partition, else one sticky partition shared by this call's key-less
   * records. Each partition's records go in one batch. Answers one position
   * per record, in order. A bad explicit partition fails the call before
   * anything is written.
   */
  async produce(
    topic: string,
    records: readonly RecordInput[],
  ): Promise<RecordPosition[]> {
    const { partitions } = this.#topics.get(topic) ??
      await this.#autoCreateTopic(topic);
    const count = partitions.length;
    let sticky: number | undefined;
    const groups = new Map<number, number[]>();
    records.forEach((record, i) => {
      let target: number;
      if (record.partition !== undefined) {
        target = record.partition;
        if (!Number.isInteger(target) || target < 0 || target >= count) {
          throw this.#partitionNotFound(topic, target);
        }
      } else if (record.key !== undefined && record.key !== null) {
        target = partitionForKey(record.key, count);
      } else {
        sticky ??= Math.min(count - 1, Math.floor(this.#random() * count));
        target = sticky;
      }
      const group = groups.get(target);
      if (group === undefined) groups.set(target, [i]);
      else group.push(i);
    });
    const positions: RecordPosition[] = new Array(records.length);
    await Promise.all(
      [...groups].map(async ([partition, indices]) => {
        const { baseOffset } = await partitions[partition]!.appendRecords(
          indices.map((i) => records[i]!),
        );
        indices.forEach((i, n) => {
          positions[i] = { partition, offset: baseOffset + n };
        });
      }),
    );
    return positions;
  }

  /** Applies time and size retention to every partition of every topic. */
  async enforceRetention(): Promise<void> {
    for (const topic of [...this.#topics.values()]) {
      for (const partition of topic.partitions) {
        await partition.enforceRetention();
      }
    }
  }

  /** Calls `listener` after every acknowledged append; returns the unsubscribe. */
  onAppend(listener: (event: AppendEvent) => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /** Calls `listener` whenever the disk budget drops records; returns the unsubscribe. */
  onDrop(listener: (event: DropEvent) => void): () => void {
    this.#dropListeners.add(listener);
    return () => this.#dropListeners.delete(listener);
  }

  /** Closes every partition (pending appends finish) and then the storage. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#admin;
    const topics = [...this.#topics.values()];
    this.#topics.clear();
    await Promise.all(
      topics.flatMap((t) => t.partitions.map((p) => p.close())),
    );
    await this.#storage.close();
  }

  /** LIMIT_REACHED unless a topic of `partitions` fits the limits. */
  #checkLimits(partitions: number): void {
    const { maxTopics, maxPartitionsPerTopic, maxPartitions } = this.#limits;
    if (this.#topics.size >= maxTopics) {
      throw limitError(
        "maxTopics",
        `Cannot create a topic: the node holds ${this.#topics.size} of ${maxTopics} topics`,
      );
    }
    if (partitions > maxPartitionsPerTopic) {
      throw limitError(
        "maxPartitionsPerTopic",
        `Cannot create a topic of ${partitions} partitions: at most ${maxPartitionsPerTopic} per topic`,
      );
    }
    if (this.#partitionTotal + partitions > maxPartitions) {
      throw limitError(
        "maxPartitions",
        `Cannot create a topic of ${partitions} partitions: the node holds ${this.#partitionTotal} of ${maxPartitions}`,
      );
    }
  }

  /** Removes partitions 0..count-1 one at a time (absent ones are fine). */
  async #removePartitions(name: string, count: number): Promise<void> {
    for (let p = 0; p < count; p++) {
      await this.#storage.deletePartition(name, p);
    }
  }

  #topic(name: string): Topic {
    const topic = this.#topics.get(name);
    if (topic === undefined) throw topicNotFound(name);
    return topic;
  }

  #partitionNotFound(topic: string, partition: number): EdgelogError {
    return new EdgelogError(
      "PARTITION_NOT_FOUND",
      `Topic '${topic}' has no partition ${partition}`,
    );
  }

  async #autoCreateTopic(name: string): Promise<Topic> {
    if (!this.#autoCreate) throw topicNotFound(name);
    try {
      await this.createTopic(name);
    } catch (err) {
      if (!(err instanceof EdgelogError && err.code === "TOPIC_EXISTS")) {
        throw err;
      }
    }
    return this.#topic(name);
  }

  #adminTask<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new EdgelogError("UNAVAILABLE", "The log is closed"),
      );
    }
    const run = this.#admin.then(fn);
    this.#admin = run.then(() => {}, () => {});
    return run;
  }

  /** Opens every partition of a topic; on a failure closes those it opened. */
  async #openPartitions(
    name: string,
    config: TopicConfig,
  ): Promise<PartitionLog[]> {
    const settled = await Promise.allSettled(
      Array.from(
        { length: config.partitions },
        (_, p) => this.#storage.openPartition(name, p),
      ),
    );
    const failed = settled.find((s) => s.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(
        settled.map((s) => s.status === "fulfilled" ? s.value.close() : null),
      );
      throw failed.reason;
    }
    const stores = settled.map((s) =>
      (s as PromiseFulfilledResult<PartitionStore>).value
    );
    return stores.map((store, partition) =>
      new PartitionLog(store, {
        topic: name,
        partition,
        config,
        clock: this.clock,
        retentionFloor: () => this.#retentionFloor(name, partition),
        onAppend: (event) => notify(this.#appendListeners, event),
        onDrop: (event) => notify(this.#dropListeners, event),
        ...this.#decompression,
      })
    );
  }
}
