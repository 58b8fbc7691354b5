/**
 * The client's side of the JSON record codec: what a user produces
 * (`ProduceRecord`, where a `Uint8Array` means binary) and what a fetch hands
 * back (`FetchedRecord`, key and value decoded). The wire shapes and their
 * byte conversions are the shared `runtime/format/json_record.ts`,
 * re-exported here so the client's users find them in one place.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../format/base64.ts";
import type { JsonRecord, JsonRecordInput } from "../format/json_record.ts";

export {
  headersFromJson,
  headersToJson,
  type JsonRecord,
  type JsonRecordInput,
  logRecordFromJson,
  logRecordToJson,
  recordInputFromJson,
  recordInputToJson,
} from "../format/json_record.ts";

/** A record as a client user produces it. */
export interface ProduceRecord {
  key?: string | Uint8Array | null;
  /** Any JSON value; a `Uint8Array` is sent as binary; null is a tombstone. */
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

/** A fetched record with its key and value decoded. */
export interface FetchedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  /** The UTF-8 key, bytes when the key is not UTF-8, or null. */
  key: string | Uint8Array | null;
  /** The parsed JSON value, bytes when the value is not JSON, or null (tombstone). */
  value: unknown;
  headers: Record<string, string | null>;
  /**
   * Headers whose key or value is not valid UTF-8, byte for byte (their
   * text in `headers` has U+FFFD in place of the bad bytes); absent when
   * there are none.
   */
  binaryHeaders?: { key: Uint8Array; value: Uint8Array | null }[];
}

/**
 * A client user's record as a produce body carries it: a `Uint8Array` key or
 * value is sent base64-encoded, anything else as JSON.
 *
 * @example Usage
 * ```ts
 * import { produceRecordToJson } from "./json_records.ts";
 * const json = produceRecordToJson({ key: "a", value: new Uint8Array([1]) });
 * console.assert(json.key === "a" && json.valueBase64 === "AQ==");
 * ```
 */
export function produceRecordToJson(record: ProduceRecord): JsonRecordInput {
  if (record.value === undefined) {
    throw new TypeError(
      "Cannot produce a record without a value: use null for a tombstone",
    );
  }
  const json: JsonRecordInput = record.key instanceof Uint8Array
    ? { keyBase64: encodeBase64(record.key) }
    : { key: record.key ?? null };
  if (record.value instanceof Uint8Array) {
    json.valueBase64 = encodeBase64(record.value);
  } else json.value = record.value;
  if (record.headers !== undefined) json.headers = record.headers;
  if (record.partition !== undefined) json.partition = record.partition;
  if (record.timestamp !== undefined) json.timestamp = record.timestamp;
  return json;
}

/**
 * A fetch answer's record with its key and value decoded: base64 fields
 * become bytes, `value` stays the parsed JSON.
 */
export function decodeJsonRecord(json: JsonRecord): FetchedRecord {
  let key: string | Uint8Array | null = null;
  if (typeof json.keyBase64 === "string") key = decodeBase64(json.keyBase64);
  else if (typeof json.key === "string") key = json.key;
  let value: unknown = null;
  if (typeof json.valueBase64 === "string") {
    value = decodeBase64(json.valueBase64);
  } else if (json.value !== undefined) value = json.value;
  const record: FetchedRecord = {
    partition: json.partition,
    offset: json.offset,
    timestamp: json.timestamp,
    key,
    value,
    headers: json.headers ?? {},
  };
  if (json.headersBase64 !== undefined) {
    record.binaryHeaders = json.headersBase64.map((h) => ({
      key: decodeBase64(h.keyBase64),
      value: h.valueBase64 === null ? null : decodeBase64(h.valueBase64),
    }));
  }
  return record;
}
