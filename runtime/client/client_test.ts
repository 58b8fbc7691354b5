import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import { EdgelogClient, type FetchFn } from "./client.ts";
import { EdgelogHttpError } from "./errors.ts";
import { encodeBatch } from "../format/mod.ts";
import { TestBroker } from "./_test_broker.ts";

/** A clock whose sleeps end at once and are remembered. */
function instantClock(): Clock & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => 0,
    sleep: (ms, signal) => {
      delays.push(ms);
      return signal?.aborted
        ? Promise.reject(signal.reason)
        : Promise.resolve();
    },
  };
}

async function setup(
  options: { token?: string; retry?: { attempts?: number } } = {},
) {
  const broker = await TestBroker.open(
    options.token === undefined ? {} : { token: options.token },
  );
  const clock = instantClock();
  const client = new EdgelogClient("http://edgelog.test", {
    fetch: broker.fetch,
    clock,
    random: () => 0.5,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
  return { broker, client, clock };
}

Deno.test("topics: create, list, describe, delete with typed answers", async () => {
  const { client, broker } = await setup({ token: "s3cret" });
  const created = await client.createTopic("orders", { partitions: 2 });
  assert.equal(created.name, "orders");
  assert.equal(created.partitions, 2);
  assert.deepEqual(broker.requests.at(-1)?.body, {
    name: "orders",
    partitions: 2,
  });
  assert.equal(
    broker.requests.at(-1)?.headers.get("authorization"),
    "Bearer s3cret",
  );
  assert.deepEqual((await client.listTopics()).map((t) => t.name), ["orders"]);
  await client.produce("orders", [{ value: 1, partition: 1 }]);
  const described = await client.describeTopic("orders");
  assert.deepEqual(described.partitions.map((p) => p.highWatermark), [0, 1]);
  await client.deleteTopic("orders");
  assert.deepEqual(await client.listTopics(), []);
  await client.createTopic("orders");
  await assert.rejects(
    client.createTopic("orders"),
    (e) => e instanceof EdgelogError && e.code === "TOPIC_EXISTS",
  );
});

Deno.test("a missing token is an UNAUTHORIZED EdgelogError", async () => {
  const broker = await TestBroker.open({ token: "right" });
  const client = new EdgelogClient("http://edgelog.test", {
    fetch: broker.fetch,
  });
  await assert.rejects(client.listTopics(), (e) => {
    assert.ok(e instanceof EdgelogError);
    assert.equal(e.code, "UNAUTHORIZED");
    assert.equal(e.status, 401);
    assert.equal(e.retriable, false);
    return true;
  });
});

Deno.test("produce sends JSON and base64 fields; fetch decodes them", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  const positions = await client.produce("t", [
    {
      key: "dev-7",
      value: { t: 21.5 },
      headers: { unit: "C" },
      timestamp: 1732406400000,
    },
    { key: new Uint8Array([0xff, 0x00]), value: new Uint8Array([1, 2, 3]) },
    { value: null },
  ]);
  assert.deepEqual(positions, [{ partition: 0, offset: 0 }, {
    partition: 0,
    offset: 1,
  }, { partition: 0, offset: 2 }]);
  assert.deepEqual(broker.requests.at(-1)?.body, {
    records: [
      {
        key: "dev-7",
        value: { t: 21.5 },
        headers: { unit: "C" },
        timestamp: 1732406400000,
      },
      { keyBase64: "/wA=", valueBase64: "AQID" },
      { key: null, value: null },
    ],
  });
  const page = await client.fetch("t", 0, {
    offset: "earliest",
    maxRecords: 10,
  });
  assert.equal(page.nextOffset, 3);
  assert.equal(page.highWatermark, 3);
  const [first, second, third] = page.records;
  assert.deepEqual(first, {
    partition: 0,
    offset: 0,
    timestamp: 1732406400000,
    key: "dev-7",
    value: { t: 21.5 },
    headers: { unit: "C" },
  });
  assert.deepEqual(second?.key, new Uint8Array([0xff, 0x00]));
  assert.deepEqual(second?.value, new Uint8Array([1, 2, 3]));
  assert.equal(third?.key, null);
  assert.equal(third?.value, null);
  const search = broker.requests.at(-1)?.search;
  assert.equal(search, "?offset=earliest&maxRecords=10");
});

Deno.test("fetch outside the log throws OFFSET_OUT_OF_RANGE with the body's extra fields", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  await client.produce("t", [{ value: "a" }]);
  await assert.rejects(client.fetch("t", 0, { offset: 9 }), (e) => {
    assert.ok(e instanceof EdgelogError);
    assert.equal(e.code, "OFFSET_OUT_OF_RANGE");
    assert.equal(e.status, 416);
    assert.deepEqual(e.extra, { logStartOffset: 0, highWatermark: 1 });
    return true;
  });
  assert.equal(broker.requests.length, 2, "a 4xx answer is never retried");
});

