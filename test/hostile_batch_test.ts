/**
 * Hostile batches against a node over filesystem storage (issue 9): each
 * finding about batch input as a case, then a seeded fuzz of mutated valid
 * batches on binary produce and on sync push. After every request, every
 * acknowledged record still reads back and no high watermark moved back.
 */

import assert from "node:assert/strict";
import { FsStorage } from "../edge/storage/mod.ts";
import { ManualClock } from "../runtime/clock.ts";
import {
  INTERESTING_VALUES,
  MUTABLE_FIELDS,
  mutateBatch,
  type Mutation,
} from "../runtime/format/_test_mutation.ts";
import {
  decodeBatch,
  encodeBatch,
  type JsonRecord,
  logRecordToJson,
} from "../runtime/format/mod.ts";
import { GroupCoordinator } from "../runtime/groups/mod.ts";
import { Log, MemoryStorage, PartitionLog } from "../runtime/log/mod.ts";
import type { LogRecord, RecordInput } from "../runtime/log/types.ts";
import { createApp } from "../runtime/server/app.ts";
import type { ServerApp } from "../runtime/server/context.ts";
import { Metrics } from "../runtime/server/metrics.ts";
import { SseReader } from "../runtime/server/_test_util.ts";
import { BATCHES_MEDIA_TYPE } from "../runtime/server/schemas.ts";
import {
  sequenceForOffset,
  StreamRegistry,
  syncRoutes,
} from "../runtime/sync/mod.ts";
import { seededRandom } from "./fault_proxy.ts";
import { gzipBatch, gzipBomb } from "./fixtures/gzip_bomb.ts";

const BINARY = { "content-type": BATCHES_MEDIA_TYPE };
const text = (s: string) => new TextEncoder().encode(s);

/** A broker's parts over a data directory, in process. */
interface Node {
  app: ServerApp;
  log: Log;
  close(): Promise<void>;
}

async function openNode(dir: string, segmentBytes = 64 << 20): Promise<Node> {
  const clock = new ManualClock(1_700_000_000_000);
  const storage = await FsStorage.open(dir, { fsync: "never", segmentBytes });
  const log = await Log.open({ storage, clock });
  const groups = await GroupCoordinator.open({
    meta: log.meta,
    clock,
    partitionCount: (t) =>
      log.hasTopic(t) ? log.topicConfig(t).partitions : undefined,
    highWatermark: (t, p) => log.partition(t, p).highWatermark,
  });
  const metrics = new Metrics();
  const streams = await StreamRegistry.open(log, { metrics, clock });
  const shutdown = new AbortController();
  const app = createApp({
    log,
    groups,
    metrics,
    clock,
    signal: shutdown.signal,
    extraRoutes: (app, ctx) => syncRoutes(streams)(app, ctx),
  });
  return {
    app,
    log,
    close: async () => {
      shutdown.abort();
      await streams.flush();
      await log.close();
    },
  };
}

