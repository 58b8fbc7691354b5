/**
 * Runs the CLI (edge/cli.ts) as a child process, as an operator would, with
 * its URL and token in the environment.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../edge/cli.ts", import.meta.url));

/** One finished CLI run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `done` resolves with its exit code and output. */
export function spawnCli(
  args: string[],
  options: { url?: string; stdin?: string; token?: string } = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-env", CLI, ...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: {
      EDGELOG_URL: options.url ?? "http://127.0.0.1:9",
      EDGELOG_TOKEN: options.token ?? "",
      NO_COLOR: "1",
    },
  }).spawn();
  const done = (async (): Promise<Run> => {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  })();
  return { done, kill: () => child.kill("SIGTERM") };
}

/** Runs the CLI to its end. */
export function cli(
  args: string[],
  options: { url?: string; stdin?: string; token?: string } = {},
): Promise<Run> {
  return spawnCli(args, options).done;
}
