/**
 * Kafka RecordBatch v2, encoded and decoded byte for byte: the one format
 * edgelog stores, replicates and serves.
 *
 * ```
 * batch (big-endian; header fields in batch_header.ts)
 *   baseOffset int64 · batchLength int32 · partitionLeaderEpoch int32 ·
 *   magic int8 = 2 · crc uint32 (CRC-32C of attributes..end) ·
 *   attributes int16 (bits 0-2 codec, bit 3 log-append time) ·
 *   lastOffsetDelta int32 · baseTimestamp int64 (min record timestamp) ·
 *   maxTimestamp int64 · producerId int64 · producerEpoch int16 ·
 *   baseSequence int32 · recordCount int32 ·
 *   records: recordCount records, the whole section compressed when codec ≠ 0
 *
 * record (varints are zig-zag, see varint.ts)
 *   length          varint   bytes of the rest of the record
 *   attributes      int8     unused, 0
 *   timestampDelta  varlong  timestamp - baseTimestamp
 *   offsetDelta     varint   offset - baseOffset
 *   keyLength       varint   -1 = null key
 *   key             bytes
 *   valueLength     varint   -1 = null value (tombstone)
 *   value           bytes
 *   headerCount     varint
 *   headers         headerCount × (keyLength varint, key UTF-8,
 *                                  valueLength varint (-1 = null), value)
 * ```
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import type { Header, LogRecord, RecordInput } from "../log/types.ts";
import {
  BATCH_HEADER_SIZE,
  type BatchHeader,
  batchSize,
  CRC_START,
  LOG_OVERHEAD,
  MAGIC,
  readBatchHeader,
  verifyBatchCrc,
} from "./batch_header.ts";
import {
  CODEC_IDS,
  CODEC_MASK,
  compress,
  type Compression,
  decompress,
} from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import {
  ByteReader,
  ByteWriter,
  readVarint,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "./varint.ts";
import {
  checkRecordEnd,
  checkSectionEnd,
  readRecordHead,
} from "./record_framing.ts";

export type { Compression } from "./compression.ts";

/** How {@linkcode encodeBatch} fills the batch header. */
export interface EncodeOptions {
  /** Offset of the first record; default 0 (a broker sets it on append). */
  baseOffset?: number;
  /** Codec of the record section; default "none". */
  compression?: Compression;
  /** Default -1: not an idempotent producer. */
  producerId?: number;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  /**
   * Timestamp for records that have none. There is no wall-clock default:
   * callers pass their injected clock's time.
   */
  now?: number;
}

/** How {@linkcode decodeBatch} decodes. */
export interface DecodeOptions {
  /**
   * Cap on the bytes a compressed record section may decompress to
   * (`PAYLOAD_TOO_LARGE` past it); default the codec's default.
   */
  maxDecompressedBytes?: number;
}

/** One decoded batch: its header and its records with absolute offsets. */
export interface DecodedBatch {
  header: BatchHeader;
  records: LogRecord[];
}

/** Kafka's "no partition leader epoch", which producers write. */
const NO_PARTITION_LEADER_EPOCH = -1;
/** attributes bit 3: record timestamps are the batch's maxTimestamp. */
const LOG_APPEND_TIME = 0x08;
/** length, attributes, timestampDelta, offsetDelta, key, value, headerCount. */
const MIN_RECORD_SIZE = 7;

const utf8Decoder = new TextDecoder();
const strictUtf8Decoder = new TextDecoder("utf-8", { fatal: true });

function corrupt(message: string): EdgelogError {
  return new EdgelogError("CORRUPT_BATCH", message);
}

function checkInteger(
  name: string,
  v: number,
  min: number,
  max: number,
): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`Cannot encode ${name} ${v}: not in ${min}..${max}`);
  }
  return v;
}

function bytesSize(b: Uint8Array | null | undefined, what: string): number {
  if (b === null || b === undefined) return 1;
  if (!(b instanceof Uint8Array)) {
    throw new TypeError(`Cannot encode ${what}: not a Uint8Array`);
  }
  return varintSize(b.length) + b.length;
}

