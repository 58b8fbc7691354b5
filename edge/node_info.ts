/**
 * What a node tells `GET /v1/broker` about itself that only the process
 * knows: its version (from deno.json), when it started, its fsync policy in
 * words, and the free space on its data directory's disk.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import denoJson from "../deno.json" with { type: "json" };
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
