/**
 * A small in-memory broker that follows PROTOCOL.md closely enough to test
 * the client and the consumer without the real server: topics with JSON
 * records, long polls on a ManualClock, an SSE stream, a toy consumer group
 * (round-robin assignment, epochs, commits; like KIP-848 a partition goes
 * to its new owner only after the old owner was told to give it up) and
 * sync stream stubs.
 * For tests only.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { type Clock, ManualClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import type { FetchFn } from "./client.ts";
import type { JsonRecord, JsonRecordInput } from "./json_records.ts";

interface Member {
  epoch: number;
  topics: string[];
  /** What the member should own once others let go. */
  target: Map<string, number[]>;
  /** What the member was last told it owns. */
  owned: Map<string, number[]>;
}

/** One request as the fake saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: unknown;
}

/** The fake broker's state and its Hono app. */
export class FakeBroker {
  readonly app = new Hono();
  readonly clock: ManualClock;
  readonly topics = new Map<string, JsonRecord[][]>();
  readonly binary = new Map<string, Uint8Array[]>();
  readonly members = new Map<string, Member>();
  readonly commits = new Map<string, number>();
  readonly requests: SeenRequest[] = [];
  /** Scripted failures: the next requests to a path get these statuses. */
  readonly failures: { path: string; status: number; code?: string }[] = [];
  /** How many records a stream sends before it drops the connection; default all. */
  streamBatch = Infinity;
  #arrivals = new Map<string, PromiseWithResolvers<void>>();
  #heartbeatWaiters: (() => void)[] = [];
  #pollWaiters: { key: string; resolve: () => void }[] = [];
  #nextMember = 1;
  #token: string | undefined;

  constructor(options: { clock?: ManualClock; token?: string } = {}) {
    this.clock = options.clock ?? new ManualClock(1_000_000);
    this.#token = options.token;
    this.#routes();
  }

  /** A fetch into the app that, like a real fetch, rejects once the request is aborted. */
  get fetch(): FetchFn {
    return (request) =>
      new Promise((resolve, reject) => {
        const signal = request.signal;
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
        Promise.resolve(this.app.fetch(request)).then(resolve, reject);
      });
  }

  createTopic(name: string, partitions = 1): void {
    this.topics.set(name, Array.from({ length: partitions }, () => []));
  }

  append(topic: string, partition: number, input: JsonRecordInput): JsonRecord {
    const log = this.#partition(topic, partition);
    const record: JsonRecord = {
      partition,
      offset: log.length,
      timestamp: input.timestamp ?? this.clock.now(),
      headers: input.headers ?? {},
    };
    if (input.keyBase64 !== undefined) record.keyBase64 = input.keyBase64;
    else record.key = input.key ?? null;
    if (input.valueBase64 !== undefined) record.valueBase64 = input.valueBase64;
    else record.value = input.value ?? null;
    log.push(record);
    const key = `${topic}/${partition}`;
    this.#arrivals.get(key)?.resolve();
    this.#arrivals.delete(key);
    return record;
  }

