/**
 * The one table of edgelog error codes, shared by the core, the HTTP server
 * and the client. Each code maps to the HTTP status PROTOCOL.md gives it.
 *
 * @module
 */

/** Every error code of the HTTP API, with its HTTP status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOPIC_NOT_FOUND: 404,
  PARTITION_NOT_FOUND: 404,
  UNKNOWN_MEMBER: 404,
  UNKNOWN_STREAM: 404,
  TOPIC_EXISTS: 409,
  OUT_OF_ORDER_SEQUENCE: 409,
  FENCED: 409,
  STALE_MEMBER_EPOCH: 409,
  GROUP_NOT_EMPTY: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OFFSET_OUT_OF_RANGE: 416,
  CORRUPT_BATCH: 400,
  UNSUPPORTED_COMPRESSION: 400,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  STORAGE_FULL: 507,
} as const;

/** A code from {@linkcode ERROR_STATUS}. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Codes a client may retry: the condition can pass without a change of request. */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "INTERNAL",
  "UNAVAILABLE",
  "STORAGE_FULL",
]);

/**
 * A condition that callers are expected to catch, with the code and the
 * extra fields that its HTTP error body carries.
 *
 * @example Usage
 * ```ts
 * import { EdgelogError } from "./errors.ts";
 * const err = new EdgelogError("TOPIC_NOT_FOUND", "Topic 'x' does not exist");
 * console.assert(err.status === 404);
 * ```
 */
export class EdgelogError extends Error {
  /** The code from the error table. */
  readonly code: ErrorCode;
  /** Extra fields for the error body, such as `expectedOffset`. */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "EdgelogError";
    this.code = code;
    this.extra = extra;
  }

  /** The HTTP status of this error. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** Whether retrying the same request may succeed. */
  get retriable(): boolean {
    return RETRIABLE.has(this.code);
  }

  /** The PROTOCOL.md error body. */
  toJSON(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

/** Whether `code` is a known error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_STATUS, code);
}
