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
  MIRROR_NOT_STOPPED: 409,
  STREAM_DIVERGED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OFFSET_OUT_OF_RANGE: 416,
  CORRUPT_BATCH: 400,
  UNSUPPORTED_COMPRESSION: 400,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  LIMIT_REACHED: 503,
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

/**
 * A request refused at a configured limit: `TOO_MANY_REQUESTS` (429) when
 * the client is over its own share, `LIMIT_REACHED` (503) when the node is
 * at a global limit. The limit's name goes in the body as `"limit"`.
 */
export function limitError(
  limit: string,
  message: string,
  perClient = false,
): EdgelogError {
  return new EdgelogError(
    perClient ? "TOO_MANY_REQUESTS" : "LIMIT_REACHED",
    message,
    { limit },
  );
}

/**
 * Whether `err` says the storage is out of space: ENOSPC or EDQUOT from a
 * filesystem, QuotaExceededError from IndexedDB.
 */
export function isStorageFull(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, name } = err as { code?: unknown; name?: unknown };
  return code === "ENOSPC" || code === "EDQUOT" ||
    name === "QuotaExceededError";
}

/**
 * Whether `err` says the process or the system is out of file descriptors
 * (EMFILE, ENFILE): the node is at a limit of its host, not broken.
 */
export function isOutOfFiles(err: unknown): boolean {
  const code = typeof err === "object" && err !== null
    ? (err as { code?: unknown }).code
    : undefined;
  return code === "EMFILE" || code === "ENFILE";
}

/** Whether `code` is a known error code. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_STATUS, code);
}
