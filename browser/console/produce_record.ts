/**
 * The record the produce form sends: JSON, or the typed text's UTF-8 bytes
 * when "send as text" is ticked; the parser's message when it is neither.
 *
 * @module
 */

import { encodeBase64 } from "../../runtime/format/base64.ts";

/** One header row of the form. */
export interface Header {
  name: string;
  value: string;
}

/** The record body for the API, or the reason it cannot be sent. */
export function buildRecord(input: {
  key: string;
  partition: string;
  headers: Header[];
  value: string;
  asText: boolean;
}): { record: Record<string, unknown> } | { error: string } {
  const record: Record<string, unknown> = {};
  if (input.asText) {
    record.valueBase64 = encodeBase64(new TextEncoder().encode(input.value));
  } else {
    try {
      record.value = JSON.parse(input.value);
    } catch (err) {
      return {
        error: `The value is not JSON (${
          (err as Error).message
        }). Fix it, or tick “send as text”.`,
      };
    }
  }
  if (input.key !== "") record.key = input.key;
  if (input.partition !== "") record.partition = Number(input.partition);
  const headers = input.headers.filter((h) => h.name !== "");
  if (headers.length > 0) {
    record.headers = Object.fromEntries(headers.map((h) => [h.name, h.value]));
  }
  return { record };
}
