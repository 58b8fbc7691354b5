/**
 * Kafka's default partitioner for keyed records. Records with the same key
 * land on the same partition here and in any Kafka producer.
 *
 * @module
 */

import { murmur2 } from "./murmur2.ts";

/**
 * The partition of a keyed record: `(murmur2(key) & 0x7fffffff) % partitions`,
 * as Kafka's `Utils.toPositive(Utils.murmur2(key)) % numPartitions`.
 *
 * @example Usage
 * ```ts
 * import { partitionForKey } from "./partitioner.ts";
 * const key = new TextEncoder().encode("device-7");
 * const p = partitionForKey(key, 12);
 * console.assert(p >= 0 && p < 12);
 * ```
 */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(
      `Cannot choose a partition among ${partitions} partitions`,
    );
  }
  return (murmur2(key) & 0x7fffffff) % partitions;
}
