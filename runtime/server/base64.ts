/**
 * Standard base64 (RFC 4648, padded) for binary keys and values in JSON
 * bodies, with atob/btoa so it runs wherever the server does.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is canonical padded base64. */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/** Encodes bytes as padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Decodes padded base64; anything else is a BAD_REQUEST naming `field`. */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (!isBase64(text)) {
    throw new EdgelogError("BAD_REQUEST", `${field} is not valid base64`);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
