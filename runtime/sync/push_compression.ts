/**
 * Gzip re-encoding of local batches on their way upstream, and the "auto"
 * policy that decides per stream whether it is worth the CPU.
 *
 * @module
 */

import type { BatchHeader } from "../format/batch_header.ts";
import { decodeBatch, encodeBatch } from "../format/record_batch.ts";
import type { LocalBatch, PushProducer } from "./push_body.ts";
import { sequenceForOffset } from "./sequence.ts";

/** How batches the local log holds uncompressed travel (ReplicatorOptions). */
export type PushCompression = "none" | "gzip" | "auto";

/** Bytes of a stream's batches that "auto" compression samples. */
const AUTO_SAMPLE_BYTES = 256 * 1024;
/** "auto" keeps gzip when it saves at least this share of the bytes. */
const AUTO_MIN_SAVING = 0.1;

/**
 * The "auto" verdict on a sample: whether gzip saved enough, or undefined
 * while the sample is still too small to tell.
 */
export function gzipPaysOff(
  sampledBytes: number,
  sampledGzipBytes: number,
): boolean | undefined {
  if (sampledBytes < AUTO_SAMPLE_BYTES) return undefined;
  return sampledGzipBytes <= (1 - AUTO_MIN_SAVING) * sampledBytes;
}

/**
 * A gzip copy of a plain local batch carrying the producer fields, with its
 * offsets and records unchanged; undefined when the batch is not a plain
 * one (compressed, log-append time, transactional, offsets with holes),
 * since re-encoding could not keep it as it is.
 */
export async function gzipBatch(
  batch: Uint8Array,
  options: { header: BatchHeader; producer: PushProducer },
): Promise<Uint8Array | undefined> {
  const { header, producer } = options;
  if (
    header.attributes !== 0 ||
    header.lastOffsetDelta !== header.recordCount - 1
  ) return undefined;
  const { records } = await decodeBatch(batch);
  if (records.some((r, i) => r.offset !== header.baseOffset + i)) {
    return undefined;
  }
  return await encodeBatch(
    records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
    })),
    {
      baseOffset: header.baseOffset,
      compression: "gzip",
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      baseSequence: sequenceForOffset(header.baseOffset),
    },
  );
}

/**
 * One stream's push compression: gzip copies of its batches where the
 * policy asks for them and they come out smaller. Under "auto" it samples
 * the stream's first plain batches, then keeps to its verdict.
 */
export class StreamCompression {
  #mode: PushCompression;
  #pays: boolean | undefined;
  #sampledBytes = 0;
  #sampledGzipBytes = 0;

  constructor(mode: PushCompression) {
    this.#mode = mode;
  }

  /**
   * The gzip copies of `batches` (undefined where one goes as stored), or
   * undefined when the mode is "none" and nothing is re-encoded.
   */
  async packAll(
    batches: readonly LocalBatch[],
    producer: PushProducer,
  ): Promise<(Uint8Array | undefined)[] | undefined> {
    if (this.#mode === "none") return undefined;
    return await Promise.all(
      batches.map(({ batch, header }) =>
        this.#pack(batch, { header, producer })
      ),
    );
  }

  /** A smaller gzip copy of `batch`, or undefined to send it as stored. */
  async #pack(
    batch: Uint8Array,
    options: { header: BatchHeader; producer: PushProducer },
  ): Promise<Uint8Array | undefined> {
    if (this.#mode === "none") return undefined;
    if (this.#mode === "auto" && this.#pays === false) return undefined;
    const gzipped = await gzipBatch(batch, options);
    if (gzipped === undefined) return undefined;
    if (this.#mode === "auto" && this.#pays === undefined) {
      this.#sampledBytes += batch.length;
      this.#sampledGzipBytes += gzipped.length;
      this.#pays = gzipPaysOff(this.#sampledBytes, this.#sampledGzipBytes);
    }
    return gzipped.length < batch.length ? gzipped : undefined;
  }
}
