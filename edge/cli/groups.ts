/**
 * `groups list|describe|reset-offsets|delete`.
 *
 * @module
 */

import { commandArgs } from "./args.ts";
import { clientFor, type CliIo, table } from "./io.ts";
import { RESET_OPTIONS, resetRequest } from "./reset_offsets.ts";

/** Runs a groups subcommand. */
export async function groupsCommand(argv: string[], io: CliIo): Promise<void> {
  const cli = commandArgs(argv, RESET_OPTIONS, "groups");
  const [action, ...args] = cli.positionals;
  const client = clientFor(cli.values, io);
  switch (action) {
    case "list": {
      cli.expect(args, []);
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
      const [group] = cli.expect(args, ["group"]);
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
            // Another token's member: the broker shows its id only to it.
            m.memberId ?? "(hidden)",
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
    case "reset-offsets": {
      const [group] = cli.expect(args, ["group"]);
      const request = resetRequest(cli);
      const offsets = await client.resetGroupOffsets(group!, request);
      await io.stdout(
        table([
          ["TOPIC", "PARTITION", "NEW-OFFSET"],
          ...offsets.map((o) => [o.topic, o.partition, o.offset]),
        ]),
      );
      return;
    }
    case "delete": {
      const [group] = cli.expect(args, ["group"]);
      await client.deleteGroup(group!);
      await io.stdout(`Deleted group ${group}.\n`);
      return;
    }
    case undefined:
      throw cli.usage(
        "Missing action: list, describe, reset-offsets or delete",
      );
    default:
      throw cli.usage(`Unknown action 'groups ${action}'`);
  }
}
