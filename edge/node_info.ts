/**
 * What a node tells `GET /v1/broker` about itself that only the process
 * knows: its version (from deno.json), when it started, its fsync policy in
 * words, and the free space on its data directory's disk.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import denoJson from "../deno.json" with { type: "json" };
import type { SyncCounts } from "../runtime/server/broker_routes.ts";
import type { StreamInfo } from "../runtime/sync/mod.ts";
import type { FsyncPolicy } from "./storage/sync_policy.ts";

/** The project's version, as deno.json states it. */
export const EDGELOG_VERSION: string = denoJson.version;

/** An fsync policy in words: "always", "never" or "every 50 ms". */
export function describeFsync(fsync: FsyncPolicy): string {
  return typeof fsync === "string" ? fsync : `every ${fsync.intervalMs} ms`;
}

/**
 * Free bytes for an unprivileged writer on the disk that holds `dir`, or
 * null when they cannot be read (the process lacks `--allow-sys=statfs`,
 * or the directory is gone).
 */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/**
 * Streams, devices, devices none of whose streams was seen within
 * `silentAfterMs`, and devices with records not yet synced (a stream whose
 * reported lag is above zero), among `streams` at `nowMs`.
 */
export function syncCounts(
  streams: readonly StreamInfo[],
  nowMs: number,
  silentAfterMs: number,
): SyncCounts {
  const lastSeen = new Map<string, number>();
  const lagging = new Set<string>();
  for (const s of streams) {
    lastSeen.set(s.nodeId, Math.max(lastSeen.get(s.nodeId) ?? 0, s.lastSeenMs));
    if ((s.lagRecords ?? 0) > 0) lagging.add(s.nodeId);
  }
  let silentDevices = 0;
  for (const seen of lastSeen.values()) {
    if (nowMs - seen > silentAfterMs) silentDevices++;
  }
  return {
    streams: streams.length,
    devices: lastSeen.size,
    silentDevices,
    laggingDevices: lagging.size,
    silentAfterMs,
  };
}