/** A node in a fresh directory, with topics `t` and `s`, for `fn`. */
async function withNode(
  fn: (node: Node, dir: string) => Promise<void>,
  segmentBytes?: number,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_hostile_" });
  const node = await openNode(dir, segmentBytes);
  try {
    await node.log.createTopic("t");
    await node.log.createTopic("s");
    await fn(node, dir);
  } finally {
    await node.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

async function request(
  app: ServerApp,
  method: string,
  path: string,
  body?: Uint8Array | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = body as BodyInit;
  const res = await app.request(path, init);
  const raw = await res.text();
  return { status: res.status, json: raw === "" ? {} : JSON.parse(raw) };
}

/** Registers the sync stream of `nodeId` for topic `s`. */
async function registerStream(
  app: ServerApp,
  nodeId: string,
): Promise<{ producerId: number; producerEpoch: number }> {
  const res = await request(
    app,
    "POST",
    "/v1/sync/streams",
    JSON.stringify({ nodeId, topic: "s", sourcePartition: 0 }),
    { "content-type": "application/json" },
  );
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json as { producerId: number; producerEpoch: number };
}

function produceBinary(app: ServerApp, batch: Uint8Array) {
  return request(
    app,
    "POST",
    "/v1/topics/t/records?partition=0",
    batch,
    BINARY,
  );
}

function errorCode(res: { json: Record<string, unknown> }): unknown {
  return (res.json.error as { code?: unknown } | undefined)?.code;
}

/** Every record of a partition, read through the JSON fetch. */
async function readAll(
  app: ServerApp,
  topic: string,
): Promise<{ records: JsonRecord[]; highWatermark: number }> {
  const records: JsonRecord[] = [];
  let offset = 0;
  for (;;) {
    const res = await request(
      app,
      "GET",
      `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=100000`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const page = res.json as unknown as {
      records: JsonRecord[];
      nextOffset: number;
      highWatermark: number;
    };
    records.push(...page.records);
    if (page.nextOffset >= page.highWatermark || page.records.length === 0) {
      return { records, highWatermark: page.highWatermark };
    }
    offset = page.nextOffset;
  }
}

/** What a topic acknowledged, and the checks every request must keep. */
class Acked {
  #records = new Map<number, JsonRecord>();
  #highWatermark = 0;
  readonly topic: string;

  constructor(topic: string) {
    this.topic = topic;
  }

  /** Records decoded from a batch the node took, at its central offsets. */
  add(records: readonly LogRecord[], baseOffset: number): void {
    records.forEach((record, i) => {
      const json = logRecordToJson(
        { ...record, offset: baseOffset + i },
        0,
      );
      this.#records.set(baseOffset + i, json);
    });
  }

  async check(app: ServerApp, context: string): Promise<void> {
    const { records, highWatermark } = await readAll(app, this.topic);
    assert.ok(
      highWatermark >= this.#highWatermark,
      `${context}: high watermark ${this.#highWatermark} -> ${highWatermark}`,
    );
    this.#highWatermark = highWatermark;
    const byOffset = new Map(records.map((r) => [r.offset, r]));
    for (const [offset, expected] of this.#records) {
      assert.deepEqual(byOffset.get(offset), expected, `${context}: ${offset}`);
    }
  }
}

function inputs(count: number, tag: string): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: text(`k-${tag}-${i}`),
    value: text(JSON.stringify(`${tag}-${i}`)),
    headers: [{ key: "n", value: text(String(i)) }],
    timestamp: 1_700_000_000_000 + i,
  }));
}

async function produceGood(
  node: Node,
  acked: Acked,
  count: number,
  tag: string,
): Promise<void> {
  const batch = await encodeBatch(inputs(count, tag));
  const { records } = await decodeBatch(batch);
  const res = await produceBinary(node.app, batch);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  acked.add(records, res.json.baseOffset as number);
}

/** Sets recordCount and lastOffsetDelta to agree, CRC recomputed. */
function withCount(batch: Uint8Array, count: number): Uint8Array {
  return mutateBatch(
    mutateBatch(batch, { kind: "field", field: "recordCount", value: count }),
    { kind: "field", field: "lastOffsetDelta", value: count - 1 },
  );
}

Deno.test("finding 1: a batch of no or negative records cannot erase acknowledged ones", async () => {
  await withNode(async (node, dir) => {
    const acked = new Acked("t");
    await produceGood(node, acked, 2, "a");
    const one = await encodeBatch(inputs(1, "x"));
    for (const count of [0, -5]) {
      const res = await produceBinary(node.app, withCount(one, count));
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), "CORRUPT_BATCH");
      await acked.check(node.app, `count ${count}`);
    }
    await produceGood(node, acked, 1, "b");
    await node.close();
    const again = await openNode(dir);
    node.app = again.app;
    node.log = again.log;
    node.close = again.close;
    await acked.check(again.app, "after a restart");
    assert.equal(again.log.partition("t", 0).highWatermark, 3);
  });
});

