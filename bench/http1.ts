/**
 * A minimal HTTP/1.1 keep-alive client over one TCP connection, for load
 * generation. On the benchmark machine the client shares the CPUs with the
 * server, and `fetch` costs far more per request than the server under test
 * (measured: a few hundred requests/s on one connection against a bare
 * `Deno.serve`), so the numbers would measure the client. This one writes a
 * request in one or two writes and parses `Content-Length` and chunked
 * answers from a reused buffer.
 *
 * @module
 */

import { concatBytes } from "../runtime/format/bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = [13, 10] as const;

/** One answer: status, lower-cased headers, the whole body. */
export interface Http1Response {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/** Options of {@linkcode Http1Connection.request}. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

/** One keep-alive connection; requests on it run one at a time. */
export class Http1Connection {
  #conn: Deno.TcpConn;
  #host: string;
  #buf = new Uint8Array(256 * 1024);
  #start = 0;
  #end = 0;
  #busy: Promise<unknown> = Promise.resolve();

  private constructor(conn: Deno.TcpConn, host: string) {
    this.#conn = conn;
    this.#host = host;
  }

  /** Connects to the host and port of `url` (http only). */
  static async connect(url: string): Promise<Http1Connection> {
    const u = new URL(url);
    if (u.protocol !== "http:") {
      throw new TypeError(`Cannot connect to ${url}: only http is supported`);
    }
    const conn = await Deno.connect({
      hostname: u.hostname,
      port: Number(u.port || 80),
    });
    conn.setNoDelay(true);
    return new Http1Connection(conn, u.host);
  }

  /** Sends a request and reads its whole answer. */
  request(path: string, options: RequestOptions = {}): Promise<Http1Response> {
    const run = this.#busy.then(() => this.#exchange(path, options));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#conn.close();
  }

  async #exchange(
    path: string,
    options: RequestOptions,
  ): Promise<Http1Response> {
    const body = typeof options.body === "string"
      ? encoder.encode(options.body)
      : options.body;
    let head = `${
      options.method ?? "GET"
    } ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n`;
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      head += `${k}: ${v}\r\n`;
    }
    if (body !== undefined) head += `content-length: ${body.length}\r\n`;
    const headBytes = encoder.encode(head + "\r\n");
    if (body !== undefined && body.length <= 16 * 1024) {
      const both = new Uint8Array(headBytes.length + body.length);
      both.set(headBytes);
      both.set(body, headBytes.length);
      await this.#write(both);
    } else {
      await this.#write(headBytes);
      if (body !== undefined) await this.#write(body);
    }
    return await this.#readResponse();
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }

  async #readResponse(): Promise<Http1Response> {
    const statusLine = await this.#line();
    const status = Number(statusLine.split(" ")[1]);
    if (!Number.isInteger(status)) {
      throw new Error(`Cannot parse status line ${JSON.stringify(statusLine)}`);
    }
    const headers = new Map<string, string>();
    for (
      let line = await this.#line();
      line !== "";
      line = await this.#line()
    ) {
      const colon = line.indexOf(":");
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        line.slice(colon + 1).trim(),
      );
    }
    const length = headers.get("content-length");
    if (length !== undefined) {
      return { status, headers, body: await this.#bytes(Number(length)) };
    }
    if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
      return { status, headers, body: await this.#chunked() };
    }
    throw new Error("Answer has neither content-length nor chunked encoding");
  }

  async #chunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const size = parseInt(await this.#line(), 16);
      if (size === 0) break;
      const part = await this.#bytes(size);
      parts.push(part);
      await this.#line();
    }
    while ((await this.#line()) !== "") {
      // Trailers: ignored.
    }
    return concatBytes(parts);
  }

  async #line(): Promise<string> {
    for (;;) {
      for (let i = this.#start; i + 1 < this.#end; i++) {
        if (this.#buf[i] === CRLF[0] && this.#buf[i + 1] === CRLF[1]) {
          const line = decoder.decode(this.#buf.subarray(this.#start, i));
          this.#start = i + 2;
          return line;
        }
      }
      await this.#fill();
    }
  }

  /** Copies the next `n` bytes out (large bodies read straight into place). */
  async #bytes(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = Math.min(n, this.#end - this.#start);
    out.set(this.#buf.subarray(this.#start, this.#start + got));
    this.#start += got;
    while (got < n) {
      const read = await this.#conn.read(out.subarray(got));
      if (read === null) throw new Error("Connection closed mid-body");
      got += read;
    }
    return out;
  }

  async #fill(): Promise<void> {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("Connection closed");
    this.#end += n;
  }
}

/** Parses a JSON answer body. */
export function jsonBody(res: Http1Response): unknown {
  return JSON.parse(decoder.decode(res.body));
}

/** The JSON body of a 200 or 201 answer; an Error naming `what` otherwise. */
export function expectOk(res: Http1Response, what: string): unknown {
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`${what}: ${res.status} ${decoder.decode(res.body)}`);
  }
  return jsonBody(res);
}
