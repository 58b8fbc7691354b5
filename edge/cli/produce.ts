/**
 * `produce <topic>`: lines from stdin as records, sent as they arrive (one
 * request per chunk read, so typing works interactively and piping a file
 * batches). On a terminal a progress line shows the count and rate; a
 * summary ends every run.
 *
 * @module
 */

import type { ProduceRecord } from "../../runtime/client/mod.ts";
import { commandArgs } from "./args.ts";
import { clientFor, type CliIo } from "./io.ts";
import { unescape } from "./record_format.ts";

const OPTIONS = {
  "key-separator": { type: "string", short: "K" },
  partition: { type: "string", short: "p" },
  header: { type: "string", short: "H", multiple: true },
} as const;

const MAX_RECORDS_PER_REQUEST = 500;
/** Least time between two progress lines. */
const PROGRESS_INTERVAL_MS = 500;

/** A line's value: its JSON value when it parses, else the line itself. */
export function lineValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `-H name=value` options as a headers object, or the first bad one. */
export function parseHeaders(
  given: readonly string[],
): Record<string, string> | string {
  const headers: Record<string, string> = {};
  for (const entry of given) {
    const at = entry.indexOf("=");
    if (at <= 0) return entry;
    headers[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return headers;
}

/** Runs `produce`. */
export async function produceCommand(argv: string[], io: CliIo): Promise<void> {
  const args = commandArgs(argv, OPTIONS, "produce");
  const [topic] = args.expect(args.positionals, ["topic"]);
  const rawSeparator = args.string("key-separator");
  const separator = rawSeparator === undefined
    ? undefined
    : unescape(rawSeparator);
  if (separator === "") {
    throw args.usage("--key-separator must not be empty");
  }
  const headers = parseHeaders(args.strings("header"));
  if (typeof headers === "string") {
    throw args.usage(`--header must be name=value, got '${headers}'`);
  }
  const partition = args.int("partition");
  const client = clientFor(args.values, io);
  const progress = progressReporter(io);

  let lineNumber = 0;
  let produced = 0;
  const toRecord = (line: string): ProduceRecord => {
    const record: ProduceRecord = { value: null };
    if (separator === undefined) {
      record.value = lineValue(line);
    } else {
      const at = line.indexOf(separator);
      if (at < 0) {
        throw args.usage(
          `Line ${lineNumber} has no key separator '${rawSeparator}' (${produced} records were sent before it)`,
        );
      }
      record.key = line.slice(0, at);
      record.value = lineValue(line.slice(at + separator.length));
    }
    if (Object.keys(headers).length > 0) record.headers = { ...headers };
    if (partition !== undefined) record.partition = partition;
    return record;
  };
  const send = async (lines: string[]) => {
    const records: ProduceRecord[] = [];
    for (const raw of lines) {
      lineNumber++;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.trim() !== "") records.push(toRecord(line));
    }
    for (let i = 0; i < records.length; i += MAX_RECORDS_PER_REQUEST) {
      const chunk = records.slice(i, i + MAX_RECORDS_PER_REQUEST);
      await client.produce(topic!, chunk);
      produced += chunk.length;
      await progress.update(produced);
    }
  };

  const reader = io.stdin.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      await send(lines);
    }
    await send([pending + decoder.decode()]);
  } finally {
    reader.releaseLock();
  }
  await progress.finish(produced, topic!);
}

/** The progress line (terminals only) and the closing summary. */
function progressReporter(io: CliIo) {
  const started = io.now();
  let shownAt = started;
  let shown = false;
  const rate = (count: number) => {
    const seconds = (io.now() - started) / 1000;
    return {
      seconds,
      perSecond: seconds > 0 ? Math.round(count / seconds) : 0,
    };
  };
  return {
    async update(count: number): Promise<void> {
      if (!io.stderrIsTerminal || io.now() - shownAt < PROGRESS_INTERVAL_MS) {
        return;
      }
      shownAt = io.now();
      shown = true;
      await io.stderr(`\r${count} records, ${rate(count).perSecond} records/s`);
    },
    async finish(count: number, topic: string): Promise<void> {
      const { seconds, perSecond } = rate(count);
      await io.stderr(
        `${shown ? "\r\x1b[K" : ""}Produced ${count} record(s) to ${topic} in ${
          seconds.toFixed(1)
        } s (${perSecond} records/s).\n`,
      );
    },
  };
}
