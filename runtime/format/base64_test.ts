import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeBase64, encodeBase64, isBase64 } from "./base64.ts";

Deno.test("base64 round-trips any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70000 }), (bytes) => {
      assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
    }),
    { numRuns: 50 },
  );
});

Deno.test("base64 matches known vectors and rejects malformed text", () => {
  assert.equal(encodeBase64(new TextEncoder().encode("foob")), "Zm9vYg==");
  assert.equal(isBase64("Zm9vYg=="), true);
  for (const bad of ["Zm9vYg", "Zm9v!g==", "Z===", "Zm9vYg=a"]) {
    assert.equal(isBase64(bad), false, bad);
    assert.throws(() => decodeBase64(bad), SyntaxError);
  }
});
