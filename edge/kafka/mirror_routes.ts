/**
 * The admin route that starts a stopped partition mirror again:
 * `POST /v1/topics/{topic}/partitions/{partition}/mirror/resume?from=N`.
 * A partition stops when edgelog and Kafka disagree (docs/kafka_mirror.md);
 * `from` is the edgelog offset the operator decided Kafka's current end
 * stands for. Mounted by the broker through `extraRoutes`.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { EdgelogError } from "../../runtime/errors.ts";
import { authorize } from "../../runtime/server/auth.ts";
import {
  errorResponses,
  type ServerApp,
} from "../../runtime/server/context.ts";
import {
  intString,
  MirrorInfoSchema,
  PartitionParams,
} from "../../runtime/server/schemas.ts";
import type { KafkaMirror } from "./mirror.ts";
import { MirrorNotStoppedError } from "./partition_mirror.ts";

const ResumeQuery = z.object({
  from: intString(0).openapi({
    param: { name: "from", in: "query" },
    type: "integer",
    description: "The edgelog offset Kafka's current end offset stands for: " +
      "mirroring goes on from it (inside a batch, its tail is sent)",
  }),
});

const resumeRoute = createRoute({
  method: "post",
  path: "/v1/topics/{topic}/partitions/{partition}/mirror/resume",
  tags: ["topics"],
  summary:
    "Resume a stopped Kafka mirror partition at an edgelog offset (admin)",
  request: { params: PartitionParams, query: ResumeQuery },
  responses: {
    202: {
      description: "Resuming; the state shows in GET /v1/topics/{topic}",
      content: { "application/json": { schema: MirrorInfoSchema } },
    },
    ...errorResponses(404, 409, 416),
  },
});

/** Registers the resume route of `mirror`. */
export function mirrorRoutes(mirror: KafkaMirror): (app: ServerApp) => void {
  return (app) => {
    app.openapi(resumeRoute, (c) => {
      authorize(c, { kind: "admin" });
      const { topic, partition } = c.req.valid("param");
      const { from } = c.req.valid("query");
      try {
        if (!mirror.resume(topic, partition, from)) {
          throw new EdgelogError(
            "PARTITION_NOT_FOUND",
            `Partition ${topic}-${partition} is not mirrored into Kafka`,
          );
        }
      } catch (err) {
        if (err instanceof MirrorNotStoppedError) {
          throw new EdgelogError("MIRROR_NOT_STOPPED", err.message);
        }
        if (err instanceof RangeError) {
          throw new EdgelogError("OFFSET_OUT_OF_RANGE", err.message);
        }
        throw err;
      }
      const { state, mirroredOffset, lag, error } = mirror.partitionStatus(
        topic,
        partition,
      )!;
      return c.json({ state, mirroredOffset, lag, error }, 202);
    });
  };
}