Deno.test("finding 2: a batch that lies about its count is refused and poisons nothing", async () => {
  await withNode(async (node) => {
    const acked = new Acked("t");
    await produceGood(node, acked, 2, "a");
    const one = await encodeBatch(inputs(1, "x"));
    for (const count of [0x7fffffff, 2, 1000]) {
      const res = await produceBinary(node.app, withCount(one, count));
      assert.equal(res.status, 400, `count ${count}`);
      assert.equal(errorCode(res), "CORRUPT_BATCH");
      await acked.check(node.app, `count ${count}`);
    }
    assert.equal(node.log.partition("t", 0).highWatermark, 2);
  });
});

/** Resident memory of this process, in MiB. */
const rssMiB = () => Deno.memoryUsage().rss / (1 << 20);

Deno.test("finding 3: a gzip bomb is refused at produce and at sync push, in bounded memory", async () => {
  const bomb = gzipBomb(1024);
  await withNode(async (node) => {
    const acked = new Acked("t");
    await produceGood(node, acked, 1, "a");
    const before = rssMiB();
    const res = await produceBinary(node.app, gzipBatch(bomb));
    assert.equal(res.status, 413, JSON.stringify(res.json));
    assert.equal(errorCode(res), "PAYLOAD_TOO_LARGE");
    assert.match(
      (res.json.error as { message: string }).message,
      /maxDecompressedBytes/,
    );
    await acked.check(node.app, "after the bomb");

    const { producerId, producerEpoch } = await registerStream(
      node.app,
      "n",
    );
    const push = await request(
      node.app,
      "POST",
      `/v1/sync/streams/${producerId}/batches`,
      gzipBatch(bomb, {
        id: producerId,
        epoch: producerEpoch,
        baseSequence: 0,
        base: 0,
      }),
      BINARY,
    );
    assert.equal(push.status, 413, JSON.stringify(push.json));
    assert.equal(node.log.partition("s", 0).highWatermark, 0);
    assert.ok(
      rssMiB() - before < 400,
      `resident memory grew ${rssMiB() - before} MiB`,
    );
  });
});

Deno.test("finding 3: many bombs in one request are checked one at a time", async () => {
  const small = gzipBatch(gzipBomb(80));
  const body = new Uint8Array(small.length * 50);
  for (let i = 0; i < 50; i++) body.set(small, i * small.length);
  await withNode(async (node) => {
    const before = rssMiB();
    const res = await produceBinary(node.app, body);
    assert.equal(res.status, 413, JSON.stringify(res.json));
    assert.match(
      (res.json.error as { message: string }).message,
      /^Batch 0: /,
    );
    assert.ok(rssMiB() - before < 400, `grew ${rssMiB() - before} MiB`);
    assert.equal(node.log.partition("t", 0).highWatermark, 0);
  });
});

Deno.test("finding 3: a bomb already stored is read under the cap too", async () => {
  const storage = new MemoryStorage();
  const store = await storage.openPartition("t", 0);
  await store.append([gzipBatch(gzipBomb(1024))]);
  const part = new PartitionLog(store, { topic: "t", partition: 0 });
  const before = rssMiB();
  await assert.rejects(part.read(0), /maxDecompressedBytes/);
  assert.ok(rssMiB() - before < 400, `grew ${rssMiB() - before} MiB`);
  await part.close();
});

Deno.test("finding 8: damage in the middle of a sealed segment is reported and skipped", async () => {
  const errors: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    await withNode(async (node, dir) => {
      const acked = new Acked("t");
      for (let i = 0; i < 30; i++) await produceGood(node, acked, 2, `b${i}`);
      await node.close();
      const partitionDir = `${dir}/topics/t/0`;
      const logs = [...Deno.readDirSync(partitionDir)]
        .map((e) => e.name).filter((n) => n.endsWith(".log")).sort();
      assert.ok(logs.length >= 3, `${logs.length} segments`);
      const sealed = `${partitionDir}/${logs[1]}`;
      const bytes = await Deno.readFile(sealed);
      const middle = bytes.length >> 1;
      bytes.set(new Uint8Array(8).fill(0x5a), middle);
      await Deno.writeFile(sealed, bytes);

      const again = await openNode(dir, 1500);
      node.app = again.app;
      node.log = again.log;
      node.close = again.close;
      const { records } = await readAll(again.app, "t");
      assert.equal(records.length, 60 - 2, "only the damaged batch is lost");
      const described = await request(again.app, "GET", "/v1/topics/t");
      const [partition] = described.json.partitions as {
        corruptions?: { segment: string; fromOffset: number }[];
      }[];
      assert.equal(partition!.corruptions?.length, 1);
      assert.equal(partition!.corruptions![0]!.segment, logs[1]);
      const metrics = await (await again.app.request("/metrics")).text();
      assert.match(
        metrics,
        /edgelog_storage_corruptions_total\{topic="t",partition="0"\} 1/,
      );
      assert.ok(
        errors.some((line) => line.includes(logs[1]!)),
        "the damage is logged with its file",
      );
      await produceGood(again, acked, 1, "after");
    }, 1500);
  } finally {
    console.error = consoleError;
  }
});

