/**
 * The ceiling of the HTTP benchmark: a bare `Deno.serve` that reads each
 * request body and answers 200, started like the broker (same flags, same
 * ready line), so the difference to the broker is the broker's own work.
 *
 * @module
 */

import { okResponse, serveBench } from "./_bench_server.ts";

serveBench("ceiling server", async (req) => {
  await req.arrayBuffer();
  return okResponse();
});
