/**
 * A server over MemoryStorage for the route tests, with helpers for JSON
 * requests and a snapshot of the log to prove a refused request wrote
 * nothing.
 *
 * @module
 */

import { ManualClock } from "../clock.ts";
import { GroupCoordinator } from "../groups/mod.ts";
import { Log, MemoryStorage } from "../log/mod.ts";
import { createApp, type CreateAppOptions } from "./app.ts";
import type { ServerApp } from "./context.ts";
import { Metrics } from "./metrics.ts";

/** A test server and its parts. */
export interface TestServer {
  app: ServerApp;
  log: Log;
  groups: GroupCoordinator;
  clock: ManualClock;
  metrics: Metrics;
  shutdown: AbortController;
  close(): Promise<void>;
}

/** Opens a Log, a GroupCoordinator and an app over MemoryStorage. */
export async function testServer(
  options: Partial<Omit<CreateAppOptions, "log" | "groups">> = {},
): Promise<TestServer> {
  const clock = new ManualClock(1_700_000_000_000);
  const log = await Log.open({ storage: new MemoryStorage(), clock });
  const groups = await GroupCoordinator.open({
    meta: log.meta,
    clock,
    partitionCount: (t) =>
      log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
    highWatermark: (t, p) => log.partition(t, p).highWatermark,
  });
  const metrics = options.metrics ?? new Metrics();
  const shutdown = new AbortController();
  const app = createApp({
    log,
    groups,
    metrics,
    signal: shutdown.signal,
    ...options,
  });
  return {
    app,
    log,
    groups,
    clock,
    metrics,
    shutdown,
    close: async () => {
      shutdown.abort();
      await log.close();
    },
  };
}

/** Sends a JSON request (body serialised unless already a string). */
export function send(
  app: ServerApp,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??=
      "application/json";
  }
  return Promise.resolve(app.request(path, init));
}

/** Every topic with every partition's offsets and size. */
export function snapshot(log: Log): unknown {
  return log.listTopics().map((t) => ({
    ...t,
    partitions: log.partitions(t.name),
  }));
}

/** Yields microtask turns until `condition` holds; fails after `turns`. */
export async function until(
  condition: () => boolean,
  turns = 10_000,
): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await Promise.resolve();
  }
  throw new Error(`Condition not met after ${turns} turns`);
}

/** One parsed Server-Sent Event. */
export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

/** Reads events from an SSE response body, `count` at a time. */
export class SseReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(body: ReadableStream<Uint8Array<ArrayBuffer>>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next `count` events (comments skipped). */
  async next(count: number): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    while (events.length < count) {
      const cut = this.#buffer.indexOf("\n\n");
      if (cut < 0) {
        const { done, value } = await this.#reader.read();
        if (done) throw new Error("Stream ended");
        this.#buffer += value;
        continue;
      }
      const block = this.#buffer.slice(0, cut);
      this.#buffer = this.#buffer.slice(cut + 2);
      const event: SseEvent = { data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const [field, ...rest] = line.split(":");
        const value = rest.join(":").replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "id") event.id = value;
        else if (field === "event") event.event = value;
      }
      if (data.length === 0 && event.id === undefined) continue;
      event.data = data.join("\n");
      events.push(event);
    }
    return events;
  }

  /** Whether the stream ends (after any events still buffered). */
  async ended(): Promise<boolean> {
    for (let i = 0; i < 1000; i++) {
      const { done, value } = await this.#reader.read();
      if (done) return true;
      this.#buffer += value;
    }
    return false;
  }

  /** Disconnects, as a browser closing the page would. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}