Deno.test("finding 12: numbers beyond 2^53 are BAD_REQUEST, never 500", async () => {
  await withNode(async (node) => {
    const huge = "9007199254740993";
    const paths = [
      `/v1/topics/t/partitions/0/records?offset=${huge}`,
      `/v1/topics/t/partitions/0/records?maxBytes=${huge}`,
      `/v1/topics/t/partitions/0/records?maxRecords=${huge}`,
      `/v1/topics/t/partitions/0/records?maxWaitMs=${huge}`,
      `/v1/topics/t/partitions/0/offsets?timestamp=${huge}`,
      `/v1/topics/t/partitions/${huge}/records`,
    ];
    for (const path of paths) {
      const res = await request(node.app, "GET", path);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.json)}`);
      assert.equal(errorCode(res), "BAD_REQUEST");
    }
    const bodies: [string, string][] = [
      ["/v1/groups/g/heartbeat", `{"topics":["t"],"memberEpoch":${huge}}`],
      [
        "/v1/groups/g/offsets",
        `{"memberId":"m","memberEpoch":0,"offsets":[{"topic":"t","partition":0,"offset":${huge}}]}`,
      ],
      [
        "/v1/sync/streams",
        `{"nodeId":"n","topic":"s","sourcePartition":${huge}}`,
      ],
      ["/v1/topics/t/records", `{"records":[{"value":1,"timestamp":${huge}}]}`],
    ];
    for (const [path, body] of bodies) {
      const res = await request(node.app, "POST", path, body, {
        "content-type": "application/json",
      });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.json)}`);
      assert.equal(errorCode(res), "BAD_REQUEST");
    }
    const sse = await request(
      node.app,
      "GET",
      "/v1/topics/t/stream",
      undefined,
      { "last-event-id": `0:${huge}` },
    );
    assert.equal(sse.status, 400);
    const { producerId } = await registerStream(node.app, "n");
    for (const path of [`/v1/sync/streams/${huge}/batches`]) {
      const res = await request(
        node.app,
        "POST",
        path,
        new Uint8Array(),
        BINARY,
      );
      assert.equal(res.status, 400, path);
    }
    const dropped = await request(
      node.app,
      "POST",
      `/v1/sync/streams/${producerId}/batches`,
      await encodeBatch(inputs(1, "d"), {
        producerId,
        producerEpoch: 0,
        baseSequence: 0,
      }),
      { ...BINARY, "edgelog-dropped": "99999999999999999999" },
    );
    assert.equal(dropped.status, 400);
    assert.equal(errorCode(dropped), "BAD_REQUEST");
  });
});

Deno.test("finding 12: header keys and values that are not UTF-8 come back exactly in headersBase64", async () => {
  await withNode(async (node) => {
    const batch = await encodeBatch([{
      value: text('"v"'),
      headers: [
        { key: "ok", value: text("fine") },
        { key: "", keyBytes: new Uint8Array([0xff, 0xfe]), value: null },
        { key: "bin", value: new Uint8Array([0xc3]) },
      ],
      timestamp: 5,
    }]);
    assert.equal((await produceBinary(node.app, batch)).status, 200);
    const { records } = await readAll(node.app, "t");
    const expected = [
      { keyBase64: "//4=", valueBase64: null },
      { keyBase64: "Ymlu", valueBase64: "ww==" },
    ];
    assert.deepEqual(records[0]!.headersBase64, expected);
    assert.equal(records[0]!.headers.ok, "fine");

    const shutdown = new AbortController();
    const res = await node.app.request(
      "/v1/topics/t/stream?from=earliest",
      { signal: shutdown.signal },
    );
    const [event] = await new SseReader(res.body!).next(1);
    shutdown.abort();
    assert.deepEqual(
      (JSON.parse(event!.data) as JsonRecord).headersBase64,
      expected,
    );
  });
});

