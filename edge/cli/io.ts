/**
 * What a CLI run may touch, passed in so commands run the same way in the
 * real process and in tests.
 *
 * @module
 */

import { EdgelogClient } from "../../runtime/client/mod.ts";
import { type Parsed, stringOption, UsageError } from "./args.ts";

/** The process surroundings of one CLI run. */
export interface CliIo {
  stdin: ReadableStream<Uint8Array>;
  stdout(text: string): Promise<void>;
  stderr(text: string): Promise<void>;
  env(name: string): string | undefined;
  /** Aborted on SIGINT/SIGTERM, so following commands can stop cleanly. */
  signal: AbortSignal;
  /** Whether stderr is a terminal, where progress lines belong. */
  stderrIsTerminal: boolean;
  /** Milliseconds, for rates. */
  now(): number;
}

/** The node a CLI talks to when neither --url nor EDGELOG_URL says. */
export const DEFAULT_URL = "http://127.0.0.1:9092";

/** A client for `--url`/`--token`, else EDGELOG_URL/EDGELOG_TOKEN. */
export function clientFor(values: Parsed["values"], io: CliIo): EdgelogClient {
  const url = stringOption(values, "url") ?? io.env("EDGELOG_URL") ??
    DEFAULT_URL;
  const token = stringOption(values, "token") ??
    (io.env("EDGELOG_TOKEN") || undefined);
  if (!URL.canParse(url)) throw new UsageError(`Not a URL: '${url}'`);
  return new EdgelogClient(url, token === undefined ? {} : { token });
}

/** Rows as columns padded to their widest cell. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map(String));
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return cells.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!))
      .join("  ")
  )
    .join("\n") + "\n";
}
