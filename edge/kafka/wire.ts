/**
 * Kafka's primitive wire types (big-endian, non-flexible versions only) and
 * the request/response framing. Every message is `int32 size` then the
 * bytes; a request header v1 is
 *
 * ```
 * api_key int16 · api_version int16 · correlation_id int32 · client_id string|null
 * ```
 *
 * and a response header v0 is `correlation_id int32`. Strings are an int16
 * length (-1 = null) then UTF-8; bytes are an int32 length (-1 = null);
 * arrays are an int32 count (-1 = null) then the items. The client only
 * speaks non-flexible versions, so no compact types or tagged fields.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds a message body, growing its buffer as needed. */
export class Writer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #at = 0;

  int8(value: number): this {
    this.#reserve(1).setInt8(this.#at, value);
    this.#at += 1;
    return this;
  }

  int16(value: number): this {
    this.#reserve(2).setInt16(this.#at, value);
    this.#at += 2;
    return this;
  }

  int32(value: number): this {
    this.#reserve(4).setInt32(this.#at, value);
    this.#at += 4;
    return this;
  }

  int64(value: number): this {
    this.#reserve(8).setBigInt64(this.#at, BigInt(value));
    this.#at += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /** A string, or null as length -1. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = encoder.encode(value);
    if (bytes.length > 0x7fff) {
      throw new RangeError(`String of ${bytes.length} bytes is too long`);
    }
    return this.int16(bytes.length).raw(bytes);
  }

  /** Bytes, or null as length -1. */
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  /** An array: the count, then `write` for each item. */
  array<T>(items: readonly T[], write: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#at);
    this.#at += bytes.length;
    return this;
  }

  /** The bytes written so far (a view, valid until the next write). */
  finish(): Uint8Array {
    return this.#bytes.subarray(0, this.#at);
  }

  #reserve(n: number): DataView {
    if (this.#at + n > this.#bytes.length) {
      let size = this.#bytes.length * 2;
      while (size < this.#at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#bytes.subarray(0, this.#at));
      this.#bytes = next;
      this.#view = new DataView(next.buffer);
    }
    return this.#view;
  }
}

/** Reads a response body; reading past its end is a RangeError. */
export class Reader {
  #bytes: Uint8Array;
  #view: DataView;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#at;
  }

  int8(): number {
    return this.#view.getInt8(this.#take(1));
  }

  int16(): number {
    return this.#view.getInt16(this.#take(2));
  }

  int32(): number {
    return this.#view.getInt32(this.#take(4));
  }

  int64(): number {
    return Number(this.#view.getBigInt64(this.#take(8)));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new RangeError("Unexpected null string");
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const at = this.#take(length);
    return decoder.decode(this.#bytes.subarray(at, at + length));
  }

  nullableBytes(): Uint8Array | null {
    const length = this.int32();
    if (length < 0) return null;
    const at = this.#take(length);
    return this.#bytes.subarray(at, at + length);
  }

  /** An array: the count, then `read` for each item; null reads as []. */
  array<T>(read: (r: this) => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read(this));
    return items;
  }

  #take(n: number): number {
    const at = this.#at;
    if (at + n > this.#bytes.length) {
      throw new RangeError(
        `Cannot read ${n} bytes at ${at}: the message has ${this.#bytes.length}`,
      );
    }
    this.#at = at + n;
    return at;
  }
}

/** Header fields of one request. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** A whole request on the wire: size, header v1, body. */
export function frameRequest(
  header: RequestHeader,
  body: Uint8Array,
): Uint8Array {
  const w = new Writer()
    .int32(0)
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .string(header.clientId)
    .raw(body);
  const bytes = w.finish().slice();
  new DataView(bytes.buffer).setInt32(0, bytes.length - 4);
  return bytes;
}

/**
 * Splits whole responses off the front of `buffer`: each is its correlation
 * id and its body. `rest` is the incomplete tail to keep for the next read.
 */
export function splitResponses(
  buffer: Uint8Array,
): {
  responses: { correlationId: number; body: Uint8Array }[];
  rest: Uint8Array;
} {
  const responses: { correlationId: number; body: Uint8Array }[] = [];
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  let at = 0;
  while (buffer.length - at >= 4) {
    const size = view.getInt32(at);
    if (size < 4) throw new RangeError(`Impossible response size ${size}`);
    if (buffer.length - at - 4 < size) break;
    responses.push({
      correlationId: view.getInt32(at + 4),
      body: buffer.subarray(at + 8, at + 4 + size),
    });
    at += 4 + size;
  }
  return { responses, rest: buffer.subarray(at) };
}
