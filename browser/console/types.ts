/**
 * The API answers the console reads, as PROTOCOL.md and /openapi.json
 * describe them. Fields other nodes may add later are optional.
 *
 * @module
 */

export type {
  BrokerInfo,
  BrokerRates,
  GroupSummary,
  SyncStatus,
  SyncStreamInfo,
  TopicDescription,
  TopicSummary,
} from "../../runtime/client/types.ts";

/** A partition row of `GET /v1/groups/{group}`. */
export interface GroupPartition {
  topic: string;
  partition: number;
  memberId: string | null;
  offset: number | null;
  highWatermark: number;
  lag: number | null;
}

/** `GET /v1/groups/{group}`. */
export interface GroupDetail {
  group: string;
  state: string;
  members: {
    memberId: string;
    memberEpoch?: number;
    assignment?: { topic: string; partitions: number[] }[];
  }[];
  partitions: GroupPartition[];
}
