/**
 * Kafka RecordBatch v2 and everything around it: CRC-32C, the batch header,
 * varints, the record codec, compression and Kafka's keyed partitioner.
 *
 * @module
 */

export * from "./crc32c.ts";
export * from "./batch_header.ts";
export * from "./varint.ts";
export * from "./compression.ts";
export {
  decodeBatch,
  decodeBatches,
  type DecodedBatch,
  encodeBatch,
  type EncodeOptions,
} from "./record_batch.ts";
export * from "./murmur2.ts";
export * from "./partitioner.ts";