function randomMutation(random: () => number): Mutation {
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)]!;
  switch (Math.floor(random() * 4)) {
    case 0:
      return {
        kind: "field",
        field: pick(MUTABLE_FIELDS),
        value: pick(INTERESTING_VALUES),
      };
    case 1:
      return {
        kind: "fieldDelta",
        field: pick(MUTABLE_FIELDS),
        delta: Math.floor(random() * 7) - 3,
      };
    case 2:
      return {
        kind: "byte",
        at: Math.floor(random() * 4096),
        value: Math.floor(random() * 256),
      };
    default:
      return {
        kind: "resize",
        bytes: Math.floor(random() * 41) - 20,
        fixLength: random() < 0.5,
      };
  }
}

function mutateRandomly(batch: Uint8Array, random: () => number): Uint8Array {
  let out = batch;
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    out = mutateBatch(out, randomMutation(random));
  }
  return out;
}

const FUZZ_ROUNDS = 120;

Deno.test("fuzz: mutated batches on binary produce never cost an acknowledged record", async () => {
  await withNode(async (node) => {
    const random = seededRandom(0x5eed);
    const acked = new Acked("t");
    for (let round = 0; round < FUZZ_ROUNDS; round++) {
      const count = 1 + Math.floor(random() * 4);
      const compression = random() < 0.3 ? "gzip" : "none";
      const valid = await encodeBatch(inputs(count, `r${round}`), {
        compression,
      });
      const batch = random() < 0.25 ? valid : mutateRandomly(valid, random);
      const res = await produceBinary(node.app, batch);
      assert.ok(
        [200, 400, 413].includes(res.status),
        `round ${round}: ${res.status} ${JSON.stringify(res.json)}`,
      );
      if (res.status === 200) {
        const { records } = await decodeBatch(batch);
        acked.add(records, res.json.baseOffset as number);
      }
      await acked.check(node.app, `round ${round}`);
    }
  }, 4096);
});

Deno.test("fuzz: mutated batches on sync push never cost an acknowledged record", async () => {
  await withNode(async (node) => {
    const random = seededRandom(0xcafe);
    const acked = new Acked("s");
    const { producerId, producerEpoch } = await registerStream(
      node.app,
      "fuzz",
    );
    let ackedOffset = -1;
    for (let round = 0; round < FUZZ_ROUNDS; round++) {
      const count = 1 + Math.floor(random() * 4);
      const local = ackedOffset + 1;
      const valid = await encodeBatch(inputs(count, `p${round}`), {
        baseOffset: local,
        compression: random() < 0.3 ? "gzip" : "none",
        producerId,
        producerEpoch,
        baseSequence: sequenceForOffset(local),
      });
      const batch = random() < 0.25 ? valid : mutateRandomly(valid, random);
      const res = await request(
        node.app,
        "POST",
        `/v1/sync/streams/${producerId}/batches`,
        batch,
        BINARY,
      );
      assert.ok(
        [200, 400, 409, 413].includes(res.status),
        `round ${round}: ${res.status} ${JSON.stringify(res.json)}`,
      );
      if (res.status === 200) {
        const answer = res.json as { ackedOffset: number; lastOffset: number };
        const appended = answer.ackedOffset - ackedOffset;
        if (appended > 0) {
          const { records } = await decodeBatch(batch);
          assert.equal(records.length, appended, `round ${round}`);
          acked.add(records, answer.lastOffset - appended + 1);
        }
        ackedOffset = answer.ackedOffset;
      }
      await acked.check(node.app, `round ${round}`);
    }
  });
});
