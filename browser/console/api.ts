/**
 * The console's only way to the node: the public HTTP API with the token
 * from the token field. Errors keep their status and code, so a view can
 * say what a 401 or 403 means instead of showing an empty table.
 *
 * @module
 */

import { ApiError } from "./errors.ts";
import { reachable, token } from "./state.ts";

export { ApiError };

/** Options of {@linkcode api}. */
export interface ApiOptions {
  method?: string;
  json?: unknown;
  signal?: AbortSignal;
  accept?: string;
}

/** The headers of a request with the current token. */
export function authHeaders(extra: Record<string, string> = {}): Headers {
  const headers = new Headers(extra);
  if (token.value !== "") {
    headers.set("authorization", `Bearer ${token.value}`);
  }
  return headers;
}

/** Sends a request; resolves with the answer, throws {@linkcode ApiError}. */
export async function request(
  path: string,
  options: ApiOptions = {},
): Promise<Response> {
  const headers = authHeaders(options.accept ? { accept: options.accept } : {});
  const init: RequestInit = { method: options.method ?? "GET", headers };
  if (options.signal) init.signal = options.signal;
  if (options.json !== undefined) {
    headers.set("content-type", "application/json");
    init.body = JSON.stringify(options.json);
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    reachable.value = false;
    throw new ApiError(0, "UNREACHABLE", "The node did not answer");
  }
  reachable.value = true;
  if (response.ok) return response;
  const text = await response.text();
  let code = `HTTP_${response.status}`;
  let message = text;
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string };
    };
    code = body.error?.code ?? code;
    message = body.error?.message ?? text;
  } catch {
    // A proxy's HTML error page: keep its text.
  }
  throw new ApiError(response.status, code, message);
}

/** A JSON request; 204 resolves with undefined. */
export async function api<T>(
  path: string,
  options: ApiOptions = {},
): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  return await response.json() as T;
}

/** `/v1/topics/{topic}…` with the name escaped. */
export function topicPath(topic: string, rest = ""): string {
  return `/v1/topics/${encodeURIComponent(topic)}${rest}`;
}

/** `/v1/groups/{group}…` with the name escaped. */
export function groupPath(group: string, rest = ""): string {
  return `/v1/groups/${encodeURIComponent(group)}${rest}`;
}
