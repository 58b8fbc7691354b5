/**
 * Fetch: records from one partition as JSON or as raw batches, with long
 * polling, and the offset-for-timestamp lookup.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { PartitionLog } from "../log/mod.ts";
import type { LogRecord } from "../log/types.ts";
import { lastOffset, readBatchHeader } from "../format/batch_header.ts";
import { authorize } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import { clientOf } from "./limits.ts";
import { linkSignals } from "./linked_signal.ts";
import { logRecordToJson } from "../format/json_record.ts";
import {
  BATCHES_MEDIA_TYPE,
  FetchQuerySchema,
  FetchResultSchema,
  OffsetResultSchema,
  OffsetsQuerySchema,
  PartitionParams,
} from "./schemas.ts";
import { concatBytes } from "../format/bytes.ts";

/** Records a JSON fetch answers when `maxRecords` is absent. */
export const DEFAULT_MAX_RECORDS = 500;
/** Bytes a fetch reads when `maxBytes` is absent. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;

const fetchRecords = createRoute({
  method: "get",
  path: "/v1/topics/{topic}/partitions/{partition}/records",
  tags: ["records"],
  summary: "Fetch records from a partition",
  description: "With `Accept: " + BATCHES_MEDIA_TYPE +
    "` the answer is the raw batches (the first may start before `offset`), " +
    "with headers Edgelog-Next-Offset, Edgelog-High-Watermark and " +
    "Edgelog-Log-Start-Offset.",
  request: { params: PartitionParams, query: FetchQuerySchema },
  responses: {
    200: {
      description: "Records from `offset` on",
      content: {
        "application/json": { schema: FetchResultSchema },
        [BATCHES_MEDIA_TYPE]: {
          schema: z.string().openapi({ format: "binary" }),
        },
      },
    },
    ...errorResponses(404, 416, 429, 503),
  },
});

const offsetForTimestamp = createRoute({
  method: "get",
  path: "/v1/topics/{topic}/partitions/{partition}/offsets",
  tags: ["records"],
  summary: "First offset whose timestamp is at or after `timestamp`",
  request: { params: PartitionParams, query: OffsetsQuerySchema },
  responses: {
    200: {
      description: "The offset (the high watermark when none is)",
      content: { "application/json": { schema: OffsetResultSchema } },
    },
    ...errorResponses(404),
  },
});

/** Resolves `earliest`, `latest` or a decimal offset against a partition. */
export function resolveOffset(part: PartitionLog, spec: string): number {
  if (spec === "earliest") return part.logStartOffset;
  if (spec === "latest") return part.highWatermark;
  return Number(spec);
}

/**
 * The batches as one body. Storage hands out views of one read buffer, so
 * batches that lie end to end in it become a single view with no copy;
 * others are joined.
 */
export function joinBatches(
  chunks: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const first = chunks[0];
  if (first === undefined) return new Uint8Array(0);
  const buffer = first.buffer;
  let end = first.byteOffset + first.byteLength;
  let adjacent = buffer instanceof ArrayBuffer;
  for (let i = 1; i < chunks.length && adjacent; i++) {
    const chunk = chunks[i]!;
    adjacent = chunk.buffer === buffer && chunk.byteOffset === end;
    end += chunk.byteLength;
  }
  if (adjacent && buffer instanceof ArrayBuffer) {
    return new Uint8Array(buffer, first.byteOffset, end - first.byteOffset);
  }
  return concatBytes(chunks);
}

function payloadBytes(records: readonly LogRecord[]): number {
  let n = 0;
  for (const r of records) {
    n += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
    for (const h of r.headers) n += h.key.length + (h.value?.byteLength ?? 0);
  }
  return n;
}

function wantsBatches(accept: string | undefined): boolean {
  return accept !== undefined &&
    accept.toLowerCase().includes(BATCHES_MEDIA_TYPE);
}

/** Registers the fetch and offset lookup routes. */
export function registerFetchRoutes(app: ServerApp, ctx: ServerContext): void {
  const { log, metrics } = ctx;

  app.openapi(fetchRecords, async (c) => {
    const { topic, partition } = c.req.valid("param");
    authorize(c, { kind: "consume", topic });
    const query = c.req.valid("query");
    const part = log.partition(topic, partition);
    const offset = resolveOffset(part, query.offset ?? "earliest");
    const maxBytes = query.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxWaitMs = Math.min(query.maxWaitMs ?? 0, ctx.maxWaitMs);
    if (maxWaitMs > 0 && offset === part.highWatermark) {
      const release = ctx.longPolls.acquire(clientOf(c));
      const linked = linkSignals([c.req.raw.signal, ctx.signal]);
      try {
        await part.waitForData(offset, maxWaitMs, linked.signal);
      } finally {
        linked.dispose();
        release();
      }
    }

    if (wantsBatches(c.req.header("accept"))) {
      const batches = await part.readBatches(offset, maxBytes);
      const body = joinBatches(batches);
      const last = batches.at(-1);
      const next = last === undefined
        ? offset
        : Math.max(offset, lastOffset(readBatchHeader(last)) + 1);
      const records = batches.reduce(
        (n, b) => n + readBatchHeader(b).recordCount,
        0,
      );
      metrics.recordsOut(topic, records, body.byteLength);
      return c.body(body, 200, {
        "content-type": BATCHES_MEDIA_TYPE,
        "edgelog-next-offset": String(next),
        "edgelog-high-watermark": String(part.highWatermark),
        "edgelog-log-start-offset": String(part.logStartOffset),
      });
    }

    const result = await part.read(offset, {
      maxRecords: query.maxRecords ?? DEFAULT_MAX_RECORDS,
      maxBytes,
    });
    metrics.recordsOut(
      topic,
      result.records.length,
      payloadBytes(result.records),
    );
    return c.json({
      records: result.records.map((r) => logRecordToJson(r, partition)),
      nextOffset: result.nextOffset,
      highWatermark: result.highWatermark,
    }, 200);
  });

  app.openapi(offsetForTimestamp, async (c) => {
    const { topic, partition } = c.req.valid("param");
    authorize(c, { kind: "consume", topic });
    const { timestamp } = c.req.valid("query");
    const offset = await log.partition(topic, partition).offsetForTimestamp(
      timestamp,
    );
    return c.json({ offset }, 200);
  });
}
