/**
 * A failed API request, and what it means in words for the operator.
 *
 * @module
 */

/** A failed request: the HTTP status (0 when the node did not answer). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/**
 * What an error means to the operator; `what` says what was tried, as in
 * "read topic orders", for a 403.
 */
export function describeError(
  err: unknown,
  what: string,
  hasToken: boolean,
): string {
  if (!(err instanceof ApiError)) {
    return err instanceof Error ? err.message : String(err);
  }
  switch (err.status) {
    case 0:
      return "The node cannot be reached.";
    case 401:
      return hasToken
        ? "The node does not know this token: check the token field."
        : "The node needs a token: enter one in the token field.";
    case 403:
      return `This token may not ${what}.`;
    default:
      return `${err.code}: ${err.message}`;
  }
}
