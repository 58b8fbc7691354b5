/**
 * Sequence numbers of replicated batches. A device derives a batch's
 * baseSequence from its local offset, so the device's own log is the
 * producer's retry buffer: the sequence needs no separate counter that could
 * be lost. Like Kafka's, sequences are int32 and wrap to 0 after 2^31 - 1.
 *
 * @module
 */

/** Sequences run over [0, 2^31). */
export const SEQUENCE_MODULUS = 2 ** 31;

/**
 * The sequence of a local offset.
 *
 * @example Usage
 * ```ts
 * import { sequenceForOffset } from "./sequence.ts";
 * console.assert(sequenceForOffset(2 ** 31 + 5) === 5);
 * ```
 */
export function sequenceForOffset(offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`Cannot derive a sequence from offset ${offset}`);
  }
  return offset % SEQUENCE_MODULUS;
}

/**
 * The smallest offset at or after `from` whose sequence is `sequence`: how
 * the broker recovers a full local offset from a stored batch's 31-bit
 * sequence, given an offset it already knows. Exact as long as the stream
 * never skipped 2^31 records at once.
 *
 * @example Usage
 * ```ts
 * import { offsetAtOrAfter } from "./sequence.ts";
 * console.assert(offsetAtOrAfter(2 ** 31 - 1, 3) === 2 ** 31 + 3);
 * ```
 */
export function offsetAtOrAfter(from: number, sequence: number): number {
  if (
    !Number.isInteger(sequence) || sequence < 0 || sequence >= SEQUENCE_MODULUS
  ) {
    throw new RangeError(`Sequence ${sequence} is outside [0, 2^31)`);
  }
  const delta = (sequence - sequenceForOffset(from) + SEQUENCE_MODULUS) %
    SEQUENCE_MODULUS;
  return from + delta;
}
