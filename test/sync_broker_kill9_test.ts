/**
 * Exactly-once sync across a broker crash: a device replicates a few
 * thousand records to the real broker process, which is SIGKILLed while
 * pushes are in flight and restarted on the same data directory. Once sync
 * has finished, the broker's partition must hold the device's records one
 * for one: same keys, values, headers and timestamps, in order, no
 * duplicate (a push the broker made durable but never answered is resent)
 * and no gap.
 */

import assert from "node:assert/strict";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { decodeBatch, splitBatches } from "../runtime/format/mod.ts";
import type { LogRecord } from "../runtime/log/types.ts";
import { Replicator } from "../runtime/sync/mod.ts";
import { startBroker, tempDataDir } from "./broker_process.ts";
import { allRecords, deviceLog, testRecords } from "./sync_harness.ts";

const TOPIC = "events";
const NODE_ID = "device-kill9";
const RECORDS = 6000;
const RECORDS_PER_BATCH = 40;
/** Small requests, so the sync takes many round trips and the kill lands mid-way. */
const MAX_BATCH_BYTES = 4096;
/**
 * The broker is killed once the device's ack passes each of these offsets,
 * after the given delay: at once, the pushes in flight are unanswered and
 * unwritten; a little later, some may be durable but unanswered.
 */
const KILLS = [
  { afterOffset: 1000, delayMs: 0 },
  { afterOffset: 2500, delayMs: 2 },
  { afterOffset: 4000, delayMs: 5 },
] as const;
const SYNC_DEADLINE_MS = 60_000;

/** Every record of a central partition, read back as raw batches. */
async function centralRecords(
  client: EdgelogClient,
  partition: number,
): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let offset = 0;
  for (let i = 0; i < RECORDS; i++) {
    const bytes = await client.fetchBatches(TOPIC, partition, { offset });
    if (bytes.length === 0) break;
    for (const batch of splitBatches(bytes)) {
      for (const record of (await decodeBatch(batch)).records) {
        if (record.offset < offset) continue;
        out.push(record);
        offset = record.offset + 1;
      }
    }
  }
  return out;
}

function comparable(r: LogRecord) {
  return {
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
  };
}

Deno.test("sync survives kill -9 of the broker mid-sync: every record once, in order", async () => {
  await using dir = await tempDataDir();
  let broker = await startBroker({ dataDir: dir.path });
  try {
    // Requests follow whichever broker process is current.
    let origin = new URL(broker.url);
    const client = new EdgelogClient(broker.url, {
      retry: { attempts: 1 },
      fetch: (request) => {
        const url = new URL(request.url);
        url.host = origin.host;
        return fetch(new Request(url, request));
      },
    });
    await client.createTopic(TOPIC, { partitions: 1 });

    const device = await deviceLog(TOPIC, 1);
    for (let from = 0; from < RECORDS; from += RECORDS_PER_BATCH) {
      await device.produce(TOPIC, testRecords(from, RECORDS_PER_BATCH, 0));
    }
    const replicator = new Replicator({
      log: device,
      client,
      nodeId: NODE_ID,
      maxBatchBytes: MAX_BATCH_BYTES,
      backoff: { baseMs: 5, maxMs: 50 },
    });

    let acked = -1;
    let errors = 0;
    let reached: { offset: number; resolve: () => void } | undefined;
    const done = Promise.withResolvers<void>();
    replicator.on("error", () => errors++);
    replicator.on("ack", ({ ackedOffset }) => {
      acked = ackedOffset;
      if (reached !== undefined && ackedOffset >= reached.offset) {
        reached.resolve();
      }
      if (ackedOffset === RECORDS - 1) done.resolve();
    });
    const deadline = setTimeout(
      () =>
        done.reject(
          new Error(
            `Sync did not finish in ${SYNC_DEADLINE_MS} ms: ${
              JSON.stringify(replicator.status())
            }\n${broker.output()}`,
          ),
        ),
      SYNC_DEADLINE_MS,
    );
    const killedAt: number[] = [];
    try {
      replicator.start();
      for (const kill of KILLS) {
        const passed = Promise.withResolvers<void>();
        reached = { offset: kill.afterOffset, resolve: passed.resolve };
        await Promise.race([passed.promise, done.promise]);
        await new Promise((resolve) => setTimeout(resolve, kill.delayMs));
        await broker.kill9();
        killedAt.push(acked);
        broker = await startBroker({ dataDir: dir.path });
        origin = new URL(broker.url);
        replicator.notifyOnline();
      }
      await done.promise;
    } finally {
      clearTimeout(deadline);
      await replicator.stop();
    }

    assert.equal(killedAt.length, KILLS.length);
    assert.ok(
      killedAt.every((at) => at < RECORDS - 1),
      `every kill came before the sync finished (acks at the kills: ${killedAt})`,
    );
    assert.ok(errors >= KILLS.length, "the kills interrupted the sync");
    const [stream] = await client.listStreams(NODE_ID);
    assert.ok(stream, "the restarted broker knows the stream");
    assert.equal(stream.ackedOffset, RECORDS - 1);
    const central = await centralRecords(client, stream.partition);
    const local = await allRecords(device, TOPIC, 0);
    assert.equal(local.length, RECORDS);
    assert.deepEqual(
      central.map((r) => r.offset),
      Array.from({ length: RECORDS }, (_, i) => i),
      "central offsets 0..n-1: no duplicate, no gap",
    );
    assert.deepEqual(central.map(comparable), local.map(comparable));
    const [partition] = (await client.describeTopic(TOPIC)).partitions;
    assert.equal(partition?.highWatermark, RECORDS);
    await device.close();
    assert.equal(await broker.stop(), 0, broker.output());
  } finally {
    await broker.kill9();
  }
});
