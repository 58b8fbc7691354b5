import assert from "node:assert/strict";
import { Metrics } from "../../runtime/server/metrics.ts";
import { EdgelogError } from "../../runtime/errors.ts";
import type { SyncUpstream } from "../../runtime/sync/mod.ts";
import { countingUpstream, renderSyncMetrics } from "./sync_metrics.ts";

Deno.test("countingUpstream counts pushes and failed pushes by stream", async () => {
  let refuse = false;
  const upstream: SyncUpstream = {
    registerStream: (_n, _t, p) =>
      Promise.resolve({
        producerId: 40 + p,
        producerEpoch: 0,
        partition: 0,
        ackedOffset: -1,
      }),
    pushBatches: () =>
      refuse
        ? Promise.reject(new EdgelogError("FENCED", "Fenced"))
        : Promise.resolve({ ackedOffset: 0, partition: 0, lastOffset: 0 }),
  };
  const metrics = new Metrics();
  const counted = countingUpstream(upstream, metrics);
  await counted.registerStream("n", 't"x', 1);
  await counted.pushBatches(41, new Uint8Array());
  refuse = true;
  await assert.rejects(() => counted.pushBatches(41, new Uint8Array()));
  const labels = { topic: 't"x', partition: 1 };
  assert.equal(metrics.value("edgelog_sync_push_requests_total", labels), 2);
  assert.equal(metrics.value("edgelog_sync_push_errors_total", labels), 1);
  assert.match(
    metrics.render(),
    /edgelog_sync_push_errors_total\{topic="t\\"x",partition="1"\} 1/,
  );
});

Deno.test("renderSyncMetrics leaves out values not known yet", () => {
  const text = renderSyncMetrics("http://up", {
    online: false,
    streams: [{
      topic: "a",
      sourcePartition: 2,
      ackedOffset: 4,
      highWatermark: 9,
      lagRecords: 4,
      lagBytes: null,
      lastSuccessMs: 1500,
      lastError: "offline",
      lastErrorCode: "UNREACHABLE",
      lastErrorMs: 1_000,
      droppedRecords: 3,
      fenced: true,
    }],
  });
  const lines = text.split("\n").filter((l) => !l.startsWith("#") && l);
  assert.deepEqual(lines, [
    'edgelog_sync_online{upstream="http://up"} 0',
    'edgelog_sync_acked_offset{topic="a",partition="2"} 4',
    'edgelog_sync_high_watermark{topic="a",partition="2"} 9',
    'edgelog_sync_lag_records{topic="a",partition="2"} 4',
    'edgelog_sync_stream_dropped_records_total{topic="a",partition="2"} 3',
    'edgelog_sync_last_success_timestamp_seconds{topic="a",partition="2"} 1.5',
    'edgelog_sync_fenced{topic="a",partition="2"} 1',
  ]);
  assert.match(text, /# TYPE edgelog_sync_lag_bytes gauge/);
});
