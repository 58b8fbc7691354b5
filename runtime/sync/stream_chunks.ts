/**
 * How the stream registry persists its streams: in chunks of
 * {@linkcode CHUNK_SIZE} consecutive producerIds, one meta key per chunk,
 * each stream a row (an array, not an object: a chunk is stringified and
 * parsed whole, and arrays are about half the text and the work). A fleet
 * of 100 000 streams is 391 keys instead of 100 000 files, and writes of
 * one chunk that arrive while another is under way share the next one.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import type { StreamInfo } from "./stream_registry.ts";

/** Streams per chunk. */
export const CHUNK_SIZE = 256;
/** Meta key prefix of the chunks. */
export const CHUNK_PREFIX = "sync/chunks/";

/** A stream as the registry keeps and persists it. */
export interface StreamRow extends Omit<StreamInfo, "lagRecords"> {
  /** Central offset of the stream's last record, -1 for none. */
  lastCentralOffset: number;
  /** Every batch of the stream below this central offset is in ackedOffset. */
  snapshotOffset: number;
  /** The device's local high watermark as it last said, -1 when unknown. */
  sourceHighWatermark: number;
}

/** The chunk that holds `producerId`. */
export function chunkOf(producerId: number): number {
  return Math.floor(producerId / CHUNK_SIZE);
}

/** The meta key of `chunk`; keys sort in chunk order. */
export function chunkKey(chunk: number): string {
  return CHUNK_PREFIX + String(chunk).padStart(10, "0");
}

type Row = [
  producerId: number,
  nodeId: string,
  topic: string,
  sourcePartition: number,
  producerEpoch: number,
  partition: number,
  ackedOffset: number,
  lastSeenMs: number,
  droppedRecords: number,
  lastCentralOffset: number,
  snapshotOffset: number,
  sourceHighWatermark: number,
];

/** The meta value of a chunk holding `streams`. */
export function encodeChunk(streams: readonly StreamRow[]): unknown {
  return {
    rows: streams.map((s): Row => [
      s.producerId,
      s.nodeId,
      s.topic,
      s.sourcePartition,
      s.producerEpoch,
      s.partition,
      s.ackedOffset,
      s.lastSeenMs,
      s.droppedRecords,
      s.lastCentralOffset,
      s.snapshotOffset,
      s.sourceHighWatermark,
    ]),
  };
}

function badChunk(key: string): EdgelogError {
  return new EdgelogError(
    "INTERNAL",
    `Meta entry ${key} is not a chunk of sync streams`,
  );
}

function isRow(row: unknown): row is Row {
  if (
    !Array.isArray(row) || row.length !== 12 || typeof row[1] !== "string" ||
    typeof row[2] !== "string" || !Number.isSafeInteger(row[0])
  ) return false;
  for (let i = 3; i < 12; i++) {
    if (!Number.isSafeInteger(row[i])) return false;
  }
  return true;
}

/** The streams of a chunk's meta value; INTERNAL when it is not one. */
export function decodeChunk(key: string, value: unknown): StreamRow[] {
  const rows = (value as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw badChunk(key);
  return rows.map((row: unknown) => {
    if (!isRow(row)) throw badChunk(key);
    const r = row;
    return {
      producerId: r[0],
      nodeId: r[1],
      topic: r[2],
      sourcePartition: r[3],
      producerEpoch: r[4],
      partition: r[5],
      ackedOffset: r[6],
      lastSeenMs: r[7],
      droppedRecords: r[8],
      lastCentralOffset: r[9],
      snapshotOffset: r[10],
      sourceHighWatermark: r[11],
    };
  });
}

/**
 * Writes chunks through `write`, at most one write of a chunk at a time: a
 * request made while the chunk is being written shares the write that
 * starts after it, which takes the chunk's state when it starts, so every
 * caller's change is in the write its promise waits for.
 */
export class ChunkWriter {
  #write: (chunk: number) => Promise<void>;
  #running = new Map<number, Promise<void>>();
  #next = new Map<number, Promise<void>>();

  constructor(write: (chunk: number) => Promise<void>) {
    this.#write = write;
  }

  /** Resolves once a write of `chunk` that started after this call is done. */
  request(chunk: number): Promise<void> {
    const running = this.#running.get(chunk);
    if (running === undefined) return this.#start(chunk);
    let next = this.#next.get(chunk);
    if (next === undefined) {
      next = running.catch(() => {}).then(() => {
        this.#next.delete(chunk);
        return this.#start(chunk);
      });
      this.#next.set(chunk, next);
    }
    return next;
  }

  /** Waits for every write under way or due (their failures ignored). */
  async settle(): Promise<void> {
    await Promise.allSettled([
      ...this.#running.values(),
      ...this.#next.values(),
    ]);
  }

  #start(chunk: number): Promise<void> {
    const running: Promise<void> = this.#write(chunk).finally(() => {
      if (this.#running.get(chunk) === running) this.#running.delete(chunk);
    });
    this.#running.set(chunk, running);
    return running;
  }
}