  #partition(topic: string, partition: number): JsonRecord[] {
    const partitions = this.topics.get(topic);
    if (partitions === undefined) {
      throw new EdgelogError(
        "TOPIC_NOT_FOUND",
        `Topic '${topic}' does not exist`,
      );
    }
    const log = partitions[partition];
    if (log === undefined) {
      throw new EdgelogError(
        "PARTITION_NOT_FOUND",
        `Topic '${topic}' has no partition ${partition}`,
      );
    }
    return log;
  }

  #arrival(topic: string, partition: number): Promise<void> {
    const key = `${topic}/${partition}`;
    let waiter = this.#arrivals.get(key);
    if (waiter === undefined) {
      waiter = Promise.withResolvers();
      this.#arrivals.set(key, waiter);
    }
    return waiter.promise;
  }

  /** Resolves once the broker has answered the next heartbeat. */
  nextHeartbeat(): Promise<void> {
    return new Promise((resolve) => this.#heartbeatWaiters.push(resolve));
  }

  /** Resolves once a fetch of the partition is parked in a long poll. */
  nextLongPoll(topic: string, partition: number): Promise<void> {
    return new Promise((resolve) =>
      this.#pollWaiters.push({ key: `${topic}/${partition}`, resolve })
    );
  }

  /** The committed offset of a group's partition. */
  committed(
    group: string,
    topic: string,
    partition: number,
  ): number | undefined {
    return this.commits.get(`${group}/${topic}/${partition}`);
  }

  #rebalance(): void {
    const ids = [...this.members.keys()].sort();
    const next = new Map<string, Map<string, number[]>>(
      ids.map((id) => [id, new Map()]),
    );
    const topics = new Set(ids.flatMap((id) => this.members.get(id)!.topics));
    let turn = 0;
    for (const topic of [...topics].sort()) {
      const count = this.topics.get(topic)?.length ?? 0;
      for (let partition = 0; partition < count; partition++) {
        const subscribers = ids.filter((id) =>
          this.members.get(id)!.topics.includes(topic)
        );
        const owner = subscribers[turn++ % subscribers.length]!;
        const assignment = next.get(owner)!;
        assignment.set(topic, [...(assignment.get(topic) ?? []), partition]);
      }
    }
    for (const id of ids) {
      const member = this.members.get(id)!;
      const target = next.get(id)!;
      if (JSON.stringify([...member.target]) !== JSON.stringify([...target])) {
        member.target = target;
        member.epoch++;
      }
    }
  }

  /** The member's target less what other members still own. */
  #grant(memberId: string): { topic: string; partitions: number[] }[] {
    const member = this.members.get(memberId)!;
    const taken = new Set<string>();
    for (const [id, other] of this.members) {
      if (id === memberId) continue;
      for (const [topic, partitions] of other.owned) {
        for (const p of partitions) taken.add(`${topic}/${p}`);
      }
    }
    member.owned = new Map();
    for (const [topic, partitions] of member.target) {
      const free = partitions.filter((p) => !taken.has(`${topic}/${p}`));
      if (free.length > 0) member.owned.set(topic, free);
    }
    return [...member.owned].map(([topic, partitions]) => ({
      topic,
      partitions,
    }));
  }

  #routes(): void {
    const app = this.app;
    app.onError((error, c) => {
      const known = error instanceof EdgelogError
        ? error
        : new EdgelogError("INTERNAL", String(error));
      return c.json(known.toJSON(), known.status as 500);
    });
    app.use(async (c, next) => {
      const url = new URL(c.req.url);
      const type = c.req.header("content-type") ?? "";
      let body: unknown;
      if (type.startsWith("application/json")) {
        body = await c.req.raw.clone().json();
      } else if (type !== "") {
        body = new Uint8Array(await c.req.raw.clone().arrayBuffer());
      }
      this.requests.push({
        method: c.req.method,
        path: url.pathname,
        search: url.search,
        headers: c.req.raw.headers,
        body,
      });
      const failure = this.failures.findIndex((f) => f.path === url.pathname);
      if (failure >= 0) {
        const { status, code } = this.failures.splice(failure, 1)[0]!;
        if (code === undefined) {
          return c.text("upstream trouble", status as 502);
        }
        return c.json(
          { error: { code, message: `scripted ${code}` } },
          status as 503,
        );
      }
      if (
        this.#token !== undefined &&
        c.req.header("authorization") !== `Bearer ${this.#token}`
      ) {
        throw new EdgelogError("UNAUTHORIZED", "Missing or unknown token");
      }
      await next();
    });
    app.get("/healthz", (c) => c.json({ status: "ok" }));
    app.get(
      "/metrics",
      (c) =>
        c.text(
          "# TYPE edgelog_records_total counter\nedgelog_records_total 3\n",
        ),
    );
    app.get(
      "/v1/topics",
      (c) =>
        c.json({
          topics: [...this.topics.keys()].map((name) => this.#topicInfo(name)),
        }),
    );
    app.post("/v1/topics", async (c) => {
      const body = await c.req.json<{ name: string; partitions?: number }>();
      if (this.topics.has(body.name)) {
        throw new EdgelogError("TOPIC_EXISTS", `Topic '${body.name}' exists`);
      }
      this.createTopic(body.name, body.partitions ?? 1);
      return c.json(this.#topicInfo(body.name), 201);
    });
    app.get("/v1/topics/:topic", (c) => {
      const topic = c.req.param("topic");
      const partitions = this.topics.get(topic);
      if (partitions === undefined) {
        throw new EdgelogError(
          "TOPIC_NOT_FOUND",
          `Topic '${topic}' does not exist`,
        );
      }
      return c.json({
        ...this.#topicInfo(topic),
        partitions: partitions.map((log, partition) => ({
          partition,
          logStartOffset: 0,
          highWatermark: log.length,
          sizeBytes: JSON.stringify(log).length,
        })),
      });
    });
    app.delete("/v1/topics/:topic", (c) => {
      if (!this.topics.delete(c.req.param("topic"))) {
        throw new EdgelogError(
          "TOPIC_NOT_FOUND",
          `Topic '${c.req.param("topic")}' does not exist`,
        );
      }
      return c.body(null, 204);
    });
    app.post("/v1/topics/:topic/records", (c) => this.#produce(c));
    app.get(
      "/v1/topics/:topic/partitions/:p/records",
      async (c) => await this.#fetchRecords(c),
    );
    app.get("/v1/topics/:topic/partitions/:p/offsets", (c) => {
      const log = this.#partition(
        c.req.param("topic"),
        Number(c.req.param("p")),
      );
      const timestamp = Number(c.req.query("timestamp"));
      const found = log.find((r) => r.timestamp >= timestamp);
      return c.json({ offset: found?.offset ?? log.length });
    });
    app.get("/v1/topics/:topic/stream", (c) => this.#stream(c));
    app.post("/v1/groups/:group/heartbeat", async (c) => {
      const body = await c.req.json<
        { memberId?: string; memberEpoch?: number; topics: string[] }
      >();
      let memberId = body.memberId;
      if (memberId === undefined) {
        memberId = `member-${this.#nextMember++}`;
        this.members.set(memberId, {
          epoch: 0,
          topics: body.topics,
          target: new Map(),
          owned: new Map(),
        });
        this.#rebalance();
      } else if (!this.members.has(memberId)) {
        throw new EdgelogError(
          "UNKNOWN_MEMBER",
          `Member '${memberId}' is not in the group`,
        );
      } else if (body.memberEpoch === -1) {
        this.members.delete(memberId);
        this.#rebalance();
        return c.json({
          memberId,
          memberEpoch: -1,
          heartbeatIntervalMs: 1000,
          assignment: [],
        });
      }
      const assignment = this.#grant(memberId);
      for (const wake of this.#heartbeatWaiters.splice(0)) wake();
      return c.json({
        memberId,
        memberEpoch: this.members.get(memberId)!.epoch,
        heartbeatIntervalMs: 1000,
        assignment,
      });
    });
    app.post("/v1/groups/:group/offsets", async (c) => {
      const body = await c.req.json<
        {
          memberId: string;
          memberEpoch: number;
          offsets: { topic: string; partition: number; offset: number }[];
        }
      >();
      const member = this.members.get(body.memberId);
      if (member === undefined) {
        throw new EdgelogError(
          "UNKNOWN_MEMBER",
          `Member '${body.memberId}' is not in the group`,
        );
      }
      if (member.epoch !== body.memberEpoch) {
        throw new EdgelogError(
          "STALE_MEMBER_EPOCH",
          `Epoch ${body.memberEpoch} is not ${member.epoch}`,
        );
      }
      for (const o of body.offsets) {
        this.commits.set(
          `${c.req.param("group")}/${o.topic}/${o.partition}`,
          o.offset,
        );
      }
      return c.json({});
    });
    app.get("/v1/groups/:group/offsets", (c) => {
      const prefix = `${c.req.param("group")}/`;
      const topic = c.req.query("topic");
      const offsets = [...this.commits].filter(([key]) =>
        key.startsWith(prefix)
      ).map(([key, offset]) => {
        const [, t, p] = key.split("/");
        const highWatermark = this.topics.get(t!)?.[Number(p)]?.length ?? 0;
        return {
          topic: t!,
          partition: Number(p),
          offset,
          highWatermark,
          lag: highWatermark - offset,
        };
      }).filter((o) => topic === undefined || o.topic === topic);
      return c.json({ offsets });
    });
    app.get(
      "/v1/groups",
      (c) =>
        c.json({
          groups: this.members.size === 0
            ? []
            : [{ group: "g", members: this.members.size, state: "stable" }],
        }),
    );
    app.get("/v1/groups/:group", (c) => {
      if (c.req.param("group") !== "g") {
        throw new EdgelogError(
          "NOT_FOUND",
          `Group '${c.req.param("group")}' does not exist`,
        );
      }
      return c.json({
        group: "g",
        state: "stable",
        members: [...this.members].map(([memberId, m]) => ({
          memberId,
          memberEpoch: m.epoch,
          assignment: [...m.owned].map(([topic, partitions]) => ({
            topic,
            partitions,
          })),
        })),
      });
    });
    app.post(
      "/v1/sync/streams",
      (c) =>
        c.json({
          producerId: 7,
          producerEpoch: 2,
          partition: 0,
          ackedOffset: -1,
        }),
    );
    app.post("/v1/sync/streams/:id/batches", (c) => {
      const body = this.requests.at(-1)!.body as Uint8Array;
      return c.json({
        ackedOffset: body.length - 1,
        partition: 0,
        lastOffset: body.length - 1,
      });
    });
    app.get("/v1/sync/streams", (c) =>
      c.json({
        streams: [{
          nodeId: c.req.query("nodeId") ?? "n1",
          topic: "t",
          sourcePartition: 0,
          producerId: 7,
          partition: 0,
          ackedOffset: 4,
          lastSeenMs: 5,
          droppedRecords: 0,
        }],
      }));
    app.get(
      "/v1/sync/status",
      (c) => c.json({ upstream: "http://up", online: true, streams: [] }),
    );
  }

  #topicInfo(name: string) {
    return {
      name,
      partitions: this.topics.get(name)!.length,
      retentionMs: -1,
      retentionBytes: -1,
      cleanupPolicy: "delete",
      segmentBytes: 64 * 1024 * 1024,
      segmentMs: 7 * 24 * 3600 * 1000,
    };
  }

  async #produce(c: Context) {
    const topic = c.req.param("topic")!;
    if (c.req.header("content-type") === "application/vnd.edgelog.batches") {
      const partition = Number(c.req.query("partition"));
      const log = this.#partition(topic, partition);
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const key = `${topic}/${partition}`;
      this.binary.set(key, [...(this.binary.get(key) ?? []), bytes]);
      const baseOffset = log.length;
      this.append(topic, partition, { valueBase64: "" });
      return c.json({ partition, baseOffset, lastOffset: baseOffset });
    }
    const body = await c.req.json<{ records: JsonRecordInput[] }>();
    const offsets = body.records.map((r) => {
      const record = this.append(topic, r.partition ?? 0, r);
      return { partition: record.partition, offset: record.offset };
    });
    return c.json({ offsets });
  }

  async #fetchRecords(c: Context) {
    const topic = c.req.param("topic")!;
    const partition = Number(c.req.param("p"));
    const log = this.#partition(topic, partition);
    const query = c.req.query("offset") ?? "earliest";
    const offset = query === "earliest"
      ? 0
      : query === "latest"
      ? log.length
      : Number(query);
    if (offset < 0 || offset > log.length) {
      throw new EdgelogError(
        "OFFSET_OUT_OF_RANGE",
        `Cannot read offset ${offset}`,
        {
          logStartOffset: 0,
          highWatermark: log.length,
        },
      );
    }
    const maxWaitMs = Number(c.req.query("maxWaitMs") ?? 0);
    if (offset === log.length && maxWaitMs > 0) {
      const signal = c.req.raw.signal;
      const key = `${topic}/${partition}`;
      const parked = this.#pollWaiters.filter((w) => w.key === key);
      this.#pollWaiters = this.#pollWaiters.filter((w) => w.key !== key);
      for (const waiter of parked) waiter.resolve();
      await Promise.race([
        this.#arrival(topic, partition),
        (this.clock as Clock).sleep(maxWaitMs, signal),
      ])
        .catch(() => {});
    }
    if (c.req.header("accept") === "application/vnd.edgelog.batches") {
      const all = this.binary.get(`${topic}/${partition}`) ?? [];
      return c.body(new Uint8Array(all.flatMap((b) => [...b])), 200, {
        "content-type": "application/vnd.edgelog.batches",
      });
    }
    const maxRecords = Number(c.req.query("maxRecords") ?? 500);
    const records = log.slice(offset, offset + maxRecords);
    return c.json({
      records,
      nextOffset: offset + records.length,
      highWatermark: log.length,
    });
  }

  #stream(c: Context) {
    const topic = c.req.param("topic")!;
    const log = this.#partition(topic, 0);
    const lastId = c.req.header("last-event-id");
    const start = lastId !== undefined
      ? Number(lastId) + 1
      : c.req.query("from") === "earliest"
      ? 0
      : log.length;
    const records = log.slice(start, start + this.streamBatch);
    const body = ": hello\n\n" +
      records.map((r) => `id: ${r.offset}\ndata: ${JSON.stringify(r)}\n\n`)
        .join("");
    return c.body(body, 200, { "content-type": "text/event-stream" });
  }
}
