/**
 * Mirroring edgelog topics into Apache Kafka, over a minimal Kafka
 * wire-protocol client.
 *
 * @module
 */

export * from "./client.ts";
export * from "./connection.ts";
export * from "./errors.ts";
export * from "./messages.ts";
export * from "./mirror.ts";
export * from "./mirror_routes.ts";
export * from "./partition_mirror.ts";
export * from "./wire.ts";
