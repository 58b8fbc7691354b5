/**
 * Member ids drawn from the injected random source, shaped like a version-4
 * UUID so that logs and the HTTP API show a familiar form.
 *
 * @module
 */

const ATTEMPTS = 8;

/**
 * A UUID-like id from `random` that `taken` does not reject.
 *
 * @example Usage
 * ```ts
 * import { newMemberId } from "./member_id.ts";
 * const id = newMemberId(Math.random, () => false);
 * console.assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id));
 * ```
 */
export function newMemberId(
  random: () => number,
  taken: (id: string) => boolean,
): string {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const digits = Array.from(
      { length: 32 },
      () => Math.floor(random() * 16) & 15,
    );
    digits[12] = 4;
    digits[16] = 8 | (digits[16]! & 3);
    const hex = digits.map((d) => d.toString(16)).join("");
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
      hex.slice(16, 20)
    }-${hex.slice(20)}`;
    if (!taken(id)) return id;
  }
  throw new Error(
    `Cannot draw a free member id: ${ATTEMPTS} draws were all taken; is the random source constant?`,
  );
}
