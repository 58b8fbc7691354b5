/**
 * The idempotent-producer rule of one stream, as pure functions: which
 * batches of a push are duplicates, which are appended, and which gaps are
 * refused. The broker's registry runs these under a per-stream lock; the
 * restart scan runs {@linkcode replayStoredBatch} over the central log.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { offsetAtOrAfter } from "./sequence.ts";

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

/**
 * Checks the batches of one push against `ackedOffset` (-1 for none):
 * wholly held batches are skipped, the next expected ones appended. A gap or
 * a batch straddling `ackedOffset` refuses the whole push with
 * OUT_OF_ORDER_SEQUENCE and `expectedOffset`, unless `declaredDropped` is
 * exactly the gap before the first appended batch.
 */
export function planPush(
  ackedOffset: number,
  spans: readonly LocalSpan[],
  declaredDropped = 0,
): PushPlan {
  const append: number[] = [];
  let cursor = ackedOffset;
  let dropped = 0;
  spans.forEach((span, i) => {
    if (span.lastOffset <= cursor) return;
    if (span.firstOffset === cursor + 1) {
      append.push(i);
      cursor = span.lastOffset;
      return;
    }
    const gap = span.firstOffset - cursor - 1;
    if (
      gap > 0 && append.length === 0 && declaredDropped > 0 &&
      gap === declaredDropped
    ) {
      append.push(i);
      dropped = gap;
      cursor = span.lastOffset;
      return;
    }
    const what = gap > 0
      ? `a gap of ${gap} record(s)` +
        (declaredDropped > 0 ? ` (declared dropped: ${declaredDropped})` : "")
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
  return {
    ackedOffset: first + lastOffsetDelta,
    droppedRecords: state.droppedRecords + (first - state.ackedOffset - 1),
  };
}
