import assert from "node:assert/strict";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { readBatchHeader } from "../runtime/format/batch_header.ts";
import { encodeBatch } from "../runtime/format/record_batch.ts";
import type { Log } from "../runtime/log/mod.ts";
import type { RecordInput } from "../runtime/log/types.ts";
import { Replicator } from "../runtime/sync/replicator.ts";
import {
  assertReplicated,
  deviceLog,
  startTestBroker,
  type TestBroker,
  testRecords,
} from "./sync_harness.ts";

const enc = new TextEncoder();

/** `count` records of `size`-byte JSON values that gzip shrinks a lot. */
function compressible(from: number, count: number, size = 1000) {
  return Array.from({ length: count }, (_, i): RecordInput => ({
    key: enc.encode(`k${from + i}`),
    value: enc.encode(
      JSON.stringify({ n: from + i, pad: "ab".repeat(size / 2) }).slice(
        0,
        size,
      ),
    ),
    headers: [{ key: "n", value: enc.encode(String(from + i)) }],
    timestamp: 1_700_000_000_000 + (from + i) * 7,
  }));
}

/** `count` records of `size` random bytes: gzip cannot shrink them. */
function incompressible(from: number, count: number, size = 1000) {
  return Array.from({ length: count }, (_, i): RecordInput => ({
    key: null,
    value: crypto.getRandomValues(new Uint8Array(size)),
    timestamp: 1_700_000_000_000 + from + i,
  }));
}

async function append(device: Log, partition: number, records: RecordInput[]) {
  await device.produce("events", records.map((r) => ({ ...r, partition })));
}

/** The codec of each batch the broker stores for a device stream. */
async function centralCodecs(
  broker: TestBroker,
  nodeId: string,
  sourcePartition: number,
): Promise<number[]> {
  const stream = broker.registry.list(nodeId).find((s) =>
    s.sourcePartition === sourcePartition
  )!;
  const p = broker.log.partition("events", stream.partition);
  const batches = await p.readBatches(0, 1 << 30);
  return batches.map((b) => readBatchHeader(b).attributes & 0x07);
}

Deno.test("gzip: a stream through the real sync routes ends with the local log's records, stored gzip", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 1 } });
  const device = await deviceLog("events", 1);
  const replicator = new Replicator({
    log: device,
    client: new EdgelogClient(broker.url, { retry: { attempts: 1 } }),
    nodeId: "dev-gz",
    maxBatchBytes: 64 * 1024,
    compression: "gzip",
  });
  try {
    await append(device, 0, compressible(0, 40));
    await append(device, 0, testRecords(40, 3));
    const local = device.partition("events", 0);
    await local.appendBatches([
      await encodeBatch(compressible(43, 5), { compression: "gzip" }),
    ]);
    await append(device, 0, compressible(48, 100));
    await replicator.syncOnce();
    await append(device, 0, compressible(148, 20));
    await replicator.syncOnce();
    await assertReplicated(broker, device, "dev-gz", "events", 0);
    assert.deepEqual(await centralCodecs(broker, "dev-gz", 0), [1, 1, 1, 1, 1]);
    const centralBytes = (await broker.log.partition("events", 0)
      .readBatches(0, 1 << 30)).reduce((n, b) => n + b.length, 0);
    const localBytes = (await local.readBatches(0, 1 << 30))
      .reduce((n, b) => n + b.length, 0);
    assert.ok(
      centralBytes < localBytes / 4,
      `${centralBytes} vs ${localBytes}`,
    );
  } finally {
    await replicator.stop();
    await broker.close();
    await device.close();
  }
});

/**
 * Syncs `first` (the sample), then `later`, through an "auto" replicator;
 * answers the codec of each batch the broker then holds.
 */
async function syncAuto(
  first: RecordInput[][],
  later: RecordInput[][],
): Promise<number[]> {
  const broker = await startTestBroker(undefined, { topics: { events: 1 } });
  const device = await deviceLog("events", 1);
  const replicator = new Replicator({
    log: device,
    client: new EdgelogClient(broker.url, { retry: { attempts: 1 } }),
    nodeId: "dev-auto",
    compression: "auto",
  });
  try {
    for (const records of first) await append(device, 0, records);
    await replicator.syncOnce();
    for (const records of later) await append(device, 0, records);
    await replicator.syncOnce();
    await assertReplicated(broker, device, "dev-auto", "events", 0);
    return await centralCodecs(broker, "dev-auto", 0);
  } finally {
    await replicator.stop();
    await broker.close();
    await device.close();
  }
}

Deno.test("auto: gzip where the stream's first 256 KiB compress, as stored where they do not", async () => {
  const sample = (make: typeof compressible) =>
    [0, 1, 2].map((i) => make(i * 100, 100));
  assert.deepEqual(
    await syncAuto(sample(compressible), [
      incompressible(300, 100),
      compressible(400, 100),
    ]),
    [1, 1, 1, 0, 1],
    "gzip kept, but not for a batch it would not shrink",
  );
  assert.deepEqual(
    await syncAuto(sample(incompressible), [compressible(300, 100)]),
    [0, 0, 0, 0],
    "gzip given up after the sample",
  );
});