/**
 * UTF-8 byte length of `s`, as TextEncoder would encode it (a lone
 * surrogate becomes U+FFFD). Header keys are short, and a TextEncoder call
 * per key costs more than the whole record otherwise.
 */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (isPair(s, i, c)) {
      n += 2;
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

function isPair(s: string, i: number, c: number): boolean {
  if (c < 0xd800 || c > 0xdbff) return false;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

/** Writes `s` as UTF-8 of `length` bytes (from utf8Length), prefixed by it. */
function writeUtf8(out: ByteWriter, s: string, length: number): void {
  writeVarint(out, length);
  let at = out.reserve(length);
  const buf = out.buffer;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[at++] = c;
    } else if (c < 0x800) {
      buf[at++] = 0xc0 | (c >> 6);
      buf[at++] = 0x80 | (c & 0x3f);
    } else {
      if (isPair(s, i, c)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        buf[at++] = 0xf0 | (c >> 18);
        buf[at++] = 0x80 | ((c >> 12) & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        buf[at++] = 0xe0 | (c >> 12);
      }
      buf[at++] = 0x80 | ((c >> 6) & 0x3f);
      buf[at++] = 0x80 | (c & 0x3f);
    }
  }
}

/**
 * Decodes a header key; short ASCII keys skip the TextDecoder call. A key
 * that is not valid UTF-8 keeps its bytes beside its lossy text.
 */
function readHeaderKey(
  bytes: Uint8Array,
  start: number,
  end: number,
): Pick<Header, "key" | "keyBytes"> {
  if (end - start <= 32) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return {
        key: String.fromCharCode.apply(
          null,
          bytes.subarray(start, end) as unknown as number[],
        ),
      };
    }
  }
  const raw = bytes.subarray(start, end);
  try {
    return { key: strictUtf8Decoder.decode(raw) };
  } catch {
    return { key: utf8Decoder.decode(raw), keyBytes: raw };
  }
}

function writeBytes(out: ByteWriter, b: Uint8Array | null | undefined): void {
  if (b === null || b === undefined) {
    out.u8(1); // zig-zag varint of -1
    return;
  }
  writeVarint(out, b.length);
  out.bytes(b);
}

/**
 * Encodes records as one RecordBatch v2. Record i gets offset
 * `baseOffset + i`; baseTimestamp and maxTimestamp are the smallest and
 * largest record timestamps. The batch is ready to store or send: its CRC
 * is set, and a broker only rewrites baseOffset.
 *
 * Rejects with a RangeError for an empty list, out-of-range options or
 * timestamps, and with a TypeError for a record without a timestamp when
 * `options.now` is not set, or for keys and values that are not bytes.
 *
 * @example Usage
 * ```ts
 * import { decodeBatch, encodeBatch } from "./record_batch.ts";
 * const text = new TextEncoder();
 * const batch = await encodeBatch(
 *   [{ key: text.encode("k"), value: text.encode("v"), timestamp: 1000 }],
 *   { baseOffset: 40, compression: "gzip" },
 * );
 * const { records } = await decodeBatch(batch);
 * console.assert(records[0]!.offset === 40 && records[0]!.timestamp === 1000);
 * ```
 */
