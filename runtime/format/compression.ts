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

async function pipe(
  bytes: Uint8Array,
  transform: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = transform.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  return concatBytes(chunks);
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
      return pipe(bytes, new CompressionStream("gzip"));
    default:
      throw new TypeError(`Unknown compression ${String(codec)}`);
  }
}

/**
 * Decompresses a record section written with codec id `codecId` (the batch
 * attributes & 7). Codecs other than none and gzip are
 * `UNSUPPORTED_COMPRESSION`; bytes that are not valid gzip are
 * `CORRUPT_BATCH`.
 */
export async function decompress(
  codecId: number,
  bytes: Uint8Array,
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
    return await pipe(bytes, new DecompressionStream("gzip"));
  } catch (cause) {
    throw new EdgelogError(
      "CORRUPT_BATCH",
      `Batch records are not valid gzip: ${(cause as Error).message}`,
    );
  }
}
