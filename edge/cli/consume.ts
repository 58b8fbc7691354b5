/**
 * `consume <topic>`: prints records, either straight from partitions or as
 * a member of a consumer group (which commits as it goes). Like
 * kafka-console-consumer it waits for new records until interrupted, unless
 * `-e` asks it to stop at the end of the log.
 *
 * @module
 */

import type {
  EdgelogClient,
  FetchedRecord,
  OffsetSpec,
} from "../../runtime/client/mod.ts";
import { EdgelogError } from "../../runtime/errors.ts";
import { commandArgs, type Parsed } from "./args.ts";
import { clientFor, type CliIo } from "./io.ts";
import {
  compileFormat,
  fieldText,
  jsonLine,
  type PrintedRecord,
} from "./record_format.ts";
import {
  parseDateTime,
  parseStartSpec,
  startOffset,
  type StartSpec,
} from "./start_offset.ts";

const OPTIONS = {
  "from-beginning": { type: "boolean" },
  "from-time": { type: "string" },
  group: { type: "string" },
  partition: { type: "string" },
  offset: { type: "string", short: "o" },
  exit: { type: "boolean", short: "e" },
  format: { type: "string", short: "f" },
  "max-messages": { type: "string" },
  "print-key": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** How long one fetch may wait for records while following. */
const FOLLOW_WAIT_MS = 1000;
/** Records and bytes one fetch may bring: large, for fast bulk reads. */
const FETCH_MAX_RECORDS = 10_000;
const FETCH_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Joins `-o -10` into `--offset=-10`: kcat's relative offsets start with a
 * dash, which the option parser would otherwise take for an option.
 */
function joinRelativeOffsets(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if ((arg === "-o" || arg === "--offset") && /^-\d+$/.test(next ?? "")) {
      joined.push(`--offset=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** Runs `consume`. */
export async function consumeCommand(argv: string[], io: CliIo): Promise<void> {
  const args = commandArgs(joinRelativeOffsets(argv), OPTIONS, "consume");
  const { values } = args;
  const [topic] = args.expect(args.positionals, ["topic"]);
  const group = args.string("group");
  const partition = args.int("partition");
  const maxMessages = args.int("max-messages", 1);
  const start = startSpecOf(args);
  if (start?.kind === "absolute" && partition === undefined) {
    throw args.usage("An absolute --offset needs --partition");
  }
  if (group !== undefined && (partition !== undefined || start !== undefined)) {
    throw args.usage(
      "--group cannot be combined with --partition, --offset or --from-time (a group starts at its committed offsets)",
    );
  }
  const print = printerOf(args, values);
  if (print === undefined) {
    throw args.usage("--format and --json exclude each other");
  }
  const options = {
    topic: topic!,
    follow: values.exit !== true,
    maxMessages: maxMessages ?? Infinity,
  };
  const client = clientFor(values, io);
  let printed = 0;
  const emit = async (record: PrintedRecord) => {
    printed++;
    await io.stdout(print(record));
  };
  if (group !== undefined) {
    await consumeGroup(
      client,
      {
        ...options,
        group,
        fromBeginning: values["from-beginning"] === true,
      },
      io,
      emit,
    );
  } else {
    await consumePartitions(
      client,
      {
        ...options,
        partition,
        start: start ??
          { kind: values["from-beginning"] === true ? "beginning" : "end" },
      },
      io,
      emit,
    );
  }
  await io.stderr(`Processed a total of ${printed} message(s).\n`);
}

function startSpecOf(
  args: ReturnType<typeof commandArgs>,
): StartSpec | undefined {
  const offset = args.string("offset");
  const fromTime = args.string("from-time");
  const fromBeginning = args.values["from-beginning"] === true;
  if (
    [offset, fromTime].filter((v) => v !== undefined).length > 1 ||
    (fromBeginning && (offset !== undefined || fromTime !== undefined))
  ) {
    throw args.usage(
      "Give one start: --from-beginning, --offset or --from-time",
    );
  }
  if (fromTime !== undefined) {
    const timestamp = parseDateTime(fromTime);
    if (timestamp === undefined) {
      throw args.usage(
        `--from-time must be an ISO date-time or ms since the epoch, got '${fromTime}'`,
      );
    }
    return { kind: "time", timestamp };
  }
  if (offset === undefined) return undefined;
  const spec = parseStartSpec(offset);
  if (spec === undefined) {
    throw args.usage(
      `--offset must be beginning, end, N, -N or s@TIMESTAMP_MS, got '${offset}'`,
    );
  }
  return spec;
}

/** The printer for `--format`, `--json` or the default. */
function printerOf(
  args: ReturnType<typeof commandArgs>,
  values: Parsed["values"],
): (record: PrintedRecord) => string {
  const format = args.string("format");
  if (format !== undefined && values.json === true) {
    throw args.usage("--format and --json exclude each other");
  }
  if (values.json === true) return jsonLine;
  if (format !== undefined) {
    try {
      return compileFormat(format);
    } catch (error) {
      throw args.usage((error as Error).message);
    }
  }
  if (values["print-key"] === true) {
    return (r) =>
      `${r.key === null ? "null" : fieldText(r.key)}\t${fieldText(r.value)}\n`;
  }
  return (r) => `${r.value === null ? "null" : fieldText(r.value)}\n`;
}

interface ConsumeOptions {
  topic: string;
  follow: boolean;
  maxMessages: number;
}

async function consumeGroup(
  client: EdgelogClient,
  options: ConsumeOptions & { group: string; fromBeginning: boolean },
  io: CliIo,
  print: (record: PrintedRecord) => Promise<void>,
): Promise<void> {
  const consumer = client.consumer({
    group: options.group,
    topics: [options.topic],
    fromBeginning: options.fromBeginning,
    maxWaitMs: FOLLOW_WAIT_MS,
  });
  const stop = () => void consumer.close();
  io.signal.addEventListener("abort", stop, { once: true });
  let count = 0;
  try {
    for await (
      const record of consumer.records({ untilCaughtUp: !options.follow })
    ) {
      await print(record);
      if (++count >= options.maxMessages) break;
    }
  } finally {
    io.signal.removeEventListener("abort", stop);
    await consumer.close();
  }
}

async function consumePartitions(
  client: EdgelogClient,
  options: ConsumeOptions & { partition: number | undefined; start: StartSpec },
  io: CliIo,
  print: (record: PrintedRecord) => Promise<void>,
): Promise<void> {
  const described = await client.describeTopic(options.topic);
  const partitions = described.partitions.filter((p) =>
    options.partition === undefined || p.partition === options.partition
  );
  if (partitions.length === 0) {
    throw new EdgelogError(
      "PARTITION_NOT_FOUND",
      `Topic '${options.topic}' has no partition ${options.partition}`,
    );
  }
  const done = new AbortController();
  const signal = AbortSignal.any([done.signal, io.signal]);
  let remaining = options.maxMessages;
  const take = async (record: FetchedRecord) => {
    if (remaining <= 0) return;
    remaining--;
    await print({ ...record, topic: options.topic });
    if (remaining === 0) done.abort();
  };
  const readPartition = async (bounds: (typeof partitions)[number]) => {
    let position: OffsetSpec = await startOffset(
      client,
      options.topic,
      bounds,
      options.start,
    );
    while (!signal.aborted) {
      let page;
      try {
        page = await client.fetch(options.topic, bounds.partition, {
          offset: position,
          maxRecords: FETCH_MAX_RECORDS,
          maxBytes: FETCH_MAX_BYTES,
          maxWaitMs: options.follow ? FOLLOW_WAIT_MS : 0,
          signal,
        });
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      for (const record of page.records) await take(record);
      position = page.nextOffset;
      if (!options.follow && page.nextOffset >= page.highWatermark) return;
    }
  };
  await Promise.all(
    partitions.map((bounds) =>
      readPartition(bounds).catch((error) => {
        done.abort();
        throw error;
      })
    ),
  );
}
