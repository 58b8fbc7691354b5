/**
 * Standard base64 (RFC 4648, with padding) for binary keys and values in
 * JSON bodies, built on `btoa`/`atob` so it runs in every JS runtime.
 *
 * @module
 */

const CHUNK = 0x8000;

/**
 * Encodes bytes as base64.
 *
 * @example Usage
 * ```ts
 * import { encodeBase64 } from "./base64.ts";
 * console.assert(encodeBase64(new Uint8Array([0xff, 0, 1])) === "/wAB");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decodes base64; a malformed string throws a `SyntaxError`.
 *
 * @example Usage
 * ```ts
 * import { decodeBase64 } from "./base64.ts";
 * console.assert(decodeBase64("/wAB")[0] === 0xff);
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new SyntaxError(`Cannot decode base64: '${text.slice(0, 40)}'`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
