import assert from "node:assert/strict";
import { decodeBatches } from "../format/mod.ts";
import { send, testServer, until } from "./_test_util.ts";
import { joinBatches } from "./fetch_routes.ts";
import { BATCHES_MEDIA_TYPE } from "./schemas.ts";

const text = new TextEncoder();

Deno.test("fetch JSON: values, keys and headers come back as they went in", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    await send(s.app, "POST", "/v1/topics/t/records", {
      records: [
        { key: "k1", value: { a: [1, 2] }, headers: { h: "v" }, timestamp: 10 },
        { keyBase64: "/wA=", valueBase64: "AAEC", timestamp: 11 },
        { key: '{"not":"parsed"}', value: null, timestamp: 12 },
        { valueBase64: "bnVsbA==", timestamp: 13 },
      ],
    });
    const res = await send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=0",
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      records: [
        {
          partition: 0,
          offset: 0,
          timestamp: 10,
          key: "k1",
          value: { a: [1, 2] },
          headers: { h: "v" },
        },
        {
          partition: 0,
          offset: 1,
          timestamp: 11,
          keyBase64: "/wA=",
          valueBase64: "AAEC",
          headers: {},
        },
        {
          partition: 0,
          offset: 2,
          timestamp: 12,
          key: '{"not":"parsed"}',
          value: null,
          headers: {},
        },
        {
          partition: 0,
          offset: 3,
          timestamp: 13,
          key: null,
          valueBase64: "bnVsbA==",
          headers: {},
        },
      ],
      nextOffset: 4,
      highWatermark: 4,
    });
  } finally {
    await s.close();
  }
});

Deno.test("fetch: earliest, latest, maxRecords and 416 with offsets", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    for (let i = 0; i < 5; i++) {
      await s.log.produce("t", [{ value: text.encode(String(i)) }]);
    }
    let res = await send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=earliest&maxRecords=2",
    );
    let body = await res.json();
    assert.deepEqual(body.records.map((r: { value: number }) => r.value), [
      0,
      1,
    ]);
    assert.equal(body.nextOffset, 2);
    res = await send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=latest",
    );
    body = await res.json();
    assert.deepEqual(body, { records: [], nextOffset: 5, highWatermark: 5 });
    res = await send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=6",
    );
    assert.equal(res.status, 416);
    const { error } = await res.json();
    assert.equal(error.code, "OFFSET_OUT_OF_RANGE");
    assert.equal(error.logStartOffset, 0);
    assert.equal(error.highWatermark, 5);
    res = await send(s.app, "GET", "/v1/topics/t/partitions/1/records");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "PARTITION_NOT_FOUND");
  } finally {
    await s.close();
  }
});

Deno.test("fetch binary: raw batches with offset headers", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    await s.log.produce("t", [{ value: text.encode("a") }, {
      value: text.encode("b"),
    }]);
    await s.log.produce("t", [{ value: text.encode("c") }]);
    const res = await s.app.request(
      "/v1/topics/t/partitions/0/records?offset=1",
      {
        headers: { accept: BATCHES_MEDIA_TYPE },
      },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), BATCHES_MEDIA_TYPE);
    assert.equal(res.headers.get("edgelog-next-offset"), "3");
    assert.equal(res.headers.get("edgelog-high-watermark"), "3");
    const batches = await decodeBatches(
      new Uint8Array(await res.arrayBuffer()),
    );
    assert.deepEqual(
      batches.flatMap((b) => b.records.map((r) => r.offset)),
      [0, 1, 2],
    );
  } finally {
    await s.close();
  }
});

Deno.test("fetch long poll: answers when a record arrives", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    const pending = send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=0&maxWaitMs=60000",
    );
    await until(() => s.log.partition("t", 0).waiters > 0);
    await s.log.produce("t", [{ value: text.encode("1") }]);
    const body = await (await pending).json();
    assert.deepEqual(body.records.map((r: { value: number }) => r.value), [1]);
  } finally {
    await s.close();
  }
});

Deno.test("fetch long poll: times out empty on the clock and is capped", async () => {
  const s = await testServer({ maxWaitMs: 1000 });
  try {
    await s.log.createTopic("t");
    const pending = send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=latest&maxWaitMs=999999",
    );
    await until(() => s.log.partition("t", 0).waiters > 0);
    s.clock.advance(1000);
    const body = await (await pending).json();
    assert.deepEqual(body, { records: [], nextOffset: 0, highWatermark: 0 });
    assert.equal(s.log.partition("t", 0).waiters, 0);
  } finally {
    await s.close();
  }
});

Deno.test("fetch long poll: shutdown and client abort end the wait", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    const client = new AbortController();
    const aborted = s.app.request(
      "/v1/topics/t/partitions/0/records?maxWaitMs=30000",
      {
        signal: client.signal,
      },
    );
    await until(() => s.log.partition("t", 0).waiters > 0);
    client.abort();
    await aborted;
    assert.equal(s.log.partition("t", 0).waiters, 0);

    const pending = send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records?maxWaitMs=30000",
    );
    await until(() => s.log.partition("t", 0).waiters > 0);
    s.shutdown.abort();
    assert.equal((await pending).status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("offsets: first offset at or after a timestamp", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    await s.log.produce("t", [
      { value: null, timestamp: 100 },
      { value: null, timestamp: 200 },
      { value: null, timestamp: 300 },
    ]);
    const at = async (t: string) =>
      (await (await send(
        s.app,
        "GET",
        `/v1/topics/t/partitions/0/offsets?timestamp=${t}`,
      )).json()).offset;
    assert.equal(await at("150"), 1);
    assert.equal(await at("0"), 0);
    assert.equal(await at("301"), 3);
    const res = await send(s.app, "GET", "/v1/topics/t/partitions/0/offsets");
    assert.equal(res.status, 400);
  } finally {
    await s.close();
  }
});

Deno.test("joinBatches: adjacent views become one view, others are joined", () => {
  const read = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const adjacent = joinBatches([read.subarray(1, 3), read.subarray(3, 5)]);
  assert.equal(adjacent.buffer, read.buffer, "no copy");
  assert.deepEqual([...adjacent], [2, 3, 4, 5]);

  const gap = joinBatches([read.subarray(0, 1), read.subarray(2, 3)]);
  assert.notEqual(gap.buffer, read.buffer);
  assert.deepEqual([...gap], [1, 3]);

  const apart = joinBatches([read.subarray(0, 2), new Uint8Array([9])]);
  assert.deepEqual([...apart], [1, 2, 9]);
  assert.equal(joinBatches([]).byteLength, 0);
});
