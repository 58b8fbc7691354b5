/**
 * Kafka RecordBatch v2 and everything around it: CRC-32C, the batch header,
 * varints, the record codec, compression and Kafka's keyed partitioner; and
 * the JSON API's record codec with its base64, shared by client and server.
 *
 * @module
 */

export * from "./crc32c.ts";
export * from "./batch_header.ts";
export * from "./base64.ts";
export * from "./bytes.ts";
export * from "./json_record.ts";
export * from "./varint.ts";
export * from "./compression.ts";
export * from "./batch_validation.ts";
export {
  decodeBatch,
  decodeBatches,
  type DecodedBatch,
  type DecodeOptions,
  encodeBatch,
  type EncodeOptions,
} from "./record_batch.ts";
export * from "./murmur2.ts";
export * from "./partitioner.ts";
