/**
 * The SSE resume token: the next offset of every partition of a topic,
 * written `partition:offset` and comma-separated (`0:15,1:7`). Each event
 * carries the positions just after its record, so `Last-Event-ID` resumes
 * every partition exactly where the reader left it.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";

const TOKEN = /^\d{1,10}:\d{1,16}(?:,\d{1,10}:\d{1,16})*$/;

/** Writes the token of `positions` (index = partition). */
export function encodeStreamToken(positions: readonly number[]): string {
  return positions.map((offset, partition) => `${partition}:${offset}`).join(
    ",",
  );
}

/**
 * Reads a token into a position per partition; partitions it does not name
 * stay `undefined`. BAD_REQUEST for a malformed token or one naming a
 * partition the topic lacks.
 */
export function decodeStreamToken(
  token: string,
  partitions: number,
): (number | undefined)[] {
  if (!TOKEN.test(token)) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `Last-Event-ID '${token}' is not a resume token (partition:offset,...)`,
    );
  }
  const positions: (number | undefined)[] = new Array(partitions).fill(
    undefined,
  );
  for (const pair of token.split(",")) {
    const [p, o] = pair.split(":").map(Number) as [number, number];
    if (!Number.isSafeInteger(o)) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `Last-Event-ID names offset ${pair.split(":")[1]}, beyond 2^53`,
      );
    }
    if (p >= partitions) {
      throw new EdgelogError(
        "BAD_REQUEST",
        `Last-Event-ID names partition ${p}; the topic has ${partitions}`,
      );
    }
    positions[p] = o;
  }
  return positions;
}
