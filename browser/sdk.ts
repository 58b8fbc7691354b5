/**
 * The browser SDK: an offline-first log in IndexedDB that replicates itself,
 * exactly once, to an edgelog broker.
 *
 * ```ts ignore
 * const log = await openBrowserLog({ name: "field-sensor", upstream: "https://broker.example", topics: ["readings"] });
 * await log.produce("readings", [{ key: "dev-7", value: { t: 21.5 } }]);
 * log.sync.on("lag", (status) => console.log(status.lagRecords));
 * ```
 *
 * Many tabs and a service worker may open the same log. Appends go through
 * write sessions under the Web Lock `edgelog-write:<name>` (see
 * `log_sessions.ts`), so offsets never collide; one context at a time syncs,
 * under `edgelog-sync:<name>` (see `browser_syncer.ts`). Contexts tell each
 * other about appends and sync progress over the BroadcastChannel
 * `edgelog:<name>`, so every tab's status and events are live.
 *
 * A full disk budget (`diskBudgetBytes`) applies the topic's `whenFull`
 * policy as on a gateway: "reject" fails the produce with `STORAGE_FULL`;
 * "dropOldest" deletes the oldest batches, and the replicator declares the
 * gap upstream (`Edgelog-Dropped`), so the loss is counted there. A full
 * browser quota is `STORAGE_FULL` as well.
 *
 * @module
 */

import { EdgelogClient, type FetchFn } from "../runtime/client/client.ts";
import { systemClock } from "../runtime/clock.ts";
import { EdgelogError } from "../runtime/errors.ts";
import {
  decodeJsonRecord,
  type FetchedRecord,
  logRecordToJson,
  type ProduceRecord,
} from "../runtime/client/json_records.ts";
import type { Log } from "../runtime/log/log.ts";
import type {
  RecordInput,
  RecordPosition,
  TopicConfig,
} from "../runtime/log/types.ts";
import {
  BrowserSyncer,
  SYNC_PROGRESS_KEY,
  type SyncProgress,
  type SyncRound,
} from "./browser_syncer.ts";
import { IdbStorage } from "./idb_storage.ts";
import {
  defaultLocks,
  type LockManagerLike,
  LogSessions,
} from "./log_sessions.ts";

/** Meta key of the node id, generated once per log. */
export const NODE_ID_KEY = "browser/node-id";
/** Meta key of the sync settings, which the service worker reads. */
export const SYNC_CONFIG_KEY = "browser/sync-config";

/** What a service worker needs to sync a log that a page opened. */
export interface StoredSyncConfig {
  upstream: string;
  token?: string;
  topics?: string[];
  createUpstreamTopics?: boolean;
}

/** Options of {@linkcode openBrowserLog}. */
export interface BrowserLogOptions {
  /** The IndexedDB database, and the name in the lock and channel names. */
  name: string;
  /** The broker, e.g. `https://broker.example:9092`; relative to the page. */
  upstream: string | URL;
  /** Bearer token for the broker. */
  token?: string;
  /**
   * Topics this log creates (names, or names with config) and syncs;
   * default: no topic is created, and every topic is synced.
   */
  topics?: readonly string[] | Readonly<Record<string, Partial<TopicConfig>>>;
  /** Config of new topics, e.g. `{ diskBudgetBytes, whenFull }`. */
  defaults?: Partial<TopicConfig>;
  /** Create the synced topics on the broker first; default false. */
  createUpstreamTopics?: boolean;
  /** Whether this context takes part in syncing; default true. */
  sync?: boolean;
  /** Ask a service worker to sync when the page cannot (Background Sync); default true. */
  backgroundSync?: boolean;
  /** IndexedDB durability of acknowledged writes; default "strict". */
  durability?: IDBTransactionDurability;
  /** A round at least this often while idle; default 30 s. */
  idleMs?: number;
  /** Retry delays after a failed round. */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * How many idempotency keys of produces the log keeps, newest first;
   * default 10 000 (see {@linkcode ProduceOptions.idempotencyKey}).
   */
  idempotencyKeys?: number;
  fetch?: FetchFn;
  locks?: LockManagerLike;
}

