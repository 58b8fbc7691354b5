/**
 * After `produce`, when the node is a gateway (it answers GET
 * /v1/sync/status), warn about records that the gateway acknowledged but
 * cannot pass on: the upstream lacks the topic, refuses the gateway's
 * token, and so on. Otherwise such records stall with no sign at the
 * producer.
 *
 * @module
 */

import type { EdgelogClient, SyncStatus } from "../../runtime/client/mod.ts";

/** Options of {@linkcode gatewayWarnings}. */
export interface GatewayWarningOptions {
  /** How long to wait for the gateway's first verdict; default 3000 ms. */
  waitMs?: number;
  /** Between two looks at the status; default 100 ms. */
  pollMs?: number;
  /** Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** The last offset produced per partition of one topic. */
export type Produced = ReadonlyMap<number, number>;

/**
 * The warnings for `topic` once the gateway's streams of the produced
 * partitions synced past `produced`, failed, or `waitMs` passed; none when
 * the node is no gateway, does not sync the topic (a gateway creates the
 * stream of a synced partition as it appends), is offline (that is its
 * normal state), or syncs.
 */
export async function gatewayWarnings(
  client: EdgelogClient,
  topic: string,
  produced: Produced,
  options: GatewayWarningOptions = {},
): Promise<string[]> {
  const waitMs = options.waitMs ?? 3000;
  const pollMs = options.pollMs ?? 100;
  const sleep = options.sleep ??
    ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let waited = 0;; waited += pollMs) {
    let status: SyncStatus;
    try {
      status = await client.syncStatus();
    } catch {
      return [];
    }
    const streams = status.streams.filter((s) =>
      s.topic === topic && produced.has(s.sourcePartition)
    );
    if (streams.length === 0) return [];
    const failing = streams.filter((s) =>
      s.lastErrorCode != null && s.lastErrorCode !== "UNREACHABLE"
    );
    if (failing.length > 0) {
      return failing.map((s) =>
        s.lastErrorCode === "TOPIC_NOT_FOUND"
          ? `warning: the gateway's upstream ${status.upstream} has no topic '${topic}' (TOPIC_NOT_FOUND): partition ${s.sourcePartition}'s records are kept on the gateway but not synced until the topic exists upstream`
          : `warning: the gateway cannot sync '${topic}' partition ${s.sourcePartition} to ${status.upstream}: ${s.lastErrorCode}: ${s.lastError}`
      );
    }
    const synced = [...produced].every(([partition, offset]) =>
      streams.some((s) =>
        s.sourcePartition === partition && s.ackedOffset >= offset
      )
    );
    // Offline is a gateway's normal state: its records sync later.
    const offline = !status.online && streams.some((s) => s.lastError !== null);
    if (synced || offline || waited >= waitMs) return [];
    await sleep(pollMs);
  }
}
