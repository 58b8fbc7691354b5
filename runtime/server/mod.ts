/**
 * The HTTP API of an edgelog node as a runtime-agnostic hono app.
 *
 * @module
 */

export {
  createApp,
  type CreateAppOptions,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_WAIT_MS,
} from "./app.ts";
export {
  type Access,
  allows,
  type AuthConfig,
  authEnabled,
  authenticate,
  authMiddleware,
  authorize,
  type AuthVariables,
  type Principal,
  type TokenConfig,
  type TokenRights,
} from "./auth.ts";
export { bodyBytes, bodyLimit, readLimited } from "./body_limit.ts";
export type { ServerApp, ServerContext, ServerEnv } from "./context.ts";
export {
  describeZodError,
  errorResponse,
  onError,
  onNotFound,
  toEdgelogError,
  validationHook,
} from "./errors.ts";
export { LATENCY_BUCKETS, Metrics, type MetricsSources } from "./metrics.ts";
export { fromJsonRecord } from "./record_json.ts";
export { BATCHES_MEDIA_TYPE } from "./schemas.ts";
export { decodeStreamToken, encodeStreamToken } from "./stream_token.ts";
