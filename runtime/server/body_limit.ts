/**
 * Request body size limit. The declared Content-Length is checked first. A
 * body with a declared length within the limit is read in one piece (the
 * HTTP framing holds it to that length; a body found longer anyway is still
 * refused); a body without one is counted as it streams in, so it cannot get
 * more than `maxBytes` into memory. The body is then cached on the request,
 * where hono's body readers and the routes find it.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { EdgelogError } from "../errors.ts";
import { concatBytes } from "../format/bytes.ts";

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
): Promise<Uint8Array<ArrayBuffer>> {
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
  return concatBytes(chunks);
}

/** Refuses a body longer than the limit or than its Content-Length. */
function checkRead(size: number, declared: number, maxBytes: number): void {
  if (size > maxBytes) throw tooLarge(maxBytes, String(size));
  if (size > declared) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `Request body of ${size} bytes is longer than its Content-Length ${declared}`,
    );
  }
}

/** Middleware enforcing `maxBytes` on every request body. */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) {
      throw tooLarge(maxBytes, declared);
    }
    const raw = c.req.raw;
    const body = raw.body;
    if (body !== null && !raw.bodyUsed) {
      const buffer = await readBody(raw, body, declared, maxBytes);
      // hono keeps promises in this cache (its type says values).
      const cache = c.req.bodyCache as Record<string, unknown>;
      cache.arrayBuffer = Promise.resolve(buffer);
    }
    await next();
  };
}

/**
 * Reads the body under the limit. A client that goes away mid-body is its
 * own fault, so that is a BAD_REQUEST, not an internal error.
 */
async function readBody(
  raw: Request,
  body: ReadableStream<Uint8Array>,
  declared: string | undefined,
  maxBytes: number,
): Promise<ArrayBuffer> {
  try {
    if (declared === undefined) {
      return (await readLimited(body, maxBytes)).buffer;
    }
    // One copy instead of a chunk-by-chunk read and a join: the bulk of a
    // binary produce's cost went there.
    const buffer = await raw.arrayBuffer();
    checkRead(buffer.byteLength, Number(declared), maxBytes);
    return buffer;
  } catch (err) {
    if (err instanceof EdgelogError) throw err;
    throw new EdgelogError(
      "BAD_REQUEST",
      `Cannot read the request body: ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }
}

/** The request body as bytes (cached by {@linkcode bodyLimit}). */
export async function bodyBytes(c: Context): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await c.req.arrayBuffer());
}
