/**
 * One TCP connection to one Kafka broker: it frames requests, pipelines
 * them (Kafka answers a connection's requests in the order sent, and
 * appends them in that order), and matches responses by correlation id. Any
 * fault fails every request in flight with a retriable network error and
 * closes the connection; the owner then opens a new one.
 *
 * @module
 */

import { networkError } from "./errors.ts";
import { frameRequest, splitResponses } from "./wire.ts";

interface Pending {
  resolve(body: Uint8Array): void;
  reject(reason: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Options of {@linkcode KafkaConnection.open}. */
export interface ConnectionOptions {
  /** Sent in every request header; default "edgelog". */
  clientId?: string;
  /** A request not answered within this fails the connection; default 30 s. */
  requestTimeoutMs?: number;
}

/** A pipelined connection to one broker. */
export class KafkaConnection {
  /** `host:port` of the broker. */
  readonly address: string;
  #conn: Deno.TcpConn;
  #clientId: string;
  #timeoutMs: number;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #writes: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  private constructor(
    address: string,
    conn: Deno.TcpConn,
    options: ConnectionOptions,
  ) {
    this.address = address;
    this.#conn = conn;
    this.#clientId = options.clientId ?? "edgelog";
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#readLoop();
  }

  /** Connects to `host`:`port`; a refused connection is a retriable error. */
  static async open(
    host: string,
    port: number,
    options: ConnectionOptions = {},
  ): Promise<KafkaConnection> {
    const address = `${host}:${port}`;
    try {
      const conn = await Deno.connect({ hostname: host, port });
      conn.setNoDelay(true);
      return new KafkaConnection(address, conn, options);
    } catch (err) {
      throw networkError(
        `Cannot connect to Kafka at ${address}: ${(err as Error).message}`,
      );
    }
  }

  /** Whether the connection failed or was closed. */
  get closed(): boolean {
    return this.#failure !== undefined;
  }

  /** Sends one request and resolves with its response body. */
  send(
    api: { key: number; version: number },
    body: Uint8Array,
  ): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const correlationId = this.#nextId;
    this.#nextId = (this.#nextId + 1) & 0x7fffffff;
    const frame = frameRequest({
      apiKey: api.key,
      apiVersion: api.version,
      correlationId,
      clientId: this.#clientId,
    }, body);
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.#fail(
            networkError(
              `Kafka at ${this.address} did not answer api ${api.key} within ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
      this.#pending.set(correlationId, { resolve, reject, timer });
    });
    this.#writes = this.#writes.then(async () => {
      if (this.#failure) return;
      try {
        let at = 0;
        while (at < frame.length) {
          at += await this.#conn.write(frame.subarray(at));
        }
      } catch (err) {
        this.#fail(
          networkError(
            `Cannot write to Kafka at ${this.address}: ${
              (err as Error).message
            }`,
          ),
        );
      }
    });
    return answer;
  }

  /** Closes the connection, failing requests still in flight. */
  close(): void {
    this.#fail(networkError(`Connection to Kafka at ${this.address} closed`));
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.#pending.clear();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #readLoop(): Promise<void> {
    let buffer: Uint8Array = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (!this.#failure) {
        const n = await this.#conn.read(chunk);
        if (n === null) {
          this.#fail(
            networkError(`Kafka at ${this.address} closed the connection`),
          );
          return;
        }
        const joined = new Uint8Array(buffer.length + n);
        joined.set(buffer);
        joined.set(chunk.subarray(0, n), buffer.length);
        const { responses, rest } = splitResponses(joined);
        buffer = rest;
        for (const { correlationId, body } of responses) {
          const pending = this.#pending.get(correlationId);
          if (pending === undefined) continue;
          this.#pending.delete(correlationId);
          clearTimeout(pending.timer);
          pending.resolve(body);
        }
      }
    } catch (err) {
      this.#fail(
        networkError(
          `Cannot read from Kafka at ${this.address}: ${
            (err as Error).message
          }`,
        ),
      );
    }
  }
}
