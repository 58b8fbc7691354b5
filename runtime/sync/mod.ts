/**
 * Replication of device streams to an upstream, exactly once: the device's
 * replicator and the broker's stream registry and routes.
 *
 * @module
 */

export * from "./backoff.ts";
export * from "./producer_state.ts";
export * from "./replicator.ts";
export * from "./sequence.ts";
export * from "./stream_registry.ts";
export * from "./sync_routes.ts";
