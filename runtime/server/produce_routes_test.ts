import assert from "node:assert/strict";
import { encodeBatch, partitionForKey } from "../format/mod.ts";
import { BATCH_HEADER_SIZE, CRC_START } from "../format/batch_header.ts";
import { crc32c } from "../format/crc32c.ts";
import { send, snapshot, testServer } from "./_test_util.ts";
import { BATCHES_MEDIA_TYPE } from "./schemas.ts";

const text = new TextEncoder();

Deno.test("produce JSON: explicit, keyed and sticky partitions, offsets in order", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t", { partitions: 4 });
    const res = await send(s.app, "POST", "/v1/topics/t/records", {
      records: [
        { key: "dev-7", value: { t: 21.5 }, headers: { unit: "C" } },
        { value: "x", partition: 2, timestamp: 1000 },
        { value: 1, partition: 2 },
        { keyBase64: "AAEC", valueBase64: "/w==" },
        { key: null, value: null, partition: 0 },
      ],
    });
    assert.equal(res.status, 200);
    const { offsets } = await res.json();
    const keyed = partitionForKey(text.encode("dev-7"), 4);
    assert.deepEqual(offsets[0], { partition: keyed, offset: 0 });
    assert.deepEqual(offsets[1], { partition: 2, offset: keyed === 2 ? 1 : 0 });
    assert.deepEqual(offsets[2], {
      partition: 2,
      offset: offsets[1].offset + 1,
    });
    assert.equal(
      offsets[3].partition,
      partitionForKey(new Uint8Array([0, 1, 2]), 4),
    );
    assert.deepEqual(offsets[4], { partition: 0, offset: keyed === 0 ? 1 : 0 });

    const stored = await s.log.partition("t", 2).read(offsets[1].offset);
    assert.equal(new TextDecoder().decode(stored.records[0]!.value!), '"x"');
    assert.equal(stored.records[0]!.timestamp, 1000);
    const first = await s.log.partition("t", keyed).read(0);
    assert.equal(
      new TextDecoder().decode(first.records[0]!.value!),
      '{"t":21.5}',
    );
    assert.deepEqual(first.records[0]!.headers, [{
      key: "unit",
      value: text.encode("C"),
    }]);
    const tomb = await s.log.partition("t", 0).read(offsets[4].offset);
    assert.equal(tomb.records[0]!.value, null);
    assert.equal(tomb.records[0]!.key, null);
  } finally {
    await s.close();
  }
});

Deno.test("produce JSON: a bad record anywhere writes nothing", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t", { partitions: 2 });
    const before = snapshot(s.log);
    for (
      const records of [
        [{ value: 1 }, { value: 2, partition: 2 }],
        [{ value: 1 }, { valueBase64: "not base64!" }],
        [{ value: 1 }, { key: "k" }],
        [{ value: 1, timestamp: -5 }],
        [{ value: 1, headers: { a: 1 } }],
        [],
      ]
    ) {
      const res = await send(s.app, "POST", "/v1/topics/t/records", {
        records,
      });
      assert.ok(res.status === 400 || res.status === 404, String(res.status));
      assert.match(
        (await res.json()).error.code,
        /BAD_REQUEST|PARTITION_NOT_FOUND/,
      );
    }
    assert.deepEqual(snapshot(s.log), before);
    const res = await send(s.app, "POST", "/v1/topics/nope/records", {
      records: [{ value: 1 }],
    });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "TOPIC_NOT_FOUND");
  } finally {
    await s.close();
  }
});

Deno.test("produce binary: batches appended as they are, offsets assigned", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t", { partitions: 2 });
    await s.log.produce("t", [{ value: null, partition: 1 }]);
    const one = await encodeBatch([{ value: text.encode("a") }, {
      value: text.encode("b"),
    }], { baseOffset: 77, now: 5 });
    const two = await encodeBatch([{ value: text.encode("c") }], {
      compression: "gzip",
      now: 6,
    });
    const body = new Uint8Array([...one, ...two]);
    const res = await s.app.request("/v1/topics/t/records?partition=1", {
      method: "POST",
      headers: { "content-type": BATCHES_MEDIA_TYPE },
      body,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      partition: 1,
      baseOffset: 1,
      lastOffset: 3,
    });
    const read = await s.log.partition("t", 1).read(1);
    assert.deepEqual(
      read.records.map((r) => [r.offset, new TextDecoder().decode(r.value!)]),
      [[1, "a"], [2, "b"], [3, "c"]],
    );
  } finally {
    await s.close();
  }
});

Deno.test("produce binary: corrupt, truncated, unknown codec, no partition", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    const good = (await encodeBatch([{ value: text.encode("a") }], { now: 1 }))
      .slice();
    const flipped = good.slice();
    flipped[good.length - 1]! ^= 0xff;
    const zstd = good.slice();
    zstd[CRC_START + 1] = (zstd[CRC_START + 1]! & ~7) | 4;
    new DataView(zstd.buffer).setUint32(17, crc32c(zstd.subarray(CRC_START)));
    const cases: [string, Uint8Array<ArrayBuffer>, number, string][] = [
      ["?partition=0", flipped, 400, "CORRUPT_BATCH"],
      ["?partition=0", good.slice(0, good.length - 3), 400, "CORRUPT_BATCH"],
      [
        "?partition=0",
        good.slice(0, BATCH_HEADER_SIZE - 1),
        400,
        "CORRUPT_BATCH",
      ],
      ["?partition=0", new Uint8Array(), 400, "CORRUPT_BATCH"],
      [
        "?partition=0",
        new Uint8Array([...good, ...flipped]),
        400,
        "CORRUPT_BATCH",
      ],
      ["?partition=0", zstd, 400, "UNSUPPORTED_COMPRESSION"],
      ["", good, 400, "BAD_REQUEST"],
      ["?partition=x", good, 400, "BAD_REQUEST"],
      ["?partition=3", good, 404, "PARTITION_NOT_FOUND"],
    ];
    for (const [query, body, status, code] of cases) {
      const res = await s.app.request(`/v1/topics/t/records${query}`, {
        method: "POST",
        headers: { "content-type": BATCHES_MEDIA_TYPE },
        body,
      });
      assert.equal(res.status, status, `${query} ${code}`);
      assert.equal((await res.json()).error.code, code);
    }
    assert.equal(s.log.partition("t", 0).highWatermark, 0);
  } finally {
    await s.close();
  }
});

Deno.test("produce: wrong content type is 415 with a clear message", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    for (const type of ["text/plain", "application/octet-stream"]) {
      const res = await s.app.request("/v1/topics/t/records", {
        method: "POST",
        headers: { "content-type": type },
        body: '{"records":[{"value":1}]}',
      });
      assert.equal(res.status, 415);
      const { error } = await res.json();
      assert.equal(error.code, "UNSUPPORTED_MEDIA_TYPE");
      assert.match(error.message, new RegExp(type.replace("/", "\\/")));
    }
    const res = await s.app.request("/v1/topics/t/records", {
      method: "POST",
      body: new Uint8Array([1, 2, 3]),
    });
    assert.equal(res.status, 415);
    assert.equal(s.log.partition("t", 0).highWatermark, 0);
  } finally {
    await s.close();
  }
});
