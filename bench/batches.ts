/**
 * Payloads for benchmarks and load tests: record batches of N records whose
 * values are exactly `valueBytes` bytes of JSON text, so the same records can
 * be sent as binary batches, as JSON produce bodies and as Redis stream
 * entries, and read back through either fetch format.
 *
 * @module
 */

import { encodeBatch } from "../runtime/format/mod.ts";
import type { RecordInput } from "../runtime/log/types.ts";

/** Record value size the benchmarks use, in bytes. */
export const VALUE_BYTES = 100;

const encoder = new TextEncoder();

/**
 * A JSON object `{"seq":N,"pad":"…"}` of exactly `size` bytes; throws a
 * RangeError when `size` is too small to hold the sequence number.
 */
export function recordValue(seq: number, size = VALUE_BYTES): string {
  const head = `{"seq":${seq},"pad":"`;
  const pad = size - head.length - 2;
  if (pad < 0) {
    throw new RangeError(`Cannot fit seq ${seq} in a ${size}-byte value`);
  }
  return `${head}${"x".repeat(pad)}"}`;
}

/** Options of {@linkcode buildRecords} and {@linkcode buildBatch}. */
export interface BatchOptions {
  /** Sequence number of the first record; default 0. */
  firstSeq?: number;
  /** Value size in bytes; default {@linkcode VALUE_BYTES}. */
  valueBytes?: number;
  /** Timestamp of every record; the caller's clock, no default. */
  now: number;
}

/** `count` records with null keys and values from {@linkcode recordValue}. */
export function buildRecords(
  count: number,
  options: BatchOptions,
): RecordInput[] {
  const first = options.firstSeq ?? 0;
  return Array.from({ length: count }, (_, i) => ({
    key: null,
    value: encoder.encode(recordValue(first + i, options.valueBytes)),
    timestamp: options.now,
  }));
}

/** One uncompressed RecordBatch v2 of `count` records. */
export function buildBatch(
  count: number,
  options: BatchOptions,
): Promise<Uint8Array> {
  return encodeBatch(buildRecords(count, options), { now: options.now });
}

/**
 * `batches` batches of `count` records each, with consecutive sequence
 * numbers across them, for requests that must not all carry the same bytes.
 */
export function buildBatches(
  batches: number,
  count: number,
  options: BatchOptions,
): Promise<Uint8Array[]> {
  const first = options.firstSeq ?? 0;
  return Promise.all(
    Array.from(
      { length: batches },
      (_, b) => buildBatch(count, { ...options, firstSeq: first + b * count }),
    ),
  );
}

/** The `records` array of a JSON produce body with the same values. */
export function jsonRecords(
  count: number,
  options: Omit<BatchOptions, "now"> & { partition?: number },
): { value: unknown; partition?: number }[] {
  const first = options.firstSeq ?? 0;
  return Array.from({ length: count }, (_, i) => ({
    value: JSON.parse(recordValue(first + i, options.valueBytes)),
    ...(options.partition === undefined
      ? {}
      : { partition: options.partition }),
  }));
}
