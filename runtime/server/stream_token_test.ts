import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import { decodeStreamToken, encodeStreamToken } from "./stream_token.ts";

Deno.test("stream tokens round-trip positions", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: Number.MAX_SAFE_INTEGER }), {
        minLength: 1,
        maxLength: 20,
      }),
      (positions) => {
        const token = encodeStreamToken(positions);
        assert.deepEqual(decodeStreamToken(token, positions.length), positions);
      },
    ),
  );
  assert.equal(encodeStreamToken([15, 7]), "0:15,1:7");
  assert.deepEqual(decodeStreamToken("1:4", 3), [undefined, 4, undefined]);
});

Deno.test("malformed stream tokens are BAD_REQUEST", () => {
  for (const bad of ["", "x", "0:", "0:1,", "-1:2", "0:1;1:2", "5:1"]) {
    assert.throws(
      () => decodeStreamToken(bad, 2),
      (e) => e instanceof EdgelogError && e.code === "BAD_REQUEST",
      bad,
    );
  }
});
