/**
 * The typed HTTP client of edgelog: topics, produce, fetch, streams, groups
 * (with a group consumer) and sync, over an injected `fetch`.
 *
 * @module
 */

export { decodeBase64, encodeBase64 } from "../format/base64.ts";
export * from "./client.ts";
export * from "./consumer.ts";
export * from "./errors.ts";
export * from "./json_records.ts";
export * from "./retry.ts";
export * from "./sse.ts";
export * from "./types.ts";
