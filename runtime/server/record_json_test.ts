import assert from "node:assert/strict";
import fc from "fast-check";
import { fromJsonRecord, toJsonRecord } from "./record_json.ts";

Deno.test("JSON values and string keys survive a produce/fetch round trip", () => {
  fc.assert(
    fc.property(
      fc.option(fc.string(), { nil: null }),
      fc.jsonValue(),
      fc.dictionary(fc.string(), fc.string()),
      (key, value, headers) => {
        const input = fromJsonRecord({ key, value, headers }, 0);
        const out = toJsonRecord(3, {
          offset: 9,
          timestamp: 1,
          key: input.key ?? null,
          value: input.value,
          headers: input.headers ?? [],
        });
        assert.equal(out.key, key);
        const normal = JSON.parse(JSON.stringify(value));
        if (normal === null) assert.equal(out.value, null);
        else assert.deepEqual(out.value, normal);
        assert.deepEqual(out.headers, { ...headers });
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("bytes that are not UTF-8 or not JSON come back as base64", () => {
  const out = toJsonRecord(0, {
    offset: 0,
    timestamp: 0,
    key: new Uint8Array([0xff, 0xfe]),
    value: new TextEncoder().encode("plain text"),
    headers: [{ key: "n", value: null }],
  });
  assert.equal(out.key, undefined);
  assert.equal(out.keyBase64, "//4=");
  assert.equal(out.value, undefined);
  assert.equal(out.valueBase64, btoa("plain text"));
  assert.deepEqual(out.headers, { n: null });
});
