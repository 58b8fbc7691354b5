/**
 * Produce: JSON records (the partitioner places them) or binary record
 * batches for one partition (validated and appended as they are). Every
 * check runs before the first append, so a refused request writes nothing.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { EdgelogError } from "../errors.ts";
import { readBatchHeader, splitBatches } from "../format/batch_header.ts";
import { authorize } from "./auth.ts";
import { bodyBytes } from "./body_limit.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import { fromJsonRecord } from "./record_json.ts";
import {
  AppendResultSchema,
  BATCHES_MEDIA_TYPE,
  ProduceBodySchema,
  ProduceQuerySchema,
  ProduceResultSchema,
  TopicParams,
} from "./schemas.ts";

/** Codec ids (attributes bits 0-2) this node can decode: none and gzip. */
const SUPPORTED_CODECS: ReadonlySet<number> = new Set([0, 1]);
const CODEC_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"];
const CONTROL_BIT = 0x20;

const produce = createRoute({
  method: "post",
  path: "/v1/topics/{topic}/records",
  tags: ["records"],
  summary: "Produce records (JSON) or record batches (binary)",
  description:
    `A JSON body of records, placed by partition, key or stickiness; or ` +
    `\`${BATCHES_MEDIA_TYPE}\` batches for the partition given by ` +
    "`?partition=N`, offsets assigned by the node.",
  request: {
    params: TopicParams,
    query: ProduceQuerySchema,
    body: {
      required: false,
      content: {
        "application/json": { schema: ProduceBodySchema },
        [BATCHES_MEDIA_TYPE]: {
          schema: z.string().openapi({ format: "binary" }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Offsets of the records (JSON) or of the batches (binary)",
      content: {
        "application/json": {
          schema: z.union([ProduceResultSchema, AppendResultSchema]),
        },
      },
    },
    ...errorResponses(404, 413, 415, 503, 507),
  },
});

/** The media type of a request, lower-cased, parameters dropped. */
export function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0]?.trim()
    .toLowerCase() ?? "";
}

/**
 * Checks what splitBatches does not: that each batch's codec is one this
 * node decodes, that it is not a control batch, and that it carries no
 * producerId: the sync registry rebuilds its streams from the producerIds
 * stored in the log, so only the sync routes may append such batches.
 */
export function checkBatchAttributes(batches: readonly Uint8Array[]): void {
  batches.forEach((batch, i) => {
    const { attributes, producerId } = readBatchHeader(batch);
    if (producerId >= 0) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `Batch ${i} carries producerId ${producerId}; idempotent batches go ` +
          "to POST /v1/sync/streams/{producerId}/batches",
      );
    }
    const codec = attributes & 0x07;
    if (!SUPPORTED_CODECS.has(codec)) {
      throw new EdgelogError(
        "UNSUPPORTED_COMPRESSION",
        `Batch ${i} uses compression ${
          CODEC_NAMES[codec] ?? `codec ${codec}`
        }; this node supports none and gzip`,
      );
    }
    if (attributes & CONTROL_BIT) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `Batch ${i} is a control batch; produce accepts data batches only`,
      );
    }
  });
}

/** Registers the produce route. */
export function registerProduceRoutes(
  app: ServerApp,
  ctx: ServerContext,
): void {
  const { log } = ctx;

  app.openapi(produce, async (c) => {
    const { topic } = c.req.valid("param");
    authorize(c, { kind: "produce", topic });
    const type = mediaType(c);

    if (type === BATCHES_MEDIA_TYPE) {
      const { partition } = c.req.valid("query");
      if (partition === undefined) {
        throw new EdgelogError(
          "BAD_REQUEST",
          "A binary produce needs the query parameter ?partition=N",
        );
      }
      const target = log.partition(topic, partition);
      const batches = splitBatches(await bodyBytes(c));
      checkBatchAttributes(batches);
      const result = await target.appendBatches(batches);
      return c.json({ partition, ...result }, 200);
    }

    if (type !== "application/json" && !type.endsWith("+json")) {
      throw new EdgelogError(
        "UNSUPPORTED_MEDIA_TYPE",
        `Content-Type must be application/json or ${BATCHES_MEDIA_TYPE}`,
      );
    }
    // The JSON validator ran (the media type is JSON); the declared binary
    // body widens the inferred type, so narrow it back.
    const { records } = c.req.valid("json") as z.output<
      typeof ProduceBodySchema
    >;
    const inputs = records.map((record, i) => fromJsonRecord(record, i));
    if (log.hasTopic(topic)) {
      const count = log.topicConfig(topic).partitions;
      inputs.forEach((input, i) => {
        if (input.partition !== undefined && input.partition >= count) {
          throw new EdgelogError(
            "PARTITION_NOT_FOUND",
            `records.${i}.partition: topic '${topic}' has no partition ${input.partition} (it has ${count})`,
          );
        }
      });
    }
    const offsets = await log.produce(topic, inputs);
    return c.json({ offsets }, 200);
  });
}
