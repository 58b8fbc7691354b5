/**
 * Auth on the sync routes of a real broker: a token bound to a node may
 * register and push only that node's streams, a request without a token is
 * refused, an admin sees every stream. And the client's retry policy as
 * seen on the wire: refusals (4xx) are never retried, 5xx are.
 */

import assert from "node:assert/strict";
import { type Broker, startBroker } from "../edge/broker.ts";
import { EdgelogClient, type FetchFn } from "../runtime/client/mod.ts";
import { EdgelogError } from "../runtime/errors.ts";
import { setProducer } from "../runtime/format/batch_header.ts";
import { encodeBatch } from "../runtime/format/record_batch.ts";

const enc = new TextEncoder();
const TOKENS = [
  { token: "admin-secret", rights: { admin: true as const } },
  { token: "node-a-secret", rights: { nodeId: "a" } },
  { token: "node-b-secret", rights: { nodeId: "b" } },
  { token: "producer-secret", rights: { produce: ["*"] } },
];

async function withBroker(fn: (broker: Broker) => Promise<void>) {
  const dataDir = await Deno.makeTempDir();
  const broker = await startBroker({
    port: 0,
    dataDir,
    fsync: "never",
    auth: { tokens: TOKENS },
  });
  try {
    await new EdgelogClient(broker.url, { token: "admin-secret" })
      .createTopic("events", { partitions: 1 });
    await fn(broker);
  } finally {
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** A fetch that counts what it sends. */
function counting(): { fetch: FetchFn; count: () => number } {
  let n = 0;
  return {
    fetch: (request) => {
      n++;
      return fetch(request);
    },
    count: () => n,
  };
}

async function batchFor(
  producerId: number,
  producerEpoch: number,
  localOffset: number,
): Promise<Uint8Array> {
  const batch = await encodeBatch([{
    key: enc.encode("k"),
    value: enc.encode(`{"n":${localOffset}}`),
    timestamp: 1_700_000_000_000,
  }], { baseOffset: localOffset });
  setProducer(batch, producerId, producerEpoch, localOffset);
  return batch;
}

async function rejects(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof EdgelogError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

Deno.test("sync auth: node-bound tokens, missing token, admin listing", async () => {
  await withBroker(async (broker) => {
    const a = new EdgelogClient(broker.url, { token: "node-a-secret" });
    const b = new EdgelogClient(broker.url, { token: "node-b-secret" });
    const admin = new EdgelogClient(broker.url, { token: "admin-secret" });
    const anonymous = new EdgelogClient(broker.url);
    const unknown = new EdgelogClient(broker.url, { token: "guess" });

    await rejects(anonymous.registerStream("a", "events", 0), "UNAUTHORIZED");
    await rejects(unknown.registerStream("a", "events", 0), "UNAUTHORIZED");
    await rejects(anonymous.listStreams(), "UNAUTHORIZED");
    const raw = await fetch(`${broker.url}/v1/sync/streams`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        nodeId: "a",
        topic: "events",
        sourcePartition: 0,
      }),
    });
    assert.equal(raw.status, 401);
    assert.equal((await raw.json()).error.code, "UNAUTHORIZED");

    await rejects(a.registerStream("b", "events", 0), "FORBIDDEN");
    const streamA = await a.registerStream("a", "events", 0);
    assert.equal(streamA.ackedOffset, -1);
    const streamB = await b.registerStream("b", "events", 0);

    // Node a cannot push into node b's stream, nor can anyone without a token.
    const intoB = await batchFor(streamB.producerId, streamB.producerEpoch, 0);
    await rejects(a.pushBatches(streamB.producerId, intoB), "FORBIDDEN");
    await rejects(
      anonymous.pushBatches(streamB.producerId, intoB),
      "UNAUTHORIZED",
    );
    assert.equal(broker.log.partition("events", 0).highWatermark, 0);

    const intoA = await batchFor(streamA.producerId, streamA.producerEpoch, 0);
    assert.equal(
      (await a.pushBatches(streamA.producerId, intoA)).ackedOffset,
      0,
    );
    assert.equal(
      (await b.pushBatches(streamB.producerId, intoB)).ackedOffset,
      0,
    );
    assert.equal(broker.log.partition("events", 0).highWatermark, 2);

    // A bound token sees its own node's streams only.
    assert.deepEqual((await a.listStreams()).map((s) => s.nodeId), ["a"]);
    await rejects(a.listStreams("b"), "FORBIDDEN");
    // A token bound to no node lists devices' streams only as admin.
    const producer = new EdgelogClient(broker.url, {
      token: "producer-secret",
      retry: { attempts: 1 },
    });
    await rejects(producer.listStreams(), "FORBIDDEN");
    const all = await admin.listStreams();
    assert.deepEqual(all.map((s) => s.nodeId).sort(), ["a", "b"]);
    assert.ok(all.every((s) => s.ackedOffset === 0 && s.droppedRecords === 0));
    assert.deepEqual((await admin.listStreams("b")).map((s) => s.nodeId), [
      "b",
    ]);
  });
});

