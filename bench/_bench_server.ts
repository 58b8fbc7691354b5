/**
 * What the bench's reference servers share: they start like the broker
 * (`--host`, `--port`, `--data`, a ready line naming the URL) and stop
 * cleanly on SIGTERM, so the benchmark drives them exactly as it does the
 * broker.
 *
 * @module
 */

import { flagValue } from "./_common.ts";

/** The answer every reference server gives a POST. */
export function okResponse(): Response {
  return new Response('{"ok":true}', {
    headers: { "content-type": "application/json" },
  });
}

/** A started server: where it listens and how it stops. */
export interface BenchListener {
  addr: Deno.NetAddr;
  shutdown(): Promise<void>;
}

/** Starts a server; default a bare `Deno.serve`. */
export type BenchServe = (
  handler: (req: Request) => Promise<Response>,
  at: { hostname: string; port: number },
) => BenchListener;

const denoServe: BenchServe = (handler, at) =>
  Deno.serve({ ...at, onListen: () => {} }, handler);

/** Serves `handler` as the server called `name`, until SIGTERM. */
export function serveBench(
  name: string,
  handler: (req: Request) => Promise<Response>,
  serve: BenchServe = denoServe,
): void {
  const server = serve(handler, {
    hostname: flagValue("--host") ?? "127.0.0.1",
    port: Number(flagValue("--port") ?? "0"),
  });
  const { hostname, port } = server.addr;
  console.log(`${name} listening on http://${hostname}:${port}`);
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}