/** Options of {@linkcode BrowserLog.produce}. */
export interface ProduceOptions {
  /**
   * Makes the call exactly once: the key is stored in the same IndexedDB
   * transaction as the records, and a produce with a key the log keeps
   * appends nothing and answers the positions of the first. Use one key
   * per logical write (say, a UUID saved with the app's own state before
   * the call), and retry with it after a reload or a crash left the call's
   * outcome unknown. 1 to 256 characters. The log keeps the newest
   * `idempotencyKeys` keys (default 10 000); a retry after its key was
   * dropped appends again.
   */
  idempotencyKey?: string;
}

/** One synced partition, as {@linkcode BrowserSync.status} reports it. */
export interface BrowserStreamStatus {
  topic: string;
  partition: number;
  /** Records ever appended locally (the local high watermark). */
  highWatermark: number;
  /** Last local offset the broker holds; -1 for none. */
  ackedOffset: number;
  lagRecords: number;
  droppedRecords: number;
}

/**
 * Where {@linkcode BrowserSyncStatus.online} comes from: "navigator" is
 * `navigator.onLine` alone (offline, or no round has ended since this
 * context opened the log or the browser last went online or offline);
 * "round" is whether the last sync round, from any context, reached the
 * broker.
 */
export type OnlineSource = "navigator" | "round";

/** The sync state of a log, the same in every tab. */
export interface BrowserSyncStatus {
  /**
   * What is known now: false while `navigator.onLine` is false; else
   * whether the last round reached the broker, once a round ended since
   * this context opened the log or saw the network change; before that,
   * true (the browser says it is online).
   */
  online: boolean;
  /** Which of the two `online` is. */
  onlineSource: OnlineSource;
  /** When the last round of any context ended; null before the first. */
  lastRoundMs: number | null;
  /** This context is the one that syncs now. */
  leader: boolean;
  localRecords: number;
  syncedRecords: number;
  lagRecords: number;
  droppedRecords: number;
  lastSuccessMs: number | null;
  lastError: string | null;
  streams: BrowserStreamStatus[];
}

/** Events of {@linkcode BrowserSync}. */
export interface BrowserSyncEvents {
  online: BrowserSyncStatus;
  offline: BrowserSyncStatus;
  /** A round ended with nothing left to send. */
  synced: BrowserSyncStatus;
  /** The status changed (records appended or synced). */
  lag: BrowserSyncStatus;
  error: { message: string; error: unknown };
}

/** The sync side of a {@linkcode BrowserLog}. */
export interface BrowserSync {
  status(): Promise<BrowserSyncStatus>;
  /** Starts a round now, if this context syncs. */
  now(): void;
  on<K extends keyof BrowserSyncEvents>(
    type: K,
    listener: (event: BrowserSyncEvents[K]) => void,
  ): () => void;
}

/** Records read back from a partition. */
export interface BrowserReadResult {
  records: FetchedRecord[];
  nextOffset: number;
  highWatermark: number;
}

/** A log opened by {@linkcode openBrowserLog}. */
export interface BrowserLog {
  readonly name: string;
  readonly nodeId: string;
  /** Appends records durably; positions in record order. */
  produce(
    topic: string,
    records: readonly ProduceRecord[],
    options?: ProduceOptions,
  ): Promise<RecordPosition[]>;
  /** Reads a partition's records from `offset` (default the log start). */
  read(
    topic: string,
    partition: number,
    options?: { offset?: number; maxRecords?: number; maxBytes?: number },
  ): Promise<BrowserReadResult>;
  readonly sync: BrowserSync;
  /** Stops syncing (releasing the lock) and closes the log. */
  close(): Promise<void>;
}

type ChannelMessage = { kind: "appended" } | { kind: "progress" };

const encoder = new TextEncoder();

/** A client's record as the log stores it: JSON values as UTF-8 JSON text. */
export function recordInput(record: ProduceRecord): RecordInput {
  if (record.value === undefined) {
    throw new TypeError(
      "Cannot produce a record without a value: use null for a tombstone",
    );
  }
  const key = typeof record.key === "string"
    ? encoder.encode(record.key)
    : record.key ?? null;
  const value = record.value === null || record.value instanceof Uint8Array
    ? record.value
    : encoder.encode(JSON.stringify(record.value));
  const input: RecordInput = { key, value };
  if (record.headers !== undefined) {
    input.headers = Object.entries(record.headers).map(([k, v]) => ({
      key: k,
      value: encoder.encode(v),
    }));
  }
  if (record.partition !== undefined) input.partition = record.partition;
  if (record.timestamp !== undefined) input.timestamp = record.timestamp;
  return input;
}

