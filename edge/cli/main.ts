/**
 * The CLI's entry: picks the command, runs it, and turns the outcome into
 * an exit code (0 ok, 1 the node answered with an error, 2 usage error).
 *
 * @module
 */

import { EdgelogError } from "../../runtime/errors.ts";
import { EdgelogHttpError } from "../../runtime/client/mod.ts";
import { parseCommand, splitCommand, UsageError } from "./args.ts";
import { consumeCommand } from "./consume.ts";
import { groupsCommand } from "./groups.ts";
import { HELP } from "./help.ts";
import type { CliIo } from "./io.ts";
import { produceCommand } from "./produce.ts";
import { topicsCommand } from "./topics.ts";

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<void>> = {
  topics: topicsCommand,
  produce: produceCommand,
  consume: consumeCommand,
  groups: groupsCommand,
};

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, apiError: 1, usage: 2 } as const;

/** Runs the CLI on `argv` and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { command, rest } = splitCommand(argv);
  try {
    if (command === undefined) {
      const { values } = parseCommand(rest, {});
      if (values.help === true) {
        await io.stdout(HELP[""]!);
        return EXIT.ok;
      }
      throw new UsageError("Missing command");
    }
    const run = COMMANDS[command];
    if (run === undefined) throw new UsageError(`Unknown command '${command}'`);
    if (rest.includes("--help") || rest.includes("-h")) {
      await io.stdout(HELP[command]!);
      return EXIT.ok;
    }
    await run(rest, io);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command === undefined
        ? "deno task cli --help"
        : `deno task cli ${error.command} --help`;
      await io.stderr(`error: ${error.message}\nRun '${help}' for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof EdgelogError || error instanceof EdgelogHttpError) {
      await io.stderr(`error: ${error.code}: ${error.message}\n`);
      return EXIT.apiError;
    }
    await io.stderr(
      `error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT.apiError;
  }
}
