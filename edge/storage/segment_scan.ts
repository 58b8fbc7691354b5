/**
 * The check of a segment's bytes on recovery: every batch that still
 * checks out (CRC, header, record framing; batch_validation.ts), where the
 * damaged ranges between them lie, and where a torn tail begins.
 *
 * ```
 * [ok][ok][damage][ok][ok][torn tail]
 *         ^ a damaged range: a batch that checks out follows it
 *                           ^ validBytes: nothing after it checks out
 * ```
 *
 * A torn tail is what a crash leaves at the end of the active segment and
 * is cut off. Damage followed by a batch that checks out cannot be a torn
 * write: it is kept aside and skipped, and the batches after it stay.
 *
 * @module
 */

import {
  BATCH_HEADER_SIZE,
  type BatchHeader,
  batchSize,
  lastOffset,
  LOG_OVERHEAD,
  MAGIC,
} from "../../runtime/format/batch_header.ts";
import { checkBatchSync } from "../../runtime/format/batch_validation.ts";

/** A byte range of a segment holding no batch that checks out. */
export interface DamagedRange {
  /** First damaged byte. */
  start: number;
  /** One past the last damaged byte. */
  end: number;
  /** First offset the range may have held. */
  fromOffset: number;
  /** Last offset the range may have held. */
  toOffset: number;
}

/** What {@linkcode scanSegment} found. */
export interface SegmentScan {
  /** Headers of the batches that check out, in order. */
  headers: BatchHeader[];
  /** Byte position of each of them. */
  positions: number[];
  /** Damaged ranges with a batch that checks out after each. */
  damaged: DamagedRange[];
  /** End of the last batch that checks out: a torn tail starts here. */
  validBytes: number;
}

/** The header of a batch at `at` that checks out and starts at `from` or later. */
function batchAt(
  bytes: Uint8Array,
  at: number,
  from: number,
  exact: boolean,
): BatchHeader | undefined {
  let header: BatchHeader;
  try {
    header = checkBatchSync(bytes, at);
  } catch {
    return undefined;
  }
  const fits = exact ? header.baseOffset === from : header.baseOffset >= from;
  return fits ? header : undefined;
}

/**
 * The position of the next batch after `start` that checks out with a
 * baseOffset of at least `from`; cheap tests (magic, length, offset) come
 * before the CRC.
 */
function resync(
  bytes: Uint8Array,
  start: number,
  from: number,
): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = start; at + BATCH_HEADER_SIZE <= bytes.length; at++) {
    if (bytes[at + 16] !== MAGIC) continue;
    const length = view.getInt32(at + 8);
    if (
      length < BATCH_HEADER_SIZE - LOG_OVERHEAD ||
      length > bytes.length - at - LOG_OVERHEAD
    ) continue;
    const base = Number(view.getBigInt64(at));
    if (!Number.isSafeInteger(base) || base < from) continue;
    if (batchAt(bytes, at, from, false) !== undefined) return at;
  }
  return undefined;
}

/**
 * Scans the bytes of a segment whose first offset is `baseOffset`. Batches
 * must run on without a gap, except across a damaged range.
 */
export function scanSegment(
  bytes: Uint8Array,
  baseOffset: number,
): SegmentScan {
  const headers: BatchHeader[] = [];
  const positions: number[] = [];
  const damaged: DamagedRange[] = [];
  let at = 0;
  let next = baseOffset;
  while (at < bytes.length) {
    const header = batchAt(bytes, at, next, true);
    if (header === undefined) {
      const after = resync(bytes, at + 1, next);
      if (after === undefined) break;
      const view = new DataView(bytes.buffer, bytes.byteOffset + after, 8);
      const resumed = Number(view.getBigInt64(0));
      damaged.push({
        start: at,
        end: after,
        fromOffset: next,
        toOffset: resumed - 1,
      });
      at = after;
      next = resumed;
      continue;
    }
    headers.push(header);
    positions.push(at);
    next = lastOffset(header) + 1;
    at += batchSize(header);
  }
  return { headers, positions, damaged, validBytes: at };
}