Deno.test("a long poll answers as soon as a record arrives", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  const waiting = client.fetch("t", 0, { offset: "latest", maxWaitMs: 60_000 });
  await broker.nextLongPoll("t", 0);
  await broker.append("t", 0, "late");
  const page = await waiting;
  assert.deepEqual(page.records.map((r) => r.value), ["late"]);
});

Deno.test("binary produce and fetch use the batches media type", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  const batch = await encodeBatch([{ value: new Uint8Array([9, 8, 7]) }], {
    now: 5,
  });
  const appended = await client.produceBatches("t", 0, batch);
  assert.deepEqual(appended, { partition: 0, baseOffset: 0, lastOffset: 0 });
  const sent = broker.requests.at(-1)!;
  assert.equal(
    sent.headers.get("content-type"),
    "application/vnd.edgelog.batches",
  );
  assert.equal(sent.search, "?partition=0");
  const bytes = await client.fetchBatches("t", 0, { offset: 0 });
  assert.deepEqual(bytes, batch, "the stored batch comes back as it was sent");
  assert.equal(
    broker.requests.at(-1)?.headers.get("accept"),
    "application/vnd.edgelog.batches",
  );
});

Deno.test("offsetForTimestamp returns the first offset at or after the time", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  await client.produce("t", [{ value: 1, timestamp: 100 }, {
    value: 2,
    timestamp: 200,
  }]);
  assert.equal(await client.offsetForTimestamp("t", 0, 150), 1);
  assert.equal(await client.offsetForTimestamp("t", 0, 999), 2);
});

Deno.test("retries 5xx answers with capped, jittered backoff, then succeeds", async () => {
  const { client, broker, clock } = await setup({ retry: { attempts: 4 } });
  broker.failures.push(
    { path: "/v1/topics", status: 503, code: "UNAVAILABLE" },
    { path: "/v1/topics", status: 507, code: "STORAGE_FULL" },
    { path: "/v1/topics", status: 502 },
  );
  assert.deepEqual(await client.listTopics(), []);
  assert.equal(broker.requests.length, 4);
  // random 0.5 of caps 100, 200, 400
  assert.deepEqual(clock.delays, [50, 100, 200]);
});

Deno.test("gives up after its attempts with the last error", async () => {
  const { client, broker } = await setup({ retry: { attempts: 2 } });
  broker.failures.push({ path: "/healthz", status: 503, code: "UNAVAILABLE" }, {
    path: "/healthz",
    status: 502,
  });
  await assert.rejects(client.health(), (e) => {
    assert.ok(e instanceof EdgelogHttpError);
    assert.equal(e.status, 502);
    assert.equal(e.code, "HTTP_502");
    assert.equal(e.retriable, true);
    assert.match(e.message, /upstream trouble/);
    return true;
  });
  assert.equal(broker.requests.length, 2);
});

