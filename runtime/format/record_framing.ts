/**
 * The framing every record of a record section shares, read the same way by
 * the decoder and by the check that only walks the records: a length that
 * fits what is left, attributes, the timestamp and offset deltas, and at the
 * end exactly `length` bytes consumed, with nothing after the last record.
 *
 * ```
 * record
 *   length          varint   bytes after this field
 *   attributes      int8     unused
 *   timestampDelta  varlong
 *   offsetDelta     varint
 *   …               key, value, headers (read by the caller)
 * ```
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { type ByteReader, readVarint, readVarlong } from "./varint.ts";

/** What the framing of one record says before its key. */
export interface RecordHead {
  /** Bytes after the length field. */
  length: number;
  /** Position in the section where the record ends. */
  end: number;
  timestampDelta: number;
  offsetDelta: number;
}

function corrupt(message: string): EdgelogError {
  return new EdgelogError("CORRUPT_BATCH", message);
}

/** Reads record `i`'s length, attributes and deltas. Throws `CORRUPT_BATCH`. */
export function readRecordHead(input: ByteReader, i: number): RecordHead {
  const length = readVarint(input);
  if (length < 0 || length > input.remaining) {
    throw corrupt(
      `Record ${i} claims ${length} bytes but ${input.remaining} remain`,
    );
  }
  const end = input.position + length;
  input.u8();
  const timestampDelta = readVarlong(input);
  const offsetDelta = readVarint(input);
  return { length, end, timestampDelta, offsetDelta };
}

/** Throws `CORRUPT_BATCH` unless record `i`'s fields took exactly its length. */
export function checkRecordEnd(
  input: ByteReader,
  head: RecordHead,
  i: number,
): void {
  if (input.position !== head.end) {
    throw corrupt(
      `Record ${i} is ${head.length} bytes long but its fields take ${
        input.position - head.end + head.length
      }`,
    );
  }
}

/** Throws `CORRUPT_BATCH` when bytes follow the last of `recordCount` records. */
export function checkSectionEnd(input: ByteReader, recordCount: number): void {
  if (input.remaining !== 0) {
    throw corrupt(
      `Batch holds ${input.remaining} bytes after its ${recordCount} records`,
    );
  }
}
