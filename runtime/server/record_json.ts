/**
 * Records in JSON: the produce body's records become RecordInputs, stored
 * records become the fetch/stream shape. Values are bytes in the log; JSON
 * is only how this API spells them.
 *
 * @module
 */

import type { Header, LogRecord, RecordInput } from "../log/types.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const lenientDecoder = new TextDecoder();

/** A record of a JSON produce body, after validation. */
export interface JsonRecordInput {
  key?: string | null | undefined;
  keyBase64?: string | undefined;
  value?: unknown;
  valueBase64?: string | undefined;
  headers?: Record<string, string> | undefined;
  partition?: number | undefined;
  timestamp?: number | undefined;
}

/** A record as fetch and the SSE stream answer it. */
export interface JsonRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key?: string | null;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  headers: Record<string, string | null>;
}

/** Converts one validated JSON record (at `index` of the body) for the log. */
export function fromJsonRecord(
  record: JsonRecordInput,
  index: number,
): RecordInput {
  const input: RecordInput = { value: null };
  if (record.keyBase64 !== undefined) {
    input.key = decodeBase64(record.keyBase64, `records.${index}.keyBase64`);
  } else if (record.key != null) {
    input.key = encoder.encode(record.key);
  } else {
    input.key = null;
  }
  if (record.valueBase64 !== undefined) {
    input.value = decodeBase64(
      record.valueBase64,
      `records.${index}.valueBase64`,
    );
  } else if (record.value !== null && record.value !== undefined) {
    input.value = encoder.encode(JSON.stringify(record.value));
  }
  if (record.headers !== undefined) {
    input.headers = Object.entries(record.headers).map(([key, value]) => ({
      key,
      value: encoder.encode(value),
    }));
  }
  if (record.partition !== undefined) input.partition = record.partition;
  if (record.timestamp !== undefined) input.timestamp = record.timestamp;
  return input;
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function headersObject(
  headers: readonly Header[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const h of headers) {
    out[h.key] = h.value === null ? null : lenientDecoder.decode(h.value);
  }
  return out;
}

/**
 * The JSON shape of a stored record: `value` parsed when its bytes are JSON
 * text other than `null` (else `valueBase64`), `key` as a string when it is valid UTF-8 (else
 * `keyBase64`), null key or value as null.
 */
export function toJsonRecord(partition: number, record: LogRecord): JsonRecord {
  const out: JsonRecord = {
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    headers: headersObject(record.headers),
  };
  if (record.key === null) {
    out.key = null;
  } else {
    const key = utf8(record.key);
    if (key === undefined) out.keyBase64 = encodeBase64(record.key);
    else out.key = key;
  }
  if (record.value === null) {
    out.value = null;
  } else {
    const text = utf8(record.value);
    let parsed: { ok: true; value: unknown } | { ok: false } = { ok: false };
    if (text !== undefined) {
      try {
        parsed = { ok: true, value: JSON.parse(text) };
      } catch {
        parsed = { ok: false };
      }
    }
    // Bytes spelling JSON null are not a tombstone: keep them apart.
    if (parsed.ok && parsed.value !== null) out.value = parsed.value;
    else out.valueBase64 = encodeBase64(record.value);
  }
  return out;
}