export async function encodeBatch(
  records: readonly RecordInput[],
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const n = records.length;
  if (n === 0) throw new RangeError("Cannot encode a batch of no records");
  const baseOffset = checkInteger(
    "baseOffset",
    options.baseOffset ?? 0,
    0,
    Number.MAX_SAFE_INTEGER - n,
  );
  const producerId = checkInteger(
    "producerId",
    options.producerId ?? -1,
    -1,
    Number.MAX_SAFE_INTEGER,
  );
  const producerEpoch = checkInteger(
    "producerEpoch",
    options.producerEpoch ?? -1,
    -1,
    0x7fff,
  );
  const baseSequence = checkInteger(
    "baseSequence",
    options.baseSequence ?? -1,
    -1,
    0x7fffffff,
  );
  const codec = options.compression ?? "none";
  const codecId = CODEC_IDS[codec];
  if (codecId === undefined) {
    throw new TypeError(`Unknown compression ${String(codec)}`);
  }

  const timestamps = new Float64Array(n);
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (let i = 0; i < n; i++) {
    const ts = records[i]!.timestamp ?? options.now;
    if (ts === undefined) {
      throw new TypeError(
        `Cannot encode record ${i}: it has no timestamp and options.now is not set`,
      );
    }
    if (!Number.isSafeInteger(ts)) {
      throw new RangeError(
        `Cannot encode record ${i}: timestamp ${ts} is not a safe integer`,
      );
    }
    timestamps[i] = ts;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
  }
  if (!Number.isSafeInteger(maxTs - minTs)) {
    throw new RangeError(
      `Cannot encode timestamps ${minTs} and ${maxTs} in one batch: too far apart`,
    );
  }

  const bodySizes = new Int32Array(n);
  const headerKeySizes: (Int32Array | undefined)[] = new Array(n);
  let sectionSize = 0;
  for (let i = 0; i < n; i++) {
    const record = records[i]!;
    let size = 1 + varlongSize(timestamps[i]! - minTs) + varintSize(i) +
      bytesSize(record.key, `the key of record ${i}`) +
      bytesSize(record.value, `the value of record ${i}`);
    const headers = record.headers ?? [];
    size += varintSize(headers.length);
    if (headers.length > 0) {
      const keySizes = new Int32Array(headers.length);
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!;
        if (typeof header.key !== "string") {
          throw new TypeError(
            `Cannot encode header ${h} of record ${i}: its key is not a string`,
          );
        }
        if (
          header.keyBytes !== undefined &&
          !(header.keyBytes instanceof Uint8Array)
        ) {
          throw new TypeError(
            `Cannot encode header ${h} of record ${i}: its keyBytes are not a Uint8Array`,
          );
        }
        const keySize = header.keyBytes?.length ?? utf8Length(header.key);
        keySizes[h] = keySize;
        size += varintSize(keySize) + keySize +
          bytesSize(header.value, `header ${h} of record ${i}`);
      }
      headerKeySizes[i] = keySizes;
    }
    bodySizes[i] = size;
    sectionSize += varintSize(size) + size;
  }

  const out = new ByteWriter(BATCH_HEADER_SIZE + sectionSize);
  out.reserve(BATCH_HEADER_SIZE);
  for (let i = 0; i < n; i++) {
    const record = records[i]!;
    writeVarint(out, bodySizes[i]!);
    out.u8(0);
    writeVarlong(out, timestamps[i]! - minTs);
    writeVarint(out, i);
    writeBytes(out, record.key);
    writeBytes(out, record.value);
    const headers = record.headers ?? [];
    writeVarint(out, headers.length);
    const keySizes = headerKeySizes[i];
    for (let h = 0; h < headers.length; h++) {
      const header = headers[h]!;
      if (header.keyBytes === undefined) {
        writeUtf8(out, header.key, keySizes![h]!);
      } else {
        writeBytes(out, header.keyBytes);
      }
      writeBytes(out, header.value);
    }
  }

  let batch = out.finish();
  if (codecId !== 0) {
    const packed = await compress(codec, batch.subarray(BATCH_HEADER_SIZE));
    batch = new Uint8Array(BATCH_HEADER_SIZE + packed.length);
    batch.set(packed, BATCH_HEADER_SIZE);
  }
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  v.setBigInt64(0, BigInt(baseOffset));
  v.setInt32(8, batch.length - LOG_OVERHEAD);
  v.setInt32(12, NO_PARTITION_LEADER_EPOCH);
  v.setInt8(16, MAGIC);
  v.setInt16(21, codecId);
  v.setInt32(23, n - 1);
  v.setBigInt64(27, BigInt(minTs));
  v.setBigInt64(35, BigInt(maxTs));
  v.setBigInt64(43, BigInt(producerId));
  v.setInt16(51, producerEpoch);
  v.setInt32(53, baseSequence);
  v.setInt32(57, n);
  v.setUint32(17, crc32c(batch.subarray(CRC_START)));
  return batch;
}

function readNullableBytes(input: ByteReader, what: string): Uint8Array | null {
  const length = readVarint(input);
  if (length === -1) return null;
  if (length < -1) {
    throw corrupt(`Record ${what} has negative length ${length}`);
  }
  return input.bytes(length);
}

function decodeRecords(
  section: Uint8Array,
  header: BatchHeader,
): LogRecord[] {
  const { baseOffset, baseTimestamp, recordCount } = header;
  const logAppendTime = (header.attributes & LOG_APPEND_TIME) !== 0;
  const input = new ByteReader(section);
  const records: LogRecord[] = [];
  for (let i = 0; i < recordCount; i++) {
    const head = readRecordHead(input, i);
    const { timestampDelta, offsetDelta } = head;
    const key = readNullableBytes(input, "key");
    const value = readNullableBytes(input, "value");
    const headerCount = readVarint(input);
    if (headerCount < 0) {
      throw corrupt(`Record ${i} has ${headerCount} headers`);
    }
    const headers: Header[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = readVarint(input);
      if (keyLength < 0) {
        throw corrupt(`Header ${h} of record ${i} has no key`);
      }
      const at = input.skip(keyLength);
      const key = readHeaderKey(section, at, at + keyLength);
      const value = readNullableBytes(input, "header value");
      headers.push(
        key.keyBytes === undefined
          ? { key: key.key, value }
          : { key: key.key, value, keyBytes: key.keyBytes },
      );
    }
    checkRecordEnd(input, head, i);
    const offset = baseOffset + offsetDelta;
    const timestamp = logAppendTime
      ? header.maxTimestamp
      : baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(timestamp)) {
      throw corrupt(`Record ${i} has an offset or timestamp beyond 2^53`);
    }
    records.push({ offset, timestamp, key, value, headers });
  }
  checkSectionEnd(input, recordCount);
  return records;
}

