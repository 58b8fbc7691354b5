/**
 * Joining byte arrays, which bodies, compressed streams and benchmarks all
 * need: one place for the copy loop.
 *
 * @module
 */

/**
 * The bytes of `parts`, end to end, in one new array.
 *
 * @example Usage
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const joined = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * console.assert(joined.join() === "1,2,3");
 * ```
 */
export function concatBytes(
  parts: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
