/**
 * The typed HTTP client of the edgelog API (PROTOCOL.md). It runs wherever
 * `fetch` does; fetch, clock and randomness are injected so tests can run
 * it against an in-process app with a ManualClock.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { EdgelogError } from "../errors.ts";
import type { RecordPosition, TopicInfo } from "../log/types.ts";
import { EdgelogConsumer, type EdgelogConsumerOptions } from "./consumer.ts";
import { errorFromBody, errorFromResponse, isRetriable } from "./errors.ts";
import {
  decodeJsonRecord,
  type FetchedRecord,
  type JsonRecord,
  type ProduceRecord,
  produceRecordToJson,
} from "./json_records.ts";
import {
  DEFAULT_RETRY,
  retryDelay,
  type RetryOptions,
  withRetry,
} from "./retry.ts";
import { parseSse } from "./sse.ts";
import type {
  BatchesAppended,
  BrokerInfo,
  BrokerRates,
  CommitRequest,
  CommittedOffset,
  CreateTopicOptions,
  FetchOptions,
  FetchResult,
  GroupDescription,
  GroupSummary,
  HeartbeatRequest,
  HeartbeatResponse,
  PushResult,
  ResetOffsetsRequest,
  StreamEvent,
  StreamOptions,
  StreamPushOutcome,
  StreamRegistration,
  SyncStatus,
  SyncStreamInfo,
  SyncStreamPage,
  SyncStreamQuery,
  TopicDescription,
  TopicPartitionOffset,
  TopicSummary,
} from "./types.ts";

/** The media type of binary batch bodies. */
export const BATCHES_MEDIA_TYPE = "application/vnd.edgelog.batches";

/** A `fetch`-like function; `globalThis.fetch` and a Hono app's `fetch` both fit. */
export type FetchFn = (request: Request) => Response | Promise<Response>;

/** How a client reaches its node. */
export interface EdgelogClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Default `globalThis.fetch`. */
  fetch?: FetchFn;
  /** Default the system clock; used for retry delays and by consumers. */
  clock?: Clock;
  /** Uniform [0, 1) for retry jitter; default `Math.random`. */
  random?: () => number;
  /** Retries of network errors and retriable answers (5xx); never of 4xx. */
  retry?: RetryOptions;
}

interface RequestSpec {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  bytes?: Uint8Array | Blob;
  accept?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  attempts?: number;
}

function segment(name: string): string {
  return encodeURIComponent(name);
}

/**
 * A client of one edgelog node.
 *
 * @example Usage
 * ```ts ignore
 * import { EdgelogClient } from "./client.ts";
 * const client = new EdgelogClient("http://127.0.0.1:9092");
 * await client.produce("sensors", [{ key: "dev-7", value: { t: 21.5 } }]);
 * const page = await client.fetch("sensors", 0, { offset: "earliest" });
 * console.log(page.records[0]?.value);
 * ```
 */
export class EdgelogClient {
  readonly baseUrl: URL;
  readonly clock: Clock;
  #token: string | undefined;
  #fetch: FetchFn;
  #random: () => number;
  #retry: Required<RetryOptions>;

  constructor(baseUrl: string | URL, options: EdgelogClientOptions = {}) {
    const url = new URL(baseUrl);
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    this.baseUrl = url;
    this.clock = options.clock ?? systemClock;
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#random = options.random ?? Math.random;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /** Sends one request, retrying network errors and retriable answers; a non-2xx answer throws. */
  async #send(
    method: string,
    path: string,
    spec: RequestSpec = {},
  ): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { ...spec.headers };
    if (this.#token !== undefined) {
      headers["authorization"] = `Bearer ${this.#token}`;
    }
    if (spec.accept !== undefined) headers["accept"] = spec.accept;
    let body: BodyInit | undefined;
    if (spec.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(spec.json);
    } else if (spec.bytes !== undefined) {
      headers["content-type"] = BATCHES_MEDIA_TYPE;
      body = spec.bytes as Uint8Array<ArrayBuffer> | Blob;
    }
    const signal = spec.signal;
    return await withRetry(async () => {
      let response: Response;
      try {
        response = await this.#fetch(
          new Request(url, {
            method,
            headers,
            ...(body === undefined ? {} : { body }),
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const reason = error instanceof Error ? error.message : String(error);
        const failure = new EdgelogError(
          "UNAVAILABLE",
          `Cannot reach ${url.origin}: ${reason}`,
        );
        failure.cause = error;
        throw failure;
      }
      if (!response.ok) throw await errorFromResponse(response);
      return response;
    }, {
      ...this.#retry,
      ...(spec.attempts === undefined ? {} : { attempts: spec.attempts }),
      clock: this.clock,
      random: this.#random,
      signal,
    });
  }

  async #json<T>(method: string, path: string, spec?: RequestSpec): Promise<T> {
    const response = await this.#send(method, path, spec);
    return await response.json() as T;
  }

