import assert from "node:assert/strict";
import { KafkaError } from "./errors.ts";
import {
  API,
  checkApiVersions,
  decodeApiVersions,
  decodeCreateTopics,
  decodeFetch,
  decodeInitProducerId,
  decodeListOffsets,
  decodeMetadata,
  decodeProduce,
  encodeCreateTopics,
  encodeFetch,
  encodeListOffsets,
  encodeMetadata,
  encodeProduce,
} from "./messages.ts";
import { Reader, Writer } from "./wire.ts";

Deno.test("encodeProduce: acks -1, one topic, one batch per partition", () => {
  const body = encodeProduce(
    [{ topic: "t", partition: 2, batch: new Uint8Array([1, 2, 3]) }],
    30000,
  );
  assert.deepEqual([...body], [
    0xff,
    0xff, // transactional_id null
    0xff,
    0xff, // acks -1
    0,
    0,
    0x75,
    0x30, // timeout 30000
    0,
    0,
    0,
    1,
    0,
    1,
    0x74, // [ "t"
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    2, // [ partition 2
    0,
    0,
    0,
    3,
    1,
    2,
    3, // records
  ]);
});

Deno.test("decodeProduce reads offsets and the error message of v8", () => {
  const body = new Writer()
    .array(
      ["t"],
      (w, name) =>
        w.string(name).array(
          [0, 1],
          (w, p) =>
            w.int32(p).int16(p === 0 ? 0 : 45).int64(p === 0 ? 40 : -1)
              .int64(-1).int64(0)
              .array(p === 0 ? [] : [1], (w) => w.int32(0).string("bad seq"))
              .string(null),
        ),
    )
    .int32(0)
    .finish();
  assert.deepEqual(decodeProduce(body), [
    {
      topic: "t",
      partition: 0,
      errorCode: 0,
      baseOffset: 40,
      errorMessage: null,
    },
    {
      topic: "t",
      partition: 1,
      errorCode: 45,
      baseOffset: -1,
      errorMessage: "bad seq",
    },
  ]);
});

Deno.test("decodeMetadata reads brokers, topics and leaders of v8", () => {
  const body = new Writer()
    .int32(0)
    .array([1], (w, id) => w.int32(id).string("h").int32(9092).string(null))
    .string("cluster")
    .int32(1)
    .array(["t"], (w, name) =>
      w.int16(0).string(name).bool(false)
        .array([0], (w, p) =>
          w.int16(0).int32(p).int32(1).int32(0)
            .array([1], (w, n) => w.int32(n))
            .array([1], (w, n) => w.int32(n))
            .array([], (w, n: number) => w.int32(n)))
        .int32(0))
    .int32(0)
    .finish();
  assert.deepEqual(decodeMetadata(body), {
    clusterId: "cluster",
    brokers: [{ nodeId: 1, host: "h", port: 9092 }],
    topics: [{
      errorCode: 0,
      name: "t",
      partitions: [{ errorCode: 0, partition: 0, leader: 1 }],
    }],
  });
  const request = new Reader(encodeMetadata(["t"]));
  assert.deepEqual(request.array((r) => r.string()), ["t"]);
  assert.equal(request.bool(), false);
});

Deno.test("CreateTopics v4: request fields and per-topic results", () => {
  const r = new Reader(
    encodeCreateTopics(
      [{ name: "t", partitions: 3, configs: { a: "b" } }],
      5000,
    ),
  );
  const [topic] = r.array((r) => ({
    name: r.string(),
    partitions: r.int32(),
    replication: r.int16(),
    assignments: r.int32(),
    configs: r.array((r) => [r.string(), r.nullableString()]),
  }));
  assert.deepEqual(topic, {
    name: "t",
    partitions: 3,
    replication: -1,
    assignments: 0,
    configs: [["a", "b"]],
  });
  assert.equal(r.int32(), 5000);
  assert.equal(r.bool(), false);
  const body = new Writer().int32(0)
    .array(["t"], (w, n) => w.string(n).int16(36).string("exists"))
    .finish();
  assert.deepEqual(decodeCreateTopics(body), [
    { name: "t", errorCode: 36, errorMessage: "exists" },
  ]);
});

Deno.test("InitProducerId and ApiVersions errors are KafkaErrors with retriable flags", () => {
  const ok = new Writer().int32(0).int16(0).int64(12).int16(3).finish();
  assert.deepEqual(decodeInitProducerId(ok), {
    producerId: 12,
    producerEpoch: 3,
  });
  const loading = new Writer().int32(0).int16(14).int64(-1).int16(-1).finish();
  assert.throws(
    () => decodeInitProducerId(loading),
    (err: unknown) =>
      err instanceof KafkaError && err.retriable &&
      err.type === "COORDINATOR_LOAD_IN_PROGRESS",
  );
  const versions = new Writer().int16(0)
    .array(
      [0, 1, 2, 3, 18, 19, 22],
      (w, key) => w.int16(key).int16(0).int16(13),
    )
    .int32(0)
    .finish();
  checkApiVersions(decodeApiVersions(versions));
  const old = decodeApiVersions(versions).map((r) =>
    r.apiKey === API.produce.key ? { ...r, maxVersion: 2 } : r
  );
  assert.throws(
    () => checkApiVersions(old),
    /does not support produce v8 \(it supports 0-2\): UNSUPPORTED_VERSION/,
  );
});

Deno.test("ListOffsets v4 asks for the latest offset and reads it back", () => {
  const r = new Reader(encodeListOffsets([{ topic: "t", partition: 1 }]));
  assert.equal(r.int32(), -1);
  assert.equal(r.int8(), 0);
  assert.deepEqual(
    r.array((
      r,
    ) => [r.string(), r.array((r) => [r.int32(), r.int32(), r.int64()])]),
    [["t", [[1, -1, -1]]]],
  );
  const body = new Writer().int32(0)
    .array(
      ["t"],
      (w, n) =>
        w.string(n).array(
          [1],
          (w, p) => w.int32(p).int16(0).int64(-1).int64(77).int32(0),
        ),
    )
    .finish();
  assert.deepEqual(decodeListOffsets(body), [
    { topic: "t", partition: 1, errorCode: 0, offset: 77 },
  ]);
});

Deno.test("Fetch v4 asks one partition from an offset and reads its batches", () => {
  const r = new Reader(encodeFetch("t", 2, 40, 1024));
  assert.deepEqual(
    [r.int32(), r.int32(), r.int32(), r.int32(), r.int8()],
    [-1, 0, 1, 1024, 0],
  );
  assert.deepEqual(
    r.array((r) => [
      r.string(),
      r.array((r) => [r.int32(), r.int64(), r.int32()]),
    ]),
    [["t", [[2, 40, 1024]]]],
  );
  assert.equal(r.remaining, 0);
  const batch = new Uint8Array([1, 2, 3]);
  const body = new Writer()
    .int32(0)
    .array(
      ["t"],
      (w, name) =>
        w.string(name).array(
          [1, 2],
          (w, p) =>
            w.int32(p).int16(0).int64(50).int64(50)
              .int32(-1)
              .bytes(p === 2 ? batch : null),
        ),
    )
    .finish();
  assert.deepEqual(decodeFetch(body, "t", 2), {
    errorCode: 0,
    highWatermark: 50,
    records: batch,
  });
  assert.equal(decodeFetch(body, "t", 1).records.length, 0);
  assert.throws(() => decodeFetch(body, "t", 3), /answered nothing/);
});
