/**
 * Request body size limit. The declared Content-Length is checked first, and
 * the bytes are counted as they stream in, so a lying or absent length cannot
 * get more than `maxBytes` into memory. The body is then cached on the
 * request, where hono's body readers and the routes find it.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { EdgelogError } from "../errors.ts";

function tooLarge(maxBytes: number, got: string): EdgelogError {
  return new EdgelogError(
    "PAYLOAD_TOO_LARGE",
    `Request body of ${got} bytes exceeds the limit of ${maxBytes} bytes`,
    { maxBytes },
  );
}

/** Reads a whole body, refusing more than `maxBytes`. */
export async function readLimited(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes, `more than ${maxBytes}`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Middleware enforcing `maxBytes` on every request body. */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) {
      throw tooLarge(maxBytes, declared);
    }
    const body = c.req.raw.body;
    if (body !== null && !c.req.raw.bodyUsed) {
      const bytes = await readLimited(body, maxBytes);
      // hono keeps promises in this cache (its type says values).
      const cache = c.req.bodyCache as Record<string, unknown>;
      cache.arrayBuffer = Promise.resolve(bytes.buffer);
    }
    await next();
  };
}

/** The request body as bytes (cached by {@linkcode bodyLimit}). */
export async function bodyBytes(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}
