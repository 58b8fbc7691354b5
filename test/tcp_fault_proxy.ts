/**
 * A TCP proxy for fault tests, on 127.0.0.1, that misbehaves like a slow or
 * broken network between a client and a server (the broker and Kafka): it
 * holds back what the client sent or what the server answered on the
 * connections open at that moment and delivers it later, and cuts a
 * connection in the middle of a request. Bytes held from a client that
 * has died meanwhile (kill -9) still reach the server on release: the late
 * request a crash leaves in the network.
 *
 * @module
 */

/** What the proxy did, for assertions that the faults really happened. */
export interface TcpFaultStats {
  connections: number;
  /** Bytes client → server held and delivered later. */
  heldRequestBytes: number;
  /** Of those, bytes delivered after the client had gone. */
  lateRequestBytes: number;
  heldAnswerBytes: number;
  /** Connections cut in the middle of a request. */
  cuts: number;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** What `conn` sends, chunk by chunk, until it ends, fails or `pipe` closes. */
async function* readChunks(
  conn: Deno.Conn,
  pipe: { closed: boolean },
): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(64 * 1024);
  while (!pipe.closed) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      n = null;
    }
    if (n === null) return;
    yield buffer.slice(0, n);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** One client connection and its connection to the server. */
class Pipe {
  holdUp = false;
  holdDown = false;
  heldUp: Uint8Array[] = [];
  heldDown: Uint8Array[] = [];
  clientGone = false;
  closed = false;
  #up: Promise<void> = Promise.resolve();
  #down: Promise<void> = Promise.resolve();

  constructor(
    readonly client: Deno.Conn,
    readonly server: Deno.Conn,
    readonly stats: TcpFaultStats,
    readonly lingerMs: number,
  ) {}

  toServer(chunk: Uint8Array): void {
    this.#up = this.#up.then(() => writeAll(this.server, chunk)).catch(() =>
      this.close()
    );
  }

  toClient(chunk: Uint8Array): void {
    // A dead client must not take what it sent before it died with it.
    this.#down = this.#down.then(() => writeAll(this.client, chunk)).catch(
      () => this.onClientGone(),
    );
  }

  releaseUp(): void {
    this.holdUp = false;
    const held = this.heldUp.splice(0);
    for (const chunk of held) {
      if (this.clientGone) this.stats.lateRequestBytes += chunk.length;
      this.toServer(chunk);
    }
    if (this.clientGone) this.#closeAfterUp();
  }

  releaseDown(): void {
    this.holdDown = false;
    for (const chunk of this.heldDown.splice(0)) this.toClient(chunk);
  }

  /** The client went away: what is held stays for a release, the rest closes. */
  onClientGone(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    closeQuietly(this.client);
    if (!this.holdUp || this.heldUp.length === 0) this.#closeAfterUp();
  }

  /** Closes the server side once queued bytes are written and had time to be read. */
  #closeAfterUp(): void {
    this.#up = this.#up.then(() =>
      new Promise<void>((resolve) => setTimeout(resolve, this.lingerMs))
    ).then(() => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.client);
    closeQuietly(this.server);
  }
}

/** The proxy; clients connect to `port`. */
export class TcpFaultProxy {
  readonly port: number;
  readonly stats: TcpFaultStats = {
    connections: 0,
    heldRequestBytes: 0,
    lateRequestBytes: 0,
    heldAnswerBytes: 0,
    cuts: 0,
  };
  #listener: Deno.Listener;
  #target: { hostname: string; port: number } | undefined;
  #pipes = new Set<Pipe>();
  #cutNext = false;
  #lingerMs: number;
  #accepting: Promise<void>;

  private constructor(lingerMs: number) {
    this.#lingerMs = lingerMs;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /**
   * Starts a proxy; set its server with {@linkcode setTarget} before
   * clients connect. `lingerMs` (default 1 s): how long the server side of
   * a dead client stays open after its late bytes were written.
   */
  static start(options: { lingerMs?: number } = {}): TcpFaultProxy {
    return new TcpFaultProxy(options.lingerMs ?? 1000);
  }

  /** The server new connections go to, `host:port`. */
  setTarget(address: string): void {
    const [hostname, port] = address.split(":");
    this.#target = { hostname: hostname!, port: Number(port) };
  }

  /** Holds what clients send on the connections open now, until released. */
  holdRequests(): void {
    for (const pipe of this.#pipes) pipe.holdUp = true;
  }

  /** Holds what the server answers on the connections open now. */
  holdAnswers(): void {
    for (const pipe of this.#pipes) pipe.holdDown = true;
  }

  /** Delivers everything held, in order; dead clients' bytes still reach the server. */
  release(): void {
    for (const pipe of this.#pipes) {
      pipe.releaseUp();
      pipe.releaseDown();
    }
  }

  /** The next chunk a client sends goes half to the server, then both sides close. */
  cutMidRequest(): void {
    this.#cutNext = true;
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting.catch(() => {});
    for (const pipe of this.#pipes) pipe.close();
    this.#pipes.clear();
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      const target = this.#target;
      if (target === undefined) {
        closeQuietly(client);
        continue;
      }
      let server: Deno.Conn;
      try {
        server = await Deno.connect(target);
      } catch {
        closeQuietly(client);
        continue;
      }
      this.stats.connections++;
      const pipe = new Pipe(client, server, this.stats, this.#lingerMs);
      this.#pipes.add(pipe);
      Promise.all([this.#pumpUp(pipe), this.#pumpDown(pipe)]).finally(() => {
        if (pipe.closed) this.#pipes.delete(pipe);
      });
    }
  }

  async #pumpUp(pipe: Pipe): Promise<void> {
    for await (const chunk of readChunks(pipe.client, pipe)) {
      if (this.#cutNext && !pipe.holdUp) {
        this.#cutNext = false;
        this.stats.cuts++;
        pipe.toServer(chunk.subarray(0, Math.max(1, chunk.length >> 1)));
        setTimeout(() => pipe.close(), 50);
        return;
      }
      if (pipe.holdUp) {
        this.stats.heldRequestBytes += chunk.length;
        pipe.heldUp.push(chunk);
      } else {
        pipe.toServer(chunk);
      }
    }
    pipe.onClientGone();
  }

  async #pumpDown(pipe: Pipe): Promise<void> {
    for await (const chunk of readChunks(pipe.server, pipe)) {
      if (pipe.holdDown) {
        this.stats.heldAnswerBytes += chunk.length;
        pipe.heldDown.push(chunk);
      } else {
        pipe.toClient(chunk);
      }
    }
    if (!pipe.clientGone || pipe.heldUp.length === 0) pipe.close();
  }
}
