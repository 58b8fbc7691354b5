/**
 * The gateway's /metrics shows its replication per stream: offsets, lag in
 * records and bytes, drops, last success, online, fenced and push counts,
 * first while the upstream is down, then once everything is synced.
 */

import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";
import { startGateway } from "../edge/gateway.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The value of one sample of a Prometheus text, or undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: string,
): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

Deno.test("gateway /metrics shows each stream's sync progress before and after sync", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-gw-metrics-" });
  const port = freePort();
  const upstream = `http://127.0.0.1:${port}`;
  const gateway = await startGateway({
    upstream,
    token: undefined,
    nodeId: "gw-metrics",
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/gateway`,
    syncTopics: undefined,
    topics: { events: { partitions: 2 } },
    syncedRetentionMs: -1,
    mqtt: undefined,
  });
  let broker: Awaited<ReturnType<typeof startBroker>> | undefined;
  try {
    const failed = new Promise<void>((resolve) =>
      gateway.replicator.on("error", () => resolve())
    );
    for (const n of [0, 1, 2]) {
      const res = await fetch(`${gateway.url}/v1/topics/events/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          records: [{ key: `k${n}`, value: { n }, partition: 0 }],
        }),
      });
      assert.equal(res.status, 200, await res.text());
    }
    await failed;
    await gateway.replicator.measureLag();
    const scrape = async () => {
      const res = await fetch(`${gateway.url}/metrics`);
      assert.equal(res.status, 200);
      return await res.text();
    };
    const p0 = '{topic="events",partition="0"}';
    const p1 = '{topic="events",partition="1"}';
    const size = gateway.log.partition("events", 0).sizeBytes;
    assert.ok(size > 0);

    let text = await scrape();
    assert.equal(
      sample(text, "edgelog_sync_online", `{upstream="${upstream}"}`),
      0,
    );
    assert.equal(sample(text, "edgelog_sync_acked_offset", p0), -1);
    assert.equal(sample(text, "edgelog_sync_high_watermark", p0), 3);
    assert.equal(sample(text, "edgelog_sync_lag_records", p0), 3);
    assert.equal(sample(text, "edgelog_sync_lag_bytes", p0), size);
    assert.equal(sample(text, "edgelog_sync_lag_records", p1), 0);
    assert.equal(sample(text, "edgelog_sync_lag_bytes", p1), 0);
    assert.equal(
      sample(text, "edgelog_sync_stream_dropped_records_total", p0),
      0,
    );
    assert.equal(sample(text, "edgelog_sync_fenced", p0), 0);
    assert.equal(
      sample(text, "edgelog_sync_last_success_timestamp_seconds", p0),
      undefined,
      "no success yet",
    );
    assert.equal(
      sample(text, "edgelog_sync_push_requests_total", p0),
      undefined,
    );
    assert.equal(sample(text, "edgelog_partition_size_bytes", p0), size);

    broker = await startBroker({
      port,
      dataDir: `${dir}/broker`,
      autoCreateTopics: true,
      fsync: "never",
    });
    const synced = new Promise<void>((resolve) =>
      gateway.replicator.on("ack", (e) => {
        if (e.sourcePartition === 0 && e.ackedOffset === 2) resolve();
      })
    );
    const before = Date.now();
    gateway.replicator.notifyOnline();
    await synced;

    text = await scrape();
    assert.equal(
      sample(text, "edgelog_sync_online", `{upstream="${upstream}"}`),
      1,
    );
    assert.equal(sample(text, "edgelog_sync_acked_offset", p0), 2);
    assert.equal(sample(text, "edgelog_sync_high_watermark", p0), 3);
    assert.equal(sample(text, "edgelog_sync_lag_records", p0), 0);
    assert.equal(sample(text, "edgelog_sync_lag_bytes", p0), 0);
    assert.equal(sample(text, "edgelog_sync_push_requests_total", p0), 1);
    assert.equal(sample(text, "edgelog_sync_push_errors_total", p0), undefined);
    const last = sample(
      text,
      "edgelog_sync_last_success_timestamp_seconds",
      p0,
    );
    assert.ok(last !== undefined && last * 1000 >= before - 1000, `${last}`);

    const status = await (await fetch(`${gateway.url}/v1/sync/status`)).json();
    assert.equal(status.upstream, upstream);
    assert.equal(status.online, true);
    assert.deepEqual(
      Object.keys(status.streams[0]).sort(),
      [
        "ackedOffset",
        "droppedRecords",
        "fenced",
        "highWatermark",
        "lagBytes",
        "lagRecords",
        "lastError",
        "lastErrorCode",
        "lastErrorMs",
        "lastSuccessMs",
        "sourcePartition",
        "topic",
      ],
    );
  } finally {
    await gateway.close();
    await broker?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
