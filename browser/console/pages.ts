/**
 * Reading a page of records for the message browser: where a page starts
 * (earliest, latest, an offset or a date-time, per partition), and a page
 * read forward from there across one partition or all of them, skipping
 * records the filters refuse, with the positions the next page starts at.
 *
 * @module
 */

import { api, ApiError, topicPath } from "./api.ts";
import { type ApiRecord, matches, type ValueFilter } from "./record_value.ts";

/** Partition → the next offset to read there. */
export type Positions = Record<number, number>;

/** A partition's bounds, from `GET /v1/topics/{topic}`. */
export interface Bounds {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
}

/** Where a browse starts. */
export type Start =
  | { from: "earliest" }
  | { from: "latest" }
  | { from: "offset"; offset: number }
  | { from: "time"; timestamp: number };

/** Records a filtered page may scan before it answers with what it found. */
export const MAX_SCAN = 5000;

/** `"0:12,1:40"` ⇄ positions, for deep links. */
export function formatPositions(positions: Positions): string {
  return Object.entries(positions).map(([p, o]) => `${p}:${o}`).join(",");
}

/** Positions from a link; undefined when malformed. */
export function parsePositions(text: string): Positions | undefined {
  const positions: Positions = {};
  for (const part of text.split(",")) {
    const m = /^(\d{1,9}):(\d{1,16})$/.exec(part);
    if (!m) return undefined;
    positions[Number(m[1])] = Number(m[2]);
  }
  return positions;
}

/** Where each partition starts for `start`, showing about `size` records. */
export async function startPositions(
  topic: string,
  partitions: readonly Bounds[],
  start: Start,
  size: number,
): Promise<Positions> {
  const positions: Positions = {};
  const share = Math.ceil(size / Math.max(1, partitions.length));
  await Promise.all(partitions.map(async (p) => {
    const clamp = (o: number) =>
      Math.min(Math.max(o, p.logStartOffset), p.highWatermark);
    switch (start.from) {
      case "earliest":
        positions[p.partition] = p.logStartOffset;
        return;
      case "latest":
        positions[p.partition] = clamp(p.highWatermark - share);
        return;
      case "offset":
        positions[p.partition] = clamp(start.offset);
        return;
      case "time": {
        const answer = await api<{ offset: number }>(
          topicPath(
            topic,
            `/partitions/${p.partition}/offsets?timestamp=${start.timestamp}`,
          ),
        );
        positions[p.partition] = clamp(answer.offset);
      }
    }
  }));
  return positions;
}

/** Where the page before one at `positions` starts, when not remembered. */
export function previousPositions(
  positions: Positions,
  partitions: readonly Bounds[],
  size: number,
): Positions {
  const share = Math.ceil(size / Math.max(1, partitions.length));
  const out: Positions = {};
  for (const p of partitions) {
    const at = positions[p.partition] ?? p.logStartOffset;
    out[p.partition] = Math.max(p.logStartOffset, at - share);
  }
  return out;
}

/** One page of records. */
export interface RecordPage {
  records: ApiRecord[];
  /** Where the next page starts. */
  next: Positions;
  /** Whether every partition was read to its high watermark. */
  atEnd: boolean;
  scanned: number;
}

interface Fetched {
  records: ApiRecord[];
  nextOffset: number;
  highWatermark: number;
}

async function fetchFrom(
  topic: string,
  partition: number,
  offset: number,
  maxRecords: number,
  signal?: AbortSignal,
): Promise<Fetched> {
  const path = (o: number | "earliest") =>
    topicPath(
      topic,
      `/partitions/${partition}/records?offset=${o}&maxRecords=${maxRecords}`,
    );
  try {
    return await api<Fetched>(path(offset), signal ? { signal } : {});
  } catch (err) {
    // Retention moved the log start past the position: read from there.
    if (err instanceof ApiError && err.status === 416) {
      return await api<Fetched>(path("earliest"), signal ? { signal } : {});
    }
    throw err;
  }
}

/**
 * Reads `size` records that pass the filters from `positions` on, in
 * timestamp order across partitions, scanning at most {@linkcode MAX_SCAN}.
 */
export async function readPage(
  topic: string,
  positions: Positions,
  size: number,
  filters: { key: string; value: ValueFilter },
  signal?: AbortSignal,
): Promise<RecordPage> {
  const filtering = filters.key !== "" || filters.value.kind !== "none";
  const chunk = filtering ? 500 : size;
  const next: Positions = { ...positions };
  const records: ApiRecord[] = [];
  const ended = new Set<number>();
  let scanned = 0;
  const partitions = Object.keys(next).map(Number);
  while (records.length < size && scanned < MAX_SCAN) {
    const live = partitions.filter((p) => !ended.has(p));
    if (live.length === 0) break;
    const answers = await Promise.all(
      live.map((p) => fetchFrom(topic, p, next[p]!, chunk, signal)),
    );
    const batch: ApiRecord[] = [];
    answers.forEach((answer, i) => {
      const p = live[i]!;
      if (answer.records.length === 0) {
        next[p] = Math.max(next[p]!, answer.nextOffset);
        ended.add(p);
      }
      batch.push(...answer.records);
    });
    batch.sort((a, b) =>
      a.timestamp - b.timestamp || a.partition - b.partition ||
      a.offset - b.offset
    );
    for (const record of batch) {
      if (records.length >= size) break;
      scanned++;
      next[record.partition] = record.offset + 1;
      if (matches(record, filters.key, filters.value)) records.push(record);
    }
    answers.forEach((answer, i) => {
      const p = live[i]!;
      if (next[p]! >= answer.highWatermark) ended.add(p);
    });
  }
  return {
    records,
    next,
    atEnd: partitions.every((p) => ended.has(p)),
    scanned,
  };
}