function topicConfigs(
  topics: BrowserLogOptions["topics"],
): Record<string, Partial<TopicConfig>> {
  if (topics === undefined) return {};
  if (Array.isArray(topics)) {
    return Object.fromEntries(
      (topics as readonly string[]).map((t) => [t, {}]),
    );
  }
  return { ...topics as Record<string, Partial<TopicConfig>> };
}

/** Longest idempotency key, in UTF-16 code units. */
const MAX_KEY_LENGTH = 256;

function checkIdempotencyKey(key: unknown): void {
  if (
    typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH
  ) {
    throw new TypeError(
      `An idempotency key is a string of 1 to ${MAX_KEY_LENGTH} characters`,
    );
  }
}

/**
 * A produce with an idempotency key, in a write session: the positions kept
 * for the key if there are any, else the records appended and the key
 * stored with them in one transaction.
 */
async function produceOnce(
  log: Log,
  storage: IdbStorage,
  call: {
    key: string;
    topic: string;
    inputs: readonly RecordInput[];
    maxKeys: number;
  },
): Promise<RecordPosition[]> {
  const { key, topic, inputs } = call;
  const earlier = await storage.keyedProduce(key);
  if (earlier) {
    if (earlier.topic !== topic || earlier.positions.length !== inputs.length) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `The idempotency key '${key}' was used for ${earlier.positions.length} records in '${earlier.topic}', not ${inputs.length} in '${topic}'`,
      );
    }
    return earlier.positions;
  }
  storage.stageAppends();
  const positions = await log.produce(topic, inputs);
  await storage.commitProduce(key, {
    topic,
    positions,
    atMs: systemClock.now(),
  }, call.maxKeys);
  return positions;
}

/** The node id kept in the log's meta, generated on first use. */
async function loadNodeId(sessions: LogSessions): Promise<string> {
  return await sessions.write(async (log) => {
    const saved = await log.meta.get(NODE_ID_KEY);
    if (typeof saved === "string") return saved;
    const id = `browser-${crypto.randomUUID()}`;
    await log.meta.set(NODE_ID_KEY, id);
    return id;
  });
}

/** Creates the missing topics, in one write session. */
async function createTopics(
  log: Log,
  configs: Record<string, Partial<TopicConfig>>,
): Promise<void> {
  for (const [name, config] of Object.entries(configs)) {
    if (!log.hasTopic(name)) await log.createTopic(name, config);
  }
}

/** The local offsets plus the syncer's last recorded progress. */
async function computeStatus(
  sessions: LogSessions,
  meta: IdbStorage["meta"],
  synced: ReadonlySet<string> | undefined,
  leader: boolean,
  networkChangedMs: number,
): Promise<BrowserSyncStatus> {
  const progress = await meta.get(SYNC_PROGRESS_KEY) as
    | SyncProgress
    | undefined;
  const acked = new Map(
    (progress?.streams ?? []).map((s) => [`${s.partition}:${s.topic}`, s]),
  );
  const streams = await sessions.read((log) =>
    Promise.resolve(
      log.listTopics().filter((t) => synced === undefined || synced.has(t.name))
        .flatMap((t) =>
          log.partitions(t.name).map((p): BrowserStreamStatus => {
            const s = acked.get(`${p.partition}:${t.name}`);
            const ackedOffset = s?.ackedOffset ?? -1;
            return {
              topic: t.name,
              partition: p.partition,
              highWatermark: p.highWatermark,
              ackedOffset,
              lagRecords: Math.max(0, p.highWatermark - ackedOffset - 1),
              droppedRecords: s?.droppedRecords ?? 0,
            };
          })
        ),
    )
  );
  const sum = (f: (s: BrowserStreamStatus) => number) =>
    streams.reduce((n, s) => n + f(s), 0);
  const roundMs = progress?.roundMs ?? null;
  const roundKnown = navigatorOnline() && roundMs !== null &&
    roundMs >= networkChangedMs;
  return {
    online: roundKnown ? progress!.online : navigatorOnline(),
    onlineSource: roundKnown ? "round" : "navigator",
    lastRoundMs: roundMs,
    leader,
    localRecords: sum((s) => s.highWatermark),
    syncedRecords: sum((s) => s.ackedOffset + 1),
    lagRecords: sum((s) => s.lagRecords),
    droppedRecords: sum((s) => s.droppedRecords),
    lastSuccessMs: progress?.lastSuccessMs ?? null,
    lastError: progress?.lastError ?? null,
    streams,
  };
}

