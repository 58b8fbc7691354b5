import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogRecord } from "../log/types.ts";
import {
  logRecordFromJson,
  logRecordToJson,
  recordInputFromJson,
  recordInputToJson,
} from "./json_record.ts";
import { decodeBatch, encodeBatch } from "./record_batch.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("logRecordToJson: JSON values parsed, other bytes as base64, null kept", () => {
  const base = {
    offset: 3,
    timestamp: 9,
    headers: [{ key: "h", value: utf8("v") }, { key: "n", value: null }],
  };
  const json = logRecordToJson({
    ...base,
    key: utf8("k"),
    value: utf8('{"a":[1,2]}'),
  }, 2);
  assert.deepEqual(json, {
    partition: 2,
    offset: 3,
    timestamp: 9,
    key: "k",
    value: { a: [1, 2] },
    headers: { h: "v", n: null },
  });
  const binary = logRecordToJson({
    ...base,
    key: new Uint8Array([0xc3]),
    value: new Uint8Array([0, 1]),
  }, 0);
  assert.equal(binary.keyBase64, "ww==");
  assert.equal(binary.valueBase64, "AAE=");
  assert.ok(!("key" in binary) && !("value" in binary));
  const tombstone = logRecordToJson({ ...base, key: null, value: null }, 0);
  assert.equal(tombstone.key, null);
  assert.equal(tombstone.value, null);
  const jsonNull = logRecordToJson(
    { ...base, key: null, value: utf8("null") },
    0,
  );
  assert.equal(
    jsonNull.valueBase64,
    "bnVsbA==",
    "bytes spelling null are not a tombstone",
  );
});

Deno.test("recordInputToJson and recordInputFromJson round-trip bytes exactly", () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  fc.assert(fc.property(
    fc.option(bytes),
    fc.option(bytes),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    fc.option(fc.nat(), { nil: undefined }),
    (key, value, headers, partition) => {
      const input = {
        key,
        value,
        headers: Object.entries(headers).map(([k, v]) => ({
          key: k,
          value: utf8(v),
        })),
        ...(partition === undefined ? {} : { partition }),
      };
      const back = recordInputFromJson(
        JSON.parse(JSON.stringify(recordInputToJson(input))),
      );
      assert.deepEqual(back, input);
    },
  ));
});

Deno.test("logRecordFromJson restores what logRecordToJson gave, up to JSON spacing", () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.uint8Array({ maxLength: 20 }),
      (value, key) => {
        const text = JSON.stringify(value);
        const record: LogRecord = {
          offset: 1,
          timestamp: 2,
          key,
          value: utf8(text),
          headers: [],
        };
        const back = logRecordFromJson(
          JSON.parse(JSON.stringify(logRecordToJson(record, 0))),
        );
        assert.deepEqual(back.key, key);
        assert.deepEqual(
          JSON.parse(new TextDecoder().decode(back.value!)),
          JSON.parse(text),
        );
      },
    ),
  );
});

Deno.test("headers that are not UTF-8 travel exactly in headersBase64 and back", async () => {
  const batch = await encodeBatch([{
    value: null,
    timestamp: 1,
    headers: [
      { key: "ok", value: new TextEncoder().encode("v") },
      { key: "\ufffd", keyBytes: new Uint8Array([0xff]), value: null },
      { key: "bin", value: new Uint8Array([0xc3, 0x28]) },
    ],
  }]);
  const [record] = (await decodeBatch(batch)).records;
  assert.deepEqual(record!.headers[1]!.keyBytes, new Uint8Array([0xff]));
  const json = logRecordToJson(record!, 0);
  assert.deepEqual(json.headersBase64, [
    { keyBase64: "/w==", valueBase64: null },
    { keyBase64: "Ymlu", valueBase64: "wyg=" },
  ]);
  assert.equal(json.headers.ok, "v");
  const back = logRecordFromJson(JSON.parse(JSON.stringify(json)));
  const sorted = (h: typeof back.headers) =>
    [...h].sort((a, b) => a.key.localeCompare(b.key));
  assert.deepEqual(sorted(back.headers), sorted(record!.headers));
  assert.equal(
    logRecordToJson({ ...record!, headers: [] }, 0).headersBase64,
    undefined,
  );
});