  /** `GET /v1/topics`. */
  async listTopics(): Promise<TopicInfo[]> {
    return (await this.#json<{ topics: TopicInfo[] }>("GET", "v1/topics"))
      .topics;
  }

  /** `POST /v1/topics`; TOPIC_EXISTS when the name is taken. */
  createTopic(
    name: string,
    options: CreateTopicOptions = {},
  ): Promise<TopicInfo> {
    return this.#json("POST", "v1/topics", { json: { name, ...options } });
  }

  /** `GET /v1/topics/{topic}`: the config and every partition's offsets. */
  describeTopic(name: string): Promise<TopicDescription> {
    return this.#json("GET", `v1/topics/${segment(name)}`);
  }

  /** `DELETE /v1/topics/{topic}`. */
  async deleteTopic(name: string): Promise<void> {
    await (await this.#send("DELETE", `v1/topics/${segment(name)}`)).body
      ?.cancel();
  }

  /**
   * `POST /v1/topics/{topic}/records` with JSON records; the positions come
   * back in record order.
   *
   * Delivery is at least once: when an attempt fails after the broker
   * appended the records but before the answer arrived, the retry appends
   * them again. Use `produceBatches` with idempotent sync streams, or
   * `retry: { attempts: 1 }`, when duplicates matter.
   */
  async produce(
    topic: string,
    records: readonly ProduceRecord[],
  ): Promise<RecordPosition[]> {
    const answer = await this.#json<{ offsets: RecordPosition[] }>(
      "POST",
      `v1/topics/${segment(topic)}/records`,
      { json: { records: records.map(produceRecordToJson) } },
    );
    return answer.offsets;
  }

  /** Binary produce of concatenated RecordBatch v2 batches to one partition; the broker assigns offsets (at least once, as `produce`). */
  produceBatches(
    topic: string,
    partition: number,
    bytes: Uint8Array,
  ): Promise<BatchesAppended> {
    return this.#json("POST", `v1/topics/${segment(topic)}/records`, {
      query: { partition },
      bytes,
    });
  }

  #fetchQuery(options: FetchOptions): RequestSpec {
    return {
      query: {
        offset: options.offset,
        maxRecords: options.maxRecords,
        maxBytes: options.maxBytes,
        maxWaitMs: options.maxWaitMs,
      },
      signal: options.signal,
    };
  }

  /** Reads records from `options.offset`; OFFSET_OUT_OF_RANGE (with logStartOffset, highWatermark) outside the log. */
  async fetch(
    topic: string,
    partition: number,
    options: FetchOptions,
  ): Promise<FetchResult> {
    const answer = await this.#json<
      { records: JsonRecord[]; nextOffset: number; highWatermark: number }
    >(
      "GET",
      `v1/topics/${segment(topic)}/partitions/${partition}/records`,
      this.#fetchQuery(options),
    );
    return {
      records: answer.records.map(decodeJsonRecord),
      nextOffset: answer.nextOffset,
      highWatermark: answer.highWatermark,
    };
  }

  /** The raw batches from `options.offset` (the first may start before it). */
  async fetchBatches(
    topic: string,
    partition: number,
    options: FetchOptions,
  ): Promise<Uint8Array> {
    const response = await this.#send(
      "GET",
      `v1/topics/${segment(topic)}/partitions/${partition}/records`,
      { ...this.#fetchQuery(options), accept: BATCHES_MEDIA_TYPE },
    );
    return new Uint8Array(await response.arrayBuffer());
  }

  /** The first offset whose timestamp is >= `timestamp`, else the high watermark. */
  async offsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
  ): Promise<number> {
    const answer = await this.#json<{ offset: number }>(
      "GET",
      `v1/topics/${segment(topic)}/partitions/${partition}/offsets`,
      { query: { timestamp } },
    );
    return answer.offset;
  }

  /**
   * The records of every partition of `topic` as they arrive (Server-Sent
   * Events). A dropped connection is reopened with backoff and resumes after
   * the last event (`Last-Event-ID`); an error answer or `event: error` that
   * is not retriable ends the iteration by throwing. Aborting `options.signal` ends it quietly.
   */
  async *stream(
    topic: string,
    options: StreamOptions = {},
  ): AsyncGenerator<StreamEvent> {
    const { signal } = options;
    let lastEventId = options.lastEventId;
    let failures = 0;
    while (!signal?.aborted) {
      try {
        const response = await this.#send(
          "GET",
          `v1/topics/${segment(topic)}/stream`,
          {
            query: { from: options.from ?? "latest" },
            accept: "text/event-stream",
            headers: lastEventId === undefined
              ? {}
              : { "last-event-id": lastEventId },
            signal,
            attempts: 1,
          },
        );
        failures = 0;
        if (response.body === null) {
          throw new EdgelogError("INTERNAL", "Stream answer has no body");
        }
        for await (const event of parseSse(response.body)) {
          if (event.event === "error") throw errorFromBody(event.data, 500);
          if (event.id !== undefined) lastEventId = event.id;
          const record = parseStreamRecord(event.data);
          if (record !== undefined) yield { id: event.id, record };
        }
      } catch (error) {
        if (signal?.aborted) return;
        if (options.reconnect === false || !isRetriable(error)) throw error;
        failures++;
      }
      if (options.reconnect === false) return;
      const delay = retryDelay(failures, {
        ...this.#retry,
        random: this.#random,
      });
      try {
        await this.clock.sleep(delay, signal);
      } catch {
        return;
      }
    }
  }

  /** `POST /v1/groups/{group}/heartbeat`: joins, stays in, or (memberEpoch -1) leaves a group. */
  heartbeat(
    group: string,
    request: HeartbeatRequest,
  ): Promise<HeartbeatResponse> {
    return this.#json("POST", `v1/groups/${segment(group)}/heartbeat`, {
      json: request,
    });
  }

  /** `POST /v1/groups/{group}/offsets`: STALE_MEMBER_EPOCH or UNKNOWN_MEMBER when the member is out of date. */
  async commitOffsets(group: string, request: CommitRequest): Promise<void> {
    await (await this.#send("POST", `v1/groups/${segment(group)}/offsets`, {
      json: request,
    })).body?.cancel();
  }

  /** The group's committed offsets, optionally of one topic, with lag. */
  async committedOffsets(
    group: string,
    topic?: string,
  ): Promise<CommittedOffset[]> {
    const answer = await this.#json<{ offsets: CommittedOffset[] }>(
      "GET",
      `v1/groups/${segment(group)}/offsets`,
      { query: { topic } },
    );
    return answer.offsets;
  }

  /** `GET /v1/groups`. */
  async listGroups(): Promise<GroupSummary[]> {
    return (await this.#json<{ groups: GroupSummary[] }>("GET", "v1/groups"))
      .groups;
  }

  /** `GET /v1/groups/{group}`: NOT_FOUND for an unknown group. */
  describeGroup(group: string): Promise<GroupDescription> {
    return this.#json("GET", `v1/groups/${segment(group)}`);
  }

  /**
   * `POST /v1/groups/{group}/offsets/reset`: moves an empty group's offsets;
   * GROUP_NOT_EMPTY while it has active members. Resolves with the offsets
   * now committed.
   */
  async resetGroupOffsets(
    group: string,
    request: ResetOffsetsRequest,
  ): Promise<TopicPartitionOffset[]> {
    const answer = await this.#json<{ offsets: TopicPartitionOffset[] }>(
      "POST",
      `v1/groups/${segment(group)}/offsets/reset`,
      { json: request },
    );
    return answer.offsets;
  }

  /** `DELETE /v1/groups/{group}`: GROUP_NOT_EMPTY while it has members. */
  async deleteGroup(group: string): Promise<void> {
    await (await this.#send("DELETE", `v1/groups/${segment(group)}`)).body
      ?.cancel();
  }

  /** `GET /v1/broker`: role, version, uptime, storage, auth and counts. */
  brokerInfo(): Promise<BrokerInfo> {
    return this.#json("GET", "v1/broker");
  }

  /** `GET /v1/broker/rates`: records per second, per topic and over time. */
  brokerRates(seconds?: number): Promise<BrokerRates> {
    return this.#json("GET", "v1/broker/rates", { query: { seconds } });
  }

  /** `GET /v1/broker/topics`: every topic with records, size and rates. */
  async topicSummaries(): Promise<TopicSummary[]> {
    return (await this.#json<{ topics: TopicSummary[] }>(
      "GET",
      "v1/broker/topics",
    )).topics;
  }

  /** Registers (or re-registers, bumping the epoch) a device's sync stream. */
  registerStream(
    nodeId: string,
    topic: string,
    sourcePartition: number,
  ): Promise<StreamRegistration> {
    return this.#json("POST", "v1/sync/streams", {
      json: { nodeId, topic, sourcePartition },
    });
  }

  /**
   * Pushes local batches upstream. Idempotent, so retries are safe: batches
   * the upstream holds already are acknowledged without appending.
   * `dropped` declares records lost before sync (`Edgelog-Dropped`);
   * `sourceHighWatermark` tells the upstream the local high watermark, so
   * it can show how far behind the stream is. A Blob body is sent as it is
   * (see the browser SDK's `createSyncer`).
   */
  pushBatches(
    producerId: number,
    bytes: Uint8Array | Blob,
    options: { dropped?: number; sourceHighWatermark?: number } = {},
  ): Promise<PushResult> {
    const headers: Record<string, string> = {};
    if (options.dropped !== undefined) {
      headers["edgelog-dropped"] = String(options.dropped);
    }
    if (options.sourceHighWatermark !== undefined) {
      headers["edgelog-source-high-watermark"] = String(
        options.sourceHighWatermark,
      );
    }
    return this.#json("POST", `v1/sync/streams/${producerId}/batches`, {
      bytes,
      headers,
    });
  }

  /**
   * `POST /v1/sync/batches`: batches of several streams in one body, each
   * stamped with its stream's producer fields; one outcome per stream, in
   * order of first appearance.
   */
  async pushStreams(bytes: Uint8Array): Promise<StreamPushOutcome[]> {
    const answer = await this.#json<{ results: StreamPushOutcome[] }>(
      "POST",
      "v1/sync/batches",
      { bytes },
    );
    return answer.results;
  }

  /** Sync streams known upstream, optionally of one node, every page. */
  async listStreams(nodeId?: string): Promise<SyncStreamInfo[]> {
    const streams: SyncStreamInfo[] = [];
    let after: number | undefined;
    do {
      const page = await this.listStreamsPage({ nodeId, after });
      streams.push(...page.streams);
      after = page.next;
    } while (after !== undefined);
    return streams;
  }

  /** One page of `GET /v1/sync/streams`, filtered. */
  listStreamsPage(query: SyncStreamQuery = {}): Promise<SyncStreamPage> {
    return this.#json("GET", "v1/sync/streams", { query: { ...query } });
  }

  /** `GET /v1/sync/status` of a gateway. */
  syncStatus(): Promise<SyncStatus> {
    return this.#json("GET", "v1/sync/status");
  }

  /** `GET /healthz`. */
  health(): Promise<{ status: string }> {
    return this.#json("GET", "healthz");
  }

  /** `GET /metrics`: Prometheus text. */
  async metrics(): Promise<string> {
    return await (await this.#send("GET", "metrics")).text();
  }

  /** A group consumer; see {@linkcode EdgelogConsumer}. */
  consumer(options: EdgelogConsumerOptions): EdgelogConsumer {
    return new EdgelogConsumer(this, options);
  }
}

function parseStreamRecord(data: string): FetchedRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  if (typeof (parsed as { offset?: unknown }).offset !== "number") {
    return undefined;
  }
  return decodeJsonRecord(parsed as JsonRecord);
}
