import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";
import { Rates } from "./rates.ts";
import { send, testServer } from "./_test_util.ts";

Deno.test("GET /v1/broker: node, storage, auth and counts", async () => {
  const s = await testServer({
    node: {
      role: "gateway",
      version: "1.2.3",
      startedMs: 1_700_000_000_000 - 5000,
      fsync: "always",
      storageFreeBytes: () => Promise.resolve(4096),
      sync: () => ({
        streams: 3,
        devices: 2,
        silentDevices: 1,
        laggingDevices: 1,
        silentAfterMs: 60_000,
      }),
    },
  });
  try {
    await s.log.createTopic("a", { partitions: 2 });
    await s.log.createTopic("b");
    await s.log.produce("a", [{ value: null, partition: 1 }, {
      value: null,
      partition: 1,
    }]);
    const res = await send(s.app, "GET", "/v1/broker");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.storage.usedBytes > 0, true);
    assert.deepEqual({ ...body, storage: { ...body.storage, usedBytes: 1 } }, {
      role: "gateway",
      version: "1.2.3",
      startedMs: 1_700_000_000_000 - 5000,
      uptimeMs: 5000,
      fsync: "always",
      auth: false,
      storage: { usedBytes: 1, freeBytes: 4096 },
      counts: { topics: 2, partitions: 3, records: 2, groups: 0 },
      sync: {
        streams: 3,
        devices: 2,
        silentDevices: 1,
        laggingDevices: 1,
        silentAfterMs: 60_000,
      },
    });
  } finally {
    await s.close();
  }
});

Deno.test("GET /v1/broker needs the metrics right when auth is on; topic summaries show only what a token may describe", async () => {
  const s = await testServer({
    auth: {
      tokens: [
        { token: "reader", rights: { consume: ["x"] } },
        { token: "scraper", rights: { metrics: true } },
      ],
    },
  });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  try {
    await s.log.createTopic("x");
    await s.log.createTopic("secret");
    assert.equal((await send(s.app, "GET", "/v1/broker")).status, 401);
    const refused = await send(
      s.app,
      "GET",
      "/v1/broker",
      undefined,
      as("reader"),
    );
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const res = await send(
      s.app,
      "GET",
      "/v1/broker",
      undefined,
      as("scraper"),
    );
    assert.equal(res.status, 200);
    assert.equal((await res.json()).auth, true);
    const rates = await send(
      s.app,
      "GET",
      "/v1/broker/rates",
      undefined,
      as("reader"),
    );
    assert.equal(rates.status, 403);
    await rates.body?.cancel();
    const topics = await send(
      s.app,
      "GET",
      "/v1/broker/topics",
      undefined,
      as("reader"),
    );
    assert.deepEqual(
      (await topics.json()).topics.map((t: { name: string }) => t.name),
      ["x"],
    );
  } finally {
    await s.close();
  }
});

Deno.test("GET /v1/broker/rates and /v1/broker/topics count records in and out", async () => {
  const s0 = await testServer();
  const rates = new Rates({ clock: s0.clock, windowSeconds: 60 });
  await s0.close();
  const s = await testServer({ metrics: new Metrics({ rates }) });
  try {
    // The rates' clock is another test server's: move it by hand.
    await s.log.createTopic("t");
    await send(s.app, "POST", "/v1/topics/t/records", {
      records: [{ value: 1 }, { value: 2 }],
    });
    await send(s.app, "GET", "/v1/topics/t/partitions/0/records?offset=0");
    s0.clock.advance(1000);
    let res = await send(s.app, "GET", "/v1/broker/rates?seconds=1");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.topics, [{ topic: "t", inPerSec: 2, outPerSec: 2 }]);
    assert.equal(body.windowSeconds, 60);
    assert.deepEqual(body.series.in.slice(-1), [2]);
    assert.equal(body.series.t.length, body.series.out.length);

    res = await send(s.app, "GET", "/v1/broker/topics");
    const [topic] = (await res.json()).topics;
    assert.equal(topic.name, "t");
    assert.equal(topic.records, 2);
    assert.equal(topic.sizeBytes > 0, true);
    assert.equal(topic.inPerSec, 0.2);

    res = await send(s.app, "GET", "/v1/broker/rates?seconds=0");
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "BAD_REQUEST");
  } finally {
    await s.close();
  }
});

Deno.test("/openapi.json names the broker and group admin routes", async () => {
  const s = await testServer();
  try {
    const doc = await (await send(s.app, "GET", "/openapi.json")).json();
    for (
      const path of ["/v1/broker", "/v1/broker/rates", "/v1/broker/topics"]
    ) {
      assert.ok(doc.paths[path]?.get, path);
    }
    assert.ok(doc.paths["/v1/groups/{group}/offsets/reset"]?.post);
    assert.ok(doc.paths["/v1/groups/{group}"]?.delete);
  } finally {
    await s.close();
  }
});
