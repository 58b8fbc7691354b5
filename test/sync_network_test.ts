import assert from "node:assert/strict";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { Replicator } from "../runtime/sync/replicator.ts";
import { FaultProxy, seededRandom } from "./fault_proxy.ts";
import {
  allRecords,
  assertReplicated,
  deviceLog,
  startTestBroker,
  testRecords,
} from "./sync_harness.ts";

async function until(
  condition: () => boolean,
  what: string,
  limitMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function replicatorFor(
  device: Awaited<ReturnType<typeof deviceLog>>,
  url: string,
  nodeId: string,
  seed: number,
) {
  const client = new EdgelogClient(url, { retry: { attempts: 1 } });
  return new Replicator({
    log: device,
    client,
    nodeId,
    random: seededRandom(seed),
    maxBatchBytes: 2048,
    backoff: { baseMs: 5, maxMs: 40 },
  });
}

function synced(
  replicator: Replicator,
  device: Awaited<ReturnType<typeof deviceLog>>,
) {
  return () =>
    replicator.status().streams.length > 0 &&
    replicator.status().streams.every((s) =>
      s.ackedOffset ===
        device.partition(s.topic, s.sourcePartition).highWatermark - 1
    );
}

Deno.test("lossy network: drops, lost answers, delays, duplicates — each record once", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 3 } });
  const proxy = FaultProxy.start(broker.url, {
    seed: 42,
    faultPath: "/v1/sync",
    faults: {
      dropRequest: 0.15,
      dropResponse: 0.15,
      duplicate: 0.15,
      delay: 0.3,
      maxDelayMs: 15,
    },
  });
  const device = await deviceLog("events", 2);
  const replicator = replicatorFor(device, proxy.url, "dev-lossy", 1);
  replicator.start();
  try {
    for (let round = 0; round < 20; round++) {
      await device.produce("events", testRecords(round * 10, 10, round % 2));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(synced(replicator, device), "sync over a lossy network");
    assert.ok(proxy.stats.droppedResponses > 0 && proxy.stats.duplicated > 0);
    for (const p of [0, 1]) {
      await assertReplicated(broker, device, "dev-lossy", "events", p);
    }
  } finally {
    await replicator.stop();
    await proxy.close();
    await broker.close();
    await device.close();
  }
});

Deno.test("offline for a long stretch while producing, then reconnect", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 2 } });
  const proxy = FaultProxy.start(broker.url, { seed: 3 });
  const device = await deviceLog("events", 1);
  const replicator = replicatorFor(device, proxy.url, "dev-off", 2);
  replicator.start();
  try {
    await device.produce("events", testRecords(0, 5));
    await until(synced(replicator, device), "first sync");
    proxy.setOffline(true);
    for (let i = 0; i < 30; i++) {
      await device.produce("events", testRecords(5 + i * 20, 20));
    }
    await until(() => replicator.status().online === false, "offline seen");
    assert.ok(replicator.status().streams[0]!.lagRecords > 0);
    proxy.setOffline(false);
    replicator.notifyOnline();
    await until(synced(replicator, device), "sync after reconnect");
    await assertReplicated(broker, device, "dev-off", "events", 0);
    assert.equal(replicator.status().online, true);
  } finally {
    await replicator.stop();
    await proxy.close();
    await broker.close();
    await device.close();
  }
});

Deno.test("broker restart mid-sync (state rebuilt from the log) — nothing duplicated", async () => {
  const first = await startTestBroker(undefined, { topics: { events: 1 } });
  const proxy = FaultProxy.start(first.url, { seed: 9 });
  const device = await deviceLog("events", 1);
  const replicator = replicatorFor(device, proxy.url, "dev-rs", 3);
  replicator.start();
  let broker = first;
  try {
    await device.produce("events", testRecords(0, 50));
    await until(
      () => replicator.status().streams[0]?.ackedOffset! >= 0,
      "some ack",
    );
    // Crash: no clean flush of the registry's snapshot.
    proxy.setOffline(true);
    await device.produce("events", testRecords(50, 50));
    broker = await startTestBroker(first.storage);
    proxy.setTarget(broker.url);
    proxy.setOffline(false);
    replicator.notifyOnline();
    await until(synced(replicator, device), "sync after broker restart");
    await assertReplicated(broker, device, "dev-rs", "events", 0);
  } finally {
    await replicator.stop();
    await proxy.close();
    await broker.close();
    await device.close();
  }
});

