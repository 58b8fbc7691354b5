/**
 * `deno task serve`: the central broker's command line. Prints one ready
 * line with the URL, warns when it is reachable from the network without
 * tokens, and exits 0 after a clean shutdown on SIGINT or SIGTERM. A bad
 * configuration exits 2.
 *
 * @module
 */

import { type Broker, isLoopback, startBroker } from "./broker.ts";
import { describeFsync } from "./node_info.ts";
import {
  type BrokerConfig,
  ConfigError,
  loadConfig,
  parseFlags,
  USAGE,
} from "./config.ts";

/** The one line printed once the broker listens. */
export function readyLine(broker: Broker): string {
  const { config } = broker;
  const tokens = config.auth.tokens.length;
  const auth = tokens === 0
    ? "auth: off — open to anyone who can reach it"
    : `auth: ${tokens} token${tokens === 1 ? "" : "s"}`;
  return `edgelog broker listening on ${broker.url} (storage: filesystem ${config.dataDir}, fsync ${
    describeFsync(config.fsync)
  }, ${auth})`;
}

/** The warning for a broker reachable from the network without tokens. */
export function exposureWarning(config: BrokerConfig): string | undefined {
  if (config.auth.tokens.length > 0 || isLoopback(config.host)) {
    return undefined;
  }
  return `WARNING: edgelog is listening on ${config.host} with NO TOKENS: ` +
    "anyone who can reach this address can read, write and delete every " +
    'topic. Add "tokens" to the config file (--config) or bind to 127.0.0.1.';
}

async function main(args: string[]): Promise<number> {
  let broker: Broker;
  try {
    if (parseFlags(args).help) {
      console.log(USAGE);
      return 0;
    }
    broker = await startBroker(await loadConfig(args));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`edgelog: ${err.message}`);
      return 2;
    }
    console.error(
      `edgelog: cannot start the broker: ${(err as Error).message}`,
    );
    return 1;
  }
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      // A second signal means the operator will not wait for a clean stop.
      if (stopping) Deno.exit(130);
      stopping = true;
      stop(signal);
    });
  }
  // Announced only once a signal is sure to stop the broker cleanly.
  const warning = exposureWarning(broker.config);
  if (warning) console.error(warning);
  console.log(readyLine(broker));
  const signal = await stopped;
  console.error(`edgelog: ${signal}, shutting down`);
  try {
    await broker.close();
  } catch (err) {
    console.error(`edgelog: unclean shutdown: ${(err as Error).message}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
