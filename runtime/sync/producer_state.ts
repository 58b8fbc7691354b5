/**
 * The idempotent-producer rule of one stream, as pure functions: which
 * batches of a push are duplicates, which are appended, and which gaps are
 * refused. The broker's registry runs these under a per-stream lock; the
 * restart scan runs {@linkcode replayStoredBatch} over the central log.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { offsetAtOrAfter, SEQUENCE_MODULUS } from "./sequence.ts";

/**
 * The largest gap a device may declare dropped: the broker recovers a
 * stored batch's local offset from its 31-bit sequence and the offset
 * before it, which is exact only for gaps below 2^31.
 */
export const MAX_DECLARED_DROPPED = SEQUENCE_MODULUS - 1;

/** How many declared-dropped ranges a stream remembers, newest kept. */
export const REMEMBERED_DROPPED_RANGES = 16;

/** Local offsets `[first, last]` a device declared dropped. */
export type DroppedRange = readonly [first: number, last: number];

/** Local offsets of one pushed batch. */
export interface LocalSpan {
  firstOffset: number;
  lastOffset: number;
}

/** What a push does, once checked against the stream's acked offset. */
export interface PushPlan {
  /** Indexes of the batches to append, in order. */
  append: number[];
  /** The acked offset once they are appended. */
  ackedOffset: number;
  /** Records the device declared dropped, accepted as a gap. */
  dropped: number;
}

/** Options of {@linkcode planPush}. */
export interface PlanOptions {
  /** The request's Edgelog-Dropped; 0 when absent. */
  declaredDropped?: number;
  /** The gaps the stream accepted before (see {@linkcode noteDropped}). */
  droppedRanges?: readonly DroppedRange[];
  /** Largest gap accepted; default and ceiling {@linkcode MAX_DECLARED_DROPPED}. */
  maxDeclaredDropped?: number;
}

/**
 * Checks the batches of one push against `ackedOffset` (-1 for none):
 * wholly held batches are skipped, the next expected ones appended. A gap or
 * a batch straddling `ackedOffset` refuses the whole push with
 * OUT_OF_ORDER_SEQUENCE and `expectedOffset`, unless `declaredDropped` is
 * exactly the gap before the first appended batch and at most
 * `maxDeclaredDropped`; a declared gap is only ever accepted together with
 * the batch after it, so the acked offset never passes the records appended
 * plus the exact gap.
 *
 * A batch inside a gap the stream accepted as dropped is not a duplicate: the
 * upstream never held it, so a device sending it contradicts the declared
 * drop (someone else pushed that gap in its name). Such a push is refused
 * with STREAM_DIVERGED rather than answered as held, so its records are
 * never silently discarded.
 */
export function planPush(
  ackedOffset: number,
  spans: readonly LocalSpan[],
  options: PlanOptions = {},
): PushPlan {
  const declaredDropped = options.declaredDropped ?? 0;
  const maxDropped = Math.min(
    options.maxDeclaredDropped ?? MAX_DECLARED_DROPPED,
    MAX_DECLARED_DROPPED,
  );
  const append: number[] = [];
  let cursor = ackedOffset;
  let dropped = 0;
  spans.forEach((span, i) => {
    if (span.lastOffset <= cursor) {
      const range = options.droppedRanges?.find(([first, last]) =>
        span.firstOffset <= last && span.lastOffset >= first
      );
      if (range !== undefined) {
        throw new EdgelogError(
          "STREAM_DIVERGED",
          `Cannot take local offsets ${span.firstOffset}..${span.lastOffset}: offsets ${
            range[0]
          }..${
            range[1]
          } of this stream were declared dropped, and the upstream acknowledged up to ${cursor}; this device's log and the stream disagree`,
          { ackedOffset, droppedFrom: range[0], droppedTo: range[1] },
        );
      }
      return;
    }
    if (span.firstOffset === cursor + 1) {
      append.push(i);
      cursor = span.lastOffset;
      return;
    }
    const gap = span.firstOffset - cursor - 1;
    if (
      gap > 0 && append.length === 0 && declaredDropped > 0 &&
      gap === declaredDropped && gap <= maxDropped
    ) {
      append.push(i);
      dropped = gap;
      cursor = span.lastOffset;
      return;
    }
    const what = gap > 0
      ? `a gap of ${gap} record(s)` +
        (declaredDropped > 0 ? ` (declared dropped: ${declaredDropped})` : "") +
        (gap > maxDropped ? `, above the ${maxDropped} a push may drop` : "")
      : `a batch straddling acked offset ${cursor}`;
    throw new EdgelogError(
      "OUT_OF_ORDER_SEQUENCE",
      `Cannot append local offsets ${span.firstOffset}..${span.lastOffset}: ${what}; expected offset ${
        ackedOffset + 1
      }`,
      { expectedOffset: ackedOffset + 1 },
    );
  });
  return { append, ackedOffset: cursor, dropped };
}

/** A stream's acked offset and dropped count, as the restart scan rebuilds them. */
export interface ReplayState {
  ackedOffset: number;
  droppedRecords: number;
  /** The latest accepted dropped gaps, oldest first. */
  droppedRanges?: readonly DroppedRange[];
}

/** `ranges` with `[first, last]` added, keeping the newest few. */
export function noteDropped(
  ranges: readonly DroppedRange[] | undefined,
  first: number,
  last: number,
): DroppedRange[] {
  return [...(ranges ?? []), [first, last] as const].slice(
    -REMEMBERED_DROPPED_RANGES,
  );
}

/**
 * Applies a batch found in the central log to a stream's state: its first
 * local offset is the first offset after `ackedOffset` whose sequence is the
 * batch's baseSequence (a larger one means an accepted dropped gap).
 */
export function replayStoredBatch(
  state: ReplayState,
  baseSequence: number,
  lastOffsetDelta: number,
): ReplayState {
  const first = offsetAtOrAfter(state.ackedOffset + 1, baseSequence);
  const gap = first - state.ackedOffset - 1;
  return {
    ackedOffset: first + lastOffsetDelta,
    droppedRecords: state.droppedRecords + gap,
    droppedRanges: gap > 0
      ? noteDropped(state.droppedRanges, state.ackedOffset + 1, first - 1)
      : [...(state.droppedRanges ?? [])],
  };
}
