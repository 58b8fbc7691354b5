/**
 * `topics list|create|describe|delete`.
 *
 * @module
 */

import type { CreateTopicOptions } from "../../runtime/client/mod.ts";
import { commandArgs } from "./args.ts";
import { clientFor, type CliIo, table } from "./io.ts";

const OPTIONS = {
  partitions: { type: "string" },
  "retention-ms": { type: "string" },
  "retention-bytes": { type: "string" },
  "cleanup-policy": { type: "string" },
} as const;

/** Runs a topics subcommand. */
export async function topicsCommand(argv: string[], io: CliIo): Promise<void> {
  const cli = commandArgs(argv, OPTIONS, "topics");
  const [action, ...args] = cli.positionals;
  const client = clientFor(cli.values, io);
  switch (action) {
    case "list": {
      cli.expect(args, []);
      const topics = await client.listTopics();
      await io.stdout(topics.map((t) => `${t.name}\n`).join(""));
      return;
    }
    case "create": {
      const [name] = cli.expect(args, ["topic"]);
      const options: CreateTopicOptions = {};
      const partitions = cli.int("partitions", 1);
      if (partitions !== undefined) options.partitions = partitions;
      const retentionMs = cli.int("retention-ms", -1);
      if (retentionMs !== undefined) options.retentionMs = retentionMs;
      const retentionBytes = cli.int("retention-bytes", -1);
      if (retentionBytes !== undefined) options.retentionBytes = retentionBytes;
      const policy = cli.string("cleanup-policy");
      if (policy !== undefined) {
        if (policy !== "delete" && policy !== "compact") {
          throw cli.usage(
            `--cleanup-policy must be delete or compact, got '${policy}'`,
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
      const [name] = cli.expect(args, ["topic"]);
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
      const [name] = cli.expect(args, ["topic"]);
      await client.deleteTopic(name!);
      await io.stdout(`Deleted topic ${name}.\n`);
      return;
    }
    case undefined:
      throw cli.usage("Missing action: list, create, describe or delete");
    default:
      throw cli.usage(`Unknown action 'topics ${action}'`);
  }
}