/** What the browser says about the network; true where it does not say. */
function navigatorOnline(): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator
    ?.onLine ?? true;
}

/** Asks the service worker, where there is one, for a Background Sync. */
async function requestBackgroundSync(name: string): Promise<void> {
  const container = (globalThis as {
    navigator?: {
      serviceWorker?: {
        getRegistration?(): Promise<
          { sync?: { register(tag: string): Promise<void> } } | undefined
        >;
      };
    };
  }).navigator?.serviceWorker;
  try {
    const registration = await container?.getRegistration?.();
    await registration?.sync?.register(`edgelog-sync:${name}`);
  } catch {
    // Background Sync is an extra; the backoff timer retries without it.
  }
}

class BrowserLogImpl implements BrowserLog {
  readonly name: string;
  readonly nodeId: string;
  readonly sync: BrowserSync;
  #sessions: LogSessions;
  #storage: IdbStorage;
  #syncer: BrowserSyncer | undefined;
  #channel: BroadcastChannel | undefined;
  #synced: ReadonlySet<string> | undefined;
  #backgroundSync: boolean;
  #maxKeys: number;
  #listeners = new Map<string, Set<(event: never) => void>>();
  #online: boolean | undefined;
  /** When this context opened the log or last saw `online`/`offline`. */
  #networkChangedMs = systemClock.now();
  #lastRoundFailed = false;
  #refreshing: Promise<void> = Promise.resolve();
  #unlisten: () => void = () => {};

  constructor(init: {
    name: string;
    nodeId: string;
    sessions: LogSessions;
    storage: IdbStorage;
    synced: ReadonlySet<string> | undefined;
    backgroundSync: boolean;
    maxKeys: number;
  }) {
    this.name = init.name;
    this.nodeId = init.nodeId;
    this.#sessions = init.sessions;
    this.#storage = init.storage;
    this.#synced = init.synced;
    this.#backgroundSync = init.backgroundSync;
    this.#maxKeys = init.maxKeys;
    this.sync = {
      status: () => this.#status(),
      now: () => this.#syncer?.kick(),
      on: (type, listener) => {
        const set = this.#listeners.get(type) ?? new Set();
        set.add(listener as (event: never) => void);
        this.#listeners.set(type, set);
        return () => set.delete(listener as (event: never) => void);
      },
    };
  }

