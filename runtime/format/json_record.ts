/**
 * Records as the JSON API carries them (PROTOCOL.md, "Produce" and "Fetch"),
 * and their conversion to and from the log's byte records. Keys travel as
 * UTF-8 strings or `keyBase64`; values as JSON or `valueBase64`; headers as
 * an object of strings. Client and server both speak through this codec, so
 * the two ends cannot drift apart.
 *
 * @module
 */

import type { Header, LogRecord, RecordInput } from "../log/types.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

/** A record in a produce body. */
export interface JsonRecordInput {
  key?: string | null | undefined;
  keyBase64?: string | undefined;
  /** Any JSON value, stored as its JSON text; null is a tombstone. */
  value?: unknown;
  valueBase64?: string | undefined;
  headers?: Record<string, string> | undefined;
  partition?: number | undefined;
  timestamp?: number | undefined;
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
  /**
   * A null value is a header whose value is null. Bytes that are not
   * UTF-8 show here decoded with U+FFFD, and exactly in `headersBase64`.
   */
  headers: Record<string, string | null>;
  /**
   * Present only when a header's key or value is not valid UTF-8: those
   * headers, in order, with key and value in base64 (value null for null).
   */
  headersBase64?: JsonBinaryHeader[];
}

/** A header whose key or value is not valid UTF-8, byte for byte. */
export interface JsonBinaryHeader {
  keyBase64: string;
  valueBase64: string | null;
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

function headerKeyBytes(header: Header): Uint8Array {
  return header.keyBytes ?? encoder.encode(header.key);
}

/**
 * The headers whose key or value is not valid UTF-8, in base64, or
 * undefined when there are none.
 */
export function binaryHeadersToJson(
  headers: readonly Header[],
): JsonBinaryHeader[] | undefined {
  let out: JsonBinaryHeader[] | undefined;
  for (const header of headers) {
    const textValue = header.value === null ||
      utf8OrUndefined(header.value) !== undefined;
    if (header.keyBytes === undefined && textValue) continue;
    (out ??= []).push({
      keyBase64: encodeBase64(headerKeyBytes(header)),
      valueBase64: header.value === null ? null : encodeBase64(header.value),
    });
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

function keyFromJson(
  json: { key?: string | null | undefined; keyBase64?: string | undefined },
): Uint8Array | null {
  if (json.keyBase64 !== undefined) return decodeBase64(json.keyBase64);
  if (typeof json.key === "string") return encoder.encode(json.key);
  return null;
}

function valueFromJson(
  json: { value?: unknown; valueBase64?: string | undefined },
): Uint8Array | null {
  if (json.valueBase64 !== undefined) return decodeBase64(json.valueBase64);
  if (json.value === undefined || json.value === null) return null;
  return encoder.encode(JSON.stringify(json.value));
}

/**
 * A log record as a fetch answer carries it: the value parsed when its bytes
 * are JSON other than `null`, else `valueBase64`; the key as a string when it
 * is UTF-8, else `keyBase64`.
 *
 * @example Usage
 * ```ts
 * import { logRecordToJson } from "./json_record.ts";
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
  const binary = binaryHeadersToJson(record.headers);
  if (binary !== undefined) json.headersBase64 = binary;
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
    headers: json.headersBase64 === undefined
      ? headersFromJson(json.headers)
      : withBinaryHeaders(json.headers, json.headersBase64),
  };
}

/**
 * The headers of a fetched record with those `headersBase64` holds
 * exactly in place of their lossy text in `headers`.
 */
function withBinaryHeaders(
  headers: Record<string, string | null>,
  binary: readonly JsonBinaryHeader[],
): Header[] {
  const exact = binary.map((h): Header => {
    const keyBytes = decodeBase64(h.keyBase64);
    const key = utf8OrUndefined(keyBytes);
    const value = h.valueBase64 === null ? null : decodeBase64(h.valueBase64);
    return key === undefined
      ? { key: lenientDecoder.decode(keyBytes), value, keyBytes }
      : { key, value };
  });
  const lossy = new Set(exact.map((h) => h.key));
  return [
    ...headersFromJson(headers).filter((h) => !lossy.has(h.key)),
    ...exact,
  ];
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

/**
 * A produce body entry, already of the right shape, as a log record input.
 * An absent value is a tombstone; base64 that is not canonical throws a
 * `SyntaxError` (callers facing untrusted input check the shape first).
 *
 * @example Usage
 * ```ts
 * import { recordInputFromJson } from "./json_record.ts";
 * const record = recordInputFromJson({ key: "dev-7", value: { t: 21.5 } });
 * console.assert(new TextDecoder().decode(record.value!) === '{"t":21.5}');
 * ```
 */
export function recordInputFromJson(json: JsonRecordInput): RecordInput {
  const record: RecordInput = {
    key: keyFromJson(json),
    value: valueFromJson(json),
  };
  if (json.headers !== undefined) {
    record.headers = headersFromJson(json.headers);
  }
  if (json.partition !== undefined) record.partition = json.partition;
  if (json.timestamp !== undefined) record.timestamp = json.timestamp;
  return record;
}
