/**
 * `groups reset-offsets <group>`: where to move the offsets, from Kafka's
 * flags (`--to-earliest`, `--to-latest`, `--to-offset N`, `--to-datetime`),
 * optionally for one `--topic` and `--partition`.
 *
 * @module
 */

import type { ResetOffsetsRequest } from "../../runtime/client/mod.ts";
import type { CommandArgs } from "./args.ts";

/** The options `groups` parses for reset-offsets. */
export const RESET_OPTIONS = {
  "to-earliest": { type: "boolean" },
  "to-latest": { type: "boolean" },
  "to-offset": { type: "string" },
  "to-datetime": { type: "string" },
  topic: { type: "string" },
  partition: { type: "string" },
} as const;

/** The reset request the flags ask for; a UsageError unless exactly one `--to-*`. */
export function resetRequest(cli: CommandArgs): ResetOffsetsRequest {
  const chosen = ["to-earliest", "to-latest", "to-offset", "to-datetime"]
    .filter((name) => cli.values[name] !== undefined);
  if (chosen.length !== 1) {
    throw cli.usage(
      "Give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime ISO",
    );
  }
  let request: ResetOffsetsRequest;
  switch (chosen[0]) {
    case "to-earliest":
      request = { to: "earliest" };
      break;
    case "to-latest":
      request = { to: "latest" };
      break;
    case "to-offset":
      request = { to: "offset", offset: cli.int("to-offset")! };
      break;
    default: {
      const raw = cli.string("to-datetime")!;
      const timestamp = Date.parse(raw);
      if (!Number.isFinite(timestamp) || timestamp < 0) {
        throw cli.usage(
          `--to-datetime must be a date-time such as 2026-12-01T10:00:00Z, got '${raw}'`,
        );
      }
      request = { to: "timestamp", timestamp };
    }
  }
  const topic = cli.string("topic");
  if (topic !== undefined) request.topic = topic;
  const partition = cli.int("partition");
  if (partition !== undefined) {
    if (topic === undefined) throw cli.usage("--partition needs --topic");
    request.partition = partition;
  }
  return request;
}
