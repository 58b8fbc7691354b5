/**
 * The server's side of the JSON record codec: a produce body entry is
 * untrusted, so its shape is checked here and every fault answers
 * BAD_REQUEST naming the entry; the conversion itself is the shared
 * `runtime/format/json_record.ts`.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { isBase64 } from "../format/base64.ts";
import { recordInputFromJson } from "../format/json_record.ts";
import type { RecordInput } from "../log/types.ts";

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
}

/** What is wrong with a produce body entry, or undefined when nothing is. */
function fault(entry: Record<string, unknown>): string | undefined {
  if (
    entry.key !== undefined && entry.key !== null &&
    typeof entry.key !== "string"
  ) {
    return ": key must be a string or null";
  }
  for (const field of ["keyBase64", "valueBase64"]) {
    const text = entry[field];
    if (text === undefined) continue;
    if (typeof text !== "string") return `: ${field} must be a string`;
    if (!isBase64(text)) return `.${field} is not valid base64`;
  }
  if (entry.headers !== undefined && !isStringRecord(entry.headers)) {
    return ": headers must be an object of strings";
  }
  for (const field of ["partition", "timestamp"]) {
    if (entry[field] !== undefined && !isNonNegativeInteger(entry[field])) {
      return `: ${field} must be a non-negative integer`;
    }
  }
  return undefined;
}

/**
 * A record input from an untrusted produce body entry (at `index` of the
 * body); a malformed entry is EdgelogError BAD_REQUEST. An absent value is a
 * tombstone.
 *
 * @example Usage
 * ```ts
 * import { fromJsonRecord } from "./record_json.ts";
 * const record = fromJsonRecord({ key: "dev-7", value: { t: 21.5 } }, 0);
 * console.assert(new TextDecoder().decode(record.value!) === '{"t":21.5}');
 * ```
 */
export function fromJsonRecord(json: unknown, index: number): RecordInput {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `records.${index}: expected an object`,
    );
  }
  const problem = fault(json as Record<string, unknown>);
  if (problem !== undefined) {
    throw new EdgelogError("BAD_REQUEST", `records.${index}${problem}`);
  }
  return recordInputFromJson(json);
}