  /** Wires the channel, the online events and, when asked, the syncer. */
  attach(syncer: BrowserSyncer | undefined): void {
    this.#syncer = syncer;
    if (typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(`edgelog:${this.name}`);
      this.#channel.onmessage = (event: MessageEvent<ChannelMessage>) => {
        if (event.data.kind === "appended") this.#syncer?.kick();
        this.#refresh();
      };
    }
    const target = globalThis as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
    };
    const onOnline = () => {
      this.#networkChangedMs = systemClock.now();
      this.#syncer?.kick();
      this.#refresh();
    };
    const onOffline = () => {
      this.#networkChangedMs = systemClock.now();
      this.#refresh();
    };
    target.addEventListener?.("online", onOnline);
    target.addEventListener?.("offline", onOffline);
    this.#unlisten = () => {
      target.removeEventListener?.("online", onOnline);
      target.removeEventListener?.("offline", onOffline);
    };
    this.#refresh();
  }

  /** Called by the syncer when this context takes or gives up syncing. */
  leaderChanged(): void {
    this.#refresh();
  }

  /** Called by the syncer after each of its rounds. */
  onRound(round: SyncRound): void {
    this.#channel?.postMessage({ kind: "progress" } satisfies ChannelMessage);
    this.#lastRoundFailed = !round.ok;
    if (!round.ok) {
      const message = round.error instanceof Error
        ? round.error.message
        : String(round.error);
      this.#emit("error", { message, error: round.error });
      if (this.#backgroundSync) requestBackgroundSync(this.name);
    }
    this.#refresh(round.ok);
  }

  async produce(
    topic: string,
    records: readonly ProduceRecord[],
    options: ProduceOptions = {},
  ): Promise<RecordPosition[]> {
    const inputs = records.map(recordInput);
    const key = options.idempotencyKey;
    if (key !== undefined) checkIdempotencyKey(key);
    const positions = await this.#sessions.write((log, storage) =>
      key === undefined
        ? log.produce(topic, inputs)
        : produceOnce(log, storage, {
          key,
          topic,
          inputs,
          maxKeys: this.#maxKeys,
        })
    );
    this.#channel?.postMessage({ kind: "appended" } satisfies ChannelMessage);
    this.#syncer?.kick();
    this.#refresh();
    if (this.#backgroundSync && (this.#lastRoundFailed || !navigatorOnline())) {
      // Registered before produce resolves, so a page closed right after
      // still leaves the service worker a reason to sync.
      await requestBackgroundSync(this.name);
    }
    return positions;
  }

  read(
    topic: string,
    partition: number,
    options: { offset?: number; maxRecords?: number; maxBytes?: number } = {},
  ): Promise<BrowserReadResult> {
    return this.#sessions.read(async (log) => {
      const p = log.partition(topic, partition);
      const result = await p.read(options.offset ?? p.logStartOffset, {
        ...(options.maxRecords === undefined
          ? {}
          : { maxRecords: options.maxRecords }),
        ...(options.maxBytes === undefined
          ? {}
          : { maxBytes: options.maxBytes }),
      });
      return {
        records: result.records.map((r) =>
          decodeJsonRecord(logRecordToJson(r, partition))
        ),
        nextOffset: result.nextOffset,
        highWatermark: result.highWatermark,
      };
    });
  }

  async close(): Promise<void> {
    this.#unlisten();
    await this.#syncer?.stop();
    this.#channel?.close();
    this.#channel = undefined;
    await this.#refreshing;
    await this.#storage.close();
  }

  #status(): Promise<BrowserSyncStatus> {
    return computeStatus(
      this.#sessions,
      this.#storage.meta,
      this.#synced,
      this.#syncer?.leader ?? false,
      this.#networkChangedMs,
    );
  }

  /** Recomputes the status and emits the events it calls for, in order. */
  #refresh(roundOk?: boolean): void {
    if (this.#channel === undefined) return;
    this.#refreshing = this.#refreshing.then(async () => {
      const status = await this.#status();
      if (status.online !== this.#online) {
        this.#online = status.online;
        this.#emit(status.online ? "online" : "offline", status);
      }
      this.#emit("lag", status);
      if (roundOk && status.lagRecords === 0) this.#emit("synced", status);
    }).catch((err) => console.error("edgelog: cannot read sync status", err));
  }

  #emit<K extends keyof BrowserSyncEvents>(
    type: K,
    event: BrowserSyncEvents[K],
  ): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (e: BrowserSyncEvents[K]) => void)(event);
      } catch (err) {
        console.error("edgelog: sync listener failed", err);
      }
    }
  }
}

/**
 * Opens (creating when absent) the browser log `options.name`, creates its
 * topics, and starts syncing in this context once it holds the sync lock.
 */
