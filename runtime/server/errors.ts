/**
 * One error shape for every answer: `{"error":{"code","message",...extra}}`.
 * Route code throws; the handlers here turn whatever was thrown into that
 * body, so no route formats an error by hand.
 *
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import {
  EdgelogError,
  type ErrorCode,
  isOutOfFiles,
  isStorageFull,
  limitError,
} from "../errors.ts";

/** The codes hono's own exceptions (body parsing, media type gate) map to. */
const HTTP_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** Describes every issue of a failed validation in one line. */
export function describeZodError(error: ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "body";
    return `${path}: ${issue.message}`;
  }).join("; ");
}

/** Least time between two log lines about a full storage. */
const STORAGE_FULL_LOG_MS = 60_000;
let storageFullLoggedAt = -Infinity;

/**
 * One line, not a stack per request: while the disk stays full, every
 * write fails the same way.
 */
function reportStorageFull(err: unknown): void {
  const now = performance.now();
  if (now - storageFullLoggedAt < STORAGE_FULL_LOG_MS) return;
  storageFullLoggedAt = now;
  console.error(
    `edgelog: storage full, answering 507 STORAGE_FULL to writes: ${
      (err as Error).message
    }`,
  );
}

/**
 * Converts anything thrown while serving a request into an EdgelogError;
 * errors that are not edgelog's own become INTERNAL (and are logged, since
 * they are bugs or infrastructure faults).
 */
export function toEdgelogError(err: unknown): EdgelogError {
  if (err instanceof EdgelogError) return err;
  if (err instanceof HTTPException) {
    const code = HTTP_STATUS_CODES[err.status] ??
      (err.status >= 500 ? "INTERNAL" : "BAD_REQUEST");
    return new EdgelogError(code, err.message || `HTTP ${err.status}`);
  }
  if (err instanceof Error && err.name === "ZodError") {
    return new EdgelogError("BAD_REQUEST", describeZodError(err as ZodError));
  }
  if (isOutOfFiles(err)) {
    console.error(
      `edgelog: out of file descriptors: ${(err as Error).message}`,
    );
    return limitError(
      "openFiles",
      "The node has too many open files; try again later",
    );
  }
  if (isStorageFull(err)) {
    reportStorageFull(err);
    return new EdgelogError(
      "STORAGE_FULL",
      "The node's storage is full; nothing was written",
    );
  }
  console.error("edgelog: unexpected error while serving a request", err);
  const message = err instanceof Error ? err.message : String(err);
  return new EdgelogError("INTERNAL", `Internal error: ${message}`);
}

/** The error response for `err`, in the PROTOCOL.md shape. */
export function errorResponse(c: Context, err: unknown): Response {
  const error = err instanceof HTTPException && err.status === 415
    ? new EdgelogError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Type '${
        c.req.header("content-type") ?? "(none)"
      }' is not accepted by ${c.req.method} ${new URL(c.req.url).pathname}`,
    )
    : toEdgelogError(err);
  return c.json(error.toJSON(), error.status as 400);
}

/** hono's `onError` handler. */
export function onError(err: Error, c: Context): Response {
  return errorResponse(c, err);
}

/** hono's `notFound` handler: unknown routes answer in the same shape. */
export function onNotFound(c: Context): Response {
  return errorResponse(
    c,
    new EdgelogError(
      "NOT_FOUND",
      `No route for ${c.req.method} ${new URL(c.req.url).pathname}`,
    ),
  );
}

/**
 * The validation hook of every OpenAPI route: a failed zod check becomes a
 * BAD_REQUEST before the handler runs, so nothing is written.
 */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError },
): void {
  if (!result.success) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `Invalid request: ${describeZodError(result.error)}`,
    );
  }
}
