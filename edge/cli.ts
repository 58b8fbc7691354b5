/**
 * The edgelog command line, in the spirit of Kafka's console tools:
 * `deno task cli topics|produce|consume|groups …`. Run with `--help`.
 *
 * @module
 */

import { runCli } from "./cli/main.ts";

const encoder = new TextEncoder();

/** Writes all of `text`, one write after another so concurrent output does not interleave mid-line. */
function writer(
  file: { write(p: Uint8Array): Promise<number> },
): (text: string) => Promise<void> {
  let queue = Promise.resolve();
  return (text) => {
    queue = queue.then(async () => {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
    });
    return queue;
  };
}

if (import.meta.main) {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onSignal);
  const code = await runCli(Deno.args, {
    stdin: Deno.stdin.readable,
    stdout: writer(Deno.stdout),
    stderr: writer(Deno.stderr),
    env: (name) => Deno.env.get(name),
    signal: stop.signal,
    stderrIsTerminal: Deno.stderr.isTerminal(),
    now: () => performance.now(),
  });
  Deno.exit(code);
}
