/**
 * The fixed 61-byte header of a Kafka RecordBatch v2, read and patched
 * without decoding its records: storage, recovery and replication only ever
 * need the header, so they never pay for the records.
 *
 * ```
 * offset size field
 *      0    8 baseOffset            int64
 *      8    4 batchLength           int32  bytes after this field
 *     12    4 partitionLeaderEpoch  int32
 *     16    1 magic                 int8   = 2
 *     17    4 crc                   uint32 CRC-32C of bytes 21..end
 *     21    2 attributes            int16  bits 0-2 codec, 3 timestamp type,
 *                                          4 transactional, 5 control
 *     23    4 lastOffsetDelta       int32
 *     27    8 baseTimestamp         int64
 *     35    8 maxTimestamp          int64
 *     43    8 producerId            int64
 *     51    2 producerEpoch         int16
 *     53    4 baseSequence          int32
 *     57    4 recordCount           int32
 *     61      records
 * ```
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";

/** Size of the batch header; the records start here. */
export const BATCH_HEADER_SIZE = 61;
/** Bytes before `batchLength` counts: baseOffset and batchLength itself. */
export const LOG_OVERHEAD = 12;
/** Offset of the first byte covered by the CRC. */
export const CRC_START = 21;
/** The only magic byte edgelog reads and writes. */
export const MAGIC = 2;

/** The header fields of one record batch. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function corrupt(message: string): EdgelogError {
  return new EdgelogError("CORRUPT_BATCH", message);
}

/**
 * Reads the header of the batch that starts at `at`, checking that the
 * header and the whole batch fit in `bytes` and that the magic is 2. The CRC
 * is not checked here: see {@linkcode verifyBatchCrc}.
 */
export function readBatchHeader(bytes: Uint8Array, at = 0): BatchHeader {
  if (bytes.length - at < BATCH_HEADER_SIZE) {
    throw corrupt(
      `Batch header at byte ${at} is truncated: ${
        bytes.length - at
      } of ${BATCH_HEADER_SIZE} bytes`,
    );
  }
  const v = view(bytes);
  const batchLength = v.getInt32(at + 8);
  const magic = v.getInt8(at + 16);
  if (magic !== MAGIC) {
    throw corrupt(`Batch at byte ${at} has magic ${magic}, expected ${MAGIC}`);
  }
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
    throw corrupt(`Batch at byte ${at} has impossible length ${batchLength}`);
  }
  if (bytes.length - at < LOG_OVERHEAD + batchLength) {
    throw corrupt(
      `Batch at byte ${at} is truncated: ${bytes.length - at} of ${
        LOG_OVERHEAD + batchLength
      } bytes`,
    );
  }
  return {
    baseOffset: Number(v.getBigInt64(at)),
    batchLength,
    partitionLeaderEpoch: v.getInt32(at + 12),
    magic,
    crc: v.getUint32(at + 17),
    attributes: v.getInt16(at + 21),
    lastOffsetDelta: v.getInt32(at + 23),
    baseTimestamp: Number(v.getBigInt64(at + 27)),
    maxTimestamp: Number(v.getBigInt64(at + 35)),
    producerId: Number(v.getBigInt64(at + 43)),
    producerEpoch: v.getInt16(at + 51),
    baseSequence: v.getInt32(at + 53),
    recordCount: v.getInt32(at + 57),
  };
}

/** Total bytes of a batch, header included. */
export function batchSize(header: BatchHeader): number {
  return LOG_OVERHEAD + header.batchLength;
}

/** Offset of the last record of a batch. */
export function lastOffset(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

/** Whether the batch starting at `at` (which must fit) has a correct CRC. */
export function verifyBatchCrc(bytes: Uint8Array, at = 0): boolean {
  const v = view(bytes);
  const end = at + LOG_OVERHEAD + v.getInt32(at + 8);
  return crc32c(bytes.subarray(at + CRC_START, end)) === v.getUint32(at + 17);
}

/**
 * Splits a body of concatenated batches into one view per batch by their
 * lengths, checking each header's magic and length. A torn batch is a
 * `CORRUPT_BATCH` error naming the byte where it is; an empty body is one
 * too. The batches' contents (CRC, counts, records) are checked where they
 * are appended: see batch_validation.ts.
 */
export function splitBatches(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) throw corrupt("Body holds no record batch");
  const batches: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = batchSize(readBatchHeader(bytes, at));
    batches.push(bytes.subarray(at, at + size));
    at += size;
  }
  return batches;
}

/**
 * Sets the baseOffset of a batch in place. baseOffset is outside the CRC, so
 * a broker assigns offsets without re-encoding or re-checksumming.
 */
export function setBaseOffset(batch: Uint8Array, baseOffset: number): void {
  view(batch).setBigInt64(0, BigInt(baseOffset));
}

/**
 * Sets producerId, producerEpoch and baseSequence of a batch in place and
 * recomputes its CRC, as a replicating device does before it sends a batch.
 */
export function setProducer(
  batch: Uint8Array,
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
): void {
  const v = view(batch);
  v.setBigInt64(43, BigInt(producerId));
  v.setInt16(51, producerEpoch);
  v.setInt32(53, baseSequence);
  const end = LOG_OVERHEAD + v.getInt32(8);
  v.setUint32(17, crc32c(batch.subarray(CRC_START, end)));
}
