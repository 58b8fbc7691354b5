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

/** Serves `handler` as the server called `name`, until SIGTERM. */
export function serveBench(
  name: string,
  handler: (req: Request) => Promise<Response>,
): void {
  const server = Deno.serve({
    hostname: flagValue("--host") ?? "127.0.0.1",
    port: Number(flagValue("--port") ?? "0"),
    onListen: ({ hostname, port }) =>
      console.log(`${name} listening on http://${hostname}:${port}`),
  }, handler);
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}