Deno.test("client retries: never a 4xx, but a 5xx", async () => {
  await withBroker(async (broker) => {
    const retry = { attempts: 5, baseMs: 1, maxMs: 2 };
    const forbidden = counting();
    const a = new EdgelogClient(broker.url, {
      token: "node-a-secret",
      fetch: forbidden.fetch,
      retry,
    });
    await rejects(a.registerStream("b", "events", 0), "FORBIDDEN");
    assert.equal(forbidden.count(), 1);

    const unauthorized = counting();
    const anonymous = new EdgelogClient(broker.url, {
      fetch: unauthorized.fetch,
      retry,
    });
    await rejects(anonymous.registerStream("a", "events", 0), "UNAUTHORIZED");
    assert.equal(unauthorized.count(), 1);

    const missing = counting();
    const admin = new EdgelogClient(broker.url, {
      token: "admin-secret",
      fetch: missing.fetch,
      retry,
    });
    await rejects(admin.describeTopic("nope"), "TOPIC_NOT_FOUND");
    assert.equal(missing.count(), 1);

    // The same client does retry an answer the server may outgrow.
    let calls = 0;
    const flaky = new EdgelogClient(broker.url, {
      token: "node-a-secret",
      retry,
      fetch: (request) => {
        calls++;
        if (calls <= 2) {
          return Response.json({
            error: { code: "UNAVAILABLE", message: "busy" },
          }, { status: 503 });
        }
        return fetch(request);
      },
    });
    assert.equal(
      (await flaky.registerStream("a", "events", 0)).ackedOffset,
      -1,
    );
    assert.equal(calls, 3);
  });
});

Deno.test("multi-stream push and paged listing over HTTP: auth per stream, bad paging refused, both in the OpenAPI document", async () => {
  await withBroker(async (broker) => {
    const a = new EdgelogClient(broker.url, { token: "node-a-secret" });
    const admin = new EdgelogClient(broker.url, { token: "admin-secret" });
    const a0 = await a.registerStream("a", "events", 0);
    const a1 = await a.registerStream("a", "events", 1);
    const b0 = await admin.registerStream("b", "events", 0);
    const batch = (s: { producerId: number; producerEpoch: number }, at = 0) =>
      batchFor(s.producerId, s.producerEpoch, at);

    // One of node b's batches in node a's body: nothing is appended.
    const mixed = new Uint8Array([
      ...await batch(a0),
      ...await batch(b0),
    ]);
    await rejects(a.pushStreams(mixed), "FORBIDDEN");
    assert.equal(broker.log.partition("events", 0).highWatermark, 0);

    const results = await a.pushStreams(
      new Uint8Array([
        ...await batch(a0),
        ...await batch(a1),
        ...await batch(a0, 5),
      ]),
    );
    assert.deepEqual(results.map((r) => r.producerId), [
      a0.producerId,
      a1.producerId,
    ]);
    const refused = results[0] as {
      status: number;
      error: Record<string, unknown>;
    };
    assert.equal(refused.status, 409, "a0's second batch leaves a gap");
    assert.equal(refused.error.expectedOffset, 0, "refused whole, as alone");
    assert.equal((results[1] as { ackedOffset: number }).ackedOffset, 0);
    assert.equal(broker.log.partition("events", 0).highWatermark, 1, "only a1");

    const page = await admin.listStreamsPage({ limit: 2 });
    assert.deepEqual(page.streams.map((s) => s.producerId), [
      a0.producerId,
      a1.producerId,
    ]);
    assert.equal(page.next, a1.producerId);
    const last = await admin.listStreamsPage({ limit: 2, after: page.next });
    assert.deepEqual(last.streams.map((s) => s.nodeId), ["b"]);
    assert.equal(last.next, undefined);
    for (const query of ["limit=0", "limit=10001", "after=-1", "minLag=x"]) {
      const res = await fetch(`${broker.url}/v1/sync/streams?${query}`, {
        headers: { authorization: "Bearer admin-secret" },
      });
      assert.equal(res.status, 400, query);
      assert.equal((await res.json()).error.code, "BAD_REQUEST");
    }
    const declared = await fetch(`${broker.url}/v1/sync/batches`, {
      method: "POST",
      headers: {
        authorization: "Bearer node-a-secret",
        "content-type": "application/vnd.edgelog.batches",
        "edgelog-dropped": "3",
      },
      body: (await batch(a1, 1)) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(declared.status, 400, "a gap cannot be declared here");
    await declared.body?.cancel();
    assert.equal(broker.log.partition("events", 0).highWatermark, 1);
    const doc = await (await fetch(`${broker.url}/openapi.json`)).json();
    assert.ok(
      doc.paths["/v1/sync/batches"]?.post,
      "multi-stream push documented",
    );
    assert.ok(doc.paths["/v1/sync/streams"]?.get?.parameters?.length >= 6);
  });
});
