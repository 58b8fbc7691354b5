/**
 * Hostile batches for tests: a valid batch with one header field, one
 * byte or its length changed, and the CRC recomputed so that the mutation
 * gets past the CRC check and reaches the checks behind it.
 *
 * @module
 */

import { CRC_START, LOG_OVERHEAD } from "./batch_header.ts";
import { crc32c } from "./crc32c.ts";

/** The header fields a mutation may set: byte offset and width. */
const FIELDS = {
  batchLength: [8, 4],
  attributes: [21, 2],
  lastOffsetDelta: [23, 4],
  baseTimestamp: [27, 8],
  maxTimestamp: [35, 8],
  recordCount: [57, 4],
} as const;

/** A header field a mutation may set. */
export type MutableField = keyof typeof FIELDS;

/** The mutable header fields. */
export const MUTABLE_FIELDS = Object.keys(FIELDS) as MutableField[];

/** Values that break header arithmetic: zero, signs, limits, off by one. */
export const INTERESTING_VALUES = [
  0,
  -1,
  1,
  2,
  -2,
  0x7fffffff,
  -0x80000000,
  0x7fff,
  1_000_000,
] as const;

/** One mutation of a batch. */
export type Mutation =
  | { kind: "field"; field: MutableField; value: number }
  | { kind: "fieldDelta"; field: MutableField; delta: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "resize"; bytes: number; fixLength: boolean };

function fieldValue(view: DataView, field: MutableField): number {
  const [at, width] = FIELDS[field];
  if (width === 2) return view.getInt16(at);
  if (width === 4) return view.getInt32(at);
  return Number(view.getBigInt64(at));
}

function setField(view: DataView, field: MutableField, value: number): void {
  const [at, width] = FIELDS[field];
  if (width === 2) view.setInt16(at, value);
  else if (width === 4) view.setInt32(at, value | 0);
  else view.setBigInt64(at, BigInt(Math.trunc(value)));
}

/** Recomputes the CRC over the bytes the batch's length names (or has). */
export function fixCrc(batch: Uint8Array): void {
  if (batch.length < CRC_START) return;
  const view = new DataView(batch.buffer, batch.byteOffset, batch.length);
  const end = Math.min(batch.length, LOG_OVERHEAD + view.getInt32(8));
  if (end < CRC_START) return;
  view.setUint32(17, crc32c(batch.subarray(CRC_START, end)));
}

/**
 * A copy of `batch` with `mutation` applied and its CRC recomputed. A
 * byte mutation wraps `at` into the bytes after the CRC field.
 */
export function mutateBatch(batch: Uint8Array, mutation: Mutation): Uint8Array {
  let out = batch.slice();
  switch (mutation.kind) {
    case "field":
    case "fieldDelta": {
      const view = new DataView(out.buffer);
      const value = mutation.kind === "field"
        ? mutation.value
        : fieldValue(view, mutation.field) + mutation.delta;
      setField(view, mutation.field, value);
      break;
    }
    case "byte": {
      const span = out.length - CRC_START;
      out[CRC_START + (((mutation.at % span) + span) % span)] = mutation.value;
      break;
    }
    case "resize": {
      const length = Math.max(CRC_START, out.length + mutation.bytes);
      const resized = new Uint8Array(length);
      resized.set(out.subarray(0, Math.min(length, out.length)));
      out = resized;
      if (mutation.fixLength) {
        new DataView(out.buffer).setInt32(8, out.length - LOG_OVERHEAD);
      }
      break;
    }
  }
  fixCrc(out);
  return out;
}
