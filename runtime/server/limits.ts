/**
 * Caps on what requests may hold open at once (long polls, SSE streams), in
 * all and per client. A client is its bearer token, or its remote address
 * when the node is open, so one client cannot take every slot.
 *
 * @module
 */

import type { Context } from "hono";
import { limitError } from "../errors.ts";
import type { ServerEnv } from "./context.ts";
import type { Metrics } from "./metrics.ts";

/** The caps a node applies to requests it holds open. */
export interface HoldLimits {
  /** Long polls (fetches with `maxWaitMs`) waiting at once, in all. */
  maxLongPolls: number;
  /** Long polls waiting at once for one client. */
  maxLongPollsPerClient: number;
  /** SSE streams open at once, in all. */
  maxStreams: number;
  /** SSE streams open at once for one client. */
  maxStreamsPerClient: number;
}

/**
 * Defaults: a waiting long poll costs little, so its caps only stop a
 * flood; an SSE stream may hold a batch and its JSON in memory, so fewer
 * streams are allowed. A client without a token is its address, and many
 * devices may share one (NAT), hence shares well above one device's needs.
 */
export const DEFAULT_HOLD_LIMITS: Readonly<HoldLimits> = Object.freeze({
  maxLongPolls: 1024,
  maxLongPollsPerClient: 512,
  maxStreams: 256,
  maxStreamsPerClient: 64,
});

/**
 * Who a request comes from, for per-client shares: on a node with tokens its
 * token (checked by the auth middleware before any route runs; kept in memory
 * only), on an open node the remote address the server passed as `env`, so
 * a header the node does not check cannot buy another share.
 */
export function clientOf(c: Context<ServerEnv>): string {
  if (c.get("principal") !== "open") {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(
      c.req.header("authorization") ?? "",
    );
    return `token:${token?.[1]}`;
  }
  const env = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = env?.remoteAddr?.hostname;
  return typeof host === "string" ? `addr:${host}` : "addr:unknown";
}

/**
 * Slots of one kind: at most `max` held in all and `maxPerClient` by one
 * client. A refused acquire changes nothing; `metrics` reports the use.
 *
 * @example Usage
 * ```ts
 * import { Slots } from "./limits.ts";
 * const slots = new Slots({ name: "maxStreams", max: 2 }, {
 *   name: "maxStreamsPerClient",
 *   max: 1,
 * });
 * const release = slots.acquire("a");
 * release();
 * ```
 */
export class Slots {
  readonly #global: { name: string; max: number };
  readonly #perClient: { name: string; max: number };
  readonly #held = new Map<string, number>();
  #total = 0;

  constructor(
    global: { name: string; max: number },
    perClient: { name: string; max: number },
    metrics?: Metrics,
  ) {
    this.#global = global;
    this.#perClient = perClient;
    metrics?.trackLimit(global.name, global.max, () => this.#total);
    metrics?.trackLimit(
      perClient.name,
      perClient.max,
      () => Math.max(0, ...this.#held.values()),
    );
  }

  /** Slots held now, in all. */
  get held(): number {
    return this.#total;
  }

  /**
   * Takes a slot for `client`; the returned function gives it back (once).
   * Throws TOO_MANY_REQUESTS or LIMIT_REACHED when none is free.
   */
  acquire(client: string): () => void {
    const mine = this.#held.get(client) ?? 0;
    if (mine >= this.#perClient.max) {
      throw limitError(
        this.#perClient.name,
        `This client already holds ${mine} of its ${this.#perClient.max} (${this.#perClient.name})`,
        true,
      );
    }
    if (this.#total >= this.#global.max) {
      throw limitError(
        this.#global.name,
        `The node holds ${this.#total} of ${this.#global.max} at once (${this.#global.name}); try again later`,
      );
    }
    this.#held.set(client, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#held.get(client) ?? 1) - 1;
      if (left === 0) this.#held.delete(client);
      else this.#held.set(client, left);
    };
  }
}
