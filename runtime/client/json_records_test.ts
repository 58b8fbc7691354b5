import assert from "node:assert/strict";
import { decodeJsonRecord, produceRecordToJson } from "./json_records.ts";

Deno.test("produceRecordToJson and decodeJsonRecord are the client's two directions", () => {
  assert.deepEqual(
    produceRecordToJson({
      key: "k",
      value: "text",
      headers: { a: "b" },
      partition: 1,
      timestamp: 5,
    }),
    {
      key: "k",
      value: "text",
      headers: { a: "b" },
      partition: 1,
      timestamp: 5,
    },
  );
  assert.deepEqual(
    produceRecordToJson({
      key: new Uint8Array([1]),
      value: new Uint8Array([2]),
    }),
    {
      keyBase64: "AQ==",
      valueBase64: "Ag==",
    },
  );
  assert.throws(() => produceRecordToJson({ value: undefined }), TypeError);
  const decoded = decodeJsonRecord({
    partition: 0,
    offset: 1,
    timestamp: 2,
    keyBase64: "AQ==",
    valueBase64: "Ag==",
    headers: {},
  });
  assert.deepEqual(decoded.key, new Uint8Array([1]));
  assert.deepEqual(decoded.value, new Uint8Array([2]));
  assert.equal(
    decodeJsonRecord({
      partition: 0,
      offset: 1,
      timestamp: 2,
      key: null,
      value: null,
      headers: {},
    }).value,
    null,
  );
});
