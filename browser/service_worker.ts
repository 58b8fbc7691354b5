/**
 * The service worker of an edgelog page: it syncs logs that pages opened,
 * also when no page is open any more, and keeps the page's shell available
 * offline. Register it with the logs and the shell in its URL:
 *
 * ```ts ignore
 * navigator.serviceWorker.register("./sw.js?log=field-sensor&shell=./&shell=./app.js");
 * ```
 *
 * It syncs a log (reading the upstream, token and topics the page stored in
 * the log's meta) on every start, on Background Sync events tagged
 * `edgelog-sync:<name>`, on `{ type: "edgelog-sync", name }` messages and on
 * the `online` event, each time until caught up. It takes the log's sync
 * lock like any page: while a page syncs, it waits in the lock's queue and
 * takes over once that page is gone.
 *
 * Shell requests (GETs within the scope, except the API under `/v1/`) go to
 * the network first, so a deployed change shows at once, and fall back to
 * the cache offline.
 *
 * @module
 */

import { IdbStorage } from "./idb_storage.ts";
import { defaultLocks, LogSessions } from "./log_sessions.ts";
import {
  createSyncer,
  NODE_ID_KEY,
  type StoredSyncConfig,
  SYNC_CONFIG_KEY,
} from "./sdk.ts";

/** The parts of a service worker's events this worker uses. */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

interface MessageEventLike extends ExtendableEvent {
  readonly data: unknown;
}

interface ServiceWorkerScope {
  readonly location: { href: string };
  readonly registration: { scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
}

const sw = globalThis as unknown as ServiceWorkerScope;
const params = new URL(sw.location.href).searchParams;
const LOGS = params.getAll("log");
const SHELL = params.getAll("shell").map((u) =>
  new URL(u, sw.location.href).href
);
const CACHE = `edgelog-shell:${sw.registration.scope}`;
/** How long one trigger may wait for the lock and retry: under Chromium's 3-minute event limit. */
const SYNC_DEADLINE_MS = 150_000;

const inFlight = new Map<string, Promise<boolean>>();

/** Syncs the log `name` until caught up; false when it has no sync config. */
function syncLog(name: string): Promise<boolean> {
  let run = inFlight.get(name);
  if (run === undefined) {
    run = drain(name).finally(() => inFlight.delete(name));
    inFlight.set(name, run);
  }
  return run;
}

async function drain(name: string): Promise<boolean> {
  const storage = await IdbStorage.open(name, { quota: { persist: false } });
  try {
    const config = await storage.meta.get(SYNC_CONFIG_KEY) as
      | StoredSyncConfig
      | undefined;
    const nodeId = await storage.meta.get(NODE_ID_KEY);
    if (config === undefined || typeof nodeId !== "string") return false;
    const locks = defaultLocks();
    const holder: { floor?: (t: string, p: number) => number } = {};
    const sessions = new LogSessions(name, {
      locks,
      retentionFloor: (t, p) => holder.floor?.(t, p) ?? 0,
    });
    const syncer = createSyncer({
      sessions,
      meta: storage.meta,
      nodeId,
      config,
      locks,
      mode: "drain",
    });
    holder.floor = (t, p) => syncer.retentionFloor(t, p);
    const kick = () => syncer.kick();
    online.add(kick);
    try {
      return await syncer.start({
        signal: AbortSignal.timeout(SYNC_DEADLINE_MS),
      });
    } finally {
      online.delete(kick);
      await syncer.stop();
    }
  } finally {
    await storage.close();
  }
}

const online = new Set<() => void>();

function syncAll(): Promise<unknown> {
  return Promise.allSettled(LOGS.map(syncLog));
}

async function networkFirst(request: Request): Promise<Response> {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await caches.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw err;
  }
}

sw.addEventListener("install", (event: ExtendableEvent) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() =>
      sw.skipWaiting()
    ),
  );
});

sw.addEventListener("activate", (event: ExtendableEvent) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener("fetch", (event: FetchEvent) => {
  const { request } = event;
  const url = new URL(request.url);
  if (
    request.method !== "GET" ||
    !request.url.startsWith(sw.registration.scope) ||
    url.pathname.startsWith("/v1/")
  ) return;
  event.respondWith(networkFirst(request));
});

sw.addEventListener("sync", (event: SyncEvent) => {
  const prefix = "edgelog-sync:";
  if (!event.tag.startsWith(prefix)) return;
  event.waitUntil(syncLog(event.tag.slice(prefix.length)));
});

sw.addEventListener("message", (event: MessageEventLike) => {
  const data = event.data as { type?: unknown; name?: unknown } | null;
  if (data?.type !== "edgelog-sync" || typeof data.name !== "string") return;
  event.waitUntil(syncLog(data.name));
});

sw.addEventListener("online", () => {
  for (const kick of online) kick();
  syncAll();
});

syncAll();
