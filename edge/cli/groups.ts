/**
 * `groups list|describe`.
 *
 * @module
 */

import { expectPositionals, parseCommand, UsageError } from "./args.ts";
import { clientFor, type CliIo, table } from "./io.ts";

/** Runs a groups subcommand. */
export async function groupsCommand(argv: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseCommand(argv, {}, "groups");
  const [action, ...args] = positionals;
  const client = clientFor(values, io);
  switch (action) {
    case "list": {
      expectPositionals(args, [], "groups");
      const groups = await client.listGroups();
      await io.stdout(
        table([
          ["GROUP", "MEMBERS", "STATE"],
          ...groups.map((g) => [g.group, g.members, g.state]),
        ]),
      );
      return;
    }
    case "describe": {
      const [group] = expectPositionals(args, ["group"], "groups");
      const [description, offsets] = await Promise.all([
        client.describeGroup(group!),
        client.committedOffsets(group!),
      ]);
      const members = description.members ?? [];
      let out = `Group: ${group}  State: ${
        description.state ?? "unknown"
      }  Members: ${members.length}\n`;
      if (members.length > 0) {
        out += table([
          ["MEMBER", "EPOCH", "ASSIGNMENT"],
          ...members.map((m) => [
            m.memberId,
            m.memberEpoch ?? "",
            (m.assignment ?? []).map((a) =>
              `${a.topic}[${a.partitions.join(",")}]`
            ).join(" "),
          ]),
        ]);
      }
      out += table([
        ["TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG"],
        ...offsets.map((
          o,
        ) => [o.topic, o.partition, o.offset, o.highWatermark, o.lag]),
      ]);
      await io.stdout(out);
      return;
    }
    case undefined:
      throw new UsageError("Missing action: list or describe", "groups");
    default:
      throw new UsageError(`Unknown action 'groups ${action}'`, "groups");
  }
}
