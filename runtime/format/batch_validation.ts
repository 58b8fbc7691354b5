/**
 * The one check of a record batch that comes in from outside: HTTP
 * produce, sync pushes, the log's append path, and storage recovery (the
 * filesystem and IndexedDB logs read what they once wrote through it).
 * A batch that passes reads back whole: its header agrees with itself and
 * with its record section, which holds exactly `recordCount` records at
 * offset deltas 0, 1, 2, …, every one within the batch's timestamps.
 *
 * ```
 * header   magic 2, CRC-32C correct, batchLength = bytes given
 *          recordCount >= 1, lastOffsetDelta = recordCount - 1
 *          baseOffset, baseOffset + lastOffsetDelta in 0..2^53
 *          -1 <= baseTimestamp <= maxTimestamp
 * records  recordCount records filling the section exactly, after at most
 *          maxDecompressedBytes of decompression; record i has
 *          offsetDelta i, a length that its fields fill exactly, and a
 *          timestamp in -1..maxTimestamp (unless log-append time)
 * ```
 *
 * Only the record framing is walked: keys, values and headers are skipped
 * by their lengths, never copied or decoded.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import {
  BATCH_HEADER_SIZE,
  type BatchHeader,
  batchSize,
  readBatchHeader,
  verifyBatchCrc,
} from "./batch_header.ts";
import { CODEC_MASK, decompress } from "./compression.ts";
import {
  checkRecordEnd,
  checkSectionEnd,
  readRecordHead,
} from "./record_framing.ts";
import { ByteReader, readVarint } from "./varint.ts";

/** length, attributes, timestampDelta, offsetDelta, key, value, headerCount. */
const MIN_RECORD_SIZE = 7;
/** attributes bit 3: record timestamps are the batch's maxTimestamp. */
const LOG_APPEND_TIME = 0x08;

/** Options of {@linkcode validateBatch}. */
export interface BatchValidationOptions {
  /** Cap on a decompressed record section; default the codec's default. */
  maxDecompressedBytes?: number;
}

function corrupt(message: string): EdgelogError {
  return new EdgelogError("CORRUPT_BATCH", message);
}

/**
 * Checks the header fields of a batch against each other: a count of at
 * least one record, offsets that span exactly that count, offsets and
 * timestamps in range. Throws `CORRUPT_BATCH`.
 */
export function checkBatchHeader(header: BatchHeader): void {
  const { recordCount, lastOffsetDelta, baseOffset } = header;
  if (recordCount < 1) {
    throw corrupt(`Batch counts ${recordCount} records; at least 1 is needed`);
  }
  if (lastOffsetDelta !== recordCount - 1) {
    throw corrupt(
      `Batch counts ${recordCount} records but spans ${
        lastOffsetDelta + 1
      } offsets`,
    );
  }
  if (
    !Number.isSafeInteger(baseOffset) || baseOffset < 0 ||
    !Number.isSafeInteger(baseOffset + lastOffsetDelta)
  ) {
    throw corrupt(`Batch has impossible base offset ${baseOffset}`);
  }
  const { baseTimestamp, maxTimestamp } = header;
  if (
    !Number.isSafeInteger(baseTimestamp) ||
    !Number.isSafeInteger(maxTimestamp) || baseTimestamp < -1 ||
    maxTimestamp < baseTimestamp
  ) {
    throw corrupt(
      `Batch has impossible timestamps: base ${baseTimestamp}, max ${maxTimestamp}`,
    );
  }
  const sectionBytes = header.batchLength + 12 - BATCH_HEADER_SIZE;
  if (
    (header.attributes & CODEC_MASK) === 0 &&
    recordCount > sectionBytes / MIN_RECORD_SIZE
  ) {
    throw corrupt(
      `Batch counts ${recordCount} records in ${sectionBytes} bytes`,
    );
  }
}

function skipNullable(input: ByteReader, what: string, i: number): void {
  const length = readVarint(input);
  if (length < -1) {
    throw corrupt(`Record ${i} ${what} has negative length ${length}`);
  }
  if (length > 0) input.skip(length);
}

/**
 * Walks the records of a (decompressed) record section without decoding
 * them, checking that it holds exactly the header's records. Throws
 * `CORRUPT_BATCH`.
 */
