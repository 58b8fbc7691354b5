/**
 * MurmurHash2 (32-bit) exactly as Apache Kafka's `Utils.murmur2`: seed
 * 0x9747b28c, little-endian 4-byte blocks, signed int32 result. Keyed
 * records must land on the partition a Kafka producer would choose, so this
 * must agree with Kafka bit for bit.
 *
 * ```
 * h = seed ^ length
 * per 4-byte block k (little-endian): k *= m; k ^= k >>> 24; k *= m; h = h * m ^ k
 * tail (1-3 bytes, little-endian) xor-ed into h, then h *= m
 * h ^= h >>> 13; h *= m; h ^= h >>> 15        (m = 0x5bd1e995, 32-bit math)
 * ```
 *
 * @module
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 of `bytes`, as a signed 32-bit integer.
 *
 * @example Usage
 * ```ts
 * import { murmur2 } from "./murmur2.ts";
 * console.assert(murmur2(new TextEncoder().encode("21")) === -973932308);
 * ```
 */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = SEED ^ length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) |
      (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) h ^= bytes[blocks + 1]! << 8;
    h ^= bytes[blocks]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
