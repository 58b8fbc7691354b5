/**
 * The body of a push: local batches copied once into one buffer with the
 * producer fields set, so the upstream's idempotent-producer rule can
 * resolve any retry.
 *
 * @module
 */

import {
  type BatchHeader,
  lastOffset as batchLastOffset,
  readBatchHeader,
  setProducer,
} from "../format/batch_header.ts";
import { sequenceForOffset } from "./sequence.ts";

/** The producer fields a pushed batch carries. */
export interface PushProducer {
  producerId: number;
  producerEpoch: number;
}

/** A local batch as read, with its parsed header. */
export interface LocalBatch {
  batch: Uint8Array;
  header: BatchHeader;
}

/**
 * The batches of a read that hold offsets at or after `from` (a read
 * starts at the batch containing `from`, which may begin before it).
 */
export function batchesFrom(
  batches: readonly Uint8Array[],
  from: number,
): LocalBatch[] {
  const kept: LocalBatch[] = [];
  for (const batch of batches) {
    const header = readBatchHeader(batch);
    if (batchLastOffset(header) >= from) kept.push({ batch, header });
  }
  return kept;
}

/**
 * One buffer holding `batches` in order, each stamped with the producer
 * and the sequence derived from its base offset; where `replacements`
 * has an entry (a gzip copy already stamped), that goes instead.
 */
export function pushBody(
  batches: readonly LocalBatch[],
  options: {
    producer: PushProducer;
    replacements?: readonly (Uint8Array | undefined)[] | undefined;
  },
): Uint8Array {
  const { producer, replacements } = options;
  let size = 0;
  for (let i = 0; i < batches.length; i++) {
    size += (replacements?.[i] ?? batches[i]!.batch).length;
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < batches.length; i++) {
    const { batch, header } = batches[i]!;
    const replacement = replacements?.[i];
    if (replacement !== undefined) {
      body.set(replacement, at);
      at += replacement.length;
      continue;
    }
    body.set(batch, at);
    setProducer(
      body.subarray(at, at + batch.length),
      producer.producerId,
      producer.producerEpoch,
      sequenceForOffset(header.baseOffset),
    );
    at += batch.length;
  }
  return body;
}