export async function openBrowserLog(
  options: BrowserLogOptions,
): Promise<BrowserLog> {
  const maxKeys = options.idempotencyKeys ?? 10_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(
      `idempotencyKeys must be a whole number of at least 1, not ${maxKeys}`,
    );
  }
  const locks = options.locks ?? defaultLocks();
  const configs = topicConfigs(options.topics);
  const synced = options.topics === undefined
    ? undefined
    : new Set(Object.keys(configs));
  const holder: { syncer?: BrowserSyncer } = {};
  const storageOptions = options.durability
    ? { durability: options.durability }
    : {};
  const sessions = new LogSessions(options.name, {
    locks,
    storage: storageOptions,
    retentionFloor: (t, p) =>
      holder.syncer?.leader ? holder.syncer.retentionFloor(t, p) : 0,
    ...(options.defaults ? { defaults: options.defaults } : {}),
  });
  const storage = await IdbStorage.open(options.name, storageOptions);
  try {
    const nodeId = await loadNodeId(sessions);
    const upstream = new URL(
      options.upstream,
      (globalThis as { location?: { href: string } }).location?.href,
    ).href;
    const stored: StoredSyncConfig = {
      upstream,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(synced === undefined ? {} : { topics: [...synced] }),
      ...(options.createUpstreamTopics ? { createUpstreamTopics: true } : {}),
    };
    await sessions.write(async (log) => {
      await createTopics(log, configs);
      await log.meta.set(SYNC_CONFIG_KEY, stored);
    });
    const log = new BrowserLogImpl({
      name: options.name,
      nodeId,
      sessions,
      storage,
      synced,
      backgroundSync: options.backgroundSync ?? true,
      maxKeys,
    });
    if (options.sync ?? true) {
      holder.syncer = createSyncer({
        sessions,
        meta: storage.meta,
        nodeId,
        config: stored,
        locks,
        mode: "hold",
        onRound: (round) => log.onRound(round),
        onLeader: () => log.leaderChanged(),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
        ...(options.backoff ? { backoff: options.backoff } : {}),
      });
      holder.syncer.start().catch((err) =>
        console.error("edgelog: syncing stopped", err)
      );
    }
    log.attach(holder.syncer);
    return log;
  } catch (err) {
    await storage.close();
    throw err;
  }
}

/** Options of {@linkcode createSyncer}. */
export interface CreateSyncerOptions {
  sessions: LogSessions;
  meta: IdbStorage["meta"];
  nodeId: string;
  config: StoredSyncConfig;
  locks: LockManagerLike;
  mode: "hold" | "drain";
  onRound?: (round: SyncRound) => void;
  onLeader?: (leader: boolean) => void;
  fetch?: FetchFn;
  idleMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
}

/**
 * A syncer for a stored config: the client (no retries of its own, the
 * syncer backs off, pushes sent as Blobs) and, when asked, the upstream
 * topics created first.
 *
 * A push body goes to `fetch` as a Blob made from the bytes, not as the
 * bytes: Chromium copies a BufferSource body into the Request and reads it
 * back as a stream, and while DevTools records network traffic (an open
 * Network panel, or any CDP client such as Playwright) it copies it into
 * the inspector as well; a Blob it hands over whole.
 */
export function createSyncer(options: CreateSyncerOptions): BrowserSyncer {
  const { config } = options;
  const client = new EdgelogClient(config.upstream, {
    retry: { attempts: 1 },
    ...(config.token === undefined ? {} : { token: config.token }),
    fetch: options.fetch ?? ((request) => fetch(request)),
  });
  let topicsReady = !config.createUpstreamTopics;
  const upstream = {
    async registerStream(nodeId: string, topic: string, partition: number) {
      if (!topicsReady) {
        // Listed first: a create answered 409 TOPIC_EXISTS is a failed
        // load in the console, and every new leader would print one. A
        // token that may not list topics creates them all, as before.
        const listed = await client.listTopics().catch(() => []);
        const existing = new Set(listed.map((t) => t.name));
        for (const name of config.topics ?? [topic]) {
          if (existing.has(name)) continue;
          await client.createTopic(name).catch((err) => {
            if ((err as { code?: unknown }).code !== "TOPIC_EXISTS") throw err;
          });
        }
        topicsReady = true;
      }
      return await client.registerStream(nodeId, topic, partition);
    },
    pushBatches: (
      producerId: number,
      bytes: Uint8Array,
      pushOptions?: { dropped?: number },
    ) =>
      client.pushBatches(
        producerId,
        new Blob([bytes as Uint8Array<ArrayBuffer>]),
        pushOptions,
      ),
  };
  return new BrowserSyncer({
    sessions: options.sessions,
    meta: options.meta,
    client: upstream,
    nodeId: options.nodeId,
    locks: options.locks,
    mode: options.mode,
    ...(config.topics ? { topics: config.topics } : {}),
    ...(options.onRound ? { onRound: options.onRound } : {}),
    ...(options.onLeader ? { onLeader: options.onLeader } : {}),
    ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
}
