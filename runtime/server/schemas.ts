/**
 * The zod schemas of the HTTP API. The same schemas validate requests and
 * generate `/openapi.json`, so the published document cannot drift from what
 * the server accepts.
 *
 * @module
 */

import { z } from "@hono/zod-openapi";
import { isBase64 } from "../format/base64.ts";

/** Media type of binary record batch bodies. */
export const BATCHES_MEDIA_TYPE = "application/vnd.edgelog.batches";

const NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** A topic or group name: `[A-Za-z0-9._-]{1,249}`, not `.` or `..`. */
export const NameSchema = z.string()
  .regex(NAME, "must match [A-Za-z0-9._-]{1,249}")
  .refine((name) => name !== "." && name !== "..", {
    message: "must not be '.' or '..'",
  });

/** A query or path integer in [min, max], given as decimal digits. */
export function intString(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string()
    .regex(/^\d{1,16}$/, "must be a non-negative integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

const Offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Partition = z.number().int().min(0).max(0x7fffffff);
const Base64 = z.string().refine(isBase64, {
  message: "must be padded base64",
});

/** Path of topic routes. */
export const TopicParams = z.object({
  topic: NameSchema.openapi({ param: { name: "topic", in: "path" } }),
});

/** Path of partition routes. */
export const PartitionParams = z.object({
  topic: NameSchema.openapi({ param: { name: "topic", in: "path" } }),
  partition: intString(0, 0x7fffffff).openapi({
    param: { name: "partition", in: "path" },
    type: "integer",
  }),
});

/** Path of group routes. */
export const GroupParams = z.object({
  group: NameSchema.openapi({ param: { name: "group", in: "path" } }),
});

/** The error body every failure answers with. */
export const ErrorSchema = z.object({
  error: z.looseObject({
    code: z.string().openapi({ example: "TOPIC_NOT_FOUND" }),
    message: z.string(),
  }),
}).openapi("Error");

/** `POST /v1/topics` body. */
export const CreateTopicSchema = z.strictObject({
  name: NameSchema,
  partitions: z.number().int().min(1).max(10000).optional(),
  retentionMs: z.number().int().min(-1).optional(),
  retentionBytes: z.number().int().min(-1).optional(),
  cleanupPolicy: z.enum(["delete", "compact"]).optional(),
  diskBudgetBytes: z.number().int().min(-1).optional(),
  whenFull: z.enum(["reject", "dropOldest"]).optional(),
}).openapi("CreateTopic");

/** A partition's Kafka mirror (only on a broker with `kafkaMirror`). */
export const MirrorInfoSchema = z.object({
  state: z.enum(["starting", "mirroring", "retrying", "stopped"]).openapi({
    description: "stopped: edgelog and Kafka disagree; nothing more is " +
      "mirrored until POST …/mirror/resume",
  }),
  mirroredOffset: z.number().int().openapi({
    description: "Next edgelog offset to mirror: everything below is in Kafka",
  }),
  lag: z.number().int(),
  error: z.string().nullable(),
}).openapi("MirrorInfo");

/** Offsets and size of one partition. */
export const PartitionInfoSchema = z.object({
  partition: z.number().int(),
  logStartOffset: z.number().int(),
  highWatermark: z.number().int(),
  sizeBytes: z.number().int(),
  kafkaMirror: MirrorInfoSchema.optional(),
  corruptions: z.array(z.object({
    segment: z.string(),
    fromByte: z.number().int(),
    toByte: z.number().int(),
    fromOffset: z.number().int(),
    toOffset: z.number().int(),
    quarantine: z.string(),
  })).optional().openapi({
    description: "present only when storage found damaged bytes in the " +
      "partition's files since the node started: each range was copied to " +
      "the quarantine file beside its segment and is skipped; the records " +
      "around it stay readable, offsets fromOffset..toOffset may be lost",
  }),
}).openapi("PartitionInfo");

const topicInfoFields = {
  name: z.string(),
  retentionMs: z.number().int(),
  retentionBytes: z.number().int(),
  cleanupPolicy: z.enum(["delete", "compact"]),
};

/** TopicInfo with a partition count. */
export const TopicInfoSchema = z.object({
  ...topicInfoFields,
  partitions: z.number().int(),
}).openapi("TopicInfo");

/** TopicInfo with every partition's offsets. */
export const TopicDescriptionSchema = z.object({
  ...topicInfoFields,
  partitions: z.array(PartitionInfoSchema),
}).openapi("TopicDescription");

/** `GET /v1/topics` answer. */
export const TopicListSchema = z.object({ topics: z.array(TopicInfoSchema) })
  .openapi("TopicList");

/** One record of a JSON produce body. */
export const ProduceRecordSchema = z.object({
  key: z.string().nullable().optional().openapi({
    description: "UTF-8 key; null or absent for none",
  }),
  keyBase64: Base64.optional().openapi({ description: "binary key" }),
  value: z.unknown().optional().openapi({
    description:
      "any JSON value, stored as its UTF-8 JSON text; null is a tombstone",
  }),
  valueBase64: Base64.optional().openapi({ description: "binary value" }),
  headers: z.record(z.string(), z.string()).optional(),
  partition: Partition.optional(),
  timestamp: Offset.optional().openapi({ description: "ms since the epoch" }),
})
  .refine((r) => !(r.key != null && r.keyBase64 !== undefined), {
    message: "give key or keyBase64, not both",
  })
  .refine((r) => !(r.value !== undefined && r.valueBase64 !== undefined), {
    message: "give value or valueBase64, not both",
  })
  .refine((r) => r.value !== undefined || r.valueBase64 !== undefined, {
    message: "each record needs a value (null for a tombstone) or valueBase64",
  })
  .openapi("ProduceRecord");

/** `POST /v1/topics/{topic}/records` JSON body. */
export const ProduceBodySchema = z.object({
  records: z.array(ProduceRecordSchema).min(1),
}).openapi("ProduceBody");

/** Query of a binary produce. */
export const ProduceQuerySchema = z.object({
  partition: intString(0, 0x7fffffff).optional().openapi({
    description: "required with a binary body",
    type: "integer",
  }),
});

/** JSON produce answer. */
export const ProduceResultSchema = z.object({
  offsets: z.array(z.object({ partition: z.number(), offset: z.number() })),
}).openapi("ProduceResult");

/** Binary produce answer. */
export const AppendResultSchema = z.object({
  partition: z.number().int(),
  baseOffset: z.number().int(),
  lastOffset: z.number().int(),
}).openapi("AppendResult");

/** `earliest`, `latest` or an offset. */
export const OffsetSpecSchema = z.union([
  z.enum(["earliest", "latest"]),
  z.string().regex(/^\d{1,16}$/, "must be an offset, earliest or latest")
    .refine((s) => Number.isSafeInteger(Number(s)), {
      message: "must be an offset below 2^53",
    }),
]);

/** Query of a fetch. */
export const FetchQuerySchema = z.object({
  offset: OffsetSpecSchema.optional().openapi({
    description: "an offset, earliest or latest (default earliest)",
  }),
  maxRecords: intString(1, 100_000).optional().openapi({ type: "integer" }),
  maxBytes: intString(1, 256 * 1024 * 1024).optional().openapi({
    type: "integer",
  }),
  maxWaitMs: intString(0).optional().openapi({
    description: "long poll; capped by the server (30 s)",
    type: "integer",
  }),
});

/** A record as fetch and the stream give it. */
export const FetchedRecordSchema = z.object({
  partition: z.number().int(),
  offset: z.number().int(),
  timestamp: z.number().int(),
  key: z.string().nullable().optional(),
  keyBase64: z.string().optional(),
  value: z.unknown().optional(),
  valueBase64: z.string().optional(),
  headers: z.record(z.string(), z.string().nullable()).openapi({
    description: "UTF-8 text; bytes that are not UTF-8 appear as U+FFFD " +
      "here and exactly in headersBase64",
  }),
  headersBase64: z.array(z.object({
    keyBase64: z.string(),
    valueBase64: z.string().nullable(),
  })).optional().openapi({
    description: "present only when a header's key or value is not valid " +
      "UTF-8: those headers in order, key and value in base64",
  }),
}).openapi("FetchedRecord");

/** JSON fetch answer. */
export const FetchResultSchema = z.object({
  records: z.array(FetchedRecordSchema),
  nextOffset: z.number().int(),
  highWatermark: z.number().int(),
}).openapi("FetchResult");

/** Query of the offset-for-timestamp lookup. */
export const OffsetsQuerySchema = z.object({
  timestamp: intString(0).openapi({ type: "integer" }),
});

/** Offset-for-timestamp answer. */
export const OffsetResultSchema = z.object({ offset: z.number().int() })
  .openapi("OffsetResult");

/** Query of the SSE stream. */
export const StreamQuerySchema = z.object({
  from: z.enum(["earliest", "latest"]).optional().openapi({
    description: "where to start without Last-Event-ID (default latest)",
  }),
});

/** `POST /v1/groups/{group}/heartbeat` body. */
export const HeartbeatBodySchema = z.object({
  memberId: z.string().min(1).max(200).optional(),
  memberEpoch: z.number().int().min(-1).optional(),
  topics: z.array(NameSchema),
  sessionTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
}).openapi("HeartbeatRequest");

/** Heartbeat answer. */
export const HeartbeatResultSchema = z.object({
  memberId: z.string(),
  memberEpoch: z.number().int(),
  heartbeatIntervalMs: z.number().int(),
  assignment: z.array(
    z.object({ topic: z.string(), partitions: z.array(z.number().int()) }),
  ),
}).openapi("HeartbeatResponse");

/** `POST /v1/groups/{group}/offsets` body. */
export const CommitBodySchema = z.object({
  memberId: z.string().min(1),
  memberEpoch: z.number().int().min(0),
  offsets: z.array(z.object({
    topic: NameSchema,
    partition: Partition,
    offset: Offset,
  })),
}).openapi("CommitRequest");

/** Query of the committed offsets lookup. */
export const CommittedQuerySchema = z.object({
  topic: NameSchema.optional(),
});

/** Committed offsets with lag. */
export const CommittedSchema = z.object({
  offsets: z.array(z.object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.number().int(),
    highWatermark: z.number().int(),
    lag: z.number().int(),
  })),
}).openapi("CommittedOffsets");

/** `GET /v1/groups` answer. */
export const GroupListSchema = z.object({
  groups: z.array(z.object({
    group: z.string(),
    members: z.number().int(),
    state: z.string(),
  })),
}).openapi("GroupList");
