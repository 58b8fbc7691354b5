/**
 * The real HTTP API for the client and consumer tests: `createApp` over
 * MemoryStorage and a ManualClock, with the sync routes mounted as the
 * broker mounts them. Its `fetch` stands where the network would: it records
 * what the client sent, answers scripted failures before the server sees
 * the request (an unhealthy proxy), and can cut event streams after a few
 * events (a dropped connection). The protocol itself is never imitated.
 * For tests only.
 *
 * @module
 */

import { ManualClock } from "../clock.ts";
import { GroupCoordinator } from "../groups/mod.ts";
import { Log, MemoryStorage } from "../log/mod.ts";
import { createApp } from "../server/app.ts";
import type { ServerApp } from "../server/context.ts";
import { Metrics } from "../server/metrics.ts";
import { StreamRegistry, syncRoutes } from "../sync/mod.ts";
import type { FetchFn } from "./client.ts";

/** Heartbeat interval the coordinator asks of members: one clock second. */
export const HEARTBEAT_INTERVAL_MS = 1000;

/** One request as the network saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  /** The parsed body of a JSON request; undefined otherwise. */
  body: unknown;
}

/** A failure the network answers instead of the server. */
export interface ScriptedFailure {
  path: string;
  status: number;
  code?: string;
}

/** Options of {@linkcode TestBroker.open}. */
export interface TestBrokerOptions {
  clock?: ManualClock;
  /** With a token, the API needs it (an admin token). */
  token?: string;
}

/** The real API over memory, behind a recording, fault-injecting fetch. */
export class TestBroker {
  readonly clock: ManualClock;
  readonly log: Log;
  readonly groups: GroupCoordinator;
  readonly app: ServerApp;
  readonly requests: SeenRequest[] = [];
  /** The next requests to each path get these answers, in order. */
  readonly failures: ScriptedFailure[] = [];
  /** Event streams end after this many events; default never. */
  cutStreamsAfter = Infinity;
  #heartbeatWaiters: (() => void)[] = [];

  private constructor(
    clock: ManualClock,
    log: Log,
    groups: GroupCoordinator,
    app: ServerApp,
  ) {
    this.clock = clock;
    this.log = log;
    this.groups = groups;
    this.app = app;
  }

  /** Opens a log, a coordinator, a stream registry and the app over them. */
  static async open(options: TestBrokerOptions = {}): Promise<TestBroker> {
    const clock = options.clock ?? new ManualClock(1_000_000);
    const log = await Log.open({ storage: new MemoryStorage(), clock });
    const groups = await GroupCoordinator.open({
      meta: log.meta,
      clock,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      partitionCount: (t) =>
        log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
      highWatermark: (t, p) => log.partition(t, p).highWatermark,
    });
    const metrics = new Metrics();
    const streams = await StreamRegistry.open(log, { metrics, clock });
    const app = createApp({
      log,
      groups,
      metrics,
      clock,
      ...(options.token === undefined ? {} : {
        auth: { tokens: [{ token: options.token, rights: { admin: true } }] },
      }),
      extraRoutes: (app, ctx) => syncRoutes(streams)(app, ctx),
    });
    return new TestBroker(clock, log, groups, app);
  }

  /**
   * A fetch into the app that, like a real one, rejects once its request
   * is aborted.
   */
  get fetch(): FetchFn {
    return (request) =>
      new Promise((resolve, reject) => {
        const signal = request.signal;
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
        this.#deliver(request).then(resolve, reject);
      });
  }

  async #deliver(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const isJson = request.headers.get("content-type")?.startsWith(
      "application/json",
    );
    this.requests.push({
      method: request.method,
      path: url.pathname,
      search: url.search,
      headers: request.headers,
      body: isJson ? await request.clone().json() : undefined,
    });
    const failure = this.#takeFailure(url.pathname);
    if (failure !== undefined) return failureResponse(failure);
    const response = await this.app.fetch(request);
    if (url.pathname.endsWith("/heartbeat")) {
      for (const wake of this.#heartbeatWaiters.splice(0)) wake();
    }
    if (url.pathname.endsWith("/stream") && response.body !== null) {
      return cutAfterEvents(response, this.cutStreamsAfter);
    }
    return response;
  }

  #takeFailure(path: string): ScriptedFailure | undefined {
    const at = this.failures.findIndex((f) => f.path === path);
    return at < 0 ? undefined : this.failures.splice(at, 1)[0];
  }

  /** Creates a topic through the log. */
  async createTopic(name: string, partitions = 1): Promise<void> {
    await this.log.createTopic(name, { partitions });
  }

  /** Appends one record per value, stored as its JSON text, through the log. */
  async append(
    topic: string,
    partition: number,
    ...values: unknown[]
  ): Promise<void> {
    const encoder = new TextEncoder();
    await this.log.partition(topic, partition).appendRecords(
      values.map((value) => ({ value: encoder.encode(JSON.stringify(value)) })),
    );
  }

  /** The group's committed offset of one partition, if any. */
  committed(
    group: string,
    topic: string,
    partition: number,
  ): number | undefined {
    return this.groups.committed(group, topic)
      .find((entry) => entry.partition === partition)?.offset;
  }

  /** The ids of the group's members now. */
  memberIds(group: string): string[] {
    return this.groups.listGroups().some((g) => g.group === group)
      ? this.groups.describeGroup(group).members.map((m) => m.memberId)
      : [];
  }

  /**
   * Commits offsets for a group as a member that joins, commits and leaves,
   * as a consumer that ran before would have.
   */
  async commitAsPastMember(
    group: string,
    topic: string,
    offsets: Record<number, number>,
  ): Promise<void> {
    const joined = await this.groups.heartbeat(group, { topics: [topic] });
    await this.groups.commit(group, {
      memberId: joined.memberId,
      memberEpoch: joined.memberEpoch,
      offsets: Object.entries(offsets).map(([partition, offset]) => ({
        topic,
        partition: Number(partition),
        offset,
      })),
    });
    await this.groups.heartbeat(group, {
      topics: [topic],
      memberId: joined.memberId,
      memberEpoch: -1,
    });
  }

  /** Resolves once the broker has answered the next heartbeat. */
  nextHeartbeat(): Promise<void> {
    return new Promise((resolve) => this.#heartbeatWaiters.push(resolve));
  }

  /** Resolves once a long poll waits on the partition. */
  async nextLongPoll(topic: string, partition: number): Promise<void> {
    const part = this.log.partition(topic, partition);
    const before = part.waiters;
    while (part.waiters <= before) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Closes the log. */
  async close(): Promise<void> {
    await this.log.close();
  }
}

function failureResponse(failure: ScriptedFailure): Response {
  if (failure.code === undefined) {
    return new Response("upstream trouble", { status: failure.status });
  }
  return Response.json({
    error: { code: failure.code, message: `scripted ${failure.status}` },
  }, { status: failure.status });
}

/** The response with its event stream ended after `events` events. */
function cutAfterEvents(response: Response, events: number): Response {
  if (events === Infinity) return response;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let seen = 0;
  let pending = "";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      pending += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        const event = pending.slice(0, end + 2);
        pending = pending.slice(end + 2);
        controller.enqueue(encoder.encode(event));
        if (event.includes("\ndata:") || event.startsWith("data:")) seen++;
        if (seen >= events) {
          await reader.cancel();
          return controller.close();
        }
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, {
    status: response.status,
    headers: response.headers,
  });
}