Deno.test("network errors are retried and then reported as UNAVAILABLE", async () => {
  let calls = 0;
  const failing: FetchFn = () => {
    calls++;
    return Promise.reject(new TypeError("connection refused"));
  };
  const client = new EdgelogClient("http://127.0.0.1:1", {
    fetch: failing,
    clock: instantClock(),
  });
  await assert.rejects(client.listTopics(), (e) => {
    assert.ok(e instanceof EdgelogError);
    assert.equal(e.code, "UNAVAILABLE");
    assert.match(
      e.message,
      /Cannot reach http:\/\/127\.0\.0\.1:1: connection refused/,
    );
    assert.ok(e.cause instanceof TypeError);
    return true;
  });
  assert.equal(calls, 3);
});

Deno.test("an aborted request is not retried and throws the abort reason", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  const controller = new AbortController();
  const waiting = client.fetch("t", 0, {
    offset: 0,
    maxWaitMs: 60_000,
    signal: controller.signal,
  });
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(broker.requests.length, 1);
});

Deno.test("an unknown error code keeps its code and status", async () => {
  const client = new EdgelogClient("http://x.test", {
    fetch: () =>
      Response.json({
        error: { code: "TEAPOT", message: "short and stout", hint: 1 },
      }, { status: 418 }),
  });
  await assert.rejects(client.health(), (e) => {
    assert.ok(e instanceof EdgelogHttpError);
    assert.equal(e.code, "TEAPOT");
    assert.equal(e.status, 418);
    assert.equal(e.message, "short and stout");
    assert.deepEqual(e.extra, { hint: 1 });
    assert.equal(e.retriable, false);
    return true;
  });
});

Deno.test("URLs keep a base path and escape names", async () => {
  const seen: string[] = [];
  const client = new EdgelogClient("http://x.test/edgelog", {
    fetch: (request) => {
      seen.push(request.url);
      return Response.json({ topics: [] });
    },
  });
  await client.listTopics();
  await client.describeTopic("a b").catch(() => {});
  assert.deepEqual(seen, [
    "http://x.test/edgelog/v1/topics",
    "http://x.test/edgelog/v1/topics/a%20b",
  ]);
});

Deno.test("stream resumes with Last-Event-ID after the connection drops", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  await broker.append("t", 0, 0, 1, 2, 3, 4);
  broker.cutStreamsAfter = 2;
  const controller = new AbortController();
  const values: unknown[] = [];
  for await (
    const event of client.stream("t", {
      from: "earliest",
      signal: controller.signal,
    })
  ) {
    values.push(event.record.value);
    assert.equal(event.id, `0:${event.record.offset + 1}`, "the next offset");
    if (values.length === 5) controller.abort();
  }
  assert.deepEqual(values, [0, 1, 2, 3, 4]);
  const resumes = broker.requests.filter((r) =>
    r.path === "/v1/topics/t/stream"
  )
    .map((r) => r.headers.get("last-event-id"));
  assert.deepEqual(resumes, [null, "0:2", "0:4"]);
});

Deno.test("stream: an error event that is not retriable ends the iteration", async () => {
  const client = new EdgelogClient("http://x.test", {
    fetch: () =>
      new Response(
        'event: error\ndata: {"error":{"code":"TOPIC_NOT_FOUND","message":"gone"}}\n\n',
        {
          headers: { "content-type": "text/event-stream" },
        },
      ),
    clock: instantClock(),
  });
  const stream = client.stream("t");
  await assert.rejects(
    stream.next(),
    (e) => e instanceof EdgelogError && e.code === "TOPIC_NOT_FOUND",
  );
});

