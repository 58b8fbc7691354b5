/**
 * Bad input to every endpoint, as a table: each case must answer its status
 * and error code in PROTOCOL.md's shape, and leave the log (every topic and
 * every partition's offsets) and the groups exactly as they were.
 */

import assert from "node:assert/strict";
import { encodeBatch } from "../runtime/format/mod.ts";
import { CRC_START } from "../runtime/format/batch_header.ts";
import { crc32c } from "../runtime/format/crc32c.ts";
import {
  snapshot,
  type TestServer,
  testServer,
} from "../runtime/server/_test_util.ts";
import { BATCHES_MEDIA_TYPE } from "../runtime/server/schemas.ts";

const MAX_BODY = 4096;
const JSON_TYPE = { "content-type": "application/json" };
const BINARY = { "content-type": BATCHES_MEDIA_TYPE };

interface Case {
  name: string;
  method: string;
  path: string;
  /** Objects are sent as JSON; strings and bytes as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

function state(s: TestServer): unknown {
  return {
    log: snapshot(s.log),
    groups: s.groups.listGroups(),
    g: s.groups.describeGroup("g"),
    committed: s.groups.committed("g"),
  };
}

async function batches() {
  const good = (await encodeBatch([{ value: new Uint8Array([1]) }], {
    now: 1,
  })).slice();
  const badCrc = good.slice();
  badCrc[badCrc.length - 1]! ^= 1;
  const badMagic = good.slice();
  badMagic[16] = 1;
  const zstd = good.slice();
  zstd[CRC_START + 1] = (zstd[CRC_START + 1]! & ~7) | 4;
  new DataView(zstd.buffer).setUint32(17, crc32c(zstd.subarray(CRC_START)));
  const snappy = zstd.slice();
  snappy[CRC_START + 1] = (snappy[CRC_START + 1]! & ~7) | 2;
  new DataView(snappy.buffer).setUint32(
    17,
    crc32c(snappy.subarray(CRC_START)),
  );
  const idempotent = (await encodeBatch([{ value: new Uint8Array([1]) }], {
    now: 1,
    producerId: 7,
    producerEpoch: 0,
    baseSequence: 0,
  })).slice();
  return { good, badCrc, badMagic, zstd, snappy, idempotent };
}

async function cases(): Promise<Case[]> {
  const b = await batches();
  const big = "x".repeat(MAX_BODY + 1);
  const records = "/v1/topics/t/records";
  const fetchPath = "/v1/topics/t/partitions/0";
  const bad = (
    name: string,
    method: string,
    path: string,
    body: unknown,
    status = 400,
    code = "BAD_REQUEST",
    headers?: Record<string, string>,
  ): Case => ({
    name,
    method,
    path,
    body,
    status,
    code,
    ...(headers ? { headers } : {}),
  });
  return [
    // Topics
    bad("create: malformed JSON", "POST", "/v1/topics", "{"),
    bad("create: name is a number", "POST", "/v1/topics", { name: 5 }),
    bad("create: name '..'", "POST", "/v1/topics", { name: ".." }),
    bad("create: name with a space", "POST", "/v1/topics", { name: "a b" }),
    bad("create: name too long", "POST", "/v1/topics", {
      name: "n".repeat(250),
    }),
    bad("create: no name", "POST", "/v1/topics", { partitions: 1 }),
    bad("create: partitions as string", "POST", "/v1/topics", {
      name: "n",
      partitions: "3",
    }),
    bad("create: zero partitions", "POST", "/v1/topics", {
      name: "n",
      partitions: 0,
    }),
    bad("create: fractional retention", "POST", "/v1/topics", {
      name: "n",
      retentionMs: 1.5,
    }),
    bad("create: unknown cleanup policy", "POST", "/v1/topics", {
      name: "n",
      cleanupPolicy: "shred",
    }),
    bad("create: unknown field", "POST", "/v1/topics", {
      name: "n",
      replicas: 3,
    }),
    bad("create: body is an array", "POST", "/v1/topics", [{ name: "n" }]),
    bad(
      "create: existing topic",
      "POST",
      "/v1/topics",
      { name: "t" },
      409,
      "TOPIC_EXISTS",
    ),
    bad(
      "create: text/plain",
      "POST",
      "/v1/topics",
      '{"name":"n"}',
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      { "content-type": "text/plain" },
    ),
    bad(
      "create: oversized",
      "POST",
      "/v1/topics",
      { name: "n", pad: big },
      413,
      "PAYLOAD_TOO_LARGE",
    ),
    bad(
      "describe: unknown topic",
      "GET",
      "/v1/topics/nope",
      undefined,
      404,
      "TOPIC_NOT_FOUND",
    ),
    bad("describe: bad name", "GET", "/v1/topics/a%20b", undefined),
    bad(
      "delete: unknown topic",
      "DELETE",
      "/v1/topics/nope",
      undefined,
      404,
      "TOPIC_NOT_FOUND",
    ),
    bad(
      "delete: name '..' (URL parsing makes it /v1/)",
      "DELETE",
      "/v1/topics/%2E%2E",
      undefined,
      404,
      "NOT_FOUND",
    ),
    bad("delete: bad name", "DELETE", "/v1/topics/a*b", undefined),

    // Produce, JSON
    bad("produce: malformed JSON", "POST", records, '{"records":['),
    bad("produce: records not an array", "POST", records, { records: {} }),
    bad("produce: no records", "POST", records, { records: [] }),
    bad("produce: no records field", "POST", records, { value: 1 }),
    bad("produce: record without value", "POST", records, {
      records: [{ value: 1 }, { key: "k" }],
    }),
    bad("produce: key and keyBase64", "POST", records, {
      records: [{ key: "k", keyBase64: "AA==", value: 1 }],
    }),
    bad("produce: value and valueBase64", "POST", records, {
      records: [{ value: 1, valueBase64: "AA==" }],
    }),
    bad("produce: key is a number", "POST", records, {
      records: [{ key: 7, value: 1 }],
    }),
    bad("produce: bad valueBase64", "POST", records, {
      records: [{ valueBase64: "%%%" }],
    }),
    bad("produce: unpadded keyBase64", "POST", records, {
      records: [{ keyBase64: "AAE", value: 1 }],
    }),
    bad("produce: header value not a string", "POST", records, {
      records: [{ value: 1, headers: { a: 1 } }],
    }),
    bad("produce: headers is an array", "POST", records, {
      records: [{ value: 1, headers: ["a"] }],
    }),
    bad("produce: negative partition", "POST", records, {
      records: [{ value: 1, partition: -1 }],
    }),
    bad("produce: fractional partition", "POST", records, {
      records: [{ value: 1, partition: 0.5 }],
    }),
    bad(
      "produce: partition out of range (after good records)",
      "POST",
      records,
      { records: [{ value: 1, partition: 0 }, { value: 2, partition: 9 }] },
      404,
      "PARTITION_NOT_FOUND",
    ),
    bad("produce: timestamp as string", "POST", records, {
      records: [{ value: 1, timestamp: "now" }],
    }),
    bad("produce: negative timestamp", "POST", records, {
      records: [{ value: 1, timestamp: -1 }],
    }),
    bad(
      "produce: unknown topic",
      "POST",
      "/v1/topics/nope/records",
      { records: [{ value: 1 }] },
      404,
      "TOPIC_NOT_FOUND",
    ),
    bad("produce: bad topic name", "POST", "/v1/topics/a%20b/records", {
      records: [{ value: 1 }],
    }),
    bad(
      "produce: text/plain",
      "POST",
      records,
      '{"records":[{"value":1}]}',
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      { "content-type": "text/plain" },
    ),
    bad(
      "produce: form encoded",
      "POST",
      records,
      "records=1",
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      { "content-type": "application/x-www-form-urlencoded" },
    ),
    bad(
      "produce: no content type",
      "POST",
      records,
      new Uint8Array([123, 125]),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      {},
    ),
    bad(
      "produce: oversized JSON",
      "POST",
      records,
      { records: [{ value: big }] },
      413,
      "PAYLOAD_TOO_LARGE",
    ),

    // Produce, binary
    bad(
      "binary: CRC mismatch",
      "POST",
      `${records}?partition=0`,
      b.badCrc,
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: bad magic",
      "POST",
      `${records}?partition=0`,
      b.badMagic,
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: truncated batch",
      "POST",
      `${records}?partition=0`,
      b.good.slice(0, b.good.length - 1),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: truncated header",
      "POST",
      `${records}?partition=0`,
      b.good.slice(0, 30),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: good batch then a torn one",
      "POST",
      `${records}?partition=0`,
      new Uint8Array([...b.good, ...b.good.slice(0, 40)]),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: good batch then a corrupt one",
      "POST",
      `${records}?partition=0`,
      new Uint8Array([...b.good, ...b.badCrc]),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: garbage",
      "POST",
      `${records}?partition=0`,
      new TextEncoder().encode("definitely not a record batch, no sir"),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: empty body",
      "POST",
      `${records}?partition=0`,
      new Uint8Array(),
      400,
      "CORRUPT_BATCH",
      BINARY,
    ),
    bad(
      "binary: zstd codec",
      "POST",
      `${records}?partition=0`,
      b.zstd,
      400,
      "UNSUPPORTED_COMPRESSION",
      BINARY,
    ),
    bad(
      "binary: good batch then snappy",
      "POST",
      `${records}?partition=0`,
      new Uint8Array([...b.good, ...b.snappy]),
      400,
      "UNSUPPORTED_COMPRESSION",
      BINARY,
    ),
    bad(
      "binary: batch with a producerId (belongs on the sync route)",
      "POST",
      `${records}?partition=0`,
      b.idempotent,
      400,
      "BAD_REQUEST",
      BINARY,
    ),
    bad(
      "binary: no partition",
      "POST",
      records,
      b.good,
      400,
      "BAD_REQUEST",
      BINARY,
    ),
    bad(
      "binary: negative partition",
      "POST",
      `${records}?partition=-1`,
      b.good,
      400,
      "BAD_REQUEST",
      BINARY,
    ),
    bad(
      "binary: partition out of range",
      "POST",
      `${records}?partition=9`,
      b.good,
      404,
      "PARTITION_NOT_FOUND",
      BINARY,
    ),
    bad(
      "binary: unknown topic",
      "POST",
      "/v1/topics/nope/records?partition=0",
      b.good,
      404,
      "TOPIC_NOT_FOUND",
      BINARY,
    ),
    bad(
      "binary: oversized",
      "POST",
      `${records}?partition=0`,
      new Uint8Array(MAX_BODY + 1),
      413,
      "PAYLOAD_TOO_LARGE",
      BINARY,
    ),

    // Fetch and offsets
    bad(
      "fetch: negative offset",
      "GET",
      `${fetchPath}/records?offset=-1`,
      undefined,
    ),
    bad(
      "fetch: offset not a number",
      "GET",
      `${fetchPath}/records?offset=abc`,
      undefined,
    ),
    bad(
      "fetch: fractional offset",
      "GET",
      `${fetchPath}/records?offset=1.5`,
      undefined,
    ),
    bad(
      "fetch: offset past the high watermark",
      "GET",
      `${fetchPath}/records?offset=99`,
      undefined,
      416,
      "OFFSET_OUT_OF_RANGE",
    ),
    bad(
      "fetch: maxRecords 0",
      "GET",
      `${fetchPath}/records?maxRecords=0`,
      undefined,
    ),
    bad(
      "fetch: maxBytes not a number",
      "GET",
      `${fetchPath}/records?maxBytes=x`,
      undefined,
    ),
    bad(
      "fetch: negative maxWaitMs",
      "GET",
      `${fetchPath}/records?maxWaitMs=-5`,
      undefined,
    ),
    bad(
      "fetch: negative partition",
      "GET",
      "/v1/topics/t/partitions/-1/records",
      undefined,
    ),
    bad(
      "fetch: partition not a number",
      "GET",
      "/v1/topics/t/partitions/one/records",
      undefined,
    ),
    bad(
      "fetch: partition out of range",
      "GET",
      "/v1/topics/t/partitions/9/records",
      undefined,
      404,
      "PARTITION_NOT_FOUND",
    ),
    bad(
      "fetch: unknown topic",
      "GET",
      "/v1/topics/nope/partitions/0/records",
      undefined,
      404,
      "TOPIC_NOT_FOUND",
    ),
    bad("offsets: no timestamp", "GET", `${fetchPath}/offsets`, undefined),
    bad(
      "offsets: negative timestamp",
      "GET",
      `${fetchPath}/offsets?timestamp=-1`,
      undefined,
    ),
    bad(
      "offsets: timestamp not a number",
      "GET",
      `${fetchPath}/offsets?timestamp=now`,
      undefined,
    ),

    // Stream
    bad(
      "stream: unknown topic",
      "GET",
      "/v1/topics/nope/stream",
      undefined,
      404,
      "TOPIC_NOT_FOUND",
    ),
    bad(
      "stream: bad from",
      "GET",
      "/v1/topics/t/stream?from=middle",
      undefined,
    ),
    bad(
      "stream: bad Last-Event-ID",
      "GET",
      "/v1/topics/t/stream",
      undefined,
      400,
      "BAD_REQUEST",
      { "last-event-id": "0:1;1:x" },
    ),
    bad(
      "stream: Last-Event-ID for a missing partition",
      "GET",
      "/v1/topics/t/stream",
      undefined,
      400,
      "BAD_REQUEST",
      { "last-event-id": "0:1,5:0" },
    ),

    // Groups
    bad("heartbeat: malformed JSON", "POST", "/v1/groups/g/heartbeat", "{]"),
    bad("heartbeat: no topics", "POST", "/v1/groups/g/heartbeat", {}),
    bad("heartbeat: topics not an array", "POST", "/v1/groups/g/heartbeat", {
      topics: "t",
    }),
    bad("heartbeat: bad topic name", "POST", "/v1/groups/g/heartbeat", {
      topics: ["a/b"],
    }),
    bad("heartbeat: memberEpoch as string", "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
      memberEpoch: "1",
    }),
    bad("heartbeat: zero session timeout", "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
      sessionTimeoutMs: 0,
    }),
    bad("heartbeat: bad group name", "POST", "/v1/groups/a%20b/heartbeat", {
      topics: ["t"],
    }),
    bad(
      "heartbeat: unknown member",
      "POST",
      "/v1/groups/g/heartbeat",
      { memberId: "ghost", memberEpoch: 3, topics: ["t"] },
      404,
      "UNKNOWN_MEMBER",
    ),
    bad(
      "heartbeat: text/plain",
      "POST",
      "/v1/groups/g/heartbeat",
      '{"topics":["t"]}',
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      { "content-type": "text/plain" },
    ),
    bad("commit: no memberId", "POST", "/v1/groups/g/offsets", {
      memberEpoch: 1,
      offsets: [],
    }),
    bad("commit: negative offset", "POST", "/v1/groups/g/offsets", {
      memberId: "m",
      memberEpoch: 1,
      offsets: [{ topic: "t", partition: 0, offset: -1 }],
    }),
    bad("commit: offsets not an array", "POST", "/v1/groups/g/offsets", {
      memberId: "m",
      memberEpoch: 1,
      offsets: { t: 1 },
    }),
    bad(
      "commit: unknown member",
      "POST",
      "/v1/groups/g/offsets",
      {
        memberId: "ghost",
        memberEpoch: 1,
        offsets: [{ topic: "t", partition: 0, offset: 1 }],
      },
      404,
      "UNKNOWN_MEMBER",
    ),
    bad(
      "groups: unknown group",
      "GET",
      "/v1/groups/nobody",
      undefined,
      404,
      "NOT_FOUND",
    ),
    bad(
      "groups: bad topic filter",
      "GET",
      "/v1/groups/g/offsets?topic=a%20b",
      undefined,
    ),

    // Anything else
    bad("unknown route", "GET", "/v1/unknown", undefined, 404, "NOT_FOUND"),
    bad(
      "wrong method",
      "PATCH",
      "/v1/topics/t",
      { name: "t" },
      404,
      "NOT_FOUND",
    ),
  ];
}

/** Cases that need the live member's id and epoch. */
function memberCases(memberId: string, memberEpoch: number): Case[] {
  return [
    {
      name: "commit: stale epoch",
      method: "POST",
      path: "/v1/groups/g/offsets",
      body: {
        memberId,
        memberEpoch: memberEpoch + 1,
        offsets: [{ topic: "t", partition: 0, offset: 1 }],
      },
      status: 409,
      code: "STALE_MEMBER_EPOCH",
    },
    {
      name: "commit: partition out of range",
      method: "POST",
      path: "/v1/groups/g/offsets",
      body: {
        memberId,
        memberEpoch,
        offsets: [
          { topic: "t", partition: 0, offset: 1 },
          { topic: "t", partition: 9, offset: 1 },
        ],
      },
      status: 404,
      code: "PARTITION_NOT_FOUND",
    },
    {
      name: "commit: unknown topic",
      method: "POST",
      path: "/v1/groups/g/offsets",
      body: {
        memberId,
        memberEpoch,
        offsets: [{ topic: "nope", partition: 0, offset: 1 }],
      },
      status: 404,
      code: "TOPIC_NOT_FOUND",
    },
  ];
}

function request(c: Case): RequestInit {
  const headers: Record<string, string> = { ...c.headers };
  const init: RequestInit = { method: c.method, headers };
  if (c.body === undefined) return init;
  if (c.body instanceof Uint8Array) {
    init.body = c.body as Uint8Array<ArrayBuffer>;
  } else if (typeof c.body === "string") {
    init.body = c.body;
    if (c.headers === undefined) Object.assign(headers, JSON_TYPE);
  } else {
    init.body = JSON.stringify(c.body);
    if (c.headers === undefined) Object.assign(headers, JSON_TYPE);
  }
  return init;
}

Deno.test("bad input to every endpoint: right status and code, nothing written", async (t) => {
  const s = await testServer({ maxBodyBytes: MAX_BODY });
  try {
    await s.log.createTopic("t", { partitions: 2 });
    await s.log.createTopic("other");
    await s.log.produce("t", [
      { value: new Uint8Array([1]), partition: 0 },
      { value: new Uint8Array([2]), partition: 1 },
    ]);
    let member = await s.groups.heartbeat("g", { topics: ["t"] });
    member = await s.groups.heartbeat("g", {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      topics: ["t"],
    });
    await s.groups.commit("g", {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      offsets: [{ topic: "t", partition: 1, offset: 1 }],
    });
    const all = [
      ...await cases(),
      ...memberCases(member.memberId, member.memberEpoch),
    ];
    const before = state(s);
    for (const c of all) {
      await t.step(c.name, async () => {
        const res = await s.app.request(c.path, request(c));
        const text = await res.text();
        assert.equal(res.status, c.status, text);
        const body = JSON.parse(text);
        assert.equal(body.error?.code, c.code, text);
        assert.equal(typeof body.error.message, "string");
        assert.ok(body.error.message.length > 0);
        assert.deepEqual(state(s), before, "nothing changed");
      });
    }
    assert.ok(all.length > 90, `${all.length} cases`);
  } finally {
    await s.close();
  }
});
