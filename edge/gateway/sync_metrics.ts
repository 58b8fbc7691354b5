/**
 * The gateway's replication in its /metrics: per-stream gauges read from
 * the replicator's status at scrape time (so never stale), and counters of
 * the pushes made, kept in the node's shared Metrics.
 *
 * @module
 */

import {
  escapeLabel as label,
  type Metrics,
} from "../../runtime/server/metrics.ts";
import type {
  ReplicatorStatus,
  StreamStatus,
  SyncUpstream,
} from "../../runtime/sync/mod.ts";

const PUSHES = "edgelog_sync_push_requests_total";
const PUSH_ERRORS = "edgelog_sync_push_errors_total";

/**
 * An upstream that counts its pushes and the failed ones in `metrics`, by
 * the topic and source partition they replicate (learned from the
 * registrations it passes on).
 */
export function countingUpstream(
  upstream: SyncUpstream,
  metrics: Metrics,
): SyncUpstream {
  const streams = new Map<number, { topic: string; partition: number }>();
  return {
    async registerStream(nodeId, topic, sourcePartition) {
      const registration = await upstream.registerStream(
        nodeId,
        topic,
        sourcePartition,
      );
      streams.set(registration.producerId, {
        topic,
        partition: sourcePartition,
      });
      return registration;
    },
    async pushBatches(producerId, bytes, options) {
      const labels = streams.get(producerId) ?? {};
      metrics.inc(PUSHES, "Sync pushes to the upstream, by stream", labels);
      try {
        return await upstream.pushBatches(producerId, bytes, options);
      } catch (err) {
        metrics.inc(
          PUSH_ERRORS,
          "Sync pushes that failed or were refused, by stream",
          labels,
        );
        throw err;
      }
    },
  };
}

interface Series {
  name: string;
  type: "gauge" | "counter";
  help: string;
  /** The stream's value; null (not known yet) leaves its sample out. */
  value: (s: StreamStatus) => number | null;
}

/** A series; a gauge unless `options.type` says otherwise. */
function series(
  name: string,
  options: Omit<Series, "name" | "type"> & { type?: Series["type"] },
): Series {
  return { name, ...options, type: options.type ?? "gauge" };
}

const SERIES: readonly Series[] = [
  series("edgelog_sync_acked_offset", {
    help: "Last local offset the upstream holds, by stream (-1 for none)",
    value: (s) => s.ackedOffset,
  }),
  series("edgelog_sync_high_watermark", {
    help: "Offset the next local record of a stream will get",
    value: (s) => s.highWatermark,
  }),
  series("edgelog_sync_lag_records", {
    help: "Local records the upstream does not hold yet, by stream",
    value: (s) => s.lagRecords,
  }),
  series("edgelog_sync_lag_bytes", {
    help: "Stored bytes of the local batches the upstream does not hold yet",
    value: (s) => s.lagBytes,
  }),
  series("edgelog_sync_stream_dropped_records_total", {
    type: "counter",
    help: "Records a stream dropped before they were synced (disk budget)",
    value: (s) => s.droppedRecords,
  }),
  series("edgelog_sync_last_success_timestamp_seconds", {
    help: "When the upstream last answered a push of a stream (Unix time)",
    value: (s) => s.lastSuccessMs === null ? null : s.lastSuccessMs / 1000,
  }),
  series("edgelog_sync_fenced", {
    help: "1 once a newer replicator took the stream over",
    value: (s) => s.fenced ? 1 : 0,
  }),
];

/**
 * The Prometheus text of a replicator's status: whether the upstream is
 * reachable, then one sample per stream and series. A value not known yet
 * (lag bytes being measured, no success so far) leaves its sample out.
 */
export function renderSyncMetrics(
  upstream: string,
  status: ReplicatorStatus,
): string {
  const out = [
    "# HELP edgelog_sync_online 1 while the upstream answers",
    "# TYPE edgelog_sync_online gauge",
    `edgelog_sync_online{upstream="${label(upstream)}"} ${
      status.online ? 1 : 0
    }`,
  ];
  for (const series of SERIES) {
    out.push(
      `# HELP ${series.name} ${series.help}`,
      `# TYPE ${series.name} ${series.type}`,
    );
    for (const stream of status.streams) {
      const value = series.value(stream);
      if (value === null) continue;
      out.push(
        `${series.name}{topic="${
          label(stream.topic)
        }",partition="${stream.sourcePartition}"} ${value}`,
      );
    }
  }
  return out.join("\n") + "\n";
}
