/**
 * `consume <topic>`: prints records, either straight from partitions or as
 * a member of a consumer group (which commits as it goes).
 *
 * @module
 */

import {
  type EdgelogClient,
  encodeBase64,
  type FetchedRecord,
  type OffsetSpec,
} from "../../runtime/client/mod.ts";
import { commandArgs } from "./args.ts";
import { clientFor, type CliIo } from "./io.ts";

const OPTIONS = {
  "from-beginning": { type: "boolean" },
  group: { type: "string" },
  partition: { type: "string" },
  offset: { type: "string" },
  follow: { type: "boolean", short: "f" },
  "max-messages": { type: "string" },
  "print-key": { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** How long one follow-mode fetch may wait for records. */
const FOLLOW_WAIT_MS = 1000;

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return JSON.stringify(value);
}

function jsonLine(record: FetchedRecord): string {
  const { key, value, ...rest } = record;
  return JSON.stringify({
    ...rest,
    ...(key instanceof Uint8Array ? { keyBase64: encodeBase64(key) } : { key }),
    ...(value instanceof Uint8Array
      ? { valueBase64: encodeBase64(value) }
      : { value }),
  });
}

/** Runs `consume`. */
export async function consumeCommand(argv: string[], io: CliIo): Promise<void> {
  const args = commandArgs(argv, OPTIONS, "consume");
  const { values } = args;
  const [topic] = args.expect(args.positionals, ["topic"]);
  const group = args.string("group");
  const partition = args.int("partition");
  const offset = args.int("offset");
  const maxMessages = args.int("max-messages", 1);
  if (offset !== undefined && partition === undefined) {
    throw args.usage("--offset needs --partition");
  }
  if (
    group !== undefined && (partition !== undefined || offset !== undefined)
  ) {
    throw args.usage("--group cannot be combined with --partition or --offset");
  }
  const options = {
    topic: topic!,
    follow: values.follow === true,
    fromBeginning: values["from-beginning"] === true,
    maxMessages: maxMessages ?? Infinity,
  };
  const client = clientFor(values, io);
  let printed = 0;
  const print = async (record: FetchedRecord) => {
    printed++;
    if (values.json === true) return await io.stdout(`${jsonLine(record)}\n`);
    const key = values["print-key"] === true
      ? `${record.key === null ? "null" : text(record.key)}\t`
      : "";
    await io.stdout(`${key}${text(record.value)}\n`);
  };
  if (group !== undefined) {
    await consumeGroup(client, { ...options, group }, io, print);
  } else {
    await consumePartitions(
      client,
      { ...options, partition, offset },
      io,
      print,
    );
  }
  await io.stderr(`Processed a total of ${printed} message(s).\n`);
}

interface ConsumeOptions {
  topic: string;
  follow: boolean;
  fromBeginning: boolean;
  maxMessages: number;
}

async function consumeGroup(
  client: EdgelogClient,
  options: ConsumeOptions & { group: string },
  io: CliIo,
  print: (record: FetchedRecord) => Promise<void>,
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
  options: ConsumeOptions & {
    partition: number | undefined;
    offset: number | undefined;
  },
  io: CliIo,
  print: (record: FetchedRecord) => Promise<void>,
): Promise<void> {
  const partitions = options.partition !== undefined
    ? [options.partition]
    : (await client.describeTopic(options.topic)).partitions.map((p) =>
      p.partition
    );
  const done = new AbortController();
  const signal = AbortSignal.any([done.signal, io.signal]);
  let remaining = options.maxMessages;
  const readPartition = async (partition: number) => {
    let position: OffsetSpec = options.offset ??
      (options.fromBeginning ? "earliest" : "latest");
    while (!signal.aborted) {
      let page;
      try {
        page = await client.fetch(options.topic, partition, {
          offset: position,
          maxWaitMs: options.follow ? FOLLOW_WAIT_MS : 0,
          signal,
        });
      } catch (error) {
        if (signal.aborted) return;
        throw error;
      }
      for (const record of page.records) {
        if (remaining <= 0) break;
        remaining--;
        await print(record);
        if (remaining === 0) done.abort();
      }
      position = page.nextOffset;
      if (!options.follow && page.nextOffset >= page.highWatermark) return;
    }
  };
  await Promise.all(
    partitions.map((partition) =>
      readPartition(partition).catch((error) => {
        done.abort();
        throw error;
      })
    ),
  );
}
