/**
 * The segment manifest of a partition: the active segment's base offset
 * and what opening needs to know about each closed segment, so that an open
 * neither lists the directory nor stats or reads the closed segments, and
 * costs the same with ten of them or ten thousand. Closed segments never
 * change, so the manifest is rewritten only when the set of segments does
 * (a roll, a deleteBefore), after the files change. It is a cache, never
 * the truth: the partition store checks it against the files a crash
 * between a file change and its manifest write can leave, and rebuilds it
 * from the directory when it does not match.
 *
 * ```
 * file (big-endian)
 * offset size field
 *      0    4 magic         "ELSM"
 *      4    4 count         uint32  closed segments, oldest first
 *      8    8 activeBase    int64   the active segment's baseOffset
 *     16 32×n entries       see below
 *  16+32n   4 crc           uint32  CRC-32C of every byte before it
 *
 * entry
 *      0    8 baseOffset    int64
 *      8    8 nextOffset    int64   the next segment's baseOffset
 *     16    8 sizeBytes     int64   the log file's length
 *     24    8 maxTimestamp  int64   -2^63 when not known
 * ```
 *
 * @module
 */

import { crc32c } from "../../runtime/format/crc32c.ts";
import { writeAll } from "./_fs_util.ts";

/** The manifest's file name in the partition directory. */
export const MANIFEST_FILE = "segments.manifest";

/** The segments of a partition, as the manifest holds them. */
export interface Manifest {
  /** Oldest first, each ending where the next begins. */
  closed: ManifestEntry[];
  /** The active segment's base offset, where the last closed one ends. */
  activeBase: number;
}

/** What the manifest holds about one closed segment. */
export interface ManifestEntry {
  baseOffset: number;
  nextOffset: number;
  sizeBytes: number;
  /** Largest batch timestamp (-1 when none); undefined when not known. */
  maxTimestamp: number | undefined;
}

const MAGIC = 0x454c534d;
const HEADER_BYTES = 16;
const ENTRY_BYTES = 32;
const UNKNOWN_TIMESTAMP = -(2n ** 63n);

/**
 * Encodes a manifest file.
 *
 * @example Usage
 * ```ts
 * import { decodeManifest, encodeManifest } from "./segment_manifest.ts";
 * const closed = [
 *   { baseOffset: 0, nextOffset: 10, sizeBytes: 900, maxTimestamp: 7 },
 * ];
 * const bytes = encodeManifest({ closed, activeBase: 10 });
 * console.assert(decodeManifest(bytes)?.activeBase === 10);
 * ```
 */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const { closed, activeBase } = manifest;
  const bytes = new Uint8Array(HEADER_BYTES + closed.length * ENTRY_BYTES + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, closed.length);
  view.setBigInt64(8, BigInt(activeBase));
  let at = HEADER_BYTES;
  for (const entry of closed) {
    view.setBigInt64(at, BigInt(entry.baseOffset));
    view.setBigInt64(at + 8, BigInt(entry.nextOffset));
    view.setBigInt64(at + 16, BigInt(entry.sizeBytes));
    view.setBigInt64(
      at + 24,
      entry.maxTimestamp === undefined
        ? UNKNOWN_TIMESTAMP
        : BigInt(entry.maxTimestamp),
    );
    at += ENTRY_BYTES;
  }
  view.setUint32(at, crc32c(bytes.subarray(0, at)));
  return bytes;
}

/**
 * Decodes a manifest file, or returns undefined when its bytes are not a
 * whole, CRC-checked manifest of contiguous segments (oldest first, each
 * ending where the next begins, the last where the active one begins).
 */
export function decodeManifest(bytes: Uint8Array): Manifest | undefined {
  if (bytes.length < HEADER_BYTES + 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const count = view.getUint32(4);
  const end = HEADER_BYTES + count * ENTRY_BYTES;
  if (
    view.getUint32(0) !== MAGIC || bytes.length !== end + 4 ||
    view.getUint32(end) !== crc32c(bytes.subarray(0, end))
  ) {
    return undefined;
  }
  const activeBase = Number(view.getBigInt64(8));
  if (!Number.isSafeInteger(activeBase) || activeBase < 0) return undefined;
  const closed: ManifestEntry[] = [];
  for (let at = HEADER_BYTES; at < end; at += ENTRY_BYTES) {
    const baseOffset = Number(view.getBigInt64(at));
    const nextOffset = Number(view.getBigInt64(at + 8));
    const sizeBytes = Number(view.getBigInt64(at + 16));
    const timestamp = view.getBigInt64(at + 24);
    const previous = closed.at(-1);
    if (
      !Number.isSafeInteger(baseOffset) || !Number.isSafeInteger(nextOffset) ||
      baseOffset < 0 || nextOffset <= baseOffset || sizeBytes < 0 ||
      sizeBytes > 0x7fffffff ||
      (previous !== undefined && previous.nextOffset !== baseOffset)
    ) {
      return undefined;
    }
    closed.push({
      baseOffset,
      nextOffset,
      sizeBytes,
      maxTimestamp: timestamp === UNKNOWN_TIMESTAMP
        ? undefined
        : Number(timestamp),
    });
  }
  const last = closed.at(-1);
  if (last !== undefined && last.nextOffset !== activeBase) return undefined;
  return { closed, activeBase };
}

/**
 * Reads the manifest in `dir`, or returns undefined when it is missing or
 * damaged. Synchronous: it is one small read, done once when a partition
 * opens.
 */
export function readManifest(dir: string): Manifest | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${dir}/${MANIFEST_FILE}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  return decodeManifest(bytes);
}

/**
 * Replaces the manifest in `dir` atomically: written and fsynced beside it,
 * then renamed over it. The caller fsyncs `dir` to make the rename durable.
 */
export async function writeManifest(
  dir: string,
  manifest: Manifest,
): Promise<void> {
  const path = `${dir}/${MANIFEST_FILE}`;
  const temp = `${path}.tmp`;
  const file = await Deno.open(temp, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    await writeAll(file, encodeManifest(manifest));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temp, path);
}