Deno.test("groups endpoints", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t", 2);
  const joined = await client.heartbeat("g", {
    topics: ["t"],
    sessionTimeoutMs: 10_000,
  });
  assert.equal(typeof joined.memberId, "string");
  assert.deepEqual(joined.assignment, [{ topic: "t", partitions: [0, 1] }]);
  assert.deepEqual(broker.requests.at(-1)?.body, {
    topics: ["t"],
    sessionTimeoutMs: 10_000,
  });
  await client.commitOffsets("g", {
    memberId: joined.memberId,
    memberEpoch: joined.memberEpoch,
    offsets: [{ topic: "t", partition: 1, offset: 0 }],
  });
  assert.deepEqual(await client.committedOffsets("g", "t"), [
    { topic: "t", partition: 1, offset: 0, highWatermark: 0, lag: 0 },
  ]);
  assert.equal(broker.requests.at(-1)?.search, "?topic=t");
  await assert.rejects(
    client.commitOffsets("g", {
      memberId: joined.memberId,
      memberEpoch: 99,
      offsets: [],
    }),
    (e) =>
      e instanceof EdgelogError && e.code === "STALE_MEMBER_EPOCH" &&
      e.status === 409,
  );
  const [listed] = await client.listGroups();
  assert.equal(listed?.group, "g");
  assert.equal(listed?.members, 1);
  assert.equal(
    (await client.describeGroup("g")).members?.[0]?.memberId,
    joined.memberId,
  );
  await assert.rejects(
    client.describeGroup("nope"),
    (e) => e instanceof EdgelogError && e.code === "NOT_FOUND",
  );
});

/** A device's batch as the replicator sends it: sequence = local offset. */
function deviceBatch(
  registration: { producerId: number; producerEpoch: number },
  localOffset: number,
  values: string[],
): Promise<Uint8Array> {
  return encodeBatch(
    values.map((v) => ({ value: new TextEncoder().encode(v) })),
    {
      baseOffset: localOffset,
      producerId: registration.producerId,
      producerEpoch: registration.producerEpoch,
      baseSequence: localOffset,
      now: 7,
    },
  );
}

Deno.test("sync endpoints, health and metrics", async () => {
  const { client, broker } = await setup();
  await broker.createTopic("t");
  const registered = await client.registerStream("dev-1", "t", 0);
  assert.equal(registered.partition, 0);
  assert.equal(registered.ackedOffset, -1);
  assert.deepEqual(broker.requests.at(-1)?.body, {
    nodeId: "dev-1",
    topic: "t",
    sourcePartition: 0,
  });
  const { producerId } = registered;
  const afterGap = await deviceBatch(registered, 4, ["e", "f", "g"]);
  const pushed = await client.pushBatches(producerId, afterGap, {
    dropped: 4,
  });
  assert.deepEqual(pushed, { ackedOffset: 6, partition: 0, lastOffset: 2 });
  const push = broker.requests.at(-1)!;
  assert.equal(push.path, `/v1/sync/streams/${producerId}/batches`);
  assert.equal(push.headers.get("edgelog-dropped"), "4");
  assert.equal(
    push.headers.get("content-type"),
    "application/vnd.edgelog.batches",
  );
  const next = await client.pushBatches(
    producerId,
    await deviceBatch(registered, 7, ["h"]),
  );
  assert.equal(next.ackedOffset, 7);
  assert.equal(broker.requests.at(-1)?.headers.get("edgelog-dropped"), null);
  const blobbed = await client.pushBatches(
    producerId,
    new Blob([
      (await deviceBatch(registered, 8, ["i"])) as Uint8Array<ArrayBuffer>,
    ]),
  );
  assert.equal(blobbed.ackedOffset, 8, "a Blob body is pushed as its bytes");
  assert.equal(
    broker.requests.at(-1)?.headers.get("content-type"),
    "application/vnd.edgelog.batches",
    "a Blob body keeps the batches' media type",
  );
  const [stream] = await client.listStreams("dev-1");
  assert.equal(stream?.nodeId, "dev-1");
  assert.equal(stream?.droppedRecords, 4);
  assert.equal(broker.requests.at(-1)?.search, "?nodeId=dev-1");
  assert.deepEqual(await client.health(), { status: "ok" });
  assert.match(
    await client.metrics(),
    /^edgelog_records_in_total\{topic="t"\} 5$/m,
  );
});

Deno.test("syncStatus reads a gateway's upstream view", async () => {
  const status = {
    upstream: "http://up",
    online: true,
    streams: [],
  };
  const client = new EdgelogClient("http://gateway.test", {
    fetch: (request) => {
      assert.equal(new URL(request.url).pathname, "/v1/sync/status");
      return Response.json(status);
    },
  });
  assert.deepEqual(await client.syncStatus(), status);
});
