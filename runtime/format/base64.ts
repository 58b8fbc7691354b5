/**
 * Standard base64 (RFC 4648, padded) for binary keys and values in JSON
 * bodies, built on `btoa`/`atob` so it runs in every JS runtime. Only the
 * canonical padded spelling is accepted, so client and server agree on what
 * a valid `keyBase64`/`valueBase64` is.
 *
 * @module
 */

const CHUNK = 0x8000;
const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is canonical padded base64. */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/**
 * Encodes bytes as padded base64.
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
 * Decodes padded base64; anything else throws a `SyntaxError`.
 *
 * @example Usage
 * ```ts
 * import { decodeBase64 } from "./base64.ts";
 * console.assert(decodeBase64("/wAB")[0] === 0xff);
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  if (!isBase64(text)) {
    throw new SyntaxError(`Cannot decode base64: '${text.slice(0, 40)}'`);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
