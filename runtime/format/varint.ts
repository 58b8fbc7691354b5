/**
 * Zig-zag varints, the variable-length integers inside Kafka records, plus
 * the two cursors the record codec writes and reads through.
 *
 * ```
 * zig-zag:  0 → 0, -1 → 1, 1 → 2, -2 → 3, …  (sign moved to bit 0)
 * varint:   the zig-zag value in 7-bit groups, least significant first;
 *           bit 7 of each byte is set when another byte follows.
 *           varint (int32): 1..5 bytes; varlong (int64): 1..10 bytes.
 *   300 → zig-zag 600 → 0xd8 0x04
 * ```
 *
 * Varlongs hold JS numbers, exact up to 2^53: a 64-bit value outside the
 * safe integer range cannot become a number without losing bits, so reading
 * one is a `CORRUPT_BATCH` error rather than a silently wrong offset.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";

const TWO_32 = 0x1_0000_0000;
const TWO_28 = 0x1000_0000;

function corrupt(message: string): EdgelogError {
  return new EdgelogError("CORRUPT_BATCH", message);
}

/**
 * A growable output buffer with a write position. Encoders that know their
 * size up front pass it as `capacity`, and the buffer never grows.
 */
export class ByteWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(capacity, 16));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /**
   * Advances the position by `n` bytes, growing the buffer if needed, and
   * returns where those bytes start in {@linkcode ByteWriter.buffer}.
   */
  reserve(n: number): number {
    const at = this.#pos;
    const need = at + n;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.max(need, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, at));
      this.#buf = grown;
    }
    this.#pos = need;
    return at;
  }

  /** The current backing buffer; valid until the next `reserve`. */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Appends one byte. */
  u8(b: number): void {
    const at = this.reserve(1);
    this.#buf[at] = b;
  }

  /** Appends raw bytes. */
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.#buf.set(b, at);
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/**
 * A read position over a byte range. Every read checks the range, and an
 * overrun is a `CORRUPT_BATCH` error, so hostile bytes never surface as a
 * RangeError.
 */
export class ByteReader {
  readonly #buf: Uint8Array;
  #pos: number;
  readonly #end: number;

  constructor(buf: Uint8Array, range: { start?: number; end?: number } = {}) {
    this.#buf = buf;
    this.#pos = range.start ?? 0;
    this.#end = range.end ?? buf.length;
  }

  /** The read position. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left before the end of the range. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Reads one unsigned byte. */
  u8(): number {
    if (this.#pos >= this.#end) throw corrupt("Record data ends early");
    return this.#buf[this.#pos++]!;
  }

  /** Returns a view (not a copy) of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    const at = this.skip(n);
    return this.#buf.subarray(at, at + n);
  }

  /** Advances by `n` bytes and returns where they start in the buffer. */
  skip(n: number): number {
    if (n < 0 || n > this.#end - this.#pos) {
      throw corrupt(
        `Record data ends early: ${n} bytes wanted, ${
          this.#end - this.#pos
        } left`,
      );
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
}

/** Bytes the zig-zag varint of int32 `v` takes. */
export function varintSize(v: number): number {
  const z = ((v << 1) ^ (v >> 31)) >>> 0;
  if (z < 0x80) return 1;
  if (z < 0x4000) return 2;
  if (z < 0x20_0000) return 3;
  if (z < 0x1000_0000) return 4;
  return 5;
}

/**
 * Appends the zig-zag varint of an int32.
 *
 * @example Usage
 * ```ts
 * import { ByteWriter, writeVarint } from "./varint.ts";
 * const out = new ByteWriter();
 * writeVarint(out, 300);
 * console.assert(out.finish().join() === "216,4");
 * ```
 */
export function writeVarint(out: ByteWriter, v: number): void {
  if ((v | 0) !== v) {
    throw new RangeError(`Cannot write ${v} as an int32 varint`);
  }
  let z = ((v << 1) ^ (v >> 31)) >>> 0;
  const at = out.reserve(varintSize(v));
  const buf = out.buffer;
  let i = at;
  while (z >= 0x80) {
    buf[i++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[i] = z;
}

/**
 * Reads a zig-zag varint (int32). Like Kafka, at most five bytes are read and
 * bits beyond 32 are dropped.
 */
export function readVarint(input: ByteReader): number {
  let z = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const b = input.u8();
    z |= (b & 0x7f) << shift;
    if (b < 0x80) return (z >>> 1) ^ -(z & 1);
  }
  throw corrupt("Varint is longer than 5 bytes");
}

/** Bytes the zig-zag varlong of safe integer `v` takes. */
export function varlongSize(v: number): number {
  if ((v | 0) === v) return varintSize(v);
  const z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 5;
  for (let limit = 2 ** 35; z >= limit; limit *= 128) n++;
  return n;
}

/**
 * Appends the zig-zag varlong of a safe integer. Values up to 2^53 in
 * magnitude zig-zag to 54 bits, more than a double holds exactly, so the
 * zig-zag value is built from 32-bit halves.
 *
 * @example Usage
 * ```ts
 * import { ByteWriter, writeVarlong } from "./varint.ts";
 * const out = new ByteWriter();
 * writeVarlong(out, -(2 ** 40));
 * console.assert(out.length === 6);
 * ```
 */
export function writeVarlong(out: ByteWriter, v: number): void {
  if ((v | 0) === v) {
    writeVarint(out, v);
    return;
  }
  if (!Number.isSafeInteger(v)) {
    throw new RangeError(`Cannot write ${v} as a varlong: not a safe integer`);
  }
  // |v| >= 2^31 here, so the zig-zag value has more than 28 bits.
  const neg = v < 0;
  const u = neg ? -v : v;
  let lo = u % TWO_32;
  let hi = (u - lo) / TWO_32;
  hi = (hi << 1) | (lo >>> 31);
  lo = (lo << 1) >>> 0;
  if (neg) {
    if (lo === 0) {
      lo = 0xffff_ffff;
      hi -= 1;
    } else {
      lo -= 1;
    }
  }
  const at = out.reserve(varlongSize(v));
  const buf = out.buffer;
  let i = at;
  for (let k = 0; k < 4; k++) {
    buf[i++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  let rest = (lo | (hi << 4)) >>> 0;
  while (rest >= 0x80) {
    buf[i++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[i] = rest;
}

/**
 * Reads a zig-zag varlong (at most ten bytes). A value outside the safe
 * integer range is a `CORRUPT_BATCH` error.
 */
export function readVarlong(input: ByteReader): number {
  let lo = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = input.u8();
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return (lo >>> 1) ^ -(lo & 1);
  }
  let hi = 0;
  let scale = 1;
  for (let n = 4; n < 10; n++) {
    const b = input.u8();
    hi += (b & 0x7f) * scale;
    if (b < 0x80) {
      const magnitude = hi * (TWO_28 / 2) + (lo >>> 1);
      const v = lo & 1 ? -magnitude - 1 : magnitude;
      if (!Number.isSafeInteger(v)) {
        throw corrupt("Varlong is outside the safe integer range");
      }
      return v;
    }
    scale *= 128;
  }
  throw corrupt("Varlong is longer than 10 bytes");
}
