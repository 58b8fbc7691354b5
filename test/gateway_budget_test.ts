/**
 * The gateway's per-topic disk budgets and synced retention, from its
 * config file: `reject` answers 507 and writes nothing; `dropOldest` drops
 * the oldest unsynced records and tells the upstream exactly how many; old
 * data is deleted only once synced. The upstream is an in-process broker
 * that is offline at first (its port closed), so records pile up unsynced.
 */

import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";
import { type Gateway, startGateway } from "../edge/gateway.ts";
import { loadGatewayConfig } from "../edge/gateway/config.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";

const dec = new TextDecoder();
const PAD = "x".repeat(80);
const HOUR_AGO = Date.now() - 3_600_000;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function produceOne(gateway: Gateway, topic: string, n: number) {
  return await fetch(`${gateway.url}/v1/topics/${topic}/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      records: [{ key: `k${n}`, value: { n, pad: PAD }, timestamp: HOUR_AGO }],
    }),
  });
}

Deno.test("gateway budgets: reject, dropOldest reported upstream, synced retention", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-gw-budget-" });
  const port = freePort();
  const upstream = `http://127.0.0.1:${port}`;
  const configFile = `${dir}/gateway.json`;
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      nodeId: "gw-budget",
      segmentBytes: 512,
      syncedRetentionMs: 60_000,
      syncTopics: ["drop", "aged"],
      topics: {
        capped: { diskBudgetBytes: 1024, whenFull: "reject" },
        drop: { diskBudgetBytes: 2048, whenFull: "dropOldest" },
        aged: {},
      },
    }),
  );
  const config = await loadGatewayConfig([
    "--config",
    configFile,
    "--upstream",
    upstream,
    "--port",
    "0",
    "--data",
    `${dir}/gateway`,
  ]);
  assert.equal(config.segmentBytes, 512);
  const gateway = await startGateway(config);
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined;
  try {
    // reject: once full, 507 STORAGE_FULL and nothing of the request is written.
    let accepted = 0;
    for (let n = 0; n < 50; n++) {
      const res = await produceOne(gateway, "capped", n);
      if (res.status !== 200) {
        assert.equal(res.status, 507);
        assert.equal((await res.json()).error.code, "STORAGE_FULL");
        break;
      }
      await res.body?.cancel();
      accepted++;
    }
    assert.ok(accepted > 0 && accepted < 50, `accepted ${accepted}`);
    const capped = gateway.log.partition("capped", 0);
    assert.equal(capped.highWatermark, accepted);
    assert.ok(capped.sizeBytes <= 1024);
    const many = await fetch(`${gateway.url}/v1/topics/capped/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        records: [{ value: { pad: PAD } }, { value: { pad: PAD } }],
      }),
    });
    assert.equal(many.status, 507);
    await many.body?.cancel();
    assert.equal(capped.highWatermark, accepted);

    // dropOldest while the upstream is unreachable: old unsynced records go.
    for (let n = 0; n < 60; n++) {
      const res = await produceOne(gateway, "drop", n);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const drop = gateway.log.partition("drop", 0);
    const dropped = drop.logStartOffset;
    assert.ok(dropped > 0, "nothing was dropped");
    assert.ok(drop.sizeBytes <= 2048);

    // aged: old but unsynced, so retention keeps it all.
    for (let n = 0; n < 20; n++) {
      await (await produceOne(gateway, "aged", n)).body?.cancel();
    }
    const aged = gateway.log.partition("aged", 0);
    await gateway.log.enforceRetention();
    assert.equal(aged.logStartOffset, 0);

    // The upstream comes up: everything left is synced, the drop declared.
    broker = await startBroker({
      port,
      dataDir: `${dir}/broker`,
      fsync: "never",
      autoCreateTopics: true,
    });
    gateway.replicator.notifyOnline();
    const client = new EdgelogClient(broker.url);
    const streams = async () => await client.listStreams("gw-budget");
    let synced = await streams();
    for (let i = 0; i < 500; i++) {
      synced = await streams();
      if (
        synced.length === 2 &&
        synced.every((s) => s.ackedOffset === (s.topic === "drop" ? 59 : 19))
      ) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const dropStream = synced.find((s) => s.topic === "drop");
    const agedStream = synced.find((s) => s.topic === "aged");
    assert.equal(dropStream?.ackedOffset, 59, JSON.stringify(synced));
    assert.equal(agedStream?.ackedOffset, 19, JSON.stringify(synced));
    assert.equal(dropStream.droppedRecords, dropped);
    assert.equal(agedStream.droppedRecords, 0);
    const page = await client.fetch("drop", dropStream.partition, {
      offset: "earliest",
      maxRecords: 1000,
    });
    assert.deepEqual(
      page.records.map((r) => (r.value as { n: number }).n),
      Array.from({ length: 60 - dropped }, (_, i) => dropped + i),
    );
    const metrics = await client.metrics();
    const line = metrics.split("\n").find((l) =>
      l.startsWith("edgelog_sync_dropped_records_total")
    );
    assert.ok(line?.endsWith(` ${dropped}`), `${line}`);

    // Synced and old: retention deletes it, but never past what is synced.
    await broker.close();
    broker = undefined;
    for (let n = 20; n < 40; n++) {
      await (await produceOne(gateway, "aged", n)).body?.cancel();
    }
    await gateway.log.enforceRetention();
    assert.ok(aged.logStartOffset > 0, "synced old data was kept");
    assert.ok(aged.logStartOffset <= 20, `log start ${aged.logStartOffset}`);
    const rest = await gateway.log.partition("aged", 0).readBatches(
      aged.logStartOffset,
      1 << 20,
    );
    assert.ok(rest.length > 0 && dec.decode(rest.at(-1)!).includes("k39"));
  } finally {
    await gateway.close();
    await broker?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