export function checkRecordSection(
  section: Uint8Array,
  header: BatchHeader,
): void {
  const { recordCount, baseTimestamp, maxTimestamp } = header;
  if (recordCount > section.length / MIN_RECORD_SIZE) {
    throw corrupt(
      `Batch counts ${recordCount} records in ${section.length} bytes`,
    );
  }
  const appendTime = (header.attributes & LOG_APPEND_TIME) !== 0;
  const input = new ByteReader(section);
  for (let i = 0; i < recordCount; i++) {
    const head = readRecordHead(input, i);
    const { timestampDelta, offsetDelta } = head;
    if (offsetDelta !== i) {
      throw corrupt(`Record ${i} has offset delta ${offsetDelta}`);
    }
    const timestamp = baseTimestamp + timestampDelta;
    if (
      !appendTime &&
      (!Number.isSafeInteger(timestamp) || timestamp < -1 ||
        timestamp > maxTimestamp)
    ) {
      throw corrupt(
        `Record ${i} has timestamp ${timestamp} outside -1..${maxTimestamp}`,
      );
    }
    skipNullable(input, "key", i);
    skipNullable(input, "value", i);
    const headerCount = readVarint(input);
    if (headerCount < 0 || headerCount > input.remaining) {
      throw corrupt(`Record ${i} has ${headerCount} headers`);
    }
    for (let h = 0; h < headerCount; h++) {
      const keyLength = readVarint(input);
      if (keyLength < 0) throw corrupt(`Header ${h} of record ${i} has no key`);
      input.skip(keyLength);
      skipNullable(input, "header value", i);
    }
    checkRecordEnd(input, head, i);
  }
  checkSectionEnd(input, recordCount);
}

/**
 * The checks that need no decompression, for a batch starting at `at` in
 * `bytes`: header, CRC, and the record section when it is uncompressed.
 * Returns the header; throws `CORRUPT_BATCH`. Recovery uses it alone.
 */
export function checkBatchSync(bytes: Uint8Array, at = 0): BatchHeader {
  const header = readBatchHeader(bytes, at);
  if (!verifyBatchCrc(bytes, at)) {
    throw corrupt("Batch fails its CRC-32C check");
  }
  checkBatchHeader(header);
  if ((header.attributes & CODEC_MASK) === 0) {
    checkRecordSection(
      bytes.subarray(at + BATCH_HEADER_SIZE, at + batchSize(header)),
      header,
    );
  }
  return header;
}

/**
 * Checks one whole batch (exactly `batch.length` bytes): everything
 * {@linkcode checkBatchSync} does, and for a compressed batch its record
 * section after decompression capped at `options.maxDecompressedBytes`
 * (`PAYLOAD_TOO_LARGE` past it, `UNSUPPORTED_COMPRESSION` for codecs this
 * node cannot read). Other faults are `CORRUPT_BATCH`.
 *
 * @example Usage
 * ```ts
 * import { validateBatch } from "./batch_validation.ts";
 * import { encodeBatch } from "./record_batch.ts";
 * const batch = await encodeBatch([{ value: null, timestamp: 1 }]);
 * const header = await validateBatch(batch);
 * console.assert(header.recordCount === 1);
 * ```
 */
export async function validateBatch(
  batch: Uint8Array,
  options: BatchValidationOptions = {},
): Promise<BatchHeader> {
  const header = checkBatchSync(batch);
  if (batchSize(header) !== batch.length) {
    throw corrupt(
      `Batch is ${batchSize(header)} bytes but ${batch.length} were given`,
    );
  }
  await checkCompressedSection(batch, header, options);
  return header;
}

/**
 * The check {@linkcode checkBatchSync} leaves to this one: the record
 * section of a compressed batch, decompressed under the cap. Nothing for an
 * uncompressed batch.
 */
export async function checkCompressedSection(
  batch: Uint8Array,
  header: BatchHeader,
  options: BatchValidationOptions = {},
): Promise<void> {
  const codec = header.attributes & CODEC_MASK;
  if (codec === 0) return;
  const section = await decompress(
    codec,
    batch.subarray(BATCH_HEADER_SIZE, batchSize(header)),
    options.maxDecompressedBytes === undefined
      ? {}
      : { maxBytes: options.maxDecompressedBytes },
  );
  checkRecordSection(section, header);
}