Deno.test("two replicators for one stream: the older is fenced, nothing is duplicated", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 2 } });
  const device = await deviceLog("events", 1);
  const older = replicatorFor(device, broker.url, "dev-2x", 4);
  const newer = replicatorFor(device, broker.url, "dev-2x", 5);
  const fenced: unknown[] = [];
  older.on("fenced", (e) => fenced.push(e));
  older.start();
  try {
    await device.produce("events", testRecords(0, 20));
    await until(synced(older, device), "older syncs");
    newer.start();
    await device.produce("events", testRecords(20, 20));
    await until(synced(newer, device), "newer syncs");
    await device.produce("events", testRecords(40, 20));
    await until(synced(newer, device), "newer syncs again");
    await until(
      () => fenced.length === 1 || older.status().streams[0]!.ackedOffset >= 59,
      "older settles",
    );
    await assertReplicated(broker, device, "dev-2x", "events", 0);
    assert.ok(
      fenced.length === 1 || broker.registry.counters().fenced === 0,
    );
  } finally {
    await older.stop();
    await newer.stop();
    await broker.close();
    await device.close();
  }
});

Deno.test("records dropped under dropOldest are a counted gap, visible in streams and /metrics", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 1 } });
  const proxy = FaultProxy.start(broker.url, { seed: 11 });
  const device = await deviceLog("events", 1, {
    defaults: { diskBudgetBytes: 4096, whenFull: "dropOldest" },
  });
  const replicator = replicatorFor(device, proxy.url, "dev-drop", 6);
  replicator.start();
  try {
    await device.produce("events", testRecords(0, 3));
    await until(synced(replicator, device), "first sync");
    proxy.setOffline(true);
    for (let i = 0; i < 60; i++) {
      await device.produce("events", testRecords(3 + i * 2, 2));
    }
    const local = device.partition("events", 0);
    assert.ok(local.logStartOffset > 3, "the budget dropped unsynced records");
    const kept = await allRecords(device, "events", 0);
    const gap = local.logStartOffset - 3;
    // The proxy refuses a request only once it read its body: the pushes
    // the appends above set off (one per append while the window has room)
    // must meet it offline, or they land and shrink the gap.
    await until(
      () => replicator.status().streams[0]!.lastError !== null,
      "the pushes made offline to fail",
    );
    proxy.setOffline(false);
    replicator.notifyOnline();
    await until(synced(replicator, device), "sync after drops");
    const stream = broker.registry.list("dev-drop")[0]!;
    // The log start may sit inside a batch the device still holds whole: it
    // sends that batch, so the declared gap can be a little smaller.
    const dropped = stream.droppedRecords;
    assert.ok(
      dropped > 0 && dropped <= gap && dropped >= gap - 2,
      `${dropped}`,
    );
    const central = await allRecords(broker.log, "events", stream.partition);
    assert.equal(central.length, local.highWatermark - dropped);
    const strip = (
      r: { key: unknown; value: unknown; timestamp: number },
    ) => [r.key, r.value, r.timestamp];
    assert.deepEqual(
      central.slice(-kept.length).map(strip),
      kept.map(strip),
    );
    const listed =
      await (await fetch(`${broker.url}/v1/sync/streams?nodeId=dev-drop`))
        .json();
    assert.equal(listed.streams[0].droppedRecords, dropped);
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `edgelog_sync_dropped_records_total\\{[^}]*node_id="dev-drop"[^}]*\\} ${dropped}`,
      ),
    );
    assert.equal(replicator.status().streams[0]!.droppedRecords, dropped);
  } finally {
    await replicator.stop();
    await proxy.close();
    await broker.close();
    await device.close();
  }
});
