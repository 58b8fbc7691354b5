/**
 * An HTTP proxy for fault tests, on 127.0.0.1 port 0, that misbehaves like a
 * bad network under a seeded random: it drops requests before the upstream
 * sees them, drops answers after the upstream acted on them, delays (which
 * reorders concurrent requests), delivers requests twice, and goes fully
 * offline. A dropped exchange answers 502 with a non-edgelog body, as a
 * real gateway in the path would.
 *
 * @module
 */

/** Probabilities (0..1) and delays of the faults. */
export interface Faults {
  dropRequest: number;
  dropResponse: number;
  duplicate: number;
  /** Probability of delaying a request by up to maxDelayMs. */
  delay: number;
  maxDelayMs: number;
}

/** What the proxy did, for assertions that the faults really happened. */
export interface FaultStats {
  requests: number;
  droppedRequests: number;
  droppedResponses: number;
  duplicated: number;
  delayed: number;
  offline: number;
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NO_FAULTS: Faults = {
  dropRequest: 0,
  dropResponse: 0,
  duplicate: 0,
  delay: 0,
  maxDelayMs: 0,
};

/** The proxy; `url` is what the client under test talks to. */
export class FaultProxy {
  readonly url: string;
  readonly stats: FaultStats = {
    requests: 0,
    droppedRequests: 0,
    droppedResponses: 0,
    duplicated: 0,
    delayed: 0,
    offline: 0,
  };
  #server: Deno.HttpServer<Deno.NetAddr>;
  #target: string;
  #faults: Faults;
  #random: () => number;
  #offline = false;
  /** Only paths starting with this are faulted; others pass through. */
  #faultPath: string;

  private constructor(
    target: string,
    options: { seed: number; faults?: Partial<Faults>; faultPath?: string },
  ) {
    this.#target = target.replace(/\/$/, "");
    this.#random = seededRandom(options.seed);
    this.#faults = { ...NO_FAULTS, ...options.faults };
    this.#faultPath = options.faultPath ?? "/";
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => this.#handle(request),
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Starts a proxy in front of `target`. */
  static start(
    target: string,
    options: { seed: number; faults?: Partial<Faults>; faultPath?: string },
  ): FaultProxy {
    return new FaultProxy(target, options);
  }

  /** Replaces some fault probabilities. */
  setFaults(faults: Partial<Faults>): void {
    this.#faults = { ...this.#faults, ...faults };
  }

  /** Points the proxy at another upstream (a restarted broker). */
  setTarget(target: string): void {
    this.#target = target.replace(/\/$/, "");
  }

  /** While offline every request fails without reaching the upstream. */
  setOffline(offline: boolean): void {
    this.#offline = offline;
  }

  #bad(reason: string): Response {
    return new Response(`fault proxy: ${reason}`, {
      status: 502,
      headers: { "content-type": "text/plain" },
    });
  }

  async #forward(request: Request, body: Uint8Array | null): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("host");
    const init: RequestInit = { method: request.method, headers };
    if (body !== null) init.body = body as Uint8Array<ArrayBuffer>;
    const answer = await fetch(this.#target + url.pathname + url.search, init);
    const bytes = new Uint8Array(await answer.arrayBuffer());
    return new Response(bytes, {
      status: answer.status,
      headers: answer.headers,
    });
  }

  async #handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const body = request.body === null
      ? null
      : new Uint8Array(await request.arrayBuffer()) as Uint8Array<ArrayBuffer>;
    if (!path.startsWith(this.#faultPath)) {
      return await this.#forwardOrFail(request, body);
    }
    this.stats.requests++;
    if (this.#offline) {
      this.stats.offline++;
      return this.#bad("offline");
    }
    const f = this.#faults;
    const roll = () => this.#random();
    if (roll() < f.delay) {
      this.stats.delayed++;
      await new Promise((r) => setTimeout(r, roll() * f.maxDelayMs));
    }
    if (roll() < f.dropRequest) {
      this.stats.droppedRequests++;
      return this.#bad("request dropped");
    }
    const duplicate = roll() < f.duplicate;
    const dropResponse = roll() < f.dropResponse;
    let answer = await this.#forwardOrFail(request, body);
    if (duplicate) {
      this.stats.duplicated++;
      answer = await this.#forwardOrFail(request, body);
    }
    if (dropResponse || this.#offline) {
      this.stats.droppedResponses++;
      return this.#bad("response dropped");
    }
    return answer;
  }

  async #forwardOrFail(
    request: Request,
    body: Uint8Array | null,
  ): Promise<Response> {
    try {
      return await this.#forward(request, body);
    } catch (err) {
      return this.#bad(`upstream unreachable: ${(err as Error).message}`);
    }
  }

  /** Stops the proxy. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
