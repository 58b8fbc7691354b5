import assert from "node:assert/strict";
import { ApiError, describeError } from "./errors.ts";

Deno.test("describeError: 401 and 403 say what they mean", () => {
  const e401 = new ApiError(401, "UNAUTHORIZED", "Unknown token");
  assert.match(describeError(e401, "list topics", false), /needs a token/);
  assert.match(
    describeError(e401, "list topics", true),
    /does not know this token/,
  );
  assert.equal(
    describeError(
      new ApiError(403, "FORBIDDEN", "x"),
      "read topic orders",
      true,
    ),
    "This token may not read topic orders.",
  );
  assert.equal(
    describeError(new ApiError(404, "TOPIC_NOT_FOUND", "no"), "x", false),
    "TOPIC_NOT_FOUND: no",
  );
  assert.match(
    describeError(new ApiError(0, "UNREACHABLE", ""), "x", false),
    /cannot be reached/,
  );
});
