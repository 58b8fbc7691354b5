/**
 * The bookkeeping of a stream's window of pushes in flight: answers may
 * come back in any order, but progress is only taken over the contiguous
 * answered prefix, so the durable ack never passes a hole.
 *
 * @module
 */

import type { PushResult } from "./stream_registry.ts";

/** One push of the window, in flight or answered. */
export interface InFlight {
  lastOffset: number;
  dropped: number;
  answer: PushResult | undefined;
  failed: boolean;
  /** Resolves (never rejects) once the push is answered or failed. */
  settled: Promise<void>;
}

/**
 * Removes and returns the window's contiguous answered prefix, in offset
 * order: an answer behind a push still in flight (or failed) stays.
 */
export function takeAnsweredPrefix(
  pushes: InFlight[],
): { entry: InFlight; answer: PushResult }[] {
  const taken: { entry: InFlight; answer: PushResult }[] = [];
  for (;;) {
    const answer = pushes[0]?.answer;
    if (answer === undefined) return taken;
    taken.push({ entry: pushes.shift()!, answer });
  }
}

/** The pushes of the window neither answered nor failed yet. */
export function openPushes(pushes: readonly InFlight[]): InFlight[] {
  return pushes.filter((r) => !r.failed && !r.answer);
}

/** Whether every push of the window was answered or failed. */
export function windowSettled(pushes: readonly InFlight[]): boolean {
  return pushes.every((r) => r.failed || r.answer);
}
