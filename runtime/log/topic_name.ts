/**
 * Topic names, as PROTOCOL.md fixes them: they appear in URL paths, metadata
 * keys and file names, so only a small, path-safe alphabet is allowed.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Throws `BAD_REQUEST` unless `name` is a valid topic name:
 * `[A-Za-z0-9._-]{1,249}`, and not `.` or `..` (which would name a directory
 * on a filesystem).
 *
 * @example Usage
 * ```ts
 * import { validateTopicName } from "./topic_name.ts";
 * validateTopicName("sensors.temperature-v2");
 * ```
 */
export function validateTopicName(name: string): void {
  if (typeof name !== "string" || !TOPIC_NAME.test(name)) {
    throw new EdgelogError(
      "BAD_REQUEST",
      `Invalid topic name ${
        JSON.stringify(name)
      }: use 1 to 249 of the characters A-Z a-z 0-9 . _ -`,
    );
  }
  if (name === "." || name === "..") {
    throw new EdgelogError(
      "BAD_REQUEST",
      `Invalid topic name "${name}": "." and ".." are reserved`,
    );
  }
}
