/**
 * Records as the JSON API carries them (PROTOCOL.md, "Produce" and "Fetch"),
 * and their conversion to and from the log's byte records. Keys travel as
 * UTF-8 strings or `keyBase64`; values as JSON or `valueBase64`; headers as
 * an object of strings.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import type { Header, LogRecord, RecordInput } from "../log/types.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

/** A record in a produce body. */
export interface JsonRecordInput {
  key?: string | null;
  keyBase64?: string;
  /** Any JSON value, stored as its JSON text; null is a tombstone. */
  value?: unknown;
  valueBase64?: string;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

/** A record in a fetch answer or a stream event. */
export interface JsonRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key?: string | null;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  /** A null value is a header whose value is null. */
  headers: Record<string, string | null>;
}

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
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const lenientDecoder = new TextDecoder();

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function jsonOrUndefined(bytes: Uint8Array): { value: unknown } | undefined {
  const text = utf8OrUndefined(bytes);
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Headers as a JSON object; a repeated key keeps its last value. */
export function headersToJson(
  headers: readonly Header[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const header of headers) {
    out[header.key] = header.value === null
      ? null
      : lenientDecoder.decode(header.value);
  }
  return out;
}

/** Headers from a JSON object, in key order. */
export function headersFromJson(
  headers: Record<string, string | null>,
): Header[] {
  return Object.entries(headers).map(([key, value]) => ({
    key,
    value: value === null ? null : encoder.encode(value),
  }));
}

function keyToJson(
  key: Uint8Array | null | undefined,
): Pick<JsonRecord, "key" | "keyBase64"> {
  if (key === null || key === undefined) return { key: null };
  const text = utf8OrUndefined(key);
  return text === undefined ? { keyBase64: encodeBase64(key) } : { key: text };
}

/**
 * A log record as a fetch answer carries it: the value parsed when its bytes
 * are JSON other than `null`, else `valueBase64`; the key as a string when it is UTF-8, else
 * `keyBase64`.
 *
 * @example Usage
 * ```ts
 * import { logRecordToJson } from "./json_records.ts";
 * const json = logRecordToJson({
 *   offset: 4, timestamp: 10, key: new TextEncoder().encode("k"),
 *   value: new TextEncoder().encode('{"t":1}'), headers: [],
 * }, 0);
 * console.assert(json.key === "k" && (json.value as { t: number }).t === 1);
 * ```
 */
export function logRecordToJson(
  record: LogRecord,
  partition: number,
): JsonRecord {
  const json: JsonRecord = {
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    ...keyToJson(record.key),
    headers: headersToJson(record.headers),
  };
  if (record.value === null) {
    json.value = null;
  } else {
    // Bytes spelling JSON null are not a tombstone: they travel as base64.
    const parsed = jsonOrUndefined(record.value);
    if (parsed === undefined || parsed.value === null) {
      json.valueBase64 = encodeBase64(record.value);
    } else {
      json.value = parsed.value;
    }
  }
  return json;
}

function keyFromJson(
  json: { key?: unknown; keyBase64?: unknown },
): Uint8Array | null {
  if (typeof json.keyBase64 === "string") return decodeBase64(json.keyBase64);
  if (typeof json.key === "string") return encoder.encode(json.key);
  return null;
}

function valueFromJson(
  json: { value?: unknown; valueBase64?: unknown },
): Uint8Array | null {
  if (typeof json.valueBase64 === "string") {
    return decodeBase64(json.valueBase64);
  }
  if (json.value === undefined || json.value === null) return null;
  return encoder.encode(JSON.stringify(json.value));
}

/**
 * A fetched JSON record back as a log record. A JSON value comes back as its
 * JSON text, which may differ in spacing from the stored bytes.
 */
export function logRecordFromJson(json: JsonRecord): LogRecord {
  return {
    offset: json.offset,
    timestamp: json.timestamp,
    key: keyFromJson(json),
    value: valueFromJson(json),
    headers: headersFromJson(json.headers),
  };
}

/**
 * A record input as a produce body carries it, byte for byte: the value as
 * `valueBase64`, the key as a string when it is UTF-8. The JSON produce body
 * has string header values only, so headers with a null value are left out.
 */
export function recordInputToJson(record: RecordInput): JsonRecordInput {
  const json: JsonRecordInput = {
    ...keyToJson(record.key),
    ...(record.value === null
      ? { value: null }
      : { valueBase64: encodeBase64(record.value) }),
  };
  if (record.headers !== undefined) {
    json.headers = {};
    for (const header of record.headers) {
      if (header.value !== null) {
        json.headers[header.key] = lenientDecoder.decode(header.value);
      }
    }
  }
  if (record.partition !== undefined) json.partition = record.partition;
  if (record.timestamp !== undefined) json.timestamp = record.timestamp;
  return json;
}

function badRequest(message: string): EdgelogError {
  return new EdgelogError("BAD_REQUEST", message);
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * A record input from an untrusted produce body entry; a malformed entry is
 * EdgelogError BAD_REQUEST. An absent value is a tombstone.
 *
 * @example Usage
 * ```ts
 * import { recordInputFromJson } from "./json_records.ts";
 * const record = recordInputFromJson({ key: "dev-7", value: { t: 21.5 } });
 * console.assert(new TextDecoder().decode(record.value!) === '{"t":21.5}');
 * ```
 */
export function recordInputFromJson(json: unknown): RecordInput {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw badRequest("Cannot read record: expected an object");
  }
  const entry = json as Record<string, unknown>;
  if (
    entry.key !== undefined && entry.key !== null &&
    typeof entry.key !== "string"
  ) {
    throw badRequest("Cannot read record: key must be a string or null");
  }
  for (const field of ["keyBase64", "valueBase64"]) {
    if (entry[field] !== undefined && typeof entry[field] !== "string") {
      throw badRequest(`Cannot read record: ${field} must be a string`);
    }
  }
  const record: RecordInput = { key: null, value: null };
  try {
    record.key = keyFromJson(entry);
    record.value = valueFromJson(entry);
  } catch (error) {
    throw badRequest(`Cannot read record: ${(error as Error).message}`);
  }
  if (entry.headers !== undefined) {
    const headers = entry.headers;
    if (
      typeof headers !== "object" || headers === null ||
      Array.isArray(headers) ||
      !Object.values(headers).every((v) => typeof v === "string")
    ) {
      throw badRequest(
        "Cannot read record: headers must be an object of strings",
      );
    }
    record.headers = headersFromJson(headers as Record<string, string>);
  }
  if (entry.partition !== undefined) {
    if (!isNonNegativeInteger(entry.partition)) {
      throw badRequest(
        "Cannot read record: partition must be a non-negative integer",
      );
    }
    record.partition = entry.partition;
  }
  if (entry.timestamp !== undefined) {
    if (!isNonNegativeInteger(entry.timestamp)) {
      throw badRequest(
        "Cannot read record: timestamp must be a non-negative integer",
      );
    }
    record.timestamp = entry.timestamp;
  }
  return record;
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
  return {
    partition: json.partition,
    offset: json.offset,
    timestamp: json.timestamp,
    key,
    value,
    headers: json.headers ?? {},
  };
}