/** Decodes the whole batch `batch`, whose header has been read. */
async function decodeChecked(
  batch: Uint8Array,
  header: BatchHeader,
  options: DecodeOptions,
): Promise<DecodedBatch> {
  if (!verifyBatchCrc(batch)) throw corrupt("Batch fails its CRC-32C check");
  if (!Number.isSafeInteger(header.baseOffset) || header.baseOffset < 0) {
    throw corrupt(`Batch has impossible base offset ${header.baseOffset}`);
  }
  if (header.recordCount < 0) {
    throw corrupt(`Batch has negative record count ${header.recordCount}`);
  }
  // One copy of the whole section (decompression makes a fresh one): keys
  // and values are views into it, never into the caller's batch, and one
  // allocation per batch is far cheaper than one per key and value.
  const codecId = header.attributes & CODEC_MASK;
  const section = codecId === 0
    ? batch.slice(BATCH_HEADER_SIZE)
    : await decompress(
      codecId,
      batch.subarray(BATCH_HEADER_SIZE),
      options.maxDecompressedBytes === undefined
        ? {}
        : { maxBytes: options.maxDecompressedBytes },
    );
  if (header.recordCount > section.length / MIN_RECORD_SIZE) {
    throw corrupt(
      `Batch counts ${header.recordCount} records in ${section.length} bytes`,
    );
  }
  return { header, records: decodeRecords(section, header) };
}

/**
 * Decodes one batch: checks its length (exactly one whole batch), magic,
 * CRC and codec, and returns its header and records with absolute offsets
 * and timestamps, decompressing at most `options.maxDecompressedBytes`. Any fault is an EdgelogError: `CORRUPT_BATCH`, or
 * `UNSUPPORTED_COMPRESSION` for snappy, lz4 and zstd.
 *
 * Keys and values never alias `batch`: they are views into one private
 * copy of the record section per batch.
 *
 * @example Usage
 * ```ts
 * import { decodeBatch, encodeBatch } from "./record_batch.ts";
 * const batch = await encodeBatch([{ value: null, timestamp: 5 }]);
 * const { header, records } = await decodeBatch(batch);
 * console.assert(header.recordCount === 1 && records[0]!.value === null);
 * ```
 */
export function decodeBatch(
  batch: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedBatch> {
  try {
    const header = readBatchHeader(batch);
    const size = batchSize(header);
    if (size !== batch.length) {
      throw corrupt(
        `Batch is ${size} bytes but ${batch.length} were given; use decodeBatches for several`,
      );
    }
    return decodeChecked(batch, header, options);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Decodes concatenated batches, as stored or sent with
 * `application/vnd.edgelog.batches`. Empty input is no batches; a torn or
 * corrupt batch anywhere is a `CORRUPT_BATCH` error naming its byte.
 *
 * @example Usage
 * ```ts
 * import { decodeBatches, encodeBatch } from "./record_batch.ts";
 * const a = await encodeBatch([{ value: null, timestamp: 1 }]);
 * const b = await encodeBatch([{ value: null, timestamp: 2 }], { baseOffset: 1 });
 * const both = new Uint8Array([...a, ...b]);
 * console.assert((await decodeBatches(both)).length === 2);
 * ```
 */
export async function decodeBatches(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedBatch[]> {
  const batches: DecodedBatch[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = readBatchHeader(bytes, at);
    const size = batchSize(header);
    try {
      batches.push(
        await decodeChecked(bytes.subarray(at, at + size), header, options),
      );
    } catch (err) {
      if (err instanceof EdgelogError && err.code === "CORRUPT_BATCH") {
        throw corrupt(`Batch at byte ${at}: ${err.message}`);
      }
      throw err;
    }
    at += size;
  }
  return batches;
}
