/**
 * The ceiling of the HTTP benchmark: a bare `Deno.serve` that reads each
 * request body and answers 200, started like the broker (same flags, same
 * ready line), so the difference to the broker is the broker's own work.
 *
 * @module
 */

function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] ?? fallback : fallback;
}

const answer = JSON.stringify({ ok: true });
const server = Deno.serve({
  hostname: flag("--host", "127.0.0.1"),
  port: Number(flag("--port", "0")),
  onListen: ({ hostname, port }) =>
    console.log(`ceiling server listening on http://${hostname}:${port}`),
}, async (req) => {
  await req.arrayBuffer();
  return new Response(answer, {
    headers: { "content-type": "application/json" },
  });
});

Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown();
  Deno.exit(0);
});
