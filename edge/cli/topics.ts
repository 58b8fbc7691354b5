/**
 * `topics list|create|describe|delete`.
 *
 * @module
 */

import type { CreateTopicOptions } from "../../runtime/client/mod.ts";
import {
  expectPositionals,
  intOption,
  parseCommand,
  stringOption,
  UsageError,
} from "./args.ts";
import { clientFor, type CliIo, table } from "./io.ts";

const OPTIONS = {
  partitions: { type: "string" },
  "retention-ms": { type: "string" },
  "retention-bytes": { type: "string" },
  "cleanup-policy": { type: "string" },
} as const;

/** Runs a topics subcommand. */
export async function topicsCommand(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseCommand(argv, OPTIONS, "topics");
  const [action, ...args] = positionals;
  const client = clientFor(values, io);
  switch (action) {
    case "list": {
      expectPositionals(args, [], "topics");
      const topics = await client.listTopics();
      await io.stdout(topics.map((t) => `${t.name}\n`).join(""));
      return;
    }
    case "create": {
      const [name] = expectPositionals(args, ["topic"], "topics");
      const options: CreateTopicOptions = {};
      const partitions = intOption(values, "partitions", {
        command: "topics",
        min: 1,
      });
      if (partitions !== undefined) options.partitions = partitions;
      const retentionMs = intOption(values, "retention-ms", {
        command: "topics",
        min: -1,
      });
      if (retentionMs !== undefined) options.retentionMs = retentionMs;
      const retentionBytes = intOption(values, "retention-bytes", {
        command: "topics",
        min: -1,
      });
      if (retentionBytes !== undefined) options.retentionBytes = retentionBytes;
      const policy = stringOption(values, "cleanup-policy");
      if (policy !== undefined) {
        if (policy !== "delete" && policy !== "compact") {
          throw new UsageError(
            `--cleanup-policy must be delete or compact, got '${policy}'`,
            "topics",
          );
        }
        options.cleanupPolicy = policy;
      }
      const topic = await client.createTopic(name!, options);
      await io.stdout(
        `Created topic ${topic.name} with ${topic.partitions} partition(s).\n`,
      );
      return;
    }
    case "describe": {
      const [name] = expectPositionals(args, ["topic"], "topics");
      const topic = await client.describeTopic(name!);
      await io.stdout(
        `Topic: ${topic.name}  Partitions: ${topic.partitions.length}  RetentionMs: ${topic.retentionMs}  ` +
          `RetentionBytes: ${topic.retentionBytes}  CleanupPolicy: ${topic.cleanupPolicy}\n` +
          table([
            ["PARTITION", "LOG-START", "HIGH-WATERMARK", "SIZE-BYTES"],
            ...topic.partitions.map((
              p,
            ) => [p.partition, p.logStartOffset, p.highWatermark, p.sizeBytes]),
          ]),
      );
      return;
    }
    case "delete": {
      const [name] = expectPositionals(args, ["topic"], "topics");
      await client.deleteTopic(name!);
      await io.stdout(`Deleted topic ${name}.\n`);
      return;
    }
    case undefined:
      throw new UsageError(
        "Missing action: list, create, describe or delete",
        "topics",
      );
    default:
      throw new UsageError(`Unknown action 'topics ${action}'`, "topics");
  }
}
