/**
 * The ceiling server of the HTTP benchmark on the node's own listener
 * (edge/http_listener.ts: connection cap, header and idle timeouts) with the
 * default limits, so the listener bench sees what the listener costs over a
 * bare `Deno.serve`.
 *
 * @module
 */

import { serveHttp } from "../edge/http_listener.ts";
import { DEFAULT_LIMITS } from "../edge/limits.ts";
import { okResponse, serveBench } from "./_bench_server.ts";

serveBench(
  "capped ceiling server",
  async (req) => {
    await req.arrayBuffer();
    return okResponse();
  },
  (handler, at) => serveHttp(handler, { ...at, ...DEFAULT_LIMITS }),
);
