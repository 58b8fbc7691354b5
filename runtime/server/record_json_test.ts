import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import { logRecordToJson } from "../format/json_record.ts";
import { fromJsonRecord } from "./record_json.ts";

Deno.test("JSON values and string keys survive a produce/fetch round trip", () => {
  fc.assert(
    fc.property(
      fc.option(fc.string(), { nil: null }),
      fc.jsonValue(),
      fc.dictionary(fc.string(), fc.string()),
      (key, value, headers) => {
        const input = fromJsonRecord({ key, value, headers }, 0);
        const out = logRecordToJson({
          offset: 9,
          timestamp: 1,
          key: input.key ?? null,
          value: input.value,
          headers: input.headers ?? [],
        }, 3);
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

Deno.test("fromJsonRecord refuses malformed entries with BAD_REQUEST", () => {
  for (
    const bad of [
      null,
      [1],
      { key: 5, value: 1 },
      { valueBase64: 7 },
      { valueBase64: "!!" },
      { keyBase64: "Zm9vYg", value: 1 },
      { value: 1, headers: { a: 1 } },
      { value: 1, partition: -1 },
      { value: 1, timestamp: 1.5 },
    ]
  ) {
    assert.throws(
      () => fromJsonRecord(bad, 4),
      (e) =>
        e instanceof EdgelogError && e.code === "BAD_REQUEST" &&
        e.message.startsWith("records.4"),
    );
  }
  assert.deepEqual(
    fromJsonRecord({}, 0),
    { key: null, value: null },
    "an absent value is a tombstone",
  );
});
