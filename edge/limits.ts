/**
 * Every limit a node's operator can set, with safe defaults: connections
 * and their timeouts (edge/http_listener.ts), topics and partitions (the
 * log), group members (the coordinator), long polls and SSE streams (the
 * server). One flat object, as the config file's `limits` section writes it.
 *
 * @module
 */

import { DEFAULT_MAX_GROUP_MEMBERS } from "../runtime/groups/coordinator.ts";
import { DEFAULT_TOPIC_LIMITS, type TopicLimits } from "../runtime/log/log.ts";
import {
  DEFAULT_HOLD_LIMITS,
  type HoldLimits,
} from "../runtime/server/limits.ts";
import type { ConnectionLimits } from "./http_listener.ts";
import type { Metrics } from "../runtime/server/metrics.ts";
import {
  DEFAULT_MAX_OPEN_SEGMENTS,
  type FsStorage,
} from "./storage/fs_storage.ts";

/** A node's limits. */
export interface NodeLimits extends ConnectionLimits, TopicLimits, HoldLimits {
  maxGroupMembers: number;
  /**
   * Closed segments whose read handles stay open, across all partitions
   * (each partition also holds its active segment's files).
   */
  maxOpenSegmentFiles: number;
}

/**
 * Sized for a default soft limit of 1024 open files or more: connections,
 * partitions' active segments and a margin for reads must fit.
 */
export const DEFAULT_LIMITS: Readonly<NodeLimits> = Object.freeze({
  maxConnections: 1000,
  headerTimeoutMs: 15_000,
  idleTimeoutMs: 60_000,
  ...DEFAULT_TOPIC_LIMITS,
  maxOpenSegmentFiles: DEFAULT_MAX_OPEN_SEGMENTS,
  maxGroupMembers: DEFAULT_MAX_GROUP_MEMBERS,
  ...DEFAULT_HOLD_LIMITS,
});

/** Reports the storage's cap on open segment read handles in `metrics`. */
export function trackOpenSegments(metrics: Metrics, storage: FsStorage): void {
  metrics.trackLimit(
    "maxOpenSegmentFiles",
    storage.openSegments.max,
    () => storage.openSegments.open,
  );
}
