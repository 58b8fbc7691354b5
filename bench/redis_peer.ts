/**
 * The peer in the HTTP benchmark: Redis Streams (XADD) on the same machine,
 * with an append-only file fsynced every second. Speaks RESP over a plain TCP
 * connection, so no Redis client library is involved in the measurement.
 *
 * RESP, as used here:
 * ```
 * command   *<argc>\r\n then per argument $<bytes>\r\n<argument>\r\n
 * reply     +simple\r\n | -error\r\n | :integer\r\n |
 *           $<bytes>\r\n<bytes>\r\n ($-1\r\n = nil) |
 *           *<count>\r\n then <count> replies (*-1\r\n = nil)
 * ```
 *
 * @module
 */

import { concatBytes } from "../runtime/format/bytes.ts";

const REDIS_SERVER = "/usr/bin/redis-server";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;

/** A redis-server child process in a temporary directory. */
export interface RedisProcess {
  port: number;
  pid: number;
  /** SIGTERM, wait, and remove the directory. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startRedis}. */
export interface StartRedisOptions {
  /** `appendfsync` policy; default "everysec". */
  appendfsync?: "always" | "everysec" | "no";
}

/** A free loopback port (the usual bind-and-release; a race is unlikely). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts `redis-server` on 127.0.0.1 and a random port with an append-only
 * file and no RDB snapshots, and resolves when it answers PING.
 */
export async function startRedis(
  options: StartRedisOptions = {},
): Promise<RedisProcess> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-redis-" });
  const port = freePort();
  const child = new Deno.Command(REDIS_SERVER, {
    args: [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      options.appendfsync ?? "everysec",
      "--save",
      "",
      "--daemonize",
      "no",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const conn = await RespConnection.connect(port);
      try {
        const [pong] = await conn.pipeline([["PING"]]);
        if (pong === "PONG") return { port, pid: child.pid, stop };
      } finally {
        conn.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error(`redis-server did not answer PING on port ${port}`);
}

/** A RESP reply: strings, integers, nil, arrays; errors are thrown. */
export type RespReply = string | number | null | RespReply[];

/** Encodes commands back to back, for one pipelined write. */
export function encodeCommands(
  commands: readonly (readonly (string | Uint8Array)[])[],
): Uint8Array {
  const parts: Uint8Array[] = [];
  const push = (p: Uint8Array) => parts.push(p);
  for (const args of commands) {
    push(encoder.encode(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
      push(encoder.encode(`$${bytes.length}\r\n`));
      push(bytes);
      push(encoder.encode("\r\n"));
    }
  }
  return concatBytes(parts);
}

/** A RESP connection that writes pipelines and reads their replies. */
export class RespConnection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #pos = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<RespConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RespConnection(conn);
  }

  /** Sends commands in one write and reads one reply per command. */
  pipeline(
    commands: readonly (readonly (string | Uint8Array)[])[],
  ): Promise<RespReply[]> {
    return this.send(encodeCommands(commands), commands.length);
  }

  /** Writes pre-encoded commands and reads `count` replies. */
  async send(encoded: Uint8Array, count: number): Promise<RespReply[]> {
    let written = 0;
    while (written < encoded.length) {
      written += await this.#conn.write(encoded.subarray(written));
    }
    const replies: RespReply[] = [];
    for (let i = 0; i < count; i++) replies.push(await this.#reply());
    return replies;
  }

  close(): void {
    this.#conn.close();
  }

  async #reply(): Promise<RespReply> {
    const line = await this.#line();
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case "+":
        return rest;
      case "-":
        throw new Error(`Redis error: ${rest}`);
      case ":":
        return Number(rest);
      case "$": {
        const n = Number(rest);
        if (n < 0) return null;
        const bytes = await this.#bytes(n + 2);
        return decoder.decode(bytes.subarray(0, n));
      }
      case "*": {
        const n = Number(rest);
        if (n < 0) return null;
        const items: RespReply[] = [];
        for (let i = 0; i < n; i++) items.push(await this.#reply());
        return items;
      }
      default:
        throw new Error(`Cannot parse RESP reply line ${JSON.stringify(line)}`);
    }
  }

  async #line(): Promise<string> {
    for (;;) {
      const end = this.#buf.indexOf(CR, this.#pos);
      if (end >= 0 && end + 1 < this.#buf.length) {
        const line = decoder.decode(this.#buf.subarray(this.#pos, end));
        this.#pos = end + 2;
        return line;
      }
      await this.#fill();
    }
  }

  async #bytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length - this.#pos < n) await this.#fill();
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new Error("Redis closed the connection");
    const left = this.#buf.subarray(this.#pos);
    const next = new Uint8Array(left.length + n);
    next.set(left);
    next.set(chunk.subarray(0, n), left.length);
    this.#buf = next;
    this.#pos = 0;
  }
}

/** `XADD key * v <value>` for every value, encoded as one pipeline. */
export function encodeXadds(
  key: string,
  values: readonly Uint8Array[],
): Uint8Array {
  return encodeCommands(values.map((v) => ["XADD", key, "*", "v", v]));
}
