/**
 * Declared drops under load: devices whose dropOldest budget deletes
 * unsynced records while their replicators read and push, into a broker on
 * small filesystem segments whose retention deletes while readers fetch.
 * Reads race deletes on both sides; the broker must never answer 5xx nor
 * log an unexpected error, and every stream must end exactly once: what it
 * appended plus what it declared dropped is what its device produced.
 */

import assert from "node:assert/strict";
import { FsStorage } from "../edge/storage/mod.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { GroupCoordinator } from "../runtime/groups/mod.ts";
import { Log, MemoryStorage } from "../runtime/log/mod.ts";
import type { Storage } from "../runtime/log/storage.ts";
import { createApp } from "../runtime/server/app.ts";
import { Metrics } from "../runtime/server/metrics.ts";
import { Replicator, StreamRegistry, syncRoutes } from "../runtime/sync/mod.ts";

const enc = new TextEncoder();
const PAD = "p".repeat(60);
const RECORDS_PER_DEVICE = 1500;

async function device(storage: Storage, nodeId: string, url: string) {
  const log = await Log.open({ storage });
  await log.createTopic("t", {
    diskBudgetBytes: 4096,
    whenFull: "dropOldest",
  });
  const state = { offline: true };
  const client = new EdgelogClient(url, {
    retry: { attempts: 1 },
    fetch: (request) =>
      state.offline ? Promise.reject(new TypeError("offline")) : fetch(request),
  });
  const replicator = new Replicator({
    log,
    client,
    nodeId,
    maxBatchBytes: 1500,
    backoff: { baseMs: 1, maxMs: 5 },
  });
  return { log, replicator, state };
}

Deno.test("declared drops racing reads and retention on both sides", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-drop-race-" });
  const logged: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  const storage = await FsStorage.open(`${dir}/broker`, {
    fsync: "never",
    segmentBytes: 2048,
    maxOpenSegments: 2,
  });
  const central = await Log.open({ storage });
  await central.createTopic("t", { retentionBytes: 8192 });
  const groups = await GroupCoordinator.open({
    meta: central.meta,
    partitionCount: () => 1,
    highWatermark: (t, p) => central.partition(t, p).highWatermark,
  });
  const registry = await StreamRegistry.open(central);
  const shutdown = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createApp({
      log: central,
      groups,
      metrics: new Metrics(),
      signal: shutdown.signal,
      extraRoutes: syncRoutes(registry),
    }).fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const devices = [
    await device(new MemoryStorage(), "mem", url),
    await device(
      await FsStorage.open(`${dir}/fs-device`, {
        fsync: "never",
        segmentBytes: 1024,
      }),
      "fs",
      url,
    ),
  ];
  try {
    for (const d of devices) d.replicator.start();
    let producing = devices.length;
    const produce = devices.map(async (d, i) => {
      for (let n = 0; n < RECORDS_PER_DEVICE; n += 5) {
        // Online from a third on: the first records pile up and drop.
        if (n === RECORDS_PER_DEVICE / 3) {
          d.state.offline = false;
          d.replicator.notifyOnline();
        }
        await d.log.produce(
          "t",
          Array.from({ length: 5 }, (_, k) => ({
            value: enc.encode(JSON.stringify({ i, n: n + k, pad: PAD })),
          })),
        );
        if (n % 50 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      producing--;
    });
    const statuses: number[] = [];
    const retention = (async () => {
      while (producing > 0) {
        await central.enforceRetention();
        await new Promise((r) => setTimeout(r, 0));
      }
    })();
    const read = Array.from({ length: 4 }, async (_, w) => {
      const accept = w % 2 === 0 ? "application/vnd.edgelog.batches" : "*/*";
      while (producing > 0) {
        const start = central.partition("t", 0).logStartOffset;
        for (const offset of ["earliest", String(start), String(start + 3)]) {
          const res = await fetch(
            `${url}/v1/topics/t/partitions/0/records?offset=${offset}&maxRecords=20&maxBytes=900`,
            { headers: { accept } },
          );
          statuses.push(res.status);
          await res.body?.cancel();
        }
        for (const d of devices) {
          const p = d.log.partition("t", 0);
          await p.read(p.logStartOffset, { maxBytes: 600 }).catch((err) => {
            if (err.code !== "OFFSET_OUT_OF_RANGE") throw err;
          });
        }
      }
    });
    await Promise.all([...produce, ...read, retention]);
    for (const d of devices) {
      await d.replicator.stop();
      await d.replicator.syncOnce();
    }

    assert.deepEqual(logged, []);
    assert.ok(statuses.length > 0);
    assert.ok(statuses.every((s) => s < 500), `statuses ${statuses}`);
    assert.ok(central.partition("t", 0).logStartOffset > 0, "no retention");
    let declared = 0;
    let acked = 0;
    for (const d of devices) {
      const [status] = d.replicator.status().streams;
      const hw = d.log.partition("t", 0).highWatermark;
      assert.equal(hw, RECORDS_PER_DEVICE);
      assert.equal(status?.ackedOffset, hw - 1);
      assert.ok(d.log.partition("t", 0).logStartOffset > 0, "no drop");
      const [stream] = registry.list(
        d === devices[0] ? "mem" : "fs",
      );
      assert.equal(stream?.ackedOffset, hw - 1);
      assert.equal(stream?.droppedRecords, status?.droppedRecords);
      assert.ok(stream.droppedRecords > 0, "no drop declared");
      declared += stream.droppedRecords;
      acked += stream.ackedOffset + 1;
    }
    // Exactly once: each record was appended centrally or declared dropped.
    assert.equal(registry.counters().appendedRecords + declared, acked);
    assert.equal(central.partition("t", 0).highWatermark, acked - declared);
  } finally {
    console.error = consoleError;
    for (const d of devices) {
      await d.replicator.stop();
      await d.log.close();
    }
    shutdown.abort();
    await server.shutdown();
    await central.close();
    await Deno.remove(dir, { recursive: true });
  }
});
