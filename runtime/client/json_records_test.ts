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

Deno.test("decodeJsonRecord gives headers that are not UTF-8 as bytes", () => {
  const decoded = decodeJsonRecord({
    partition: 0,
    offset: 1,
    timestamp: 2,
    key: null,
    value: null,
    headers: { "\ufffd": null, ok: "\ufffd" },
    headersBase64: [
      { keyBase64: "//4=", valueBase64: null },
      { keyBase64: "b2s=", valueBase64: "ww==" },
    ],
  });
  assert.deepEqual(decoded.binaryHeaders, [
    { key: new Uint8Array([0xff, 0xfe]), value: null },
    { key: new TextEncoder().encode("ok"), value: new Uint8Array([0xc3]) },
  ]);
  assert.equal(
    decodeJsonRecord({ partition: 0, offset: 1, timestamp: 2, headers: {} })
      .binaryHeaders,
    undefined,
  );
});
