/**
 * `produce <topic>`: lines from stdin as records, sent as they arrive (one
 * request per chunk read, so typing works interactively and piping a file
 * batches).
 *
 * @module
 */

import type { ProduceRecord } from "../../runtime/client/mod.ts";
import { commandArgs } from "./args.ts";
import { gatewayWarnings } from "./gateway_warning.ts";
import { clientFor, type CliIo } from "./io.ts";

const OPTIONS = {
  "key-separator": { type: "string" },
  partition: { type: "string" },
} as const;

const MAX_RECORDS_PER_REQUEST = 500;

/** A line's value: its JSON value when it parses, else the line itself. */
export function lineValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs `produce`. */
export async function produceCommand(argv: string[], io: CliIo): Promise<void> {
  const args = commandArgs(argv, OPTIONS, "produce");
  const [topic] = args.expect(args.positionals, ["topic"]);
  const separator = args.string("key-separator");
  if (separator === "") {
    throw args.usage("--key-separator must not be empty");
  }
  const partition = args.int("partition");
  const client = clientFor(args.values, io);

  let lineNumber = 0;
  let produced = 0;
  /** The last offset produced per partition, for the gateway check. */
  const lastOffsets = new Map<number, number>();
  const toRecord = (line: string): ProduceRecord => {
    const record: ProduceRecord = { value: null };
    if (separator === undefined) {
      record.value = lineValue(line);
    } else {
      const at = line.indexOf(separator);
      if (at < 0) {
        throw args.usage(
          `Line ${lineNumber} has no key separator '${separator}' (${produced} records were sent before it)`,
        );
      }
      record.key = line.slice(0, at);
      record.value = lineValue(line.slice(at + separator.length));
    }
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
      const offsets = await client.produce(topic!, chunk);
      for (const { partition, offset } of offsets) {
        lastOffsets.set(
          partition,
          Math.max(offset, lastOffsets.get(partition) ?? -1),
        );
      }
      produced += chunk.length;
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
  await io.stderr(`Produced ${produced} record(s) to ${topic}.\n`);
  if (lastOffsets.size === 0) return;
  for (const warning of await gatewayWarnings(client, topic!, lastOffsets)) {
    await io.stderr(warning + "\n");
  }
}
