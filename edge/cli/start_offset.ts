/**
 * Where `consume` starts in each partition, in kcat's terms: `beginning`,
 * `end`, an absolute offset, `-N` (N before the end), or `s@T` (the first
 * record at or after time T, in ms). `--from-time` takes an ISO date-time.
 *
 * @module
 */

import type { EdgelogClient, OffsetSpec } from "../../runtime/client/mod.ts";

/** A parsed start position. */
export type StartSpec =
  | { kind: "beginning" }
  | { kind: "end" }
  | { kind: "absolute"; offset: number }
  | { kind: "fromEnd"; count: number }
  | { kind: "time"; timestamp: number };

/** Parses `-o`'s value; undefined when it is none of the forms. */
export function parseStartSpec(text: string): StartSpec | undefined {
  if (text === "beginning" || text === "earliest") return { kind: "beginning" };
  if (text === "end" || text === "latest") return { kind: "end" };
  const time = /^s@(\d+)$/.exec(text);
  if (time) {
    return safe(Number(time[1]), (timestamp) => ({ kind: "time", timestamp }));
  }
  const back = /^-(\d+)$/.exec(text);
  if (back) {
    return safe(Number(back[1]), (count) => ({ kind: "fromEnd", count }));
  }
  if (/^\d+$/.test(text)) {
    return safe(Number(text), (offset) => ({ kind: "absolute", offset }));
  }
  return undefined;
}

function safe(
  value: number,
  make: (value: number) => StartSpec,
): StartSpec | undefined {
  return Number.isSafeInteger(value) ? make(value) : undefined;
}

/** `--from-time`'s value (an ISO 8601 date-time or ms since the epoch) as ms. */
export function parseDateTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The bounds of one partition, as a topic description gives them. */
export interface PartitionBounds {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
}

/** The offset one partition starts at under `spec`. */
export async function startOffset(
  client: EdgelogClient,
  topic: string,
  bounds: PartitionBounds,
  spec: StartSpec,
): Promise<OffsetSpec> {
  switch (spec.kind) {
    case "beginning":
      return "earliest";
    case "end":
      return "latest";
    case "absolute":
      return spec.offset;
    case "fromEnd":
      return Math.max(bounds.logStartOffset, bounds.highWatermark - spec.count);
    case "time":
      return await client.offsetForTimestamp(
        topic,
        bounds.partition,
        spec.timestamp,
      );
  }
}
