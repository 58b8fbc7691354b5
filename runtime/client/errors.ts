/**
 * Turning HTTP error answers into errors callers can catch. A known code
 * becomes an {@linkcode EdgelogError}, so the client throws the same class
 * as the core; anything else (a proxy's 502, a newer server's code) becomes
 * an {@linkcode EdgelogHttpError} with the same fields.
 *
 * @module
 */

import { EdgelogError, isErrorCode } from "../errors.ts";

/**
 * An error answer whose code is not in the error table, or that carried no
 * PROTOCOL error body at all.
 */
export class EdgelogHttpError extends Error {
  /** The body's code, or `HTTP_<status>` when the body had none. */
  readonly code: string;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The error body's fields other than code and message. */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    message: string,
    options: { code?: string; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "EdgelogHttpError";
    this.status = status;
    this.code = options.code ?? `HTTP_${status}`;
    this.extra = options.extra ?? {};
  }

  /** Server-side and overload failures may pass; a refused request will not. */
  get retriable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** Whether `error` is one the client may retry: a retriable code or status. */
export function isRetriable(error: unknown): boolean {
  return (error instanceof EdgelogError || error instanceof EdgelogHttpError) &&
    error.retriable;
}

/**
 * The error for a non-2xx answer, read from its PROTOCOL error body
 * (`{"error": {"code", "message", ...extra}}`).
 *
 * @example Usage
 * ```ts
 * import { errorFromResponse } from "./errors.ts";
 * const body = { error: { code: "TOPIC_NOT_FOUND", message: "no such topic" } };
 * const err = await errorFromResponse(Response.json(body, { status: 404 }));
 * console.assert(err.code === "TOPIC_NOT_FOUND" && !err.retriable);
 * ```
 */
export async function errorFromResponse(
  response: Response,
): Promise<EdgelogError | EdgelogHttpError> {
  const text = await response.text().catch(() => "");
  return errorFromBody(
    text,
    response.status,
    `HTTP ${response.status} ${response.statusText}`.trim(),
  );
}

/**
 * The error a PROTOCOL error body describes, such as the `data:` of a
 * stream's `event: error`. `status` stands in when the code is unknown.
 */
export function errorFromBody(
  text: string,
  status: number,
  fallback = `HTTP ${status}`,
): EdgelogError | EdgelogHttpError {
  const body = parseErrorBody(text);
  if (body === undefined) {
    const detail = text.trim().slice(0, 200);
    return new EdgelogHttpError(
      status,
      detail === "" ? fallback : `${fallback}: ${detail}`,
    );
  }
  const { code, message, ...extra } = body;
  const description = typeof message === "string"
    ? message
    : `${fallback} ${String(code)}`;
  if (isErrorCode(code)) return new EdgelogError(code, description, extra);
  return new EdgelogHttpError(status, description, {
    ...(typeof code === "string" ? { code } : {}),
    extra,
  });
}

function parseErrorBody(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const error = (parsed as { error?: unknown }).error;
    if (typeof error !== "object" || error === null) return undefined;
    return error as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
