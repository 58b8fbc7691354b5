/**
 * A broker and a gateway for the console's browser test, its screenshots
 * and its benchmark: the broker with an admin token and a token that may
 * only read topic "other", and a gateway whose upstream does not answer,
 * so its sync status carries an error.
 *
 * @module
 */

import { type Broker, startBroker } from "../../edge/broker.ts";
import { type Gateway, startGateway } from "../../edge/gateway.ts";

/** A token with every right. */
export const ADMIN_TOKEN = "console-admin-token";
/** A token that may read topic "other" only. */
export const READER_TOKEN = "console-reader-token";

/** The nodes and how to stop them. */
export interface ConsoleNodes {
  broker: Broker;
  gateway: Gateway;
  close(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts both nodes on free ports over temporary directories. */
export async function startConsoleNodes(
  options: { deviceSilentMs?: number; tokens?: boolean } = {},
): Promise<ConsoleNodes> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-console-" });
  const broker = await startBroker({
    dataDir: `${dir}/broker`,
    port: 0,
    fsync: "never",
    deviceSilentMs: options.deviceSilentMs ?? 60_000,
    auth: {
      tokens: options.tokens === false ? [] : [
        { token: ADMIN_TOKEN, rights: { admin: true } },
        { token: READER_TOKEN, rights: { consume: ["other"] } },
      ],
    },
  });
  const gateway = await startGateway({
    upstream: `http://127.0.0.1:${freePort()}`,
    token: undefined,
    nodeId: "gw-console",
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/gateway`,
    syncTopics: undefined,
    topics: { readings: { partitions: 1 } },
    syncedRetentionMs: -1,
    mqtt: undefined,
  });
  return {
    broker,
    gateway,
    async close() {
      await gateway.close();
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
