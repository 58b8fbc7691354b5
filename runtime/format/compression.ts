/**
 * Record-section compression. A batch names its codec in attributes bits
 * 0-2:
 *
 * ```
 * id codec   edgelog
 *  0 none    yes
 *  1 gzip    yes (CompressionStream / DecompressionStream, RFC 1952)
 *  2 snappy  UNSUPPORTED_COMPRESSION
 *  3 lz4     UNSUPPORTED_COMPRESSION
 *  4 zstd    UNSUPPORTED_COMPRESSION
 * 5-7 —      UNSUPPORTED_COMPRESSION
 * ```
 *
 * Only gzip is built into every browser and Deno, and `runtime/` takes no
 * native codecs, so the other Kafka codecs are refused with a clear error
 * instead of being read as garbage.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { concatBytes } from "./bytes.ts";

/** The codecs edgelog writes. */
export type Compression = "none" | "gzip";

/** The attributes codec id of each codec edgelog writes. */
export const CODEC_IDS: Readonly<Record<Compression, number>> = {
  none: 0,
  gzip: 1,
};

/** Mask of the codec bits in batch attributes. */
export const CODEC_MASK = 0x07;

const KAFKA_CODEC_NAMES = ["none", "gzip", "snappy", "lz4", "zstd"];

/**
 * Default cap on the bytes one batch's record section may decompress to:
 * four times the default request body limit, so no honest batch reaches it
 * and a gzip bomb stops long before it costs real memory.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 << 20;

/**
 * Input bytes handed to a decompressor per step. A gzip step expands its
 * input about 1000-fold at most, and DecompressionStream answers a step
 * with all its output at once, so a step holds at most about 16 MiB past
 * the cap; most gzip batches are smaller than one step.
 */
const DECOMPRESS_STEP_BYTES = 16 * 1024;

async function collect(
  readable: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw new EdgelogError(
        "PAYLOAD_TOO_LARGE",
        `Batch records decompress to more than ${maxBytes} bytes ` +
          "(limit maxDecompressedBytes)",
        { limit: "maxDecompressedBytes" },
      );
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  return concatBytes(chunks);
}

async function feed(
  writable: WritableStream<BufferSource>,
  bytes: Uint8Array,
  step: number,
): Promise<void> {
  const writer = writable.getWriter();
  for (let at = 0; at < bytes.length; at += step) {
    await writer.ready;
    await writer.write(
      bytes.subarray(at, at + step) as Uint8Array<ArrayBuffer>,
    );
  }
  await writer.close();
}

async function pipe(
  bytes: Uint8Array,
  transform: CompressionStream | DecompressionStream,
  options: { step: number; maxBytes: number },
): Promise<Uint8Array> {
  const fed = feed(transform.writable, bytes, options.step);
  fed.catch(() => {});
  const out = await collect(transform.readable, options.maxBytes);
  await fed;
  return out;
}

/**
 * Compresses a record section with `codec`; "none" returns `bytes` itself.
 *
 * @example Usage
 * ```ts
 * import { compress, decompress } from "./compression.ts";
 * const text = new TextEncoder().encode("hello hello hello");
 * const packed = await compress("gzip", text);
 * console.assert((await decompress(1, packed)).length === text.length);
 * ```
 */
export function compress(
  codec: Compression,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  switch (codec) {
    case "none":
      return Promise.resolve(bytes);
    case "gzip":
      return pipe(bytes, new CompressionStream("gzip"), {
        step: Math.max(bytes.length, 1),
        maxBytes: Infinity,
      });
    default:
      throw new TypeError(`Unknown compression ${String(codec)}`);
  }
}

/**
 * Decompresses a record section written with codec id `codecId` (the batch
 * attributes & 7), stopping as soon as the output passes
 * `options.maxBytes` (default {@linkcode DEFAULT_MAX_DECOMPRESSED_BYTES}):
 * that is `PAYLOAD_TOO_LARGE`. Codecs other than none and gzip are
 * `UNSUPPORTED_COMPRESSION`; bytes that are not valid gzip are
 * `CORRUPT_BATCH`.
 */
export async function decompress(
  codecId: number,
  bytes: Uint8Array,
  options: { maxBytes?: number } = {},
): Promise<Uint8Array> {
  if (codecId === 0) return bytes;
  if (codecId !== 1) {
    const name = KAFKA_CODEC_NAMES[codecId];
    throw new EdgelogError(
      "UNSUPPORTED_COMPRESSION",
      `Batch uses ${
        name ?? "unknown"
      } compression (codec ${codecId}); edgelog reads only none and gzip`,
      { codec: codecId },
    );
  }
  try {
    return await pipe(bytes, new DecompressionStream("gzip"), {
      step: DECOMPRESS_STEP_BYTES,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    });
  } catch (cause) {
    if (cause instanceof EdgelogError) throw cause;
    throw new EdgelogError(
      "CORRUPT_BATCH",
      `Batch records are not valid gzip: ${(cause as Error).message}`,
    );
  }
}
