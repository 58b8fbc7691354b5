/**
 * A topic as Server-Sent Events: one event per record across all of its
 * partitions, each with an `id:` resume token, so a browser's EventSource
 * reconnects (sending Last-Event-ID) without loss or repeats.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { SSEStreamingApi } from "hono/streaming";
import type { Log } from "../log/mod.ts";
import { authorize } from "./auth.ts";
import {
  errorResponses,
  type ServerApp,
  type ServerContext,
} from "./context.ts";
import { toEdgelogError } from "./errors.ts";
import { clientOf } from "./limits.ts";
import { linkSignals } from "./linked_signal.ts";
import { logRecordToJson } from "../format/json_record.ts";
import { StreamQuerySchema, TopicParams } from "./schemas.ts";
import { decodeStreamToken, encodeStreamToken } from "./stream_token.ts";

/** Records read from one partition per turn, so partitions take turns. */
const RECORDS_PER_TURN = 100;
/**
 * Batch bytes read per turn (at least one batch): with each write awaited
 * until the client takes it, this bounds what one stream holds in memory.
 */
const BYTES_PER_TURN = 256 * 1024;
/** Idle time after which a comment line keeps proxies from closing the stream. */
export const KEEPALIVE_MS = 15_000;

const streamTopic = createRoute({
  method: "get",
  path: "/v1/topics/{topic}/stream",
  tags: ["records"],
  summary: "Server-Sent Events: every record of a topic",
  description:
    "`data:` is the record as a fetch gives it; `id:` is a resume token " +
    "(`partition:nextOffset,...`). Reconnecting with `Last-Event-ID` " +
    "resumes after that record; without it `from` picks the start.",
  request: { params: TopicParams, query: StreamQuerySchema },
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses(404, 429, 503),
  },
});

/** Where each partition starts: the token's position, else `from`. */
function startPositions(
  log: Log,
  topic: string,
  from: "earliest" | "latest",
  lastEventId: string | undefined,
): number[] {
  const parts = log.partitions(topic);
  const resumed = lastEventId === undefined
    ? []
    : decodeStreamToken(lastEventId, parts.length);
  return parts.map((p, i) => {
    const given = resumed[i];
    if (given === undefined) {
      return from === "earliest" ? p.logStartOffset : p.highWatermark;
    }
    return Math.min(Math.max(given, p.logStartOffset), p.highWatermark);
  });
}

async function pump(
  stream: SSEStreamingApi,
  ctx: ServerContext,
  topic: string,
  positions: number[],
  signal: AbortSignal,
): Promise<void> {
  const { log, metrics } = ctx;
  while (!signal.aborted) {
    let sent = 0;
    for (let p = 0; p < positions.length && !signal.aborted; p++) {
      const part = log.partition(topic, p);
      const at = Math.max(positions[p] ?? 0, part.logStartOffset);
      positions[p] = at;
      if (at >= part.highWatermark) continue;
      const result = await part.read(at, {
        maxRecords: RECORDS_PER_TURN,
        maxBytes: BYTES_PER_TURN,
      });
      for (const record of result.records) {
        positions[p] = record.offset + 1;
        await stream.writeSSE({
          data: JSON.stringify(logRecordToJson(record, p)),
          id: encodeStreamToken(positions),
        });
      }
      positions[p] = Math.max(positions[p] ?? 0, result.nextOffset);
      sent += result.records.length;
      metrics.recordsOut(topic, result.records.length, 0);
    }
    if (sent === 0 && !signal.aborted) {
      const arrived = await waitForAny(log, topic, positions, signal);
      if (!arrived && !signal.aborted) await stream.write(": keepalive\n\n");
    }
  }
}

/** Waits until any partition has a record at its position (or time passes). */
async function waitForAny(
  log: Log,
  topic: string,
  positions: readonly number[],
  signal: AbortSignal,
): Promise<boolean> {
  const done = new AbortController();
  const both = AbortSignal.any([signal, done.signal]);
  try {
    return await Promise.race(
      positions.map((offset, p) =>
        log.partition(topic, p).waitForData(offset, KEEPALIVE_MS, both)
          .catch(() => false)
      ),
    );
  } finally {
    done.abort();
  }
}

/** Registers the SSE stream route. */
export function registerStreamRoutes(app: ServerApp, ctx: ServerContext): void {
  app.openapi(streamTopic, (c) => {
    const { topic } = c.req.valid("param");
    authorize(c, { kind: "consume", topic });
    const positions = startPositions(
      ctx.log,
      topic,
      c.req.valid("query").from ?? "latest",
      c.req.header("last-event-id"),
    );
    const release = ctx.streams.acquire(clientOf(c));
    return streamSSE(c, async (stream) => {
      const closed = new AbortController();
      stream.onAbort(() => closed.abort());
      const linked = linkSignals([closed.signal, c.req.raw.signal, ctx.signal]);
      const { signal } = linked;
      try {
        await pump(stream, ctx, topic, positions, signal);
      } catch (err) {
        if (!signal.aborted) {
          await stream.writeSSE({
            event: "error",
            data: JSON.stringify(toEdgelogError(err).toJSON()),
          });
        }
      } finally {
        linked.dispose();
        release();
      }
    });
  });
}
